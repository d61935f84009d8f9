"""What the officer's dossier page lists about one dossier, read in the statement that reads the dossier.

The page shows the dossier's files, its audit trail (with each event's attachments), its appointments,
its fee lines and its steps. Read through the ORM that was seven statements, each compiled anew on
every request; here they are subqueries of one JSON column added to the dossier's own SELECT
(dossiers.selectors.dossier_page_get_for_officer). The rows are display-only values, not model
instances: nothing on the page saves them, and a field the page does not show is not read. The
names of the dossier's procedure, agencies and assignee come the same way, instead of four joins
of whole rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import get_language

from portal.accounts.models import display_name

from .constants import FormNumber

# "dossiers_dossier" is the outer query's table (a Dossier queryset without joins of its own table).
PAGE_LISTS_SQL = """
SELECT json_build_object(
  'files', COALESCE((
    SELECT json_agg(json_build_object(
      'id', f.id, 'public_id', f.public_id, 'kind', f.kind, 'requirement_id', f.requirement_id,
      'form_number', f.form_number, 'original_name', f.original_name, 'size', f.size,
      'created_at', f.created_at, 'is_current', f.is_current
    ) ORDER BY f.created_at, f.id)
    FROM dossiers_dossierfile f WHERE f.dossier_id = "dossiers_dossier"."id"
  ), '[]'::json),
  'events', COALESCE((
    SELECT json_agg(json_build_object(
      'id', e.id, 'action', e.action, 'actor_name', e.actor_name, 'from_state', e.from_state,
      'to_state', e.to_state, 'note', e.note, 'data', e.data, 'created_at', e.created_at,
      'attachments', (
        SELECT json_agg(a.dossierfile_id) FROM dossiers_dossierevent_attachments a WHERE a.dossierevent_id = e.id
      )
    ) ORDER BY e.created_at, e.id)
    FROM dossiers_dossierevent e WHERE e.dossier_id = "dossiers_dossier"."id"
  ), '[]'::json),
  'appointments', COALESCE((
    SELECT json_agg(json_build_object(
      'kind', p.kind, 'due_at', p.due_at, 'issued_at', p.issued_at, 'form_id', p.form_id
    ) ORDER BY p.issued_at, p.id)
    FROM dossiers_dossierappointment p WHERE p.dossier_id = "dossiers_dossier"."id"
  ), '[]'::json),
  'fees', COALESCE((
    SELECT json_agg(json_build_object('name', c.name, 'amount', c.amount) ORDER BY c.id)
    FROM dossiers_dossierfee c WHERE c.dossier_id = "dossiers_dossier"."id"
  ), '[]'::json),
  'steps', COALESCE((
    SELECT json_agg(json_build_object(
      'id', s.id, 'order', s."order", 'name', s.name, 'role', s.role, 'agency_id', s.agency_id,
      'agency_name', g.name, 'agency_path', g.path, 'assignee_id', s.assignee_id,
      'assignee', CASE WHEN u.id IS NULL THEN NULL
                       ELSE json_build_array(u.full_name, u.first_name, u.last_name, u.username) END,
      'started_at', s.started_at, 'due_at', s.due_at, 'completed_at', s.completed_at,
      'timing', s.timing, 'is_parallel', s.is_parallel
    ) ORDER BY s."order", s.id)
    FROM dossiers_dossierstep s
    JOIN procedures_agency g ON g.id = s.agency_id
    LEFT JOIN accounts_user u ON u.id = s.assignee_id
    WHERE s.dossier_id = "dossiers_dossier"."id"
  ), '[]'::json),
  'has_payments', EXISTS(SELECT 1 FROM payments_payment m WHERE m.dossier_id = "dossiers_dossier"."id"),
  'procedure_name', (SELECT r.name FROM procedures_procedure r WHERE r.id = "dossiers_dossier"."procedure_id"),
  'agency_name', (SELECT a.name FROM procedures_agency a WHERE a.id = "dossiers_dossier"."agency_id"),
  'receiving_agency_name', (
    SELECT a.name FROM procedures_agency a WHERE a.id = "dossiers_dossier"."receiving_agency_id"
  ),
  'assignee', (
    SELECT json_build_array(u.full_name, u.first_name, u.last_name, u.username)
    FROM accounts_user u WHERE u.id = "dossiers_dossier"."assignee_id"
  )
)::text
"""

_FILE_URL_PLACEHOLDER = uuid.UUID(int=0)


@functools.cache
def choice_labels(choices: type, language: str | None) -> dict[str, str]:
    """A TextChoices' labels in `language` (translation.get_language()), translated once per language
    (as dossiers.constants.state_labels): `.choices` rebuilds and translates the list on each use."""
    return {value: str(label) for value, label in choices.choices}


def _when(value: str | None) -> dt.datetime | None:
    # PostgreSQL writes a timestamptz in JSON as ISO 8601 with its offset (the connection's, UTC).
    return dt.datetime.fromisoformat(value) if value else None


@dataclass(slots=True)
class PageFile:
    id: int
    public_id: str
    kind: str
    requirement_id: int | None
    form_number: str
    form_label: str
    original_name: str
    size: int
    created_at: dt.datetime
    is_current: bool
    url: str


@dataclass(slots=True)
class PageEvent:
    id: int
    action: str
    actor_name: str
    from_state: str
    to_state: str
    note: str
    data: dict
    created_at: dt.datetime
    attachment_ids: list[int]


@dataclass(slots=True)
class PageAppointment:
    kind: str
    kind_label: str
    due_at: dt.datetime
    issued_at: dt.datetime
    form_id: int | None
    form: PageFile | None = None


@dataclass(slots=True)
class PageAgency:
    """What the page's actions need of a step's agency (dossiers.views.officer._covering_ids)."""

    pk: int
    name: str
    path: str


@dataclass(slots=True)
class PageStep:
    """A step with the fields that the timeline and the choice of actions read (as DossierStep names them)."""

    id: int
    order: int
    name: str
    role: str
    agency_id: int
    agency: PageAgency
    assignee_id: int | None
    assignee_names: tuple[str, str, str, str] | None
    started_at: dt.datetime | None
    due_at: dt.datetime | None
    completed_at: dt.datetime | None
    timing: str
    is_parallel: bool

    @property
    def pk(self) -> int:
        return self.id


@dataclass(slots=True)
class PageLists:
    files: list[PageFile] = field(default_factory=list)
    events: list[PageEvent] = field(default_factory=list)
    appointments: list[PageAppointment] = field(default_factory=list)
    fees: list[dict] = field(default_factory=list)
    steps: list[PageStep] = field(default_factory=list)
    has_payments: bool = False
    # The names the page shows of the dossier's procedure, agencies and assignee ("" when none).
    procedure_name: str = ""
    agency_name: str = ""
    receiving_agency_name: str = ""
    assignee_name: str = ""


def page_file_of(file) -> PageFile:
    """A DossierFile instance as the page lists one."""
    labels = choice_labels(FormNumber, get_language())
    return PageFile(
        id=file.pk,
        public_id=str(file.public_id),
        kind=file.kind,
        requirement_id=file.requirement_id,
        form_number=file.form_number,
        form_label=labels.get(file.form_number, file.form_number),
        original_name=file.original_name,
        size=file.size,
        created_at=file.created_at,
        is_current=file.is_current,
        url=reverse("dossiers:file", args=[file.public_id]),
    )


def page_lists_of(raw: dict, *, form_labels: dict[str, str], appointment_labels: dict[str, str]) -> PageLists:
    """The lists from PAGE_LISTS_SQL's decoded JSON; labels are the current language's choice labels."""
    # One reverse() for every file link: the route is "tep/<uuid:public_id>/", the UUID written as str() does.
    url_template = reverse("dossiers:file", args=[_FILE_URL_PLACEHOLDER])
    placeholder = str(_FILE_URL_PLACEHOLDER)
    files = [
        PageFile(
            id=row["id"],
            public_id=row["public_id"],
            kind=row["kind"],
            requirement_id=row["requirement_id"],
            form_number=row["form_number"],
            form_label=form_labels.get(row["form_number"], row["form_number"]),
            original_name=row["original_name"],
            size=row["size"],
            created_at=_when(row["created_at"]),
            is_current=row["is_current"],
            # PostgreSQL writes a uuid as str() does: lower case, with hyphens.
            url=url_template.replace(placeholder, row["public_id"]),
        )
        for row in raw["files"]
    ]
    by_id = {f.id: f for f in files}
    appointments = []
    for row in raw["appointments"]:
        appointments.append(
            PageAppointment(
                kind=row["kind"],
                kind_label=appointment_labels.get(row["kind"], row["kind"]),
                due_at=_when(row["due_at"]),
                issued_at=_when(row["issued_at"]),
                form_id=row["form_id"],
                form=by_id.get(row["form_id"]),
            )
        )
    return PageLists(
        files=files,
        events=[
            PageEvent(
                id=row["id"],
                action=row["action"],
                actor_name=row["actor_name"],
                from_state=row["from_state"],
                to_state=row["to_state"],
                note=row["note"],
                data=row["data"] or {},
                created_at=_when(row["created_at"]),
                attachment_ids=row["attachments"] or [],
            )
            for row in raw["events"]
        ],
        appointments=appointments,
        fees=raw["fees"],
        steps=[
            PageStep(
                id=row["id"],
                order=row["order"],
                name=row["name"],
                role=row["role"],
                agency_id=row["agency_id"],
                agency=PageAgency(row["agency_id"], row["agency_name"], row["agency_path"]),
                assignee_id=row["assignee_id"],
                assignee_names=tuple(row["assignee"]) if row["assignee"] else None,
                started_at=_when(row["started_at"]),
                due_at=_when(row["due_at"]),
                completed_at=_when(row["completed_at"]),
                timing=row["timing"],
                is_parallel=row["is_parallel"],
            )
            for row in raw["steps"]
        ],
        has_payments=raw["has_payments"],
        procedure_name=raw["procedure_name"],
        agency_name=raw["agency_name"],
        receiving_agency_name=raw["receiving_agency_name"] or "",
        # As User.get_full_name writes it.
        assignee_name=display_name(*raw["assignee"]) if raw["assignee"] else "",
    )
