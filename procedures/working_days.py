"""The Government's published working-day changes, shipped as data (procedures/demo/working_days_vn.json).

The `holidays` library misses some of them (the New Year 2026 bridge: Friday 02/01 off, Saturday
10/01 worked), and an appointment computed without them can fall on a day the offices were
closed. The file records a source per day; loading it creates CalendarDay rows for the days not
yet in the table and leaves existing rows alone, so an administrator's correction is never undone.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from .constants import CalendarDayKind
from .models import CalendarDay

WORKING_DAYS_FILE = Path(__file__).resolve().parent / "demo" / "working_days_vn.json"


@dataclass(frozen=True)
class WorkingDayChange:
    date: dt.date
    kind: str
    name: str
    source: str
    verified: bool
    in_holidays_library: bool


def working_days_read(path: Path = WORKING_DAYS_FILE) -> list[WorkingDayChange]:
    """The entries of a working-day file, checked: a valid date, a known kind, a name and a source each."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    changes = []
    for index, item in enumerate(data["days"], start=1):
        if item.get("kind") not in CalendarDayKind.values:
            raise ValueError(f"entry {index}: unknown kind {item.get('kind')!r}")
        if not item.get("name") or not item.get("source"):
            raise ValueError(f"entry {index}: a name and a source are required")
        changes.append(
            WorkingDayChange(
                date=dt.date.fromisoformat(item["date"]),
                kind=item["kind"],
                name=item["name"],
                source=item["source"],
                verified=bool(item.get("verified")),
                in_holidays_library=bool(item.get("in_holidays_library")),
            )
        )
    return changes


@transaction.atomic
def working_days_load(*, path: Path = WORKING_DAYS_FILE) -> tuple[int, int]:
    """Create the CalendarDay rows of the file that do not exist yet; return (created, kept as they were).

    Idempotent. A row already present for a date (entered by an administrator, or loaded before)
    is kept unchanged: the administrator's calendar has the last word.
    """
    changes = working_days_read(path)
    existing = set(CalendarDay.objects.filter(date__in=[c.date for c in changes]).values_list("date", flat=True))
    new = [
        CalendarDay(date=c.date, kind=c.kind, name=f"{c.name} – {c.source}"[:255])
        for c in changes
        if c.date not in existing
    ]
    CalendarDay.objects.bulk_create(new, ignore_conflicts=True)
    return len(new), len(existing)
