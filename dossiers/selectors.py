"""Reads of dossiers, with access control in one place.

The `*_get_*` functions fetch and authorise together and answer "not found" whether the dossier
does not exist or belongs to someone else, so that nobody can probe for other people's dossiers;
every refusal is logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy

from portal.accounts.constants import Role

from .constants import FINAL_STATES, Channel, DossierState, FileKind
from .models import Dossier, DossierFile, DossierStep

logger = logging.getLogger("dossiers.access")
S = DossierState
STAFF_ROLES = (Role.RECEPTION, Role.SPECIALIST, Role.LEADER, Role.AGENCY_ADMIN)


def _refuse(user, what: str, ident) -> Http404:
    logger.warning("access.refused what=%s id=%s user=%s", what, ident, getattr(user, "pk", None))
    return Http404("not found")


def dossiers_of_citizen(user) -> QuerySet[Dossier]:
    """The user's own dossiers, and those they filed online for someone without an account.

    Dossiers an officer entered at the counter belong to the officer pages, not to the officer's
    own "Hồ sơ của tôi".
    """
    return Dossier.objects.filter(
        Q(owner=user) | Q(submitted_by=user, owner__isnull=True, channel_in=Channel.ONLINE, assistance__isnull=True)
    )


# A community digital helper works on a dossier they help with only until the one-stop shop receives it.
ASSISTED_STATES = (S.DRAFT, S.SUBMITTED)


def dossiers_assisted_by(user) -> QuerySet[Dossier]:
    """The dossiers this helper submitted for citizens and that are not received yet."""
    if not getattr(user, "is_authenticated", False):
        return Dossier.objects.none()
    return Dossier.objects.filter(assistance__helper=user, state__in=ASSISTED_STATES)


def dossier_get_for_helper(*, user, public_id) -> Dossier:
    """A dossier this helper helps with, until its reception, else 404 (and the refusal is logged)."""
    dossier = (
        dossiers_assisted_by(user)
        .select_related("procedure_version", "procedure", "agency", "receiving_agency", "assistance")
        .filter(public_id=public_id)
        .first()
    )
    if dossier is None:
        raise _refuse(user, "assisted_dossier", public_id)
    return dossier


def dossier_get_for_citizen(*, user, public_id) -> Dossier:
    """The user's own dossier (or one they submitted on someone's behalf, or help with), else 404."""
    dossier = (
        (dossiers_of_citizen(user) | dossiers_assisted_by(user))
        .select_related("procedure_version", "procedure", "agency", "receiving_agency")
        .filter(public_id=public_id)
        .first()
    )
    if dossier is None:
        raise _refuse(user, "dossier", public_id)
    return dossier


def counter_dossier_get_for_officer(*, user, public_id) -> Dossier:
    """A dossier this officer entered at the counter for a walk-in applicant, else 404."""
    dossier = (
        Dossier.objects.select_related("procedure_version", "procedure", "agency", "receiving_agency")
        .filter(public_id=public_id, submitted_by=user, channel_in=Channel.COUNTER)
        .first()
    )
    if dossier is None:
        raise _refuse(user, "counter_dossier", public_id)
    return dossier


def officer_agency_ids(user, roles=STAFF_ROLES) -> set[int]:
    ids: set[int] = set()
    if getattr(user, "is_authenticated", False):
        for role in roles:
            ids |= user.agency_ids(role)
    return ids


def dossiers_for_officer(user) -> QuerySet[Dossier]:
    """Dossiers of the officer's agencies (and units below them), drafts excluded."""
    ids = officer_agency_ids(user)
    return (
        Dossier.objects.exclude(state=S.DRAFT)
        .filter(Q(agency_id__in=ids) | Q(receiving_agency_id__in=ids) | Q(steps__agency_id__in=ids))
        .distinct()
        if ids
        else Dossier.objects.none()
    )


def dossier_get_for_officer(*, user, pk: int) -> Dossier:
    ids = officer_agency_ids(user)
    dossier = (
        Dossier.objects.exclude(state=S.DRAFT)
        .select_related("procedure_version", "procedure", "agency", "receiving_agency", "assignee", "current_step")
        .filter(pk=pk)
        .first()
    )
    if dossier is None or not (
        dossier.agency_id in ids
        or dossier.receiving_agency_id in ids
        or dossier.steps.filter(agency_id__in=ids).exists()
    ):
        raise _refuse(user, "dossier", pk)
    return dossier


def file_get_for_user(*, user, public_id) -> DossierFile:
    """A file its dossier's owner or one of the dossier's officers may download, else 404."""
    file = DossierFile.objects.select_related("dossier").filter(public_id=public_id).first()
    if file is None or not getattr(user, "is_authenticated", False):
        raise _refuse(user, "file", public_id)
    dossier = file.dossier
    is_owner = dossier.owner_id == user.pk or (dossier.owner_id is None and dossier.submitted_by_id == user.pk)
    if dossier.owner_id != user.pk and hasattr(dossier, "assistance"):
        # A helper sees the files of a dossier they help with, and only until its reception.
        is_owner = dossier.assistance.helper_id == user.pk and dossier.state in ASSISTED_STATES
    # Internal working files stay internal; results are the applicant's only once approved.
    hidden_from_applicant = file.kind == FileKind.ATTACHMENT or (
        file.kind == FileKind.RESULT and dossier.state not in (S.RESULT_READY, S.RETURNED)
    )
    if is_owner and not hidden_from_applicant:
        return file
    try:
        dossier_get_for_officer(user=user, pk=dossier.pk)
    except Http404:
        raise _refuse(user, "file", public_id) from None
    return file


def dossier_find_public(*, code: str) -> Dossier | None:
    """A dossier by its code, or by its submission reference (both unique, both indexed)."""
    return (
        Dossier.objects.exclude(state=S.DRAFT)
        .exclude(code__isnull=True)
        .select_related("procedure", "agency", "receiving_agency")
        .filter(code=code.strip())
        .first()
    ) or (
        # The submission reference, for a dossier not received yet (or an applicant without a code).
        Dossier.objects.exclude(state=S.DRAFT)
        .select_related("procedure", "agency", "receiving_agency")
        .filter(reference=code.strip().upper())
        .first()
    )


@dataclass
class TimelineRow:
    name: str
    agency: str
    assignee: str
    started_at: dt.datetime | None
    due_at: dt.datetime | None
    completed_at: dt.datetime | None
    timing: str
    # One of a parallel group (liên thông): several agencies work on the dossier at the same time.
    is_parallel: bool = False


def dossier_timeline(dossier: Dossier) -> list[TimelineRow]:
    """The steps as the tracking card (Form 06) shows them."""
    rows = []
    for step in (
        DossierStep.objects.filter(dossier=dossier).select_related("agency", "assignee").order_by("order", "id")
    ):
        if step.started_at is None and step.completed_at is None:
            continue
        rows.append(
            TimelineRow(
                name=step.name,
                agency=step.agency.name,
                assignee=step.assignee.get_full_name() if step.assignee else "",
                started_at=step.started_at,
                due_at=step.due_at,
                completed_at=step.completed_at,
                timing=step.timing,
                is_parallel=step.is_parallel,
            )
        )
    return rows


# --- queues -----------------------------------------------------------------------------------

QUEUE_TABS = {
    "new": gettext_lazy("Hồ sơ mới"),
    "mine": gettext_lazy("Hồ sơ của tôi"),
    "due_soon": gettext_lazy("Sắp đến hạn"),
    "overdue": gettext_lazy("Quá hạn"),
    "supplement": gettext_lazy("Chờ bổ sung"),
    "approval": gettext_lazy("Chờ phê duyệt"),
    "result": gettext_lazy("Chờ trả kết quả"),
    "all": gettext_lazy("Tất cả"),
}


def queue_for_officer(user, tab: str, *, now: dt.datetime | None = None) -> QuerySet[Dossier]:
    """One tab of an officer's work queue, nearest deadline first."""
    now = now or timezone.now()
    ids_reception = officer_agency_ids(user, (Role.RECEPTION,))
    ids_specialist = officer_agency_ids(user, (Role.SPECIALIST,))
    ids_leader = officer_agency_ids(user, (Role.LEADER,))
    ids_all = officer_agency_ids(user)
    base = Dossier.objects.exclude(state=S.DRAFT).select_related("procedure", "agency", "assignee")
    running = [S.RECEIVED, S.IN_PROCESSING, S.AWAITING_APPROVAL]

    def open_step(**filters) -> Q:
        # A started, unfinished step (e.g. any agency's step of a parallel group) of a dossier still
        # being handled. EXISTS, not a join: one row per dossier, no DISTINCT, same number of queries.
        steps = DossierStep.objects.filter(
            dossier_id=OuterRef("pk"), started_at__isnull=False, completed_at__isnull=True, **filters
        )
        return Q(Exists(steps)) & ~Q(state__in=FINAL_STATES)

    def held_by(ids: set[int]) -> Q:
        # The resolving agency, the unit that received it, the agency of its current step (a department
        # or another agency in an inter-agency procedure), or of any step open now (a parallel group).
        return (
            Q(agency_id__in=ids)
            | Q(receiving_agency_id__in=ids)
            | Q(current_step__agency_id__in=ids)
            | (open_step(agency_id__in=ids) if ids else Q(pk__in=[]))
        )

    if tab == "new":
        processing_ids = ids_specialist | ids_leader
        qs = base.filter(
            Q(state=S.SUBMITTED, agency_id__in=ids_reception)
            | Q(state=S.RECEIVED, agency_id__in=processing_ids)
            | Q(state=S.IN_PROCESSING, assignee__isnull=True, current_step__agency_id__in=processing_ids)
            | (
                Q(state=S.IN_PROCESSING)
                & open_step(is_parallel=True, assignee__isnull=True, agency_id__in=processing_ids)
                if processing_ids
                else Q(pk__in=[])
            )
            | Q(state=S.AWAITING_PAYMENT, agency_id__in=ids_reception)
        )
    elif tab == "mine":
        # Assigned the dossier's current step (not yet done), or one step of a parallel group.
        qs = base.filter(
            (Q(assignee=user) & Q(current_step__completed_at__isnull=True))
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
    return qs.order_by(F("current_due_at").asc(nulls_last=True), "id")


def apply_keyset(qs: QuerySet[Dossier], after: str | None, size: int) -> tuple[list[Dossier], str | None]:
    """Keyset pagination on (current_due_at, id): constant cost at any depth of a million-row queue.

    Dossiers without a due date (not received yet) sort last, by id.
    """
    cursor = _parse_cursor(after) if after else None
    if cursor is not None:
        due, pk = cursor
        if due is not None:
            qs = qs.filter(
                Q(current_due_at__gt=due) | Q(current_due_at=due, id__gt=pk) | Q(current_due_at__isnull=True)
            )
        else:
            qs = qs.filter(current_due_at__isnull=True, id__gt=pk)
    rows = list(qs[: size + 1])
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    last = rows[-1]
    return rows, f"{last.current_due_at.isoformat() if last.current_due_at else ''}~{last.pk}"


def _parse_cursor(after: str) -> tuple[dt.datetime | None, int] | None:
    """The (due time, id) of a cursor; None for a malformed one, which restarts from the top."""
    due_text, _sep, pk_text = after.replace(" ", "+").partition("~")
    try:
        pk = int(pk_text)
        due = dt.datetime.fromisoformat(due_text) if due_text else None
    except ValueError:
        return None
    if due is not None and timezone.is_naive(due):
        return None
    return due, pk
