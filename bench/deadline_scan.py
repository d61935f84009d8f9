"""Time of the deadline-alert scan (notifications.selectors.alerts_due) per 100,000 open dossiers.

Run against a database filled by the bench generator (a million dossiers on PostgreSQL):
`DATABASE_URL=postgres://... .venv/bin/python -m bench.deadline_scan`. Read-only: it times the
selector at a few moments (now, a week on) and prints the median, and the plans of its queries.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from dossiers.models import Dossier, DossierStep  # noqa: E402
from notifications.selectors import RUNNING, alerts_due  # noqa: E402


def main() -> None:
    open_dossiers = Dossier.objects.filter(state__in=RUNNING).count()
    open_steps = DossierStep.objects.filter(started_at__isnull=False, completed_at__isnull=True).count()
    total = Dossier.objects.count()
    print(f"{connection.vendor}: {total:,} dossiers, {open_dossiers:,} running, {open_steps:,} open steps")
    moments = [timezone.now() + dt.timedelta(days=d) for d in (0, 1, 3, 7)]
    timings, found = [], 0
    for moment in moments:
        for _ in range(3):
            start = time.perf_counter()
            found = len(alerts_due(moment))
            timings.append(time.perf_counter() - start)
    median = statistics.median(timings)
    per_100k = median / max(open_dossiers, 1) * 100_000
    print(f"alerts_due: median {median * 1000:.1f} ms ({found} alerts due at the last moment)")
    print(f"per 100,000 open dossiers: {per_100k * 1000:.1f} ms (budget 1,000 ms)")
    if connection.vendor == "postgresql":
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            alerts_due(moments[0])
        with connection.cursor() as cursor:
            for query in captured.captured_queries:
                if "dossiers_dossier" not in query["sql"]:
                    continue
                cursor.execute("EXPLAIN " + query["sql"])
                plan = [row[0] for row in cursor.fetchall()]
                print("plan:", " | ".join(line.strip() for line in plan if "Scan" in line)[:300])


if __name__ == "__main__":
    main()
