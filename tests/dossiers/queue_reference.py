"""The officers' queues computed the slow way, from dossier state and steps (no DossierHolding).

This is the selector the portal used before holdings were stored: a dossier is held by its
resolving agency, its receiving unit, the agency of its current step, or of any step open now. The
property test checks that every queue read from holdings equals this, after every step. Closed
dossiers are no longer listed under "all" (a queue holds open dossiers; the register lists the rest).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q

from dossiers.constants import FINAL_STATES, DossierState
from dossiers.models import Dossier, DossierStep
from dossiers.selectors import officer_agency_ids
from portal.accounts.constants import Role

S = DossierState


def reference_queue(user, tab: str, *, now: dt.datetime) -> set[int]:
    ids_reception = officer_agency_ids(user, (Role.RECEPTION,))
    ids_specialist = officer_agency_ids(user, (Role.SPECIALIST,))
    ids_leader = officer_agency_ids(user, (Role.LEADER,))
    ids_all = officer_agency_ids(user)
    base = Dossier.objects.exclude(state=S.DRAFT).exclude(state__in=FINAL_STATES)
    running = [S.RECEIVED, S.IN_PROCESSING, S.AWAITING_APPROVAL]

    def open_step(**filters) -> Q:
        steps = DossierStep.objects.filter(
            dossier_id=OuterRef("pk"), started_at__isnull=False, completed_at__isnull=True, **filters
        )
        return Q(Exists(steps))

    def held_by(ids: set[int]) -> Q:
        return (
            Q(agency_id__in=ids)
            | Q(receiving_agency_id__in=ids)
            | Q(current_step__agency_id__in=ids)
            | open_step(agency_id__in=ids)
        )

    if tab == "new":
        processing_ids = ids_specialist | ids_leader
        qs = base.filter(
            Q(state=S.SUBMITTED, agency_id__in=ids_reception)
            | Q(state=S.RECEIVED, agency_id__in=processing_ids)
            | Q(
                state=S.IN_PROCESSING,
                assignee__isnull=True,
                current_step__agency_id__in=processing_ids,
                current_step__completed_at__isnull=True,
            )
            | (
                Q(state=S.IN_PROCESSING)
                & open_step(is_parallel=True, assignee__isnull=True, agency_id__in=processing_ids)
            )
            | Q(state=S.AWAITING_PAYMENT, agency_id__in=ids_reception)
        )
    elif tab == "mine":
        qs = base.filter(
            (Q(assignee=user) & Q(current_step__isnull=False, current_step__completed_at__isnull=True))
            | open_step(is_parallel=True, assignee=user),
            state__in=running,
        )
    elif tab == "due_soon":
        qs = base.filter(
            held_by(ids_all), state__in=running, current_due_at__gte=now, current_due_at__lt=now + dt.timedelta(days=2)
        )
    elif tab == "overdue":
        qs = base.filter(held_by(ids_all), state__in=running, current_due_at__lt=now)
    elif tab == "supplement":
        qs = base.filter(held_by(ids_all), state=S.SUPPLEMENT_REQUESTED)
    elif tab == "approval":
        qs = base.filter(state=S.AWAITING_APPROVAL, current_step__agency_id__in=ids_leader)
    elif tab == "result":
        qs = base.filter(state=S.RESULT_READY).filter(
            Q(receiving_agency_id__in=ids_reception) | Q(agency_id__in=ids_reception)
        )
    else:
        qs = base.filter(held_by(ids_all))
    return set(qs.values_list("pk", flat=True))


def reference_alerts(now: dt.datetime) -> set:
    """The deadline alerts computed the slow way, from dossiers and steps (the selector before holdings).

    Open steps of running dossiers with their own deadline, and running dossiers with theirs, less
    what SentAlert records. Leader steps are never assigned before they complete, so their alerts
    name no assignee either way. Only for dossiers whose current step is at the resolving agency
    (the property test's world): elsewhere the whole-dossier alert names no assignee there.
    """
    from notifications.constants import AlertLevel
    from notifications.models import SentAlert
    from notifications.selectors import RUNNING, DueAlert, horizons

    window = horizons(now)
    if not window["working_day"]:
        return set()
    sent = set(SentAlert.objects.values_list("dossier_id", "step_id", "level"))
    soon = window["soon_until"]
    found = set()
    steps = DossierStep.objects.filter(
        started_at__isnull=False, completed_at__isnull=True, due_at__isnull=False, dossier__state__in=RUNNING
    )
    for step in steps:
        level = AlertLevel.OVERDUE if step.due_at <= now else AlertLevel.DUE_SOON if step.due_at <= soon else None
        if level and (step.dossier_id, step.pk, level) not in sent:
            alert = DueAlert(step.dossier_id, step.pk, level, step.due_at, step.agency_id, step.role, step.assignee_id)
            found.add(alert)
    for dossier in Dossier.objects.filter(state__in=RUNNING, current_due_at__isnull=False):
        due = dossier.current_due_at
        levels = [AlertLevel.OVERDUE if due <= now else AlertLevel.DUE_SOON if due <= soon else None]
        if not dossier.apologised and window["apology_from"] < due <= window["apology_until"]:
            levels.append(AlertLevel.APOLOGY_PROMPT)
        for level in levels:
            if level and (dossier.pk, None, level) not in sent:
                found.add(DueAlert(dossier.pk, None, level, due, dossier.agency_id, "", dossier.assignee_id))
    return found
