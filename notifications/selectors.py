"""Which deadline alerts are due now: set-based queries over DossierHolding, one index range each.

This module is the only place that knows where "who holds each open dossier and until when" is
read from: the DossierHolding rows that dossiers.services keep in the transaction of every change
(see that model's docstring). Nothing here reads dossiers_dossier or dossiers_dossierstep.

- Per-step alerts (due soon, overdue) come from the rows of open steps, each with its own agency,
  role, assignee and `step_due_at`: a parallel (liên thông) group's steps alert their own agencies.
  Index holding_step_due_idx (running rows with a step deadline), in `step_due_at` order.
- Whole-dossier alerts (due soon, overdue, the apology prompt) and the digest's counts per agency
  come from the one primary row of each dossier (the resolving agency's) while its clock runs
  (`is_running`, `due_at`). Index holding_primary_due_idx, in `due_at` order, so one row per
  dossier without DISTINCT over the province. A dossier waiting for a supplement or for the fee
  (clock stopped) raises none; a closed dossier has no rows.

Each alert query is one range of its partial index in due order, bounded by `limit`, with an anti-
join on SentAlert's unique keys, so it only returns alerts not yet sent; the query count is fixed
(five alert queries, two count queries) whatever the number of dossiers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from dossiers.constants import DossierState, HoldingBucket
from dossiers.models import DossierHolding
from dossiers.rules import rule_set_on
from procedures.calendar import WorkingCalendar

from .constants import AlertLevel
from .models import SentAlert

RUNNING = (DossierState.RECEIVED, DossierState.IN_PROCESSING, DossierState.AWAITING_APPROVAL)


@dataclass(frozen=True)
class DueAlert:
    dossier_id: int
    step_id: int | None
    level: str
    due_at: dt.datetime
    agency_id: int
    role: str
    assignee_id: int | None


def _end_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.max))


def _start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def horizons(now: dt.datetime, calendar: WorkingCalendar | None = None) -> dict:
    """The windows of the scan: due soon up to the end of the next N working days; apology window."""
    today = timezone.localtime(now).date()
    calendar = calendar or WorkingCalendar.load(today - dt.timedelta(days=7))
    soon_day = calendar.add_working_days(today, settings.ALERT_DUE_SOON_WORKING_DAYS)
    lead = rule_set_on(today).apology_lead_days
    # The apology is allowed until `lead` working days before the due day: today is the last day for
    # dossiers due after the (lead-1)-th working day from today, up to the lead-th one.
    after = calendar.add_working_days(today, lead - 1) if lead > 1 else today
    last = calendar.add_working_days(today, lead)
    return {
        "today": today,
        "working_day": calendar.is_working_day(today),
        "soon_until": _end_of_day(soon_day),
        "apology_from": _end_of_day(after),
        "apology_until": _end_of_day(last),
    }


def _not_sent(level: str, *, step: bool):
    """No SentAlert of this level yet for the row's step (or, step=False, for its whole dossier)."""
    sent = SentAlert.objects.filter(dossier_id=OuterRef("dossier_id"), level=level)
    # Each side states its partial unique index's condition, so the anti-join probes that index
    # (sentalert_step_once, sentalert_dossier_once) rather than reading every alert ever sent.
    own = {"step__isnull": False, "step_id": OuterRef("step_id")} if step else {"step__isnull": True}
    return ~Exists(sent.filter(**own))


def _step_rows():
    """Open steps of running dossiers with their own deadline (index holding_step_due_idx)."""
    return DossierHolding.objects.filter(is_running=True, step_due_at__isnull=False)


def _dossier_rows():
    """One row per running dossier with a deadline: its primary row (index holding_primary_due_idx)."""
    return DossierHolding.objects.filter(is_primary=True, is_running=True, due_at__isnull=False)


def alerts_due(now: dt.datetime, *, limit: int = 5000) -> list[DueAlert]:
    """Due-soon and overdue alerts of open steps and running dossiers, and apology prompts, not yet sent.

    Nothing on a day off: officers are not at work, and the first working day's scan catches up.
    Five queries whatever the province's size, each a range of a partial index of DossierHolding in
    deadline order, at most `limit` rows each: per-step overdue and due soon, then whole-dossier
    overdue, due soon and the apology prompt (due on the last day an apology is still allowed, not
    yet apologised). A step alert names the step's agency, role and assignee; a whole-dossier alert
    the resolving agency and the officer at work on the dossier there (the primary row's assignee).
    """
    window = horizons(now)
    if not window["working_day"]:
        return []
    steps, dossiers = _step_rows(), _dossier_rows()
    soon = window["soon_until"]
    found: list[DueAlert] = []
    step_queries = [
        (AlertLevel.OVERDUE, steps.filter(step_due_at__lte=now)),
        (AlertLevel.DUE_SOON, steps.filter(step_due_at__gt=now, step_due_at__lte=soon)),
    ]
    for level, query in step_queries:
        rows = (
            query.filter(_not_sent(level, step=True))
            .order_by("step_due_at", "step_id")
            .values_list("dossier_id", "step_id", "step_due_at", "agency_id", "role", "assignee_id", "bucket")[:limit]
        )
        for dossier_id, step_id, due, agency_id, role, assignee_id, bucket in rows:
            # Awaiting approval the leader acts: the row's assignee is the specialist who proposed
            # the result (still "mine" in the queue), so the alert goes to the agency's leaders.
            assignee_id = None if bucket == HoldingBucket.APPROVAL else assignee_id
            found.append(DueAlert(dossier_id, step_id, level, due, agency_id, role, assignee_id))
    dossier_queries = [
        (AlertLevel.OVERDUE, dossiers.filter(due_at__lte=now)),
        (AlertLevel.DUE_SOON, dossiers.filter(due_at__gt=now, due_at__lte=soon)),
        (
            AlertLevel.APOLOGY_PROMPT,
            dossiers.filter(apologised=False, due_at__gt=window["apology_from"], due_at__lte=window["apology_until"]),
        ),
    ]
    for level, query in dossier_queries:
        rows = (
            query.filter(_not_sent(level, step=False))
            .order_by("due_at", "dossier_id")
            .values_list("dossier_id", "due_at", "agency_id", "assignee_id")[:limit]
        )
        found += [DueAlert(d, None, level, due, a, "", u) for d, due, a, u in rows]
    return found


def agency_deadline_counts(now: dt.datetime) -> dict[int, dict[str, int]]:
    """Per resolving agency: running dossiers due soon and overdue (for the digest).

    Two grouped queries over a range of holding_primary_due_idx each (agency is in the index key,
    so PostgreSQL reads the index alone); one primary row per dossier, so nothing is counted twice.
    """
    window = horizons(now)
    base = _dossier_rows()
    counts: dict[int, dict[str, int]] = {}
    for key, query in (
        ("overdue", base.filter(due_at__lte=now)),
        ("due_soon", base.filter(due_at__gt=now, due_at__lte=window["soon_until"])),
    ):
        for agency_id, count in query.values_list("agency_id").annotate(n=Count("dossier_id")).order_by():
            counts.setdefault(agency_id, {"overdue": 0, "due_soon": 0})[key] = count
    return counts
