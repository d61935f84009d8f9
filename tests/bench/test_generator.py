"""The benchmark's generator writes the rows the services write (bench/generator.py cannot drift).

A few dossiers are built through dossiers.services and the same stories are told by the generator
on the same procedure, agency and accounts at the same frozen instant; every table's rows are then
compared: the same columns, the same values where the story fixes them (states, versions, codes,
event actions and data, steps, fees, forms, side effects), and the same shape elsewhere.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from bench.generator import AgencyInfo, Person, ProcedureInfo, Province, Story, stored_file
from dossiers import services
from dossiers.models import (
    Dossier,
    DossierAppointment,
    DossierCodeSequence,
    DossierEvent,
    DossierFee,
    DossierFile,
    DossierHolding,
    DossierPause,
    DossierRegisterCounter,
    DossierStep,
    SideEffect,
)
from procedures.calendar import WorkingCalendar
from procedures.models import Agency
from procedures.selectors import police_by_commune
from procedures.services import procedure_publish_version
from tests.dossiers import builders

pytestmark = pytest.mark.django_db

VN = ZoneInfo(settings.TIME_ZONE)
MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=VN)
ANSWERS = {"ten_ho_kinh_doanh": "Tạp hóa An"}
STORED_NAME = re.compile(r"^dossiers/\d{4}/\d{2}/[0-9a-f]{32}$")
CODE = re.compile(r"^[0-9A-Z.]+-\d{6}-\d{4}$")
REFERENCE = re.compile(r"^(N\d{6}-)[A-HJKMNP-Z2-9]{6}$")


@pytest.fixture(autouse=True)
def _frozen_monday(time_machine):
    time_machine.move_to(MONDAY, tick=False)


def person(user) -> Person:
    return Person(
        id=user.pk,
        name=user.get_full_name(),
        cccd=user.cccd or "",
        phone=user.phone or "",
        email=user.email or "",
        address=user.address or "",
    )


def province_of(world) -> Province:
    agencies = {a.pk: AgencyInfo(a.pk, a.identifier, a.path, a.depth, a.name) for a in Agency.objects.all()}
    calendar = WorkingCalendar.load(MONDAY.date() - dt.timedelta(days=30))
    files = {kind: stored_file(f"dossiers/2025/01/{uuid.uuid4().hex}") for kind in ("upload", "form", "result")}
    return Province(agencies=agencies, calendar=calendar, files=files, police=police_by_commune())


def procedure_of(world) -> ProcedureInfo:
    procedure = world.procedure
    version = procedure.current_version or procedure_publish_version(procedure=procedure)
    return ProcedureInfo(
        procedure.pk,
        version.pk,
        procedure.name,
        version.snapshot,
        procedure.fee_before_processing,
        procedure.centralised_system_code or "",
        (world.agency.pk,),
    )


# The same five stories, told through the services and through the generator.


def by_services(world) -> list[Dossier]:
    returned = builders.returned(world)
    refused = services.dossier_refuse(
        dossier=builders.submitted(world), officer=world.reception, reason="Không thuộc thẩm quyền."
    )
    supplement = services.dossier_request_supplement(
        dossier=builders.submitted(world), officer=world.reception, items=["Bản sao CCCD"], reason="Thiếu giấy tờ."
    )
    withdrawn = services.dossier_withdraw(dossier=builders.submitted(world), user=world.citizen, reason="Nộp nhầm.")
    stopped = services.dossier_stop(
        dossier=builders.in_processing(world), officer=world.reception, reason="Người nộp đề nghị dừng."
    )
    return [returned, refused, supplement, withdrawn, stopped]


def by_generator(world, province: Province) -> list[Story]:
    procedure = procedure_of(world)
    citizen, reception = person(world.citizen), person(world.reception)
    specialist, leader = person(world.specialist), person(world.leader)
    now = dt.datetime.now(tz=VN)

    def submitted() -> Story:
        story = Story(province, procedure).create_draft(agency_id=world.agency.pk, owner=citizen, at=now)
        story.save_answers(answers=ANSWERS, at=now)
        story.attach_file(user=citizen, requirement_id=1, name="to-khai.pdf", at=now)
        story.submit(user=citizen, at=now)
        return story

    def in_processing() -> Story:
        story = submitted()
        story.receive(officer=reception, receiving_id=world.agency.pk, at=now)
        story.assign(actor=leader, assignee=specialist, at=now)
        return story

    returned = in_processing()
    returned.submit_for_approval(officer=specialist, at=now)
    returned.approve(officer=leader, at=now)
    returned.return_result(actor=reception, channel="counter", at=now)
    refused = submitted()
    refused.refuse(officer=reception, reason="Không thuộc thẩm quyền.", at=now)
    supplement = submitted()
    supplement.request_supplement(officer=reception, items=["Bản sao CCCD"], reason="Thiếu giấy tờ.", at=now)
    withdrawn = submitted()
    withdrawn.withdraw(user=citizen, reason="Nộp nhầm.", at=now)
    stopped = in_processing()
    stopped.stop(officer=reception, reason="Người nộp đề nghị dừng.", at=now)
    return [returned, refused, supplement, withdrawn, stopped]


# Comparison: ids become positions within the dossier; stored values become their shape.


def shape(value):
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, uuid.UUID):
        return "uuid"
    if isinstance(value, Decimal):
        return ("decimal", str(value))
    return type(value).__name__


def columns(model) -> set[str]:
    return {f.attname for f in model._meta.concrete_fields}


def normalise(dossier: dict, steps, events, files, fees, pauses, effects, attachments, appointments, holdings) -> dict:
    step_pos = {s["id"]: i for i, s in enumerate(sorted(steps, key=lambda s: s["id"]))}
    file_pos = {f["id"]: i for i, f in enumerate(sorted(files, key=lambda f: f["id"]))}
    event_pos = {e["id"]: i for i, e in enumerate(sorted(events, key=lambda e: e["id"]))}
    times = ("created_at", "updated_at", "started_at", "due_at", "completed_at", "done_at", "ended_at")

    def plain(row: dict, drop=("id", "public_id", "dossier_id")) -> dict:
        out = {}
        for key, value in row.items():
            if key in drop:
                continue
            if key in times or key.endswith("_at"):
                out[key] = value  # frozen time: the services and the generator give the same instants
            elif key in ("current_step_id", "step_id"):
                out[key] = step_pos.get(value)
            elif key == "form_id":
                out[key] = file_pos.get(value)
            elif key == "reference" and value is not None:
                # Random characters after the day: the day is compared, the rest must be of the alphabet.
                match = REFERENCE.match(value)
                assert match, value
                out[key] = match.group(1)
            else:
                out[key] = value
        return out

    def effect_plain(row: dict) -> tuple:
        payload = dict(row["payload"])
        if "event" in payload and isinstance(payload["event"], int):
            payload["event"] = event_pos[payload["event"]]  # an event id: its position
        return row["kind"], payload

    def holding_key(row: dict) -> tuple:
        return (row["agency_id"], step_pos.get(row["step_id"], -1), row["role"], row["bucket"])

    def file_plain(row: dict) -> dict:
        out = plain(row)
        # A form of a dossier without a code (refused at reception) is named after the dossier's id.
        out["original_name"] = out["original_name"].replace(f"-{dossier['id']}.pdf", "-<dossier id>.pdf")
        assert STORED_NAME.match(out.pop("file")), row["file"]
        out["size"], out["sha256"] = shape(out["size"]), len(out["sha256"])
        return out

    return {
        "dossier": plain(dossier),
        "steps": [plain(s) for s in sorted(steps, key=lambda s: s["id"])],
        "events": [plain(e) for e in sorted(events, key=lambda e: e["id"])],
        "files": [file_plain(f) for f in sorted(files, key=lambda f: f["id"])],
        "fees": [plain(f) for f in sorted(fees, key=lambda f: f["id"])],
        "pauses": [plain(p) for p in sorted(pauses, key=lambda p: p["id"])],
        # The worker has run the generated ones (status done); what was recorded is the same.
        "effects": [effect_plain(e) for e in sorted(effects, key=lambda e: e["id"])],
        "attachments": sorted((event_pos[a["dossierevent_id"]], file_pos[a["dossierfile_id"]]) for a in attachments),
        "appointments": [plain(a) for a in sorted(appointments, key=lambda a: a["id"])],
        # Rows are replaced when their holder changes: compared by holder, not by id.
        "holdings": [plain(h) for h in sorted(holdings, key=holding_key)],
    }


def from_database(dossier: Dossier) -> dict:
    events = list(DossierEvent.objects.filter(dossier=dossier).values())
    through = DossierEvent.attachments.through
    return normalise(
        Dossier.objects.filter(pk=dossier.pk).values()[0],
        list(DossierStep.objects.filter(dossier=dossier).values()),
        events,
        list(DossierFile.objects.filter(dossier=dossier).values()),
        list(DossierFee.objects.filter(dossier=dossier).values()),
        list(DossierPause.objects.filter(dossier=dossier).values()),
        list(SideEffect.objects.filter(dossier=dossier).values()),
        list(through.objects.filter(dossierevent__dossier=dossier).values("dossierevent_id", "dossierfile_id")),
        list(DossierAppointment.objects.filter(dossier=dossier).values()),
        list(DossierHolding.objects.filter(dossier=dossier).values()),
    )


def from_story(story: Story) -> dict:
    return normalise(
        story.dossier,
        story.steps,
        story.events,
        story.files,
        story.fees,
        story.pauses,
        story.effects,
        story.attachments,
        story.appointments,
        story.holdings,
    )


@pytest.fixture
def world():
    return builders.make_world(processing_days="3", fee=15000)


def test_generated_rows_have_every_column_of_their_tables(world):
    stories = by_generator(world, province_of(world))
    story = stories[0]
    assert set(story.dossier) == columns(Dossier)
    assert stories[2].holdings  # the dossier waiting for its supplement is watched
    for rows, model in [
        (story.appointments, DossierAppointment),
        (stories[2].holdings, DossierHolding),
        (story.steps, DossierStep),
        (story.events, DossierEvent),
        (story.files, DossierFile),
        (story.fees, DossierFee),
        (story.effects, SideEffect),
    ]:
        assert rows, model
        assert all(set(row) == columns(model) for row in rows), model
    assert story.attachments and set(story.attachments[0]) == {"id", "dossierevent_id", "dossierfile_id"}


def test_generated_dossiers_match_the_services_row_for_row(world):
    built = by_services(world)
    told = by_generator(world, province_of(world))
    for dossier, story in zip(built, told, strict=True):
        expected, generated = from_database(dossier), from_story(story)
        for table in expected:
            # Dates come back from the database as UTC datetimes: compare the instants.
            assert generated[table] == expected[table], (dossier.state, table)


def test_generated_codes_follow_the_daily_sequence_of_the_receiving_agency_and_are_recorded(world):
    built = by_services(world)
    province = province_of(world)
    told = by_generator(world, province)
    codes = [story.dossier["code"] for story in told]
    assert codes == [dossier.code for dossier in built]
    assert all(CODE.match(code) for code in codes if code)
    rows = {(row.agency_id, row.day): row.last for row in DossierCodeSequence.objects.all()}
    assert province.sequences == rows
    registers = {(row.agency_id, row.year): row.last for row in DossierRegisterCounter.objects.all()}
    assert province.registers == registers
    assert [story.dossier["register_number"] for story in told] == [dossier.register_number for dossier in built]


def test_generated_states_and_event_actions_are_the_services(world):
    told = by_generator(world, province_of(world))
    assert [story.dossier["state"] for story in told] == [
        "returned",
        "refused_at_reception",
        "supplement_requested",
        "withdrawn",
        "stopped",
    ]
    assert [e["action"] for e in told[0].events] == [
        "create",
        "submit",
        "receive",
        "assign",
        "submit_for_approval",
        "approve",
        "return_result",
    ]
    assert [s["role"] for s in told[0].steps] == ["reception", "specialist", "leader"]
    assert [(f["name"], f["amount"]) for f in told[0].fees] == [("Lệ phí đăng ký", 15000)]


@pytest.mark.postgres
def test_generated_rows_load_through_copy_and_read_back_as_the_orm_reads_them(world):
    from django.db import connection

    from bench.generator import attachment_columns, copy_rows
    from dossiers.models import DossierRating

    province = province_of(world)
    tables = ("dossier", "step", "event", "file", "fee", "pause", "sideeffect", "attachment", "rating")
    tables += ("appointment", "holding")
    province.next_ids = dict.fromkeys(tables, 10_000)  # above the rows the services wrote
    stories = by_generator(world, province)
    stories[0].rate(user=person(world.citizen), scores={"time": 2}, at=dt.datetime.now(tz=VN))
    raw = connection.cursor().cursor  # the psycopg cursor, inside the test's transaction
    for model, rows in [
        (Dossier, [s.dossier for s in stories]),
        (DossierStep, [r for s in stories for r in s.steps]),
        (DossierEvent, [r for s in stories for r in s.events]),
        (DossierFile, [r for s in stories for r in s.files]),
        (DossierFee, [r for s in stories for r in s.fees]),
        (DossierPause, [r for s in stories for r in s.pauses]),
        (SideEffect, [r for s in stories for r in s.effects]),
        (DossierRating, [r for s in stories for r in s.ratings]),
        (DossierAppointment, [r for s in stories for r in s.appointments]),
        (DossierHolding, [r for s in stories for r in s.holdings]),
    ]:
        assert copy_rows(raw, model, rows) == len(rows)
    attachments = [r for s in stories for r in s.attachments]
    copy_rows(raw, None, attachments, table="dossiers_dossierevent_attachments", columns=attachment_columns())
    for story in stories:
        loaded = Dossier.objects.get(pk=story.dossier["id"])
        assert loaded.state == story.dossier["state"] and loaded.code == story.dossier["code"]
        assert loaded.answers == ANSWERS and loaded.current_due_at == story.dossier["current_due_at"]
        events = list(loaded.events.order_by("id").values_list("action", "data"))
        assert events == [(e["action"], e["data"]) for e in story.events]
        assert loaded.events.filter(attachments__isnull=False).count() == len(story.attachments)
    assert DossierRating.objects.get(dossier_id=stories[0].dossier["id"]).scores == {"time": 2}
    assert DossierHolding.objects.filter(dossier_id=stories[2].dossier["id"]).count() == len(stories[2].holdings)
    assert DossierAppointment.objects.get(dossier_id=stories[0].dossier["id"]).form_id is not None


def test_a_fee_paid_before_processing_is_generated_as_the_services_record_it():
    world = builders.make_world(processing_days="3", fee=15000, fee_first=True)
    waiting = services.dossier_receive(dossier=builders.submitted(world), officer=world.reception)
    assert waiting.state == "awaiting_payment"
    paid = services.dossier_receive(dossier=builders.submitted(world), officer=world.reception)
    paid = services.dossier_record_payment(dossier=paid, officer=world.reception, amount=15000, receipt_number="BL1")

    province = province_of(world)
    procedure = procedure_of(world)
    citizen, reception = person(world.citizen), person(world.reception)
    now = dt.datetime.now(tz=VN)
    told = []
    for pay in (False, True):
        story = Story(province, procedure).create_draft(agency_id=world.agency.pk, owner=citizen, at=now)
        story.save_answers(answers=ANSWERS, at=now)
        story.attach_file(user=citizen, requirement_id=1, name="to-khai.pdf", at=now)
        story.submit(user=citizen, at=now)
        story.receive(officer=reception, receiving_id=world.agency.pk, at=now)
        if pay:
            story.record_payment(officer=reception, receipt_number="BL1", at=now)
        told.append(story)
    for dossier, story in zip([waiting, paid], told, strict=True):
        expected, generated = from_database(dossier), from_story(story)
        for table in expected:
            assert generated[table] == expected[table], (dossier.state, table)


def test_an_interconnected_procedure_routed_to_the_commune_police_is_generated_as_the_services_run_it():
    """2.000986 of the demo: the residence step at the commune police, parallel with the ward's and
    the social insurance's; the other agencies finish their parts, then approval and the result."""
    from tests.dossiers.test_commune_police_routing import PoliceWorld, specialist_steps

    pw = PoliceWorld("2.000986")
    world = pw.world
    running = builders.in_processing(world)
    finished = builders.in_processing(world)
    steps = specialist_steps(finished)
    finished = services.dossier_forward(
        dossier=finished, officer=pw.police_officer, step=steps["Công an phường Hoa Lư"]
    )
    finished = services.dossier_forward(
        dossier=finished, officer=pw.insurance_officer, step=steps["Bảo hiểm xã hội tỉnh Ninh Bình"]
    )
    finished = services.dossier_submit_for_approval(
        dossier=Dossier.objects.get(pk=finished.pk),
        officer=world.specialist,
        result_upload=builders.pdf_upload("ket-qua.pdf"),
    )
    finished = services.dossier_approve(dossier=finished, officer=world.leader)
    finished = services.dossier_return_result(dossier=finished, actor=world.reception, channel="counter")

    province = province_of(world)
    assert province.police[pw.ward.pk] == pw.police.pk
    procedure = procedure_of(world)
    citizen, reception = person(world.citizen), person(world.reception)
    specialist, leader = person(world.specialist), person(world.leader)
    now = dt.datetime.now(tz=VN)
    told = []
    for finish in (False, True):
        story = Story(province, procedure).create_draft(agency_id=world.agency.pk, owner=citizen, at=now)
        story.save_answers(answers=ANSWERS, at=now)
        story.attach_file(user=citizen, requirement_id=1, name="to-khai.pdf", at=now)
        story.submit(user=citizen, at=now)
        story.receive(officer=reception, receiving_id=world.agency.pk, at=now)
        story.assign(actor=leader, assignee=specialist, at=now)
        if finish:
            members = story.open_group_members()
            assert [m["agency_id"] for m in members] == [pw.police.pk, pw.insurance.pk]
            officers = {pw.police.pk: person(pw.police_officer), pw.insurance.pk: person(pw.insurance_officer)}
            for member in members:
                story.forward(officer=officers[member["agency_id"]], at=now, step=member)
            story.submit_for_approval(officer=specialist, at=now)
            story.approve(officer=leader, at=now)
            story.return_result(actor=reception, channel="counter", at=now)
        told.append(story)
    for dossier, story in zip([running, finished], told, strict=True):
        expected, generated = from_database(dossier), from_story(story)
        for table in expected:
            assert generated[table] == expected[table], (dossier.state, table)
    police_rows = [h for h in told[0].holdings if h["agency_id"] == pw.police.pk]
    assert [h["role"] for h in police_rows] == ["specialist"]  # the police officer's queue holds it


def test_a_played_interconnected_dossier_completes_every_agency_step_before_approval():
    """bench.generator.play on 2.000986: the commune police and the social insurance finish their
    parallel steps (by their own officers) before the ward's specialist proposes the result."""
    import random

    from bench.generator import Cast, play
    from tests.dossiers.test_commune_police_routing import PoliceWorld

    pw = PoliceWorld("2.000986")
    world = pw.world
    province = province_of(world)
    specialists = {
        world.agency.pk: [person(world.specialist)],
        pw.police.pk: [person(pw.police_officer)],
        pw.insurance.pk: [person(pw.insurance_officer)],
    }
    cast = Cast(
        lambda index: person(world.citizen),
        1,
        {world.agency.pk: [person(world.reception)]},
        specialists,
        {world.agency.pk: [person(world.leader)]},
    )
    now = dt.datetime.now(tz=VN)
    story = play(
        province,
        procedure_of(world),
        cast,
        state="returned",
        overdue=False,
        agency_id=world.agency.pk,
        owner=person(world.citizen),
        start=now - dt.timedelta(days=20),
        now=now,
        rng=random.Random(7),
    )
    assert story.dossier["state"] == "returned"
    steps = {s["agency_id"]: s for s in story.steps if s["is_parallel"]}
    assert set(steps) == {world.agency.pk, pw.police.pk, pw.insurance.pk}
    assert all(s["completed_at"] is not None for s in story.steps)
    assert steps[pw.police.pk]["assignee_id"] == pw.police_officer.pk
    approval = next(e for e in story.events if e["action"] == "submit_for_approval")
    assert all(s["completed_at"] <= approval["created_at"] for s in steps.values())
    forwards = [e for e in story.events if e["action"] == "forward"]
    # The police, then the social insurance; the ward's lead step still open each time.
    assert [(e["agency_id"], e["data"]["parallel_remaining"]) for e in forwards] == [
        (pw.police.pk, 2),
        (pw.insurance.pk, 1),
    ]


def test_the_bench_logs_officers_in_with_load_demos_published_credentials():
    from bench import province
    from procedures.management.commands import load_demo

    assert province.DEMO_TOTP_SECRET == load_demo.DEMO_TOTP_SECRET
    assert province.DEMO_PASSWORD == load_demo.DEMO_PASSWORD
