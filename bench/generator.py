"""A realistic province of dossiers, written row for row as dossiers.services writes them.

`Story` replays the service functions on plain dicts (one dict per row, keyed by the model's
attnames): the same columns, the same event actions, data and attachments, the same side effects,
codes from per-agency daily sequences in the format of the rule set in force, due dates from
procedures.calendar. tests/bench/test_generator.py builds dossiers both ways and compares the rows,
so that this module cannot drift from the services.

Each table has its own row builder (`*_row`), and `copy_rows` turns dicts into COPY tuples in
column order from the model's fields. `load_province` writes it all with COPY FROM STDIN (psycopg
3), with the secondary indexes dropped during the load and rebuilt after, then VACUUM (ANALYZE).
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import hashlib
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from zoneinfo import ZoneInfo

from dossiers.constants import (
    Action,
    AppointmentKind,
    Channel,
    DossierState,
    FileKind,
    FormNumber,
    PauseReason,
    ResultChannel,
    SupplementStage,
)
from dossiers.holdings import MIRRORED, UNHELD_STATES, holdings_for
from dossiers.rules import rule_set, rule_set_on
from procedures.calendar import WorkingCalendar, classify
from procedures.constants import StepAgencyRule, StepRole
from procedures.fees import payment_timing
from procedures.selectors import commune_police_id
from procedures.text import normalize_search

S = DossierState
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = dt.UTC
# dossiers.services.REFERENCE_ALPHABET: no 0/O, 1/I/L.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
SYSTEM_NAME = "Hệ thống"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# --- the world the stories happen in ------------------------------------------------------------


@dataclass(frozen=True)
class AgencyInfo:
    id: int
    identifier: str
    path: str
    depth: int
    name: str

    def __str__(self) -> str:  # str(agency) is its name, as in the events' data
        return self.name


@dataclass(frozen=True)
class ProcedureInfo:
    id: int
    version_id: int
    name: str
    snapshot: dict
    fee_before_processing: bool
    centralised_system_code: str
    agency_ids: tuple[int, ...]


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    cccd: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""


@dataclass(frozen=True)
class StoredFile:
    """A file really stored under MEDIA_ROOT, shared by many generated rows."""

    path: str
    size: int
    sha256: str


def stored_file(path: str, content: bytes = PDF) -> StoredFile:
    return StoredFile(path=path, size=len(content), sha256=hashlib.sha256(content).hexdigest())


@dataclass
class Province:
    """Agencies, procedures, the calendar, id counters and the code sequences of one load."""

    agencies: dict[int, AgencyInfo]
    calendar: WorkingCalendar
    files: dict[str, StoredFile]
    # {commune id: its police unit id} (procedures.selectors.police_by_commune): where steps routed
    # StepAgencyRule.COMMUNE_POLICE go, as dossiers.services routes them at reception.
    police: dict[int, int] = field(default_factory=dict)
    next_ids: dict[str, int] = field(default_factory=dict)
    sequences: dict[tuple[int, dt.date], int] = field(default_factory=dict)
    registers: dict[tuple[int, int], int] = field(default_factory=dict)
    references: set[str] = field(default_factory=set)
    rng: random.Random = field(default_factory=lambda: random.Random(2026))
    _due_cache: dict = field(default_factory=dict)
    _quote_cache: dict = field(default_factory=dict)
    _objects: dict = field(default_factory=dict)

    def new_id(self, table: str) -> int:
        value = self.next_ids.get(table, 1)
        self.next_ids[table] = value + 1
        return value

    def due(self, start: dt.datetime, days, cutoff: dt.time | None = None) -> dt.datetime:
        """procedures.calendar's due_at, cached by (effective day of reception, days)."""
        days = Decimal(str(days))
        cutoff = cutoff or self.calendar.hours.afternoon_end
        day = self.calendar.effective_reception_day(start, cutoff)
        key = (day, days)
        if key not in self._due_cache:
            midday = dt.datetime.combine(day, dt.time(8, 0), tzinfo=TZ)
            self._due_cache[key] = self.calendar.due_at(midday, days, cutoff=dt.time(23, 59))
        return self._due_cache[key]

    def next_code(self, dossier: dict, procedure: ProcedureInfo, receiving_id: int, at: dt.datetime) -> str:
        """dossiers.services._next_code: the next number of the day of the code's agency."""
        day = at.astimezone(TZ).date()
        rules = rule_set(dossier["rule_set"])
        system_code = procedure.centralised_system_code
        code_agency = self.agencies[
            dossier["agency_id"] if (system_code and rules.centralised_format) else receiving_id
        ]
        key = (code_agency.id, day)
        self.sequences[key] = self.sequences.get(key, 0) + 1
        return rules.format_code(
            agency_identifier=code_agency.identifier,
            day=day,
            sequence=self.sequences[key],
            system_code=system_code,
            centralised_identifier=self._agency(code_agency.id).centralised_identifier,
        )

    def next_register_number(self, receiving_id: int, at: dt.datetime) -> int:
        """dossiers.services._next_register_number: the receiving unit's register of the year."""
        key = (receiving_id, at.astimezone(TZ).year)
        self.registers[key] = self.registers.get(key, 0) + 1
        return self.registers[key]

    def new_reference(self, at: dt.datetime) -> str:
        """dossiers.services._new_reference: the day, then six characters, unique in the table."""
        prefix = f"N{at.astimezone(TZ):%y%m%d}-"
        while True:
            reference = prefix + "".join(self.rng.choice(REFERENCE_ALPHABET) for _ in range(6))
            if reference not in self.references:
                self.references.add(reference)
                return reference

    def _agency(self, agency_id: int):
        from procedures.models import Agency

        key = ("agency", agency_id)
        if key not in self._objects:
            self._objects[key] = Agency.objects.get(pk=agency_id)
        return self._objects[key]

    def _procedure(self, procedure_id: int):
        from procedures.models import Procedure

        key = ("procedure", procedure_id)
        if key not in self._objects:
            self._objects[key] = Procedure.objects.get(pk=procedure_id)
        return self._objects[key]

    def fee_quote(self, procedure: ProcedureInfo, dossier: dict, on: dt.date):
        """dossiers.services.dossier_fee_quote (procedures.fees.fee_quote), cached by what it reads."""
        from procedures.fees import fee_quote

        fields = set()
        for item in procedure.snapshot.get("fees", []):
            fields |= {item.get("condition_field"), item.get("quantity_field")} - {None, ""}
        answers = {name: dossier["answers"].get(name) for name in sorted(fields)}
        # The quote reads the date only through validity ranges: between two of their bounds it is the
        # same quote, so it is cached by that period (a million dossiers, a few dozen distinct quotes).
        key = (
            procedure.id,
            dossier["agency_id"],
            dossier["channel_in"],
            dossier["fee_exemption_group"],
            bisect.bisect_right(self._fee_bounds(procedure), on),
            json.dumps(answers, sort_keys=True, default=str),
        )
        if key not in self._quote_cache:
            self._quote_cache[key] = fee_quote(
                snapshot=procedure.snapshot,
                procedure=self._procedure(procedure.id),
                agency=self._agency(dossier["agency_id"]),
                channel=dossier["channel_in"],
                answers=dossier["answers"],
                on=on,
                exemption_group=dossier["fee_exemption_group"],
            )
        return dataclasses.replace(self._quote_cache[key], on=on.isoformat())

    def _fee_bounds(self, procedure: ProcedureInfo) -> list[dt.date]:
        """Every day on which something a quote of this procedure reads starts or stops being in force."""
        key = ("fee-bounds", procedure.id)
        if key not in self._objects:
            from procedures.fees import _date
            from procedures.models import DiscountPolicy, FeeExemption

            starts: set[dt.date] = set()
            ends: set[dt.date] = set()
            for item in procedure.snapshot.get("fees", []):
                starts.add(_date(item.get("effective_from")))
                ends.add(_date(item.get("effective_to")))
            for model in (DiscountPolicy, FeeExemption):
                for valid_from, valid_to in model.objects.values_list("valid_from", "valid_to"):
                    starts.add(valid_from)
                    ends.add(valid_to)
            # In force on `on` when from <= on <= to: a period starts on each `from` and the day after each `to`.
            bounds = {day for day in starts if day} | {day + dt.timedelta(days=1) for day in ends if day}
            self._objects[key] = sorted(bounds)
        return self._objects[key]


class _Attrs:
    """A row dict read as the attributes of a model instance (pk is its id), for holdings_for."""

    __slots__ = ("_row",)

    def __init__(self, row: dict):
        self._row = row

    def __getattr__(self, name: str):
        return self._row["id" if name == "pk" else name]


# --- one dossier's story, service by service ----------------------------------------------------


def _iso(value: dt.datetime) -> str:
    # Django serialises aware datetimes in JSON data with isoformat() in the time zone they carry:
    # the services pass timezone.now() (UTC) or due dates in local time.
    return value.isoformat()


class Story:
    """The rows one dossier leaves, written by methods that mirror dossiers.services one by one."""

    def __init__(self, province: Province, procedure: ProcedureInfo):
        self.p = province
        self.procedure = procedure
        self.dossier: dict = {}
        self.steps: list[dict] = []
        self.events: list[dict] = []
        self.files: list[dict] = []
        self.fees: list[dict] = []
        self.pauses: list[dict] = []
        self.effects: list[dict] = []
        self.attachments: list[dict] = []
        self.ratings: list[dict] = []
        self.appointments: list[dict] = []
        self.holdings: list[dict] = []

    # helpers of dossiers.services

    def _save(self, at: dt.datetime) -> None:
        self.dossier["search_text"] = normalize_search(self.dossier["applicant_name"])[:255]
        self.dossier["version"] += 1
        self.dossier["updated_at"] = at
        self._sync_holdings(at)

    def _sync_holdings(self, at: dt.datetime) -> None:
        """dossiers.holdings.holdings_sync: unchanged holders keep their row and `since`."""
        d = self.dossier
        if d["state"] == S.DRAFT:
            return
        if d["state"] in UNHELD_STATES:
            self.holdings = []
            return
        wanted = holdings_for(_Attrs(d), [_Attrs(s) for s in self.steps], at=at)
        stored = {(h["agency_id"], h["step_id"], h["role"], h["bucket"]): h for h in self.holdings}
        rows = []
        for holder in wanted:
            row = stored.get(holder.key)
            if row is None:
                row = holding_row(id=self.p.new_id("holding"), dossier_id=d["id"], **holder.__dict__)
            else:
                for name in MIRRORED:
                    row[name] = getattr(holder, name)
            rows.append(row)
        self.holdings = sorted(rows, key=itemgetter("id"))

    def _appoint(self, kind: str, at: dt.datetime, form: dict | None) -> None:
        """dossiers.services._appoint: the appointment just given, with the form that gave it."""
        self.appointments.append(
            appointment_row(
                id=self.p.new_id("appointment"),
                dossier_id=self.dossier["id"],
                kind=str(kind),
                due_at=self.dossier["current_due_at"],
                issued_at=at,
                form_id=form["id"] if form else None,
            )
        )

    def _payment_timing(self) -> str:
        timing = payment_timing(self.procedure.snapshot)
        if not timing and self.procedure.fee_before_processing:
            timing = "before_processing"
        return timing

    def _classify_result(self, at) -> None:
        d = self.dossier
        of_record = d["original_due_at"] or d["current_due_at"]
        d["timing"] = classify(at, of_record) if of_record else ""
        rescheduled = d["apologised"] and d["current_due_at"] and d["current_due_at"] != of_record
        d["rescheduled_timing"] = classify(at, d["current_due_at"]) if rescheduled else ""

    def _record(self, action, actor: Person | None, at, *, from_state="", note="", data=None, agency_id=None, files=()):
        event = event_row(
            id=self.p.new_id("event"),
            dossier_id=self.dossier["id"],
            action=str(action),
            actor_id=actor.id if actor else None,
            actor_name=actor.name if actor else SYSTEM_NAME,
            agency_id=agency_id,
            from_state=str(from_state),
            to_state=str(self.dossier["state"]),
            note=note,
            data=data or {},
            created_at=at,
        )
        self.events.append(event)
        for file in files:
            self.attachments.append(
                attachment_row(id=self.p.new_id("attachment"), dossierevent_id=event["id"], dossierfile_id=file["id"])
            )
        if self.dossier["code"]:
            # Every event of a received dossier is synchronised to the national portal.
            self._side_effect("national_sync", at, event=event["id"])
        return event

    def _side_effect(self, kind: str, at: dt.datetime, **payload) -> None:
        # Carried out by the worker a moment later (dossiers.tasks.run_side_effect): the claim of
        # the attempt moved next_attempt_at one backoff step on.
        claimed = at + dt.timedelta(seconds=1)
        self.effects.append(
            side_effect_row(
                id=self.p.new_id("sideeffect"),
                dossier_id=self.dossier["id"],
                kind=kind,
                payload=payload,
                status="done",
                attempts=1,
                created_at=at,
                done_at=claimed + dt.timedelta(seconds=1),
                next_attempt_at=claimed + _first_backoff(),
            )
        )

    def _file(self, at, *, kind, stored: StoredFile, name, uploaded_by: Person | None, **extra) -> dict:
        row = file_row(
            id=self.p.new_id("file"),
            public_id=uuid.uuid4(),
            dossier_id=self.dossier["id"],
            kind=str(kind),
            file=stored.path,
            original_name=name,
            content_type="application/pdf",
            size=stored.size,
            sha256=stored.sha256,
            uploaded_by_id=uploaded_by.id if uploaded_by else None,
            created_at=at,
            **extra,
        )
        self.files.append(row)
        return row

    def _issue_form(self, number: str, actor: Person, at) -> dict:
        name = f"mau-{number}-{self.dossier['code'] or self.dossier['id']}.pdf"
        return self._file(
            at, kind=FileKind.FORM, stored=self.p.files["form"], name=name, uploaded_by=actor, form_number=number
        )

    def _step_agency_id(self) -> int:
        step = self._current_step()
        return step["agency_id"] if step else self.dossier["agency_id"]

    def _current_step(self) -> dict | None:
        current = self.dossier["current_step_id"]
        return next((s for s in self.steps if s["id"] == current), None) if current else None

    def _next_step(self, after: dict | None, role: str | None = None) -> dict | None:
        steps = [s for s in self.steps if s["completed_at"] is None]
        if after is not None:
            steps = [s for s in steps if s["order"] > after["order"]]
        if role:
            steps = [s for s in steps if s["role"] == role]
        return min(steps, key=lambda s: (s["order"], s["id"]), default=None)

    def _start_step(self, step: dict | None, at, assignee: Person | None = None) -> None:
        if step is None:
            self.dossier["current_step_id"] = None
            return
        # dossiers.services._start_step: a parallel group starts at once, the lead (first) step current.
        members = [step]
        if step["is_parallel"]:
            members = sorted(
                (s for s in self.steps if s["order"] == step["order"] and s["is_parallel"]), key=itemgetter("id")
            )
        self.dossier["current_step_id"] = members[0]["id"]
        for member in members:
            member["started_at"] = at
            member["due_at"] = self.p.due(at, member["duration_days"])
            member["assignee_id"] = assignee.id if assignee and member is step else None

    def open_group_members(self) -> list[dict]:
        """The other agencies' started, unfinished steps of the current parallel group (they complete
        with forward(step=...) before the lead step may go to approval)."""
        current = self._current_step()
        if current is None or not current["is_parallel"]:
            return []
        return [
            s
            for s in sorted(self.steps, key=itemgetter("id"))
            if s["order"] == current["order"] and s["is_parallel"] and s is not current and s["completed_at"] is None
        ]

    def _complete_step(self, step: dict | None, at, user: Person) -> None:
        if step is None or step["completed_at"] is not None:
            return
        step["completed_at"] = at
        step["assignee_id"] = step["assignee_id"] or user.id
        step["timing"] = classify(at, step["due_at"]) if step["due_at"] else ""

    def _cutoff(self) -> dt.time:
        value = self.procedure.snapshot.get("cutoff_time") or "16:00"
        hour, minute = value.split(":")[:2]
        return dt.time(int(hour), int(minute))

    def _start_clock(self, at) -> None:
        due = self.p.due(at, self.procedure.snapshot["processing_days"], self._cutoff())
        self.dossier["clock_started_at"] = at
        self.dossier["original_due_at"] = self.dossier["current_due_at"] = due

    # the services

    def create_draft(self, *, agency_id: int, owner: Person, at: dt.datetime) -> Story:
        """dossier_create_draft, online by the owner."""
        self.dossier = dossier_row(
            id=self.p.new_id("dossier"),
            public_id=uuid.uuid4(),
            procedure_version_id=self.procedure.version_id,
            procedure_id=self.procedure.id,
            agency_id=agency_id,
            owner_id=owner.id,
            applicant_name=owner.name,
            applicant_id_number=owner.cccd,
            applicant_phone=owner.phone,
            applicant_email=owner.email,
            applicant_address=owner.address,
            search_text=normalize_search(owner.name)[:255],
            created_at=at,
            updated_at=at,
        )
        self._record(Action.CREATE, owner, at)
        return self

    def save_answers(self, *, answers: dict, at) -> None:
        self.dossier["answers"] = {**self.dossier["answers"], **answers}
        self._save(at)

    def attach_file(self, *, user: Person, requirement_id: int, name: str, at) -> dict:
        documents = dict(enumerate(self.procedure.snapshot.get("documents", []), start=1))
        state = self.dossier["state"]
        row = self._file(
            at,
            kind=FileKind.SUPPLEMENT if state == S.SUPPLEMENT_REQUESTED else FileKind.SUBMITTED,
            stored=self.p.files["upload"],
            name=name,
            uploaded_by=user,
            requirement_id=requirement_id,
            requirement_name=documents[requirement_id].get("name", ""),
        )
        self._save(at)
        return row

    def submit(self, *, user: Person, at) -> None:
        d = self.dossier
        if d["fee_paid_at"] is None:
            self._freeze_fees(at)
        before, d["state"] = d["state"], S.SUBMITTED
        d["submitted_at"] = at
        d["reference"] = d["reference"] or self.p.new_reference(at)
        d["summary"] = d["summary"] or self.procedure.name
        self._save(at)
        self._record(Action.SUBMIT, user, at, from_state=before)
        self._side_effect("notify", at, event="submitted")

    def _freeze_fees(self, at) -> None:
        """dossiers.services._freeze_fees: the quote's lines as fee rows, the breakdown as JSON."""
        quote = self.p.fee_quote(self.procedure, self.dossier, at.astimezone(TZ).date())
        self.fees = [
            fee_row(
                id=self.p.new_id("fee"),
                dossier_id=self.dossier["id"],
                kind=line.kind,
                name=line.name,
                amount=line.total,
                unit_amount=line.unit_amount,
                quantity=line.quantity,
                base_amount=line.base,
                discount_amount=line.discount,
                exemption_amount=line.exemption,
                legal_basis="; ".join(
                    b
                    for b in [line.legal_basis, *(x["legal_basis"] for x in line.discounts), line.exemption_basis]
                    if b
                ),
                refundable=line.refundable,
            )
            for line in quote.lines
        ]
        self.dossier["fee_total"] = quote.total
        self.dossier["fee_breakdown"] = quote.as_dict()

    def withdraw(self, *, user: Person, reason: str, at) -> None:
        before, self.dossier["state"] = self.dossier["state"], S.WITHDRAWN
        self.dossier["closed_at"] = at
        self._close_pause(at)
        self._save(at)
        self._record(Action.WITHDRAW, user, at, from_state=before, note=reason)

    def _close_pause(self, at) -> None:
        for pause in self.pauses:
            if pause["ended_at"] is None:
                pause["ended_at"] = at

    def _pause(self, reason: str, at) -> None:
        self.pauses.append(
            pause_row(id=self.p.new_id("pause"), dossier_id=self.dossier["id"], reason=str(reason), started_at=at)
        )

    def _create_steps(self) -> None:
        """dossiers.services._create_steps: the snapshot's steps, parallel groups sharing an order."""
        d = self.dossier
        by_identifier = {a.identifier: a.id for a in self.p.agencies.values()}
        police_id = None
        steps = self.procedure.snapshot.get("steps") or [
            {"order": 1, "name": "Tiếp nhận hồ sơ", "role": StepRole.RECEPTION, "duration_days": "0.5"},
            {"order": 2, "name": "Thẩm định, giải quyết", "role": StepRole.SPECIALIST, "duration_days": "1"},
            {"order": 3, "name": "Phê duyệt kết quả", "role": StepRole.LEADER, "duration_days": "0.5"},
        ]
        if any(step.get("agency_rule") == StepAgencyRule.COMMUNE_POLICE for step in steps):
            police_id = commune_police_id(self.p.agencies[d["agency_id"]].path, self.p.police)
            if police_id is None:  # the services refuse such a reception: never generate one
                raise ValueError(f"no commune police for agency {d['agency_id']}")
        index = 0
        ordered = sorted(steps, key=lambda s: int(s.get("order") or 0))
        for _order, members in groupby(ordered, key=lambda s: int(s.get("order") or 0)):
            members = list(members)
            parallel = len(members) > 1 and all(m["role"] == StepRole.SPECIALIST for m in members)
            if parallel:
                index += 1
            for step in members:
                if not parallel:
                    index += 1
                self.steps.append(
                    step_row(
                        id=self.p.new_id("step"),
                        dossier_id=d["id"],
                        order=index,
                        name=step["name"],
                        role=step["role"],
                        agency_id=police_id
                        if step.get("agency_rule") == StepAgencyRule.COMMUNE_POLICE
                        else by_identifier.get(step.get("agency") or "", d["agency_id"]),
                        duration_days=Decimal(step["duration_days"]),
                        is_parallel=parallel,
                    )
                )

    def receive(self, *, officer: Person, receiving_id: int, at) -> None:
        """dossier_receive: code, steps, reception step done, clock or wait for the fee, Form 01."""
        d = self.dossier
        before, d["state"] = d["state"], S.RECEIVED
        d["rule_set"] = rule_set_on(at.astimezone(TZ).date()).key
        d["receiving_agency_id"] = receiving_id
        d["received_at"] = at
        self._create_steps()
        for step in self.steps:
            if step["role"] == StepRole.RECEPTION:
                step["agency_id"] = receiving_id
        reception = self._next_step(None, StepRole.RECEPTION)
        self._start_step(reception, at, officer)
        self._complete_step(reception, at, officer)
        d["current_step_id"] = None
        awaiting_fee = self._payment_timing() == "before_processing" and d["fee_total"] > 0 and not d["fee_paid_at"]
        if awaiting_fee:
            d["state"] = S.AWAITING_PAYMENT
            self._pause(PauseReason.PAYMENT, at)
        else:
            self._start_clock(at)
        d["code"] = self.p.next_code(d, self.procedure, receiving_id, at)
        if not d["register_number"]:
            d["register_book"] = 1
            d["register_number"] = self.p.next_register_number(receiving_id, at)
        self._save(at)
        event = self._record(
            Action.RECEIVE,
            officer,
            at,
            from_state=before,
            agency_id=receiving_id,
            data={
                "code": d["code"],
                "register_number": d["register_number"],
                "due_at": _iso(d["current_due_at"]) if d["current_due_at"] else None,
                "rule_set": d["rule_set"],
            },
        )
        if not awaiting_fee:
            # Form 01, recorded with the reception and rendered right after its commit (issue_form),
            # is attached to the RECEIVE event and to the appointment it prints.
            self._side_effect("issue_form", at, form=str(FormNumber.RECEIPT), event=event["id"], actor=officer.id)
            form = self._issue_form(FormNumber.RECEIPT, officer, at)
            self.attachments.append(
                attachment_row(id=self.p.new_id("attachment"), dossierevent_id=event["id"], dossierfile_id=form["id"])
            )
            self._appoint(AppointmentKind.ORIGINAL, at, form)
        self._side_effect("notify", at, event="received")

    def record_payment(self, *, officer: Person, receipt_number: str, at) -> None:
        d = self.dossier
        before, d["state"] = d["state"], S.RECEIVED
        self._close_pause(at)
        d["fee_paid_at"] = at
        self._start_clock(at)
        self._save(at)
        receipt = self._issue_form(FormNumber.RECEIPT, officer, at)
        self._appoint(AppointmentKind.ORIGINAL, at, receipt)
        self._record(
            Action.RECORD_PAYMENT,
            officer,
            at,
            from_state=before,
            files=[receipt],
            data={"amount": d["fee_total"], "receipt_number": receipt_number, "channel": "counter"},
        )
        self._side_effect("notify", at, event="payment_confirmed")

    def request_supplement(self, *, officer: Person, items: list[str], reason: str, at) -> None:
        d = self.dossier
        stage = SupplementStage.RECEPTION if d["state"] == S.SUBMITTED else SupplementStage.APPRAISAL
        before, d["state"] = d["state"], S.SUPPLEMENT_REQUESTED
        d["supplement_stage"] = str(stage)
        d["supplement_note"] = "\n".join(items) + "\nLý do: " + reason
        self._pause(PauseReason.SUPPLEMENT, at)
        self._save(at)
        form = self._issue_form(FormNumber.SUPPLEMENT, officer, at)
        self._record(
            Action.REQUEST_SUPPLEMENT,
            officer,
            at,
            from_state=before,
            note=reason,
            files=[form],
            data={"items": items, "stage": str(stage)},
        )
        self._side_effect("notify", at, event="supplement_requested")

    def refuse(self, *, officer: Person, reason: str, at, lateness_reason: str = "Cần xác minh thêm.") -> None:
        """dossier_refuse; after appraisal past the due date, with the lateness stated."""
        d = self.dossier
        before = d["state"]
        data: dict = {}
        if before == S.SUBMITTED:
            d["state"] = S.REFUSED_AT_RECEPTION
        else:
            if d["current_due_at"] and at > d["current_due_at"]:
                data = {"late": True, "lateness_reason": lateness_reason}
            d["state"] = S.REFUSED_AFTER_APPRAISAL
            self._complete_step(self._current_step(), at, officer)
            d["current_step_id"] = None
            d["completed_at"] = at
            self._classify_result(at)
            data["timing"] = d["timing"]
        d["decision_note"] = reason
        d["closed_at"] = at
        self._save(at)
        form = self._issue_form(FormNumber.REFUSAL, officer, at)
        self._record(Action.REFUSE, officer, at, from_state=before, note=reason, files=[form], data=data)
        self._side_effect("notify", at, event="refused")

    def assign(self, *, actor: Person, assignee: Person, at) -> None:
        d = self.dossier
        step = self._current_step()
        if step is None or step["role"] == StepRole.RECEPTION:
            step = self._next_step(None, StepRole.SPECIALIST)
        before, d["state"] = d["state"], S.IN_PROCESSING
        if step["started_at"] is None:
            self._start_step(step, at, assignee)
        else:
            step["assignee_id"] = assignee.id
        if d["current_step_id"] == step["id"]:
            d["assignee_id"] = assignee.id
        self._save(at)
        self._record(
            Action.ASSIGN,
            actor,
            at,
            from_state=before,
            agency_id=step["agency_id"],
            data={"assignee": assignee.name, "step": step["name"]},
        )

    def next_specialist_step(self) -> dict | None:
        """The specialist step after the current one, if any (then forward, else submit for approval)."""
        following = self._next_step(self._current_step())
        return following if following is not None and following["role"] == StepRole.SPECIALIST else None

    def forward(self, *, officer: Person, at, step: dict | None = None) -> None:
        """dossier_forward; `step` may be another agency's step of the running parallel group."""
        d = self.dossier
        step = step or self._current_step()
        group = [step]
        if step["is_parallel"]:
            group = [s for s in self.steps if s["order"] == step["order"] and s["is_parallel"]]
        remaining = [s for s in group if s is not step and s["completed_at"] is None]
        self._complete_step(step, at, officer)
        if remaining:
            self._save(at)
            data = {"from_step": step["name"], "parallel_remaining": len(remaining)}
            self._record(Action.FORWARD, officer, at, from_state=d["state"], agency_id=step["agency_id"], data=data)
            return
        following = self._next_step(step)
        self._start_step(following, at)
        d["assignee_id"] = None
        self._save(at)
        data = {
            "from_step": step["name"],
            "to_step": following["name"],
            "to_agency": str(self.p.agencies[following["agency_id"]]),
        }
        if step["is_parallel"]:
            data["parallel_remaining"] = 0
        self._record(Action.FORWARD, officer, at, from_state=d["state"], agency_id=step["agency_id"], data=data)

    def submit_for_approval(self, *, officer: Person, at) -> None:
        d = self.dossier
        step = self._current_step()
        before, d["state"] = d["state"], S.AWAITING_APPROVAL
        result = self._file(
            at, kind=FileKind.RESULT, stored=self.p.files["result"], name="ket-qua.pdf", uploaded_by=officer
        )
        self._complete_step(step, at, officer)
        self._start_step(self._next_step(step, StepRole.LEADER), at)
        self._save(at)
        self._record(
            Action.SUBMIT_FOR_APPROVAL, officer, at, from_state=before, agency_id=step["agency_id"], files=[result]
        )

    def approve(self, *, officer: Person, at) -> None:
        d = self.dossier
        before, d["state"] = d["state"], S.RESULT_READY
        self._complete_step(self._current_step(), at, officer)
        d["current_step_id"] = None
        d["completed_at"] = at
        self._classify_result(at)
        self._save(at)
        data = {"timing": d["timing"], "rescheduled_timing": d["rescheduled_timing"]}
        self._record(Action.APPROVE, officer, at, from_state=before, data=data)
        self._side_effect("notify", at, event="result_ready")
        if d["channel_out"] == ResultChannel.POSTAL:
            self._side_effect("postal_shipment", at, address=d["postal_address"])

    def return_result(self, *, actor: Person, channel: str, at) -> None:
        d = self.dossier
        before, d["state"] = d["state"], S.RETURNED
        d["returned_at"] = d["closed_at"] = at
        d["channel_out"] = channel
        paid_online = d["fee_total"] == 0 or any(
            e["action"] == Action.RECORD_PAYMENT and e["data"].get("channel") == "online" for e in self.events
        )
        d["is_fully_online"] = d["channel_in"] == Channel.ONLINE and channel == ResultChannel.DOWNLOAD and paid_online
        self._save(at)
        self._record(Action.RETURN_RESULT, actor, at, from_state=before, data={"channel": channel})
        self._side_effect("notify", at, event="returned")

    def rate(self, *, user: Person, scores: dict[str, int], at) -> None:
        self.ratings.append(
            rating_row(id=self.p.new_id("rating"), dossier_id=self.dossier["id"], scores=scores, created_at=at)
        )
        self._save(at)
        self._record(Action.RATE, user, at, from_state=self.dossier["state"], data={"scores": scores})

    def stop(self, *, officer: Person, reason: str, at) -> None:
        d = self.dossier
        if d["stop_requested_at"] is None:  # asked at the counter, now
            d["stop_requested_at"] = at
            d["stop_request_channel"] = str(Channel.COUNTER)
            d["stop_request_reason"] = reason
        before, d["state"] = d["state"], S.STOPPED
        self._close_pause(at)
        d["current_step_id"] = None
        d["decision_note"] = reason
        d["closed_at"] = at
        self._save(at)
        form = self._issue_form(FormNumber.STOP, officer, at)
        data = {
            # timezone.now() is UTC: so is the instant's isoformat in the event.
            "requested_at": d["stop_requested_at"].astimezone(UTC).isoformat(),
            "request_channel": d["stop_request_channel"],
        }
        self._record(Action.STOP, officer, at, from_state=before, note=reason, files=[form], data=data)
        self._side_effect("notify", at, event="stopped")


# --- row builders, one per table: every column the model has, defaults as the model's ---------


def dossier_row(**values) -> dict:
    row = {
        "code": None,
        "receiving_agency_id": None,
        "state": str(S.DRAFT),
        "version": 0,
        "rule_set": "",
        "owner_id": None,
        "submitted_by_id": None,
        "applicant_name": "",
        "applicant_id_number": "",
        "applicant_phone": "",
        "applicant_email": "",
        "applicant_address": "",
        "answers": {},
        "summary": "",
        "channel_in": str(Channel.ONLINE),
        "channel_out": str(ResultChannel.DOWNLOAD),
        "postal_address": "",
        "submitted_at": None,
        "received_at": None,
        "clock_started_at": None,
        "original_due_at": None,
        "current_due_at": None,
        "completed_at": None,
        "returned_at": None,
        "closed_at": None,
        "timing": "",
        "apologised": False,
        "assignee_id": None,
        "current_step_id": None,
        "supplement_stage": "",
        "supplement_note": "",
        "decision_note": "",
        "fee_total": 0,
        "fee_paid_at": None,
        "is_fully_online": False,
        "reference": None,
        "rescheduled_timing": "",
        "register_book": None,
        "register_number": None,
        "stop_requested_at": None,
        "stop_request_channel": "",
        "stop_request_reason": "",
        "fee_breakdown": {},
        "fee_exemption_group": "",
        "search_text": "",
    }
    row.update(values)
    return row


def step_row(**values) -> dict:
    return {"assignee_id": None, "started_at": None, "due_at": None, "completed_at": None, "timing": "", **values}


def event_row(**values) -> dict:
    return {"note": "", "data": {}, **values}


def file_row(**values) -> dict:
    return {"requirement_id": None, "requirement_name": "", "form_number": "", "is_current": True, **values}


def fee_row(**values) -> dict:
    return {
        "unit_amount": 0,
        "quantity": 1,
        "base_amount": 0,
        "discount_amount": 0,
        "exemption_amount": 0,
        "legal_basis": "",
        "refundable": False,
        **values,
    }


def pause_row(**values) -> dict:
    return {"ended_at": None, **values}


def side_effect_row(**values) -> dict:
    return {"payload": {}, "status": "pending", "attempts": 0, "done_at": None, "last_error": "", **values}


def _first_backoff() -> dt.timedelta:
    from dossiers.side_effects import backoff

    return backoff(1)


def attachment_row(**values) -> dict:
    return dict(values)


def rating_row(**values) -> dict:
    return {"comment": "", **values}


def holding_row(**values) -> dict:
    return dict(values)


def appointment_row(**values) -> dict:
    return {"form_id": None, **values}


# --- the realistic mix --------------------------------------------------------------------------

# (final state, share of all dossiers, overdue). About 6% open, 2.5% overdue (issue 6).
MIX: list[tuple[str, float, bool]] = [
    (S.RETURNED, 0.8695, False),
    (S.DRAFT, 0.02, False),
    (S.REFUSED_AT_RECEPTION, 0.02, False),
    (S.REFUSED_AFTER_APPRAISAL, 0.012, False),
    (S.WITHDRAWN, 0.013, False),
    (S.STOPPED, 0.0055, False),
    (S.SUBMITTED, 0.008, False),
    (S.SUPPLEMENT_REQUESTED, 0.007, False),
    (S.AWAITING_PAYMENT, 0.003, False),
    (S.RECEIVED, 0.002, False),
    (S.RECEIVED, 0.002, True),
    (S.IN_PROCESSING, 0.0075, False),
    (S.IN_PROCESSING, 0.019, True),
    (S.AWAITING_APPROVAL, 0.003, False),
    (S.AWAITING_APPROVAL, 0.004, True),
    (S.RESULT_READY, 0.004, False),
]
OPEN = {S.SUBMITTED, S.SUPPLEMENT_REQUESTED, S.AWAITING_PAYMENT, S.RECEIVED, S.IN_PROCESSING}
OPEN |= {S.AWAITING_APPROVAL, S.RESULT_READY}
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Thu", "Ngọc", "Quang", "Thanh", "Đức", "Hoài", "Xuân", "Gia"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Huy", "Khánh", "Lan"]
GIVEN += ["Linh", "Long", "Mai", "Nam", "Nga", "Phúc", "Phương", "Quân", "Sơn", "Thảo", "Trang", "Tuấn", "Yến"]
WARDS = ["phường Hoa Lư", "phường Phủ Lý", "phường Nam Định", "phường Tam Điệp", "xã Gia Viễn"]


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def answer_for(field_spec: dict, owner: Person, rng: random.Random, at: dt.datetime):
    """A plausible answer for a form field of the snapshot (stored as the forms clean it: strings)."""
    kind = field_spec.get("kind")
    if kind == "cccd":
        return owner.cccd
    if kind == "phone":
        return owner.phone
    if kind == "email":
        return owner.email
    if kind == "date":
        return (at.date() - dt.timedelta(days=rng.randint(10, 4000))).isoformat()
    if kind == "choice":
        choices = [c for c in (field_spec.get("choices") or "").splitlines() if c.strip()]
        return rng.choice(choices) if choices else ""
    if kind in ("number", "integer", "decimal"):
        return str(rng.randint(1, 100))
    if field_spec.get("pattern") == "^[0-9]{10}$":
        return f"{rng.randint(0, 10**10 - 1):010d}"
    return owner.name if "ten" in field_spec.get("code", "") else f"Nội dung {rng.randint(1, 999)}"


def office_moment(calendar: WorkingCalendar, after: dt.datetime, rng: random.Random) -> dt.datetime:
    """The first moment in office hours (07:30–11:30, 13:00–16:45) after `after`, plus some minutes."""
    local = after.astimezone(TZ) + dt.timedelta(minutes=rng.randint(5, 180))
    while True:
        day = local.date()
        if calendar.is_working_day(day):
            minutes = local.hour * 60 + local.minute
            if 450 <= minutes < 690 or 780 <= minutes < 1005:
                return local
            if minutes < 450:
                return dt.datetime.combine(day, dt.time(7, 30), tzinfo=TZ) + dt.timedelta(minutes=rng.randint(0, 90))
            if 690 <= minutes < 780:
                return dt.datetime.combine(day, dt.time(13, 0), tzinfo=TZ) + dt.timedelta(minutes=rng.randint(0, 90))
        local = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(7, 30), tzinfo=TZ)
        local += dt.timedelta(minutes=rng.randint(0, 120))


@dataclass
class Cast:
    """Who acts: citizens by index, officers by agency and role."""

    citizens: Callable[[int], Person]
    citizen_count: int
    reception: dict[int, list[Person]]
    specialists: dict[int, list[Person]]
    leaders: dict[int, list[Person]]

    @property
    def people(self) -> dict[int, Person]:
        if not hasattr(self, "_people"):
            self._people = {
                p.id: p for pool in (self.reception, self.specialists, self.leaders) for ps in pool.values() for p in ps
            }
        return self._people

    def pick(self, pool: dict[int, list[Person]], agency_id: int, rng: random.Random) -> Person:
        return rng.choice(pool[agency_id])


def play(
    province: Province,
    procedure: ProcedureInfo,
    cast: Cast,
    *,
    state: str,
    overdue: bool,
    agency_id: int,
    owner: Person,
    start: dt.datetime,
    now: dt.datetime,
    rng: random.Random,
) -> Story:
    """One dossier's life up to `state`, its actions spread over time as offices work."""
    story = Story(province, procedure)
    snapshot = procedure.snapshot
    cal = province.calendar
    t = start
    story.create_draft(agency_id=agency_id, owner=owner, at=t)
    t += dt.timedelta(minutes=rng.randint(1, 15))
    answers = {f["code"]: answer_for(f, owner, rng, t) for f in snapshot.get("form_fields", []) if f.get("required")}
    story.save_answers(answers=answers, at=t)
    documents = snapshot.get("documents", [])
    for index, document in enumerate(documents, start=1):
        if document.get("is_mandatory"):
            t += dt.timedelta(seconds=rng.randint(20, 120))
            story.attach_file(user=owner, requirement_id=index, name=f"giay-to-{index}.pdf", at=t)
    if state == S.DRAFT:
        return story
    t += dt.timedelta(minutes=rng.randint(1, 10))
    story.submit(user=owner, at=t)
    if state == S.WITHDRAWN:
        story.withdraw(user=owner, reason="Tôi nộp nhầm thủ tục.", at=t + dt.timedelta(hours=rng.randint(1, 20)))
        return story
    if state == S.SUBMITTED:
        return story
    receptionist = cast.pick(cast.reception, agency_id, rng)
    t = office_moment(cal, t, rng)
    if state == S.REFUSED_AT_RECEPTION:
        story.refuse(officer=receptionist, reason="Hồ sơ không thuộc thẩm quyền giải quyết.", at=t)
        return story
    if state == S.SUPPLEMENT_REQUESTED:
        items = [documents[0]["name"] if documents else "Giấy tờ còn thiếu"]
        story.request_supplement(officer=receptionist, items=items, reason="Bản chụp không rõ nét.", at=t)
        return story
    t = min(t, now - dt.timedelta(minutes=rng.randint(20, 60)))  # a recent dossier: received this morning
    story.receive(officer=receptionist, receiving_id=agency_id, at=t)
    if story.dossier["state"] == S.AWAITING_PAYMENT:
        if state == S.AWAITING_PAYMENT:
            return story
        t = office_moment(cal, t, rng)
        story.record_payment(officer=receptionist, receipt_number=f"BL{rng.randint(1, 999999):06d}", at=t)
    if state == S.RECEIVED:
        return story
    # How long processing takes, as a share of the time allowed: most finish early, a few late.
    due = story.dossier["current_due_at"]
    allowed = max(due - t, dt.timedelta(hours=2))
    if state in (S.IN_PROCESSING, S.AWAITING_APPROVAL) and not overdue:
        span = min(allowed * 0.9, max(now - t, dt.timedelta(minutes=10)))
    elif overdue:
        span = max(now - t, allowed) * 0.95
    else:
        span = allowed * (rng.uniform(1.05, 1.8) if rng.random() < 0.06 else rng.uniform(0.15, 0.95))
    steps = 2 + sum(1 for s in story.steps if s["role"] == StepRole.SPECIALIST)
    tick = span / steps
    first = story._next_step(None, StepRole.SPECIALIST)
    leader = cast.pick(cast.leaders, first["agency_id"], rng)
    t += tick * rng.uniform(0.2, 1.0)
    story.assign(actor=leader, assignee=cast.pick(cast.specialists, first["agency_id"], rng), at=t)
    if state == S.STOPPED:
        story.stop(officer=receptionist, reason="Người nộp đề nghị dừng giải quyết.", at=t + tick * 0.5)
        return story
    while story.next_specialist_step() is not None:
        t += tick
        for member in story.open_group_members():
            story.forward(officer=cast.pick(cast.specialists, member["agency_id"], rng), at=t, step=member)
        story.forward(officer=cast.people[story._current_step()["assignee_id"]], at=t)
        story.assign(actor=leader, assignee=cast.pick(cast.specialists, story._step_agency_id(), rng), at=t)
    if state == S.IN_PROCESSING:
        return story
    if state == S.REFUSED_AFTER_APPRAISAL:
        t += tick
        story.refuse(officer=cast.pick(cast.leaders, agency_id, rng), reason="Không đủ điều kiện.", at=t)
        return story
    for member in story.open_group_members():
        # The other agencies of a parallel group (the commune police, the social insurance) finish first.
        story.forward(officer=cast.pick(cast.specialists, member["agency_id"], rng), at=t, step=member)
    t += tick
    story.submit_for_approval(officer=cast.people[story._current_step()["assignee_id"]], at=t)
    if state == S.AWAITING_APPROVAL:
        return story
    t += tick
    story.approve(officer=cast.pick(cast.leaders, story._step_agency_id(), rng), at=t)
    if state == S.RESULT_READY:
        return story
    channel = story.dossier["channel_out"]
    t = min(t + dt.timedelta(hours=rng.uniform(0.5, 72)), now - dt.timedelta(minutes=1))
    story.return_result(actor=receptionist, channel=channel, at=t)
    if rng.random() < 0.3:
        scores = {key: rng.choice((2, 2, 2, 1, 0)) for key in ("time", "contacts", "information", "attitude", "online")}
        story.rate(user=owner, scores=scores, at=t + dt.timedelta(hours=rng.uniform(1, 48)))
    return story


def plan_start(state: str, overdue: bool, procedure: ProcedureInfo, first: dt.datetime, now: dt.datetime, rng):
    """When a dossier in `state` was created, so that its story ends before `now` in that state."""
    days = float(procedure.snapshot.get("processing_days") or 1)
    lifetime = dt.timedelta(days=days * 1.6 + 6)
    if state in (S.SUBMITTED,):
        return now - dt.timedelta(hours=rng.uniform(1, 40))
    if state in (S.SUPPLEMENT_REQUESTED, S.AWAITING_PAYMENT):
        return now - dt.timedelta(days=rng.uniform(1, 20))
    if state in (S.RECEIVED, S.IN_PROCESSING, S.AWAITING_APPROVAL):
        if overdue:
            return now - lifetime - dt.timedelta(days=rng.uniform(1, 45))
        return now - dt.timedelta(days=rng.uniform(0.05, 0.6) * days * 1.4 + 0.1)
    if state == S.RESULT_READY:
        return now - lifetime * rng.uniform(0.8, 1.0)
    latest = now - lifetime - dt.timedelta(days=4)
    return first + (latest - first) * rng.random()


# --- loading --------------------------------------------------------------------------------------


def table_columns(model) -> list[tuple[str, str, Callable]]:
    """(column, attname, to-COPY converter) of each concrete field, in the model's order."""
    from django.db import models

    columns = []
    for f in model._meta.concrete_fields:
        convert = _json if isinstance(f, models.JSONField) else _same
        columns.append((f.column, f.attname, convert))
    return columns


def _json(value):
    return json.dumps(value, ensure_ascii=False)


def _same(value):
    return value


def copy_rows(cursor, model, rows: Iterable[dict], *, table: str | None = None, columns=None) -> int:
    """COPY rows (dicts keyed by attname; every column must be present) into the model's table."""
    columns = columns or table_columns(model)
    names = ", ".join(f'"{c}"' for c, _a, _f in columns)
    getter = itemgetter(*(attname for _c, attname, _f in columns))
    converted = [i for i, (_c, _a, convert) in enumerate(columns) if convert is not _same]
    count = 0
    with cursor.copy(f'COPY "{table or model._meta.db_table}" ({names}) FROM STDIN') as copy:
        for row in rows:
            values = list(getter(row))
            for i in converted:
                values[i] = columns[i][2](values[i])
            copy.write_row(values)
            count += 1
    return count


def attachment_columns():
    return [
        ("id", "id", _same),
        ("dossierevent_id", "dossierevent_id", _same),
        ("dossierfile_id", "dossierfile_id", _same),
    ]


def _secondary_indexes(cursor, tables: list[str]) -> list[tuple[str, str, str | None]]:
    """(table, name, definition-or-constraint) of every index but primary keys on `tables`."""
    cursor.execute(
        """
        SELECT t.relname, i.relname, pg_get_indexdef(i.oid), c.conname, pg_get_constraintdef(c.oid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
        LEFT JOIN pg_constraint c ON c.conindid = i.oid AND c.contype IN ('u', 'x')
        WHERE t.relname = ANY(%s) AND NOT x.indisprimary
        """,
        [tables],
    )
    found = []
    for table, index, indexdef, constraint, constraintdef in cursor.fetchall():
        if constraint:
            found.append((table, constraint, f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint}" {constraintdef}'))
        else:
            found.append((table, index, indexdef))
    return found


def citizen(index: int, first_id: int, seed: int) -> Person:
    """The index-th generated citizen: deterministic, so stories need not keep 250,000 objects."""
    rng = random.Random(seed * 1_000_003 + index)
    gender_digit = rng.choice((0, 1, 2, 3))  # 1900s/2000s, male/female (CCCD G digit)
    year = rng.randint(50, 99) if gender_digit < 2 else rng.randint(0, 6)
    cccd = f"037{gender_digit}{year:02d}{500_000 + index:06d}"  # above the demo citizen's
    return Person(
        id=first_id + index,
        name=person_name(rng),
        cccd=cccd,
        phone=f"09{index:08d}",
        email=f"congdan{index}@example.vn",
        address=f"Số {rng.randint(1, 300)}, {rng.choice(WARDS)}, tỉnh Ninh Bình",
    )


def citizen_user_row(person: Person, password: str, joined: dt.datetime) -> dict:
    year = 1900 + int(person.cccd[4:6]) if person.cccd[3] in "01" else 2000 + int(person.cccd[4:6])
    return {
        "id": person.id,
        "password": password,
        "last_login": None,
        "is_superuser": False,
        "username": person.cccd,
        "first_name": "",
        "last_name": "",
        "email": person.email,
        "is_staff": False,
        "is_active": True,
        "date_joined": joined,
        "public_id": uuid.uuid4(),
        "full_name": person.name,
        "cccd": person.cccd,
        "phone": person.phone,
        "date_of_birth": dt.date(year, 1 + person.id % 12, 1 + person.id % 28),
        "gender": "female" if person.cccd[3] in "13" else "male",
        "address": person.address,
        "identity_level": 2,
    }


def officer_user_row(person: Person, username: str, password: str, joined: dt.datetime) -> dict:
    return {
        "id": person.id,
        "password": password,
        "last_login": None,
        "is_superuser": False,
        "username": username,
        "first_name": "",
        "last_name": "",
        "email": f"{username}@example.vn",
        "is_staff": False,
        "is_active": True,
        "date_joined": joined,
        "public_id": uuid.uuid4(),
        "full_name": person.name,
        "cccd": None,
        "phone": None,
        "date_of_birth": None,
        "gender": "",
        "address": "",
        "identity_level": 0,
    }


def membership_row(**values) -> dict:
    return dict(values)


BIG_TABLES = [
    "dossiers_dossier",
    "dossiers_dossierstep",
    "dossiers_dossierevent",
    "dossiers_dossierevent_attachments",
    "dossiers_dossierfile",
    "dossiers_dossierfee",
    "dossiers_dossierpause",
    "dossiers_sideeffect",
    "dossiers_dossierrating",
    "dossiers_dossiercodesequence",
    "dossiers_dossierappointment",
    "dossiers_dossierholding",
    "dossiers_dossierregistercounter",
    "accounts_user",
    "accounts_membership",
]


def load_province(
    url: str,
    *,
    dossiers: int,
    citizens: int,
    seed: int = 2026,
    now: dt.datetime | None = None,
    batch: int = 5000,
    log: Callable[[str], None] = print,
) -> dict:
    """Generate and COPY a province into the (migrated, demo-loaded) database at `url`."""
    import psycopg
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    from dossiers import models as dm
    from portal.accounts.models import Membership, User
    from procedures.models import Agency, Procedure
    from procedures.selectors import police_by_commune

    now = (now or dt.datetime.now(TZ)).astimezone(TZ)
    first = dt.datetime(2025, 1, 1, 7, 0, tzinfo=TZ)
    rng = random.Random(seed)
    agencies = {
        a.pk: AgencyInfo(a.pk, a.identifier, a.path, a.depth, a.name)
        for a in Agency.objects.order_by("pk")  # the demo agencies
    }
    police = police_by_commune()
    procedures = []
    for p in Procedure.objects.published().prefetch_related("agencies").order_by("pk"):
        version = p.current_version
        routed = any(s.get("agency_rule") == StepAgencyRule.COMMUNE_POLICE for s in version.snapshot.get("steps", []))
        procedures.append(
            ProcedureInfo(
                p.pk,
                version.pk,
                p.name,
                version.snapshot,
                p.fee_before_processing,
                p.centralised_system_code or "",
                # The services refuse to receive, where no commune police serves the agency, a dossier
                # whose step goes to it: such agencies get none of these dossiers.
                tuple(
                    a.pk
                    for a in p.agencies.all()
                    if a.pk in agencies and (not routed or commune_police_id(agencies[a.pk].path, police))
                ),
            )
        )
    procedures = [p for p in procedures if p.agency_ids and p.snapshot.get("processing_days")]
    # Half-day certifications are most of a commune's work: about two steps per dossier on average.
    weights = [6.0 if len(p.snapshot.get("steps", [])) <= 1 else 1.0 for p in procedures]

    media = settings.MEDIA_ROOT
    files = {}
    for kind in ("upload", "form", "result"):
        path = f"dossiers/2025/01/{hashlib.md5(kind.encode()).hexdigest()}"  # noqa: S324 - a file name
        target = media / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(PDF)
        files[kind] = stored_file(path)
    calendar = WorkingCalendar.load(first.date() - dt.timedelta(days=30), now.date() + dt.timedelta(days=400))
    province = Province(agencies=agencies, calendar=calendar, files=files, police=police)

    password = make_password("Bench@2026-dichvucong")
    stats: dict[str, int] = {}
    with psycopg.connect(url, autocommit=False) as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # no FK triggers: rows are consistent
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM accounts_user")
        user_base = cur.fetchone()[0] + 1
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM accounts_membership")
        membership_id = cur.fetchone()[0] + 1
        for table, start in (("dossier", 1), ("step", 1), ("event", 1), ("file", 1), ("fee", 1), ("pause", 1)):
            province.next_ids[table] = start
        indexes = _secondary_indexes(cur, BIG_TABLES)
        for table, name, definition in indexes:
            if definition.startswith("ALTER TABLE"):
                cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            else:
                cur.execute(f'DROP INDEX "{name}"')
        log(f"dropped {len(indexes)} secondary indexes")
        started = time.monotonic()

        # Officers: per agency two at the one-stop counter, four specialists, one leader; the demo
        # accounts join the pools of their agencies so that their queues are full.
        cur.execute(
            "SELECT u.id, u.full_name, m.agency_id, m.role"
            " FROM accounts_user u JOIN accounts_membership m ON m.user_id = u.id"
        )
        demo = cur.fetchall()
        pools: dict[str, dict[int, list[Person]]] = {"reception": {}, "specialist": {}, "leader": {}}
        officer_rows, membership_rows = [], []
        next_user = user_base
        for agency in agencies.values():
            for role, count in (("reception", 2), ("specialist", 4), ("leader", 1)):
                for n in range(count):
                    person = Person(id=next_user, name=person_name(rng))
                    next_user += 1
                    username = f"bench.{role}.{agency.id}.{n}"
                    officer_rows.append(officer_user_row(person, username, password, first))
                    membership_rows.append(
                        membership_row(
                            id=membership_id, user_id=person.id, agency_id=agency.id, role=role, created_at=first
                        )
                    )
                    membership_id += 1
                    pools[role].setdefault(agency.id, []).append(person)
        for user_id, name, agency_id, role in demo:
            if role in pools and agency_id in agencies:
                pools[role].setdefault(agency_id, []).append(Person(id=user_id, name=name))
        citizen_first = next_user

        def citizen_of(index: int) -> Person:
            return citizen(index, citizen_first, seed)

        copy_rows(cur, User, officer_rows)
        copy_rows(cur, Membership, membership_rows)
        stats["accounts_user"] = len(officer_rows) + copy_rows(
            cur, User, (citizen_user_row(citizen_of(i), password, first) for i in range(citizens))
        )
        stats["accounts_membership"] = len(membership_rows)
        log(f"{stats['accounts_user']:,} accounts in {time.monotonic() - started:.0f} s")
        cast = Cast(citizen_of, citizens, pools["reception"], pools["specialist"], pools["leader"])

        # The plan of every dossier, then its story in order of creation (ids follow time).
        shares = [share for _s, share, _o in MIX]
        plans = []
        for _i in range(dossiers):
            state, _share, overdue = rng.choices(MIX, weights=shares)[0]
            proc_index = rng.choices(range(len(procedures)), weights=weights)[0]
            procedure = procedures[proc_index]
            start = plan_start(state, overdue, procedure, first, now, rng)
            plans.append((start, MIX.index((state, _share, overdue)), proc_index, rng.choice(procedure.agency_ids)))
        plans.sort(key=lambda plan: plan[0])
        log(f"planned {dossiers:,} dossiers in {time.monotonic() - started:.0f} s")

        models_of = {
            "dossier": dm.Dossier,
            "steps": dm.DossierStep,
            "events": dm.DossierEvent,
            "files": dm.DossierFile,
            "fees": dm.DossierFee,
            "pauses": dm.DossierPause,
            "effects": dm.SideEffect,
            "ratings": dm.DossierRating,
            "appointments": dm.DossierAppointment,
            "holdings": dm.DossierHolding,
        }
        columns = {key: table_columns(model) for key, model in models_of.items()}
        buffers: dict[str, list] = {key: [] for key in [*models_of, "attachments"]}

        def flush() -> None:
            for key, model in models_of.items():
                stats[model._meta.db_table] = stats.get(model._meta.db_table, 0) + copy_rows(
                    cur, model, buffers[key], columns=columns[key]
                )
                buffers[key].clear()
            stats["dossiers_dossierevent_attachments"] = stats.get("dossiers_dossierevent_attachments", 0) + copy_rows(
                cur,
                None,
                buffers["attachments"],
                table="dossiers_dossierevent_attachments",
                columns=attachment_columns(),
            )
            buffers["attachments"].clear()

        for number, (start, mix_index, proc_index, agency_id) in enumerate(plans, start=1):
            state, _share, overdue = MIX[mix_index]
            story_rng = random.Random(seed * 7919 + number)
            owner = citizen_of(story_rng.randrange(citizens))
            story = play(
                province,
                procedures[proc_index],
                cast,
                state=state,
                overdue=overdue,
                agency_id=agency_id,
                owner=owner,
                start=start,
                now=now,
                rng=story_rng,
            )
            buffers["dossier"].append(story.dossier)
            buffers["steps"].extend(story.steps)
            buffers["events"].extend(story.events)
            buffers["files"].extend(story.files)
            buffers["fees"].extend(story.fees)
            buffers["pauses"].extend(story.pauses)
            buffers["effects"].extend(story.effects)
            buffers["ratings"].extend(story.ratings)
            buffers["attachments"].extend(story.attachments)
            buffers["appointments"].extend(story.appointments)
            buffers["holdings"].extend(story.holdings)  # none once closed, as holdings_sync leaves them
            if number % batch == 0:
                flush()
            if number % 100_000 == 0:
                log(f"{number:,} dossiers in {time.monotonic() - started:.0f} s")
        flush()
        sequences = [
            {"id": i, "agency_id": agency_id, "day": day, "last": last}
            for i, ((agency_id, day), last) in enumerate(sorted(province.sequences.items()), start=1)
        ]
        stats["dossiers_dossiercodesequence"] = copy_rows(cur, dm.DossierCodeSequence, sequences)
        registers = [
            {"id": i, "agency_id": agency_id, "year": year, "last": last}
            for i, ((agency_id, year), last) in enumerate(sorted(province.registers.items()), start=1)
        ]
        stats["dossiers_dossierregistercounter"] = copy_rows(cur, dm.DossierRegisterCounter, registers)
        loaded = time.monotonic()
        log(f"rows written in {loaded - started:.0f} s; rebuilding {len(indexes)} indexes")
        cur.execute("SET maintenance_work_mem = '256MB'")
        for _table, _name, definition in indexes:
            cur.execute(definition)
        # Sequences of the id columns continue after the generated rows.
        for table in BIG_TABLES:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST(COALESCE(MAX(id), 0), 1))"
                f' FROM "{table}"'
            )
        conn.commit()
        indexed = time.monotonic()
        log(f"indexes rebuilt in {indexed - loaded:.0f} s")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    vacuumed = time.monotonic()
    log(f"VACUUM (ANALYZE) in {vacuumed - indexed:.0f} s")
    return {
        "dossiers": dossiers,
        "citizens": citizens,
        "seed": seed,
        "now": now.isoformat(),
        "rows": stats,
        "seconds": {
            "rows": round(loaded - started),
            "indexes": round(indexed - loaded),
            "vacuum": round(vacuumed - indexed),
        },
        "holdings": True,
    }
