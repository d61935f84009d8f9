"""Which deadline alerts are due now: set-based queries, one per kind, over indexed open rows.

This module is the only place that knows where "who holds each open dossier and until when" is
read from. Today that is the open DossierStep rows (started, not completed; partial index
dossierstep_open_due_idx) and the running dossiers' current_due_at (partial index
dossier_running_due_idx); the DossierHolding table can replace both without touching the callers.
Each query excludes what SentAlert already records, so it only returns alerts not yet sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from dossiers.constants import DossierState
from dossiers.models import Dossier, DossierStep
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
    sent = SentAlert.objects.filter(dossier_id=OuterRef("dossier_id" if step else "pk"), level=level)
    sent = sent.filter(step_id=OuterRef("pk")) if step else sent.filter(step__isnull=True)
    return ~Exists(sent)


def alerts_due(now: dt.datetime, *, limit: int = 5000) -> list[DueAlert]:
    """Due-soon and overdue alerts of open steps and running dossiers, and apology prompts, not yet sent.

    Nothing on a day off: officers are not at work, and the first working day's scan catches up.
    Each query reads the partial indexes only (the open rows), nearest deadline first, bounded.
    """
    window = horizons(now)
    if not window["working_day"]:
        return []
    steps = DossierStep.objects.filter(
        started_at__isnull=False, completed_at__isnull=True, due_at__isnull=False, dossier__state__in=RUNNING
    )
    dossiers = Dossier.objects.filter(state__in=RUNNING, current_due_at__isnull=False)
    found: list[DueAlert] = []
    queries = [
        (AlertLevel.OVERDUE, True, steps.filter(due_at__lte=now)),
        (AlertLevel.DUE_SOON, True, steps.filter(due_at__gt=now, due_at__lte=window["soon_until"])),
        (AlertLevel.OVERDUE, False, dossiers.filter(current_due_at__lte=now)),
        (AlertLevel.DUE_SOON, False, dossiers.filter(current_due_at__gt=now, current_due_at__lte=window["soon_until"])),
        (
            AlertLevel.APOLOGY_PROMPT,
            False,
            dossiers.filter(
                apologised=False,
                current_due_at__gt=window["apology_from"],
                current_due_at__lte=window["apology_until"],
            ),
        ),
    ]
    for level, is_step, query in queries:
        if is_step:
            rows = (
                query.filter(_not_sent(level, step=True))
                .order_by("due_at", "id")
                .values_list("dossier_id", "pk", "due_at", "agency_id", "role", "assignee_id")[:limit]
            )
            found += [DueAlert(d, s, level, due, a, r, u) for d, s, due, a, r, u in rows]
        else:
            rows = (
                query.filter(_not_sent(level, step=False))
                .order_by("current_due_at", "id")
                .values_list("pk", "current_due_at", "agency_id", "assignee_id")[:limit]
            )
            found += [DueAlert(d, None, level, due, a, "", u) for d, due, a, u in rows]
    return found


def agency_deadline_counts(now: dt.datetime) -> dict[int, dict[str, int]]:
    """Per agency: running dossiers due soon and overdue (one grouped query each, for the digest)."""
    from django.db.models import Count

    window = horizons(now)
    base = Dossier.objects.filter(state__in=RUNNING, current_due_at__isnull=False)
    counts: dict[int, dict[str, int]] = {}
    for key, query in (
        ("overdue", base.filter(current_due_at__lte=now)),
        ("due_soon", base.filter(current_due_at__gt=now, current_due_at__lte=window["soon_until"])),
    ):
        for agency_id, count in query.values_list("agency_id").annotate(n=Count("id")).order_by():
            counts.setdefault(agency_id, {"overdue": 0, "due_soon": 0})[key] = count
    return counts
