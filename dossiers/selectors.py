"""Reads of dossiers, with access control in one place.

The `*_get_*` functions fetch and authorise together and answer "not found" whether the dossier
does not exist or belongs to someone else, so that nobody can probe for other people's dossiers;
every refusal is logged.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import F, Q, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone
from django.utils.functional import LazyObject
from django.utils.translation import get_language, gettext_lazy

from portal.accounts.constants import Role
from portal.accounts.memberships import MEMBERSHIPS_ATTRIBUTE, READ_WITH_USER_ATTRIBUTE, read_memberships

from .constants import AppointmentKind, Channel, DossierState, FileKind, FormNumber, HoldingBucket
from .models import Dossier, DossierFile, DossierHolding, DossierStep
from .officer_page import PAGE_LISTS_SQL, PageLists, choice_labels, page_lists_of

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


def remember_memberships(user) -> None:
    """Resolve the user's agencies per role once and keep them on this user object (one request).

    Called once at the start of each officer page and API request for request.user; without it a
    queue page would look the memberships up again for every tab and every check. A user read with
    this request's session has them already (portal.accounts.sessions): then no query at all.
    """
    if not getattr(user, "is_authenticated", False):
        return
    # request.user is a SimpleLazyObject (django-otp wraps Django's in one more): a wrapper's
    # __dict__ is its own. Every layer and the User inside get them, so that the User's methods
    # (membership_roles, agency_ids, called by templates and services) read them too.
    layers = [user]
    while isinstance(layers[-1], LazyObject):
        layers.append(layers[-1].__dict__.get("_wrapped"))
    inner = layers[-1]
    known = getattr(inner, "__dict__", {})
    # The mark is taken once: the same object handed to a later request reads them afresh.
    if known.pop(READ_WITH_USER_ATTRIBUTE, False) and MEMBERSHIPS_ATTRIBUTE in known:
        resolved = known[MEMBERSHIPS_ATTRIBUTE]
    else:
        # Resolved afresh otherwise: a user object kept across requests (tests' force_authenticate)
        # never answers with memberships changed since.
        resolved = read_memberships(inner.pk)
    for target in layers:
        if hasattr(target, "__dict__"):
            target.__dict__[MEMBERSHIPS_ATTRIBUTE] = resolved


def officer_agency_ids(user, roles=STAFF_ROLES) -> set[int]:
    """Agencies (with the units below them) in which the user holds one of `roles`."""
    ids: set[int] = set()
    if not getattr(user, "is_authenticated", False):
        return ids
    known = user.__dict__.get(MEMBERSHIPS_ATTRIBUTE)
    if known is not None:
        for role in roles:
            ids |= known.get(role, frozenset())
        return ids
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
        .select_related(
            "procedure_version", "procedure", "agency", "receiving_agency", "assignee", "current_step__agency"
        )
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


def dossier_page_get_for_officer(*, user, pk: int) -> Dossier:
    """dossier_get_for_officer for the officer's dossier page: the same dossier, the same refusal.

    The page's lists (files, events, appointments, fees, steps: dossiers.officer_page) come in the
    dossier's own statement, as `dossier.page`; the access check reads the steps from them.
    """
    ids = officer_agency_ids(user)
    dossier = (
        Dossier.objects.exclude(state=S.DRAFT)
        .select_related("procedure_version", "current_step__agency")
        .defer(*_page_deferred_fields())
        .annotate(page_lists=_page_lists_sql())
        .filter(pk=pk)
        .order_by()  # one row by its key: no ORDER BY to compile
    )
    dossier = next(iter(dossier[:1]), None)
    if dossier is None:
        raise _refuse(user, "dossier", pk)
    raw = json.loads(dossier.__dict__.pop("page_lists"))
    if not (
        dossier.agency_id in ids
        or dossier.receiving_agency_id in ids
        or any(step["agency_id"] in ids for step in raw["steps"])
    ):
        raise _refuse(user, "dossier", pk)
    dossier.page = _page_lists(raw)
    return dossier


def dossier_page_lists(dossier: Dossier) -> PageLists:
    """The page's lists of a dossier the caller may read: those read with it, else one statement."""
    page = dossier.__dict__.get("page")
    if page is None:
        rows = Dossier.objects.filter(pk=dossier.pk).annotate(page_lists=_page_lists_sql())
        raw = rows.values_list("page_lists", flat=True)[0]
        page = dossier.page = _page_lists(json.loads(raw))
    return page


# What the page reads of the related rows it joins; their other columns are not selected (a page of
# 160 columns spent more in compiling and loading them than in its lists; the names of the procedure,
# agencies and assignee come with the lists). The dossier's own columns are all read: forms,
# services and template tags take the instance.
PAGE_RELATED_FIELDS = {
    "procedure_version": ("snapshot",),
    "current_step__agency": ("name", "path"),
}


@functools.cache
def _page_deferred_fields() -> tuple[str, ...]:
    deferred = []
    for relation, kept in PAGE_RELATED_FIELDS.items():
        model = Dossier
        for part in relation.split("__"):
            model = model._meta.get_field(part).related_model
        deferred += [
            f"{relation}__{field.name}"
            for field in model._meta.concrete_fields
            if not field.primary_key and field.name not in kept
        ]
    return tuple(deferred)


def _page_lists_sql() -> RawSQL:
    # A constant statement without parameters: nothing of the request reaches the SQL text.
    return RawSQL(PAGE_LISTS_SQL, (), output_field=TextField())  # noqa: S611


def _page_lists(raw: dict) -> PageLists:
    return page_lists_of(
        raw,
        form_labels=choice_labels(FormNumber, get_language()),
        appointment_labels=choice_labels(AppointmentKind, get_language()),
    )


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


# What public tracking shows (page and API): no personal data, no answers, no procedure snapshot.
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


def dossier_timeline(dossier: Dossier, *, with_assignee: bool = True) -> list[TimelineRow]:
    """The steps as the tracking card (Form 06) shows them: started or completed, in order.

    Public tracking passes with_assignee=False: it never shows who works on a dossier, so the
    officers' rows are not read at all; only the columns a row shows are.
    """
    steps = (
        DossierStep.objects.filter(dossier=dossier)
        .filter(Q(started_at__isnull=False) | Q(completed_at__isnull=False))
        .select_related("agency")
        .only(*TIMELINE_FIELDS)
        .order_by("order", "id")
    )
    if with_assignee:
        steps = steps.select_related("assignee").only(*TIMELINE_FIELDS, *ASSIGNEE_FIELDS)
    return [
        TimelineRow(
            name=step.name,
            agency=step.agency.name,
            assignee=step.assignee.get_full_name() if with_assignee and step.assignee_id else "",
            started_at=step.started_at,
            due_at=step.due_at,
            completed_at=step.completed_at,
            timing=step.timing,
            is_parallel=step.is_parallel,
        )
        for step in steps
    ]


@dataclass
class PublicDossier:
    """What public tracking shows of a dossier: the procedure and its progress, nothing about the person."""

    id: int
    code: str | None
    reference: str
    state: str
    channel_in: str
    channel_out: str
    received_at: dt.datetime | None
    current_due_at: dt.datetime | None
    completed_at: dt.datetime | None
    returned_at: dt.datetime | None
    apologised: bool
    procedure_national_code: str
    procedure_current_name: str
    # The name under which it was submitted (the version's snapshot), else the procedure's current one.
    procedure_name: str
    agency_name: str
    steps: list[TimelineRow] = field(default_factory=list)

    @property
    def pk(self) -> int:
        return self.id

    def get_state_display(self) -> str:
        return str(S(self.state).label)


# Dossier, procedure, agency and started steps in one statement: a row per step (or one without).
# Hand-written because compiling the two ORM queries cost more than running them (cProfile on the
# 1,000,000-dossier bench). The dossier is chosen by its code, else by its reference (both unique,
# indexed): COALESCE evaluates the second scalar subquery only when the first finds nothing. The
# names of the procedure, agencies and version are scalar subqueries by key, not joins: planning the
# six-table join was most of the statement's time (0.53 of 0.64 ms; 0.23 of 0.31 ms so, measured on
# the 30,000-dossier bench). `->>` reads one key of the snapshot on PostgreSQL and on SQLite 3.38+.
_TRACK_SQL = (
    'SELECT d."id", d."code", d."reference", d."state", d."channel_in", d."channel_out", d."received_at", '
    'd."current_due_at", d."completed_at", d."returned_at", d."apologised", '
    '(SELECT p."national_code" FROM "procedures_procedure" p WHERE p."id" = d."procedure_id"), '
    '(SELECT p."name" FROM "procedures_procedure" p WHERE p."id" = d."procedure_id"), '
    '(SELECT v."snapshot" ->> \'name\' FROM "procedures_procedureversion" v WHERE v."id" = d."procedure_version_id"), '
    '(SELECT a."name" FROM "procedures_agency" a WHERE a."id" = d."agency_id"), '
    's."name", (SELECT sa."name" FROM "procedures_agency" sa WHERE sa."id" = s."agency_id"), '
    's."started_at", s."due_at", s."completed_at", s."timing", s."is_parallel" '
    'FROM "dossiers_dossier" d '
    'LEFT JOIN "dossiers_dossierstep" s ON s."dossier_id" = d."id" '
    'AND (s."started_at" IS NOT NULL OR s."completed_at" IS NOT NULL) '
    'WHERE d."id" = COALESCE('
    '(SELECT x."id" FROM "dossiers_dossier" x WHERE x."code" = %s AND x."state" <> %s), '
    '(SELECT y."id" FROM "dossiers_dossier" y WHERE y."reference" = %s AND y."state" <> %s)) '
    'ORDER BY s."order", s."id"'
)


def _aware(value):
    # PostgreSQL answers aware datetimes; SQLite's raw cursor answers text (no converter for a raw query).
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value


def dossier_track_public(*, code: str) -> PublicDossier | None:
    """A dossier for public tracking by its code, or by its submission reference, with its timeline.

    One statement (no ORM query to compile), only the columns tracking shows; never a draft, never
    the applicant, never who works on it. The reference serves a dossier not received yet (an
    applicant who has no code so far).
    """
    code = code.strip()
    if not code:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_TRACK_SQL, [code, S.DRAFT, code.upper(), S.DRAFT])
        rows = cursor.fetchall()
    if not rows:
        return None
    first = rows[0]
    dossier = PublicDossier(
        id=first[0],
        code=first[1],
        reference=first[2],
        state=first[3],
        channel_in=first[4],
        channel_out=first[5],
        received_at=_aware(first[6]),
        current_due_at=_aware(first[7]),
        completed_at=_aware(first[8]),
        returned_at=_aware(first[9]),
        apologised=bool(first[10]),
        procedure_national_code=first[11],
        procedure_current_name=first[12],
        procedure_name=first[13] or first[12],
        agency_name=first[14],
    )
    dossier.steps = [
        TimelineRow(
            name=row[15],
            agency=row[16],
            assignee="",
            started_at=_aware(row[17]),
            due_at=_aware(row[18]),
            completed_at=_aware(row[19]),
            timing=row[20],
            is_parallel=bool(row[21]),
        )
        for row in rows
        if row[15] is not None
    ]
    return dossier


TIMELINE_FIELDS = (
    "id",
    "order",
    "name",
    "agency__name",
    "assignee",
    "started_at",
    "due_at",
    "completed_at",
    "timing",
    "is_parallel",
)
# What User.get_full_name reads.
ASSIGNEE_FIELDS = ("assignee__full_name", "assignee__first_name", "assignee__last_name", "assignee__username")


# --- queues -----------------------------------------------------------------------------------
#
# Every tab reads DossierHolding (who holds each open dossier now, kept by dossiers.holdings) in
# (due_at, dossier_id) order. On PostgreSQL a tab is one query: a LATERAL join over the officer's
# (agency, role, bucket) or (agency, is_running) pairs, each an index range scan with a LIMIT, the
# few rows merged and sorted; the page's dossiers are then fetched by id with the columns a row shows.

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
DUE_SOON = dt.timedelta(days=2)
# Tab counts stop here ("99+"): a count never scans more than this per range of the index.
COUNT_LIMIT = 100
B = HoldingBucket
# The columns a queue row shows (page and API), fetched for the page's ids only.
QUEUE_ROW_FIELDS = (
    "id",
    "public_id",
    "code",
    "state",
    "version",
    "applicant_name",
    "applicant_id_number",
    "submitted_at",
    "received_at",
    "current_due_at",
    "procedure__id",
    "procedure__name",
    "procedure__national_code",
    "agency__id",
    "agency__name",
    "assignee__id",
    "assignee__full_name",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
    "current_step__id",
    "current_step__name",
)


@dataclass(frozen=True)
class TabRanges:
    """One tab as ranges of a holdings index: equal `columns` for each of `pairs`, plus `where`."""

    columns: tuple[tuple[str, str], ...]  # (field, PostgreSQL array type)
    pairs: tuple[tuple, ...]
    where: Q = field(default_factory=Q)
    # The same condition as `where`, as SQL on the holdings row `h` (the unfiltered queries' fast path).
    where_sql: str = ""
    where_params: tuple = ()


def queue_tab_ranges(user, tab: str, *, now: dt.datetime) -> TabRanges:
    """Which holdings make up `tab` for this officer (see DossierHolding for the rows' meaning)."""
    reception = officer_agency_ids(user, (Role.RECEPTION,))
    processing = officer_agency_ids(user, (Role.SPECIALIST, Role.LEADER))
    leader = officer_agency_ids(user, (Role.LEADER,))
    everywhere = officer_agency_ids(user)
    triple = (("agency_id", "bigint"), ("role", "text"), ("bucket", "text"))
    if tab == "new":
        pairs = [(a, Role.RECEPTION, bucket) for a in sorted(reception) for bucket in (B.RECEPTION, B.PAYMENT)]
        pairs += [(a, Role.SPECIALIST, B.UNASSIGNED) for a in sorted(processing)]
        return TabRanges(triple, tuple(pairs))
    if tab == "mine":
        return TabRanges((("assignee_id", "bigint"),), ((user.pk,),) if everywhere else ())
    if tab == "approval":
        return TabRanges(triple, tuple((a, Role.LEADER, B.APPROVAL) for a in sorted(leader)))
    if tab == "result":
        return TabRanges(triple, tuple((a, Role.RECEPTION, B.RESULT) for a in sorted(reception)))
    if tab == "supplement":
        return TabRanges(triple, tuple((a, "", B.SUPPLEMENT) for a in sorted(everywhere)))
    running = (("agency_id", "bigint"), ("is_running", "boolean"))
    if tab == "due_soon":
        where = Q(due_at__gte=now, due_at__lt=now + DUE_SOON)
        sql = "h.due_at >= %s AND h.due_at < %s"
        return TabRanges(running, tuple((a, True) for a in sorted(everywhere)), where, sql, (now, now + DUE_SOON))
    if tab == "overdue":
        pairs = tuple((a, True) for a in sorted(everywhere))
        return TabRanges(running, pairs, Q(due_at__lt=now), "h.due_at < %s", (now,))
    return TabRanges(running, tuple((a, flag) for a in sorted(everywhere) for flag in (True, False)))


def _cursor_parts(cursor: tuple[dt.datetime | None, int] | None) -> list[tuple[Q, bool]]:
    """The index ranges after the cursor: dossiers with a due time in order, then those without, by id."""
    if cursor is None:
        return [(Q(due_at__isnull=False), True), (Q(due_at__isnull=True), False)]
    due, pk = cursor
    if due is None:
        return [(Q(due_at__isnull=True, dossier_id__gt=pk), False)]
    return [(Q(due_at__gt=due) | Q(due_at=due, dossier_id__gt=pk), True), (Q(due_at__isnull=True), False)]


def _holding_ids(
    ranges: TabRanges, base: QuerySet[DossierHolding], cursor, limit: int
) -> tuple[str, list] | list[tuple[int, dt.datetime | None]]:
    """The first `limit` (dossier_id, due_at) of the tab after `cursor`: SQL on PostgreSQL, rows elsewhere."""
    unfiltered = not base.query.where
    base = base.filter(ranges.where)
    if connection.vendor != "postgresql":
        match = Q(pk__in=[])
        for pair in ranges.pairs:
            match |= Q(**{name: value for (name, _type), value in zip(ranges.columns, pair, strict=True)})
        after = Q(pk__in=[])
        for part, _has_due in _cursor_parts(cursor):
            after |= part
        qs = (
            base.filter(match)
            .filter(after)
            .values_list("dossier_id", "due_at")
            .distinct()
            .order_by(F("due_at").asc(nulls_last=True), "dossier_id")
        )
        return list(qs[:limit])
    if unfiltered:
        return _holding_ids_sql(ranges, cursor, limit)
    names = [name for name, _type in ranges.columns]
    # Correlated with the unnest row: the names are the constant columns of TabRanges, never input.
    correlated = base.filter(**{name: RawSQL(f"p.{name}", ()) for name in names})  # noqa: S611
    branches, params = [], []
    for part, _has_due in _cursor_parts(cursor):
        # Both parts in index order (due_at, dossier_id): within the null part that is dossier_id order.
        order = ("due_at", "dossier_id")
        sql, branch_params = (
            correlated.filter(part).order_by(*order).values_list("dossier_id", "due_at")[:limit].query.sql_with_params()
        )
        branches.append(f"({sql})")
        params.extend(branch_params)
    return _over_pairs(ranges, branches, params, limit)


def _holding_ids_sql(ranges: TabRanges, cursor, limit: int) -> tuple[str, list]:
    """_holding_ids without filters, written as SQL: the same plan, without compiling ORM queries.

    A page and its tab counts build up to eighteen such branch queries; compiling them through the
    ORM was most of a queue request's Python time at a province's scale (bench/RESULTS.md).
    """
    names = [name for name, _type in ranges.columns]
    # The names are TabRanges' constant columns, never input; every value is a parameter.
    match = " AND ".join(f"h.{name} = p.{name}" for name in names)
    if ranges.where_sql:
        match += f" AND {ranges.where_sql}"
    order = "ORDER BY h.due_at, h.dossier_id LIMIT %s"
    branches, params = [], []
    if cursor is None:
        branches += [f"h.due_at IS NOT NULL {order}", f"h.due_at IS NULL {order}"]
        params += [*ranges.where_params, limit, *ranges.where_params, limit]
    elif cursor[0] is None:
        branches.append(f"h.due_at IS NULL AND h.dossier_id > %s {order}")
        params += [*ranges.where_params, cursor[1], limit]
    else:
        due, pk = cursor
        branches += [f"(h.due_at > %s OR (h.due_at = %s AND h.dossier_id > %s)) {order}", f"h.due_at IS NULL {order}"]
        params += [*ranges.where_params, due, due, pk, limit, *ranges.where_params, limit]
    table = DossierHolding._meta.db_table
    selects = [
        f"(SELECT h.dossier_id, h.due_at FROM {table} h WHERE {match} AND {branch})"  # noqa: S608 - constants
        for branch in branches
    ]
    return _over_pairs(ranges, selects, params, limit)


def _over_pairs(ranges: TabRanges, branches: list[str], params: list, limit: int) -> tuple[str, list]:
    """The tab's first `limit` (dossier, due) pairs: each branch run once per pair of `ranges` (LATERAL).

    Each branch reads its index range in (due_at, dossier_id) order correlated with the unnest row `p`.
    """
    names = [name for name, _type in ranges.columns]
    arrays = ", ".join(f"%s::{pgtype}[]" for _name, pgtype in ranges.columns)
    columns = [list(column) for column in zip(*ranges.pairs, strict=True)] if ranges.pairs else [[] for _ in names]
    sql = (
        f"SELECT DISTINCT x.dossier_id, x.due_at FROM unnest({arrays}) AS p({', '.join(names)}) "  # noqa: S608
        f"CROSS JOIN LATERAL ({' UNION ALL '.join(branches)}) AS x(dossier_id, due_at) "
        "ORDER BY x.due_at ASC NULLS LAST, x.dossier_id ASC LIMIT %s"
    )
    return sql, [*columns, *params, limit]


def _fetch(sql_or_rows) -> list[tuple[int, dt.datetime | None]]:
    if isinstance(sql_or_rows, list):
        return sql_or_rows
    sql, params = sql_or_rows
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def queue_page(
    user,
    tab: str,
    *,
    base: QuerySet[DossierHolding] | None = None,
    after: str | None = None,
    size: int = 25,
    now: dt.datetime | None = None,
) -> tuple[list[Dossier], str | None]:
    """One page of a tab of the officer's queue, nearest deadline first, and the next page's cursor.

    `base` is the holdings queryset after the filters (dossiers.filters.QueueFilterSet). Two
    queries whatever the depth: the page's (dossier, due) pairs, then those dossiers' shown columns.
    A malformed `after` starts from the top.
    """
    ids, cursor = queue_page_ids(user, tab, base=base, after=after, size=size, now=now)
    if not ids:
        return [], cursor
    by_id = {
        d.pk: d
        for d in Dossier.objects.filter(pk__in=ids)
        .select_related("procedure", "agency", "assignee", "current_step")
        .only(*QUEUE_ROW_FIELDS)
    }
    return [by_id[pk] for pk in ids if pk in by_id], cursor


def queue_page_ids(
    user,
    tab: str,
    *,
    base: QuerySet[DossierHolding] | None = None,
    after: str | None = None,
    size: int = 25,
    now: dt.datetime | None = None,
) -> tuple[list[int], str | None]:
    """queue_page's dossier ids in queue order and its next cursor: one query (the holdings index)."""
    pairs = _tab_pairs(user, tab, base=base, after=after, size=size, now=now)
    return ([], None) if pairs is None else _page_of(_fetch(pairs), size)


def _tab_pairs(user, tab: str, *, base, after, size: int, now):
    """_holding_ids of the tab's first `size` + 1 pairs after the cursor `after`; None for a tab the user
    holds nothing in."""
    ranges = queue_tab_ranges(user, tab, now=now or timezone.now())
    if not ranges.pairs:
        return None
    cursor = _parse_cursor(after) if after else None
    return _holding_ids(ranges, base if base is not None else DossierHolding.objects.all(), cursor, size + 1)


def _page_of(found: list[tuple[int, dt.datetime | None]], size: int) -> tuple[list[int], str | None]:
    """The first `size` ids of `size` + 1 (dossier, due) pairs, and the next page's cursor if there is one."""
    more = len(found) > size
    found = found[:size]
    ids = [pk for pk, _due in found]
    if not more or not found:
        return ids, None
    pk, due = found[-1]
    return ids, f"{due.isoformat() if due else ''}~{pk}"


def queue_page_rows(
    user,
    tab: str,
    fields: tuple[str, ...],
    *,
    base: QuerySet[DossierHolding] | None = None,
    after: str | None = None,
    size: int = 25,
    now: dt.datetime | None = None,
) -> tuple[list[dict], str | None]:
    """queue_page_ids then queue_row_values(ids, fields): one statement on PostgreSQL (two where a
    column needs the ORM's converters, and on SQLite).

    The page's (dossier, due) pairs and those dossiers' shown columns in one snapshot, in queue order:
    the pairs' statement (the holdings index) joined with the dossiers by their key.
    """
    pairs = _tab_pairs(user, tab, base=base, after=after, size=size, now=now)
    if pairs is None:
        return [], None
    select = None if isinstance(pairs, list) else _rows_of_page_sql(fields)
    if select is None:
        ids, next_cursor = _page_of(_fetch(pairs), size)
        return queue_row_values(ids, fields), next_cursor
    sql, params = pairs
    with connection.cursor() as db:
        db.execute(f"WITH page (dossier_id, due_at) AS ({sql}) {select}", params)
        found = db.fetchall()
    _ids, next_cursor = _page_of([(row[0], row[1]) for row in found], size)
    return [dict(zip(fields, row[2:], strict=True)) for row in found[:size]], next_cursor


@functools.cache
def _rows_of_page_sql(fields: tuple[str, ...]) -> str | None:
    """The dossiers of the pairs `page` with their `fields`, in queue order; compiled by the ORM once.

    None where the ORM would convert a column's values (then queue_row_values runs instead).
    """
    compiler = Dossier.objects.order_by().values(*fields).query.get_compiler(using=DEFAULT_DB_ALIAS)
    sql, params = compiler.as_sql()
    converters = compiler.get_converters([expression for expression, _sql, _alias in compiler.select])
    if params or converters or not sql.startswith("SELECT ") or any(w in sql for w in (" WHERE ", " ORDER BY ")):
        return None
    table, pk = (connection.ops.quote_name(name) for name in (Dossier._meta.db_table, Dossier._meta.pk.column))
    return (
        f"SELECT page.dossier_id, page.due_at, {sql.removeprefix('SELECT ')} "
        f"INNER JOIN page ON page.dossier_id = {table}.{pk} "
        "ORDER BY page.due_at ASC NULLS LAST, page.dossier_id ASC"
    )


def queue_row_values(ids: list[int], fields: tuple[str, ...] = QUEUE_ROW_FIELDS) -> list[dict]:
    """The shown columns (`fields`, related ones as "procedure__name") of these dossiers, in the order
    of `ids`: one query and plain dicts, no model instances (the queue API's 50 rows).

    `ids` come from queue_page_ids, which already restricted them to the officer's holdings.
    """
    if not ids:
        return []
    by_id = {row["id"]: row for row in Dossier.objects.filter(pk__in=ids).values(*fields)}
    return [by_id[pk] for pk in ids if pk in by_id]


def queue_counts(user, *, now: dt.datetime | None = None) -> dict[str, int]:
    """How many dossiers each tab holds, counted up to COUNT_LIMIT (shown as "99+" beyond it).

    One query on PostgreSQL for all tabs, each a count over a LIMIT: never a scan of the province.
    """
    now = now or timezone.now()
    base = DossierHolding.objects.all()
    parts = {tab: queue_tab_ranges(user, tab, now=now) for tab in QUEUE_TABS}
    counts = dict.fromkeys(QUEUE_TABS, 0)
    if connection.vendor != "postgresql":
        for tab, ranges in parts.items():
            if ranges.pairs:
                counts[tab] = len(_holding_ids(ranges, base, None, COUNT_LIMIT))
        return counts
    selects, params = [], []
    for tab, ranges in parts.items():
        if ranges.pairs:
            sql, tab_params = _count_sql(ranges, COUNT_LIMIT)
            selects.append(f"({sql}) AS {tab}")  # tab names are constants
            params.extend(tab_params)
    if selects:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(selects)}", params)
            values = cursor.fetchone()
        counts.update(zip([tab for tab, r in parts.items() if r.pairs], values, strict=True))
    return counts


def _count_sql(ranges: TabRanges, limit: int) -> tuple[str, list]:
    """How many distinct dossiers the tab holds, up to `limit`: at most `limit` holdings per pair.

    In no order (a count needs none): one index range per pair, without the page's sort. Exact below
    `limit`: a union of fewer than `limit` distinct dossiers means every pair had fewer, all read.
    """
    names = [name for name, _type in ranges.columns]
    # The names are TabRanges' constant columns, never input; every value is a parameter.
    match = " AND ".join(f"h.{name} = p.{name}" for name in names)
    if ranges.where_sql:
        match += f" AND {ranges.where_sql}"
    arrays = ", ".join(f"%s::{pgtype}[]" for _name, pgtype in ranges.columns)
    columns = [list(column) for column in zip(*ranges.pairs, strict=True)]
    sql = (
        "SELECT count(*) FROM (SELECT DISTINCT x.dossier_id"  # noqa: S608 - constants
        f" FROM unnest({arrays}) AS p({', '.join(names)}) CROSS JOIN LATERAL"
        f" (SELECT h.dossier_id FROM {DossierHolding._meta.db_table} h WHERE {match} LIMIT %s) AS x LIMIT %s) AS t"
    )
    return sql, [*columns, *ranges.where_params, limit, limit]


def queue_for_officer(user, tab: str, *, now: dt.datetime | None = None) -> QuerySet[Dossier]:
    """All the dossiers of one tab, nearest deadline first, as a queryset (one query; for tests, exports).

    The pages and the API read queue_page, which stays an index range scan at any depth.
    """
    now = now or timezone.now()
    ranges = queue_tab_ranges(user, tab, now=now)
    match = Q(pk__in=[])
    for pair in ranges.pairs:
        match |= Q(**{name: value for (name, _type), value in zip(ranges.columns, pair, strict=True)})
    held = DossierHolding.objects.filter(ranges.where).filter(match).values("dossier_id")
    return (
        Dossier.objects.filter(pk__in=held)
        .select_related("procedure", "agency", "assignee")
        .order_by(F("current_due_at").asc(nulls_last=True), "id")
    )


def apply_keyset(qs: QuerySet[Dossier], after: str | None, size: int) -> tuple[list[Dossier], str | None]:
    """Keyset pagination of a dossier queryset on (current_due_at, id); dossiers without a due date last."""
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
