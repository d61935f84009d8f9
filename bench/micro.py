"""Micro-benchmarks, run with `make bench`: the working-day calculator and the catalogue search.

Each figure is printed beside a baseline measured in the same run on the same machine, because
absolute numbers vary from machine to machine; compare the ratios.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from zoneinfo import ZoneInfo

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from procedures.calendar import WorkingCalendar  # noqa: E402
from procedures.models import Procedure  # noqa: E402


def measure(fn, *, repeat: int = 5, number: int = 200) -> float:
    """Median seconds per call over `repeat` runs of `number` calls."""
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        timings.append((time.perf_counter() - start) / number)
    return statistics.median(timings)


def row(name: str, seconds: float, baseline: float) -> None:
    print(f"{name:<48} {seconds * 1e6:>10.1f} µs   {seconds / baseline:>7.1f}× baseline")


def main() -> None:
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    received = dt.datetime(2026, 2, 12, 9, 30, tzinfo=tz)
    calendar = WorkingCalendar()

    print("Working-day calculator (baseline: adding a timedelta)")
    base = measure(lambda: received + dt.timedelta(days=5), number=5000)
    row("baseline datetime + timedelta", base, base)
    row("due_at, 5 working days across Tết 2026", measure(lambda: calendar.due_at(received, 5), number=2000), base)
    row("due_at, 60 working days", measure(lambda: calendar.due_at(received, 60), number=500), base)

    print(f"\nCatalogue ({Procedure.objects.count()} procedures, {connection.vendor}; baseline: SELECT 1)")

    def select_one():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    base = measure(select_one, number=500)
    row("baseline SELECT 1", base, base)
    row(
        "search 'dang ky khai sinh' (query only)",
        measure(lambda: list(Procedure.objects.published().search("dang ky khai sinh")[:20])),
        base,
    )
    client = Client(HTTP_HOST="127.0.0.1")
    row(
        "GET /procedures/?q=khai+sinh (full page)",
        measure(lambda: client.get("/procedures/?q=khai+sinh"), number=50),
        base,
    )


if __name__ == "__main__":
    main()
