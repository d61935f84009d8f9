"""Residence steps of inter-agency procedures go to the police of the resolving commune (issue 7, point 16).

Decree 63/2024 interconnects birth registration, permanent residence registration and the health
insurance card (2.000986), and death registration, deletion of permanent residence and the funeral
allowance (2.002623). Residence registration belongs to the commune police (Law on Residence 2020):
the step is routed at reception to the police unit whose locality is the commune resolving the
dossier, and runs in parallel with the ward's and the social insurance's steps. Frozen 2026 dates.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

import procedures
from dossiers import selectors, services
from dossiers.constants import DossierState
from dossiers.models import Dossier, DossierHolding
from dossiers.pdf import render_dossier_form
from portal.accounts.constants import Role
from procedures.constants import AgencyKind, StepAgencyRule, StepRole
from procedures.models import ProcessingStep
from procedures.selectors import commune_police_id, police_by_commune
from procedures.services import procedure_publish_version
from tests.dossiers import builders
from tests.dossiers.test_forms_pdf import _poppler  # noqa: F401 - fixture
from tests.dossiers.test_law_issue7 import raw_text
from tests.factories import AgencyFactory, OfficerFactory, ProcessingStepFactory

pytestmark = pytest.mark.django_db

VN = ZoneInfo("Asia/Ho_Chi_Minh")
S = DossierState
CATALOGUE = Path(procedures.__file__).resolve().parent / "demo" / "catalogue.json"
INSURANCE = "000.00.11.H40"


def at(day: int, month: int, hour: int = 9, minute: int = 30) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=VN)


def demo_steps(code: str) -> list[dict]:
    procedures_ = json.loads(CATALOGUE.read_text(encoding="utf-8"))["procedures"]
    return next(p for p in procedures_ if p["national_code"] == code)["steps"]


class PoliceWorld:
    """The demo's 2.000986 (its steps read from the demo catalogue) at UBND phường Hoa Lư."""

    def __init__(self, code: str = "2.000986"):
        province = AgencyFactory(province=True, identifier="000.00.00.H40")
        self.ward = AgencyFactory(name="UBND phường Hoa Lư", parent=province, identifier="000.00.41.H40")
        provincial_police = AgencyFactory(
            name="Công an tỉnh Ninh Bình", kind=AgencyKind.POLICE, parent=province, identifier="000.00.10.H40"
        )
        self.police = AgencyFactory(
            name="Công an phường Hoa Lư",
            kind=AgencyKind.POLICE,
            parent=provincial_police,
            locality=self.ward,
            identifier="000.41.10.H40",
        )
        other_ward = AgencyFactory(name="UBND phường Phủ Lý", parent=province, identifier="000.00.42.H40")
        self.other_police = AgencyFactory(
            name="Công an phường Phủ Lý",
            kind=AgencyKind.POLICE,
            parent=provincial_police,
            locality=other_ward,
            identifier="000.42.10.H40",
        )
        self.insurance = AgencyFactory(
            name="Bảo hiểm xã hội tỉnh Ninh Bình", kind=AgencyKind.VERTICAL, parent=province, identifier=INSURANCE
        )
        self.world = builders.make_world(processing_days="3", agency=self.ward)
        procedure = self.world.procedure
        procedure.steps.all().delete()
        for step in demo_steps(code):
            ProcessingStepFactory(
                procedure=procedure,
                order=step["order"],
                name=step["name"],
                role=step["role"],
                duration_days=step["duration_days"],
                agency=self.insurance if step["agency"] == INSURANCE else None,
                agency_rule=step.get("agency_rule", StepAgencyRule.FIXED),
            )
        procedure_publish_version(procedure=procedure)
        self.police_officer = OfficerFactory(
            role=Role.SPECIALIST, membership__agency=self.police, full_name="Trịnh Văn Cường"
        )
        self.other_police_officer = OfficerFactory(
            role=Role.SPECIALIST, membership__agency=self.other_police, full_name="Công An Phủ Lý"
        )
        self.insurance_officer = OfficerFactory(
            role=Role.SPECIALIST, membership__agency=self.insurance, full_name="Chuyên Viên BHXH"
        )


@pytest.fixture
def clock():
    # Mon 09/03/2026, a working day.
    with time_machine.travel(at(9, 3), tick=False) as traveller:
        yield traveller


@pytest.fixture
def pw(clock) -> PoliceWorld:
    return PoliceWorld()


def specialist_steps(dossier: Dossier) -> dict[str, object]:
    return {
        s.agency.name: s
        for s in dossier.steps.select_related("agency").filter(role=StepRole.SPECIALIST).order_by("order", "id")
    }


def queue_ids(user, tab: str) -> list[int]:
    return [d.pk for d in selectors.queue_for_officer(user, tab)]


def test_the_demo_routes_the_residence_steps_of_both_interconnected_procedures_to_the_commune_police():
    for code in ("2.000986", "2.002623"):
        steps = demo_steps(code)
        police = [s for s in steps if s.get("agency_rule") == StepAgencyRule.COMMUNE_POLICE]
        assert [s["name"] for s in police] and all(s["name"].startswith("Công an cấp xã") for s in police), code
        assert all(s["agency"] is None for s in police), code
        # In parallel with the ward's civil-status step and the social insurance's step.
        group = [s for s in steps if s["order"] == police[0]["order"]]
        assert len(group) == 3 and {s["role"] for s in group} == {StepRole.SPECIALIST}, code


def test_a_dossier_received_at_the_ward_gets_its_residence_step_at_the_commune_police_in_parallel(pw, clock):
    dossier = builders.received(pw.world)
    rows = list(dossier.steps.order_by("order", "id").values_list("order", "agency__name", "role", "is_parallel"))
    assert rows == [
        (1, "UBND phường Hoa Lư", StepRole.RECEPTION, False),
        (2, "UBND phường Hoa Lư", StepRole.SPECIALIST, True),
        (2, "Công an phường Hoa Lư", StepRole.SPECIALIST, True),
        (2, "Bảo hiểm xã hội tỉnh Ninh Bình", StepRole.SPECIALIST, True),
        (3, "UBND phường Hoa Lư", StepRole.LEADER, False),
    ]
    # Never another commune's police.
    assert not dossier.steps.filter(agency=pw.other_police).exists()


def test_the_police_officer_sees_the_dossier_in_the_queue_and_completes_the_residence_step(pw, clock):
    dossier = services.dossier_assign(
        dossier=builders.received(pw.world), actor=pw.world.leader, assignee=pw.world.specialist
    )
    steps = specialist_steps(dossier)
    police_step = steps["Công an phường Hoa Lư"]
    assert police_step.started_at == at(9, 3) and police_step.completed_at is None
    assert dossier.pk in queue_ids(pw.police_officer, "new")
    assert dossier.pk not in queue_ids(pw.other_police_officer, "all")
    holding = DossierHolding.objects.get(dossier=dossier, agency=pw.police, role=Role.SPECIALIST)
    assert holding.step_id == police_step.pk

    clock.move_to(at(10, 3, 10, 0))
    services.dossier_assign(dossier=dossier, actor=pw.police_officer, assignee=pw.police_officer, step=police_step)
    assert dossier.pk in queue_ids(pw.police_officer, "mine")
    dossier = services.dossier_forward(dossier=dossier, officer=pw.police_officer, step=police_step)
    police_step.refresh_from_db()
    assert police_step.completed_at == at(10, 3, 10, 0) and police_step.assignee == pw.police_officer
    assert dossier.state == S.IN_PROCESSING
    assert not DossierHolding.objects.filter(dossier=dossier, agency=pw.police, role=Role.SPECIALIST).exists()
    # A police officer of another commune cannot touch it.
    with pytest.raises(services.DossierError):
        services.dossier_forward(
            dossier=dossier, officer=pw.other_police_officer, step=steps["Bảo hiểm xã hội tỉnh Ninh Bình"]
        )


def test_the_result_waits_for_the_commune_police_and_the_social_insurance(pw, clock):
    dossier = services.dossier_assign(
        dossier=builders.received(pw.world), actor=pw.world.leader, assignee=pw.world.specialist
    )
    steps = specialist_steps(dossier)
    clock.move_to(at(10, 3, 14, 0))
    with pytest.raises(services.DossierError) as refused:
        services.dossier_submit_for_approval(
            dossier=dossier, officer=pw.world.specialist, result_upload=builders.pdf_upload("ket-qua.pdf")
        )
    assert "Công an phường Hoa Lư" in str(refused.value) and "Bảo hiểm xã hội" in str(refused.value)
    services.dossier_forward(dossier=dossier, officer=pw.police_officer, step=steps["Công an phường Hoa Lư"])
    with pytest.raises(services.DossierError):
        services.dossier_submit_for_approval(
            dossier=dossier, officer=pw.world.specialist, result_upload=builders.pdf_upload("ket-qua.pdf")
        )
    services.dossier_forward(
        dossier=dossier, officer=pw.insurance_officer, step=steps["Bảo hiểm xã hội tỉnh Ninh Bình"]
    )
    dossier = services.dossier_submit_for_approval(
        dossier=Dossier.objects.get(pk=dossier.pk),
        officer=pw.world.specialist,
        result_upload=builders.pdf_upload("ket-qua.pdf"),
    )
    dossier = services.dossier_approve(dossier=dossier, officer=pw.world.leader)
    assert dossier.state == S.RESULT_READY
    assert dossier.steps.filter(completed_at__isnull=True).count() == 0


def test_form_06_marks_the_police_step_as_parallel(pw, clock):
    dossier = services.dossier_assign(
        dossier=builders.received(pw.world), actor=pw.world.leader, assignee=pw.world.specialist
    )
    body = raw_text(render_dossier_form(dossier, "06"))
    assert body.count("(xử lý song song)") == 3
    assert "Công an cấp xã đăng ký thường trú cho trẻ (xử lý song song)" in body
    assert "Công an phường Hoa Lư" in body


def test_the_death_procedure_routes_the_residence_deletion_to_the_commune_police(clock):
    world = PoliceWorld("2.002623")
    dossier = builders.received(world.world)
    step = dossier.steps.get(name="Công an cấp xã xóa đăng ký thường trú")
    assert step.agency == world.police and step.is_parallel


def test_reception_is_refused_and_nothing_written_when_the_commune_has_no_police(pw, clock):
    pw.police.locality = None
    pw.police.save()
    dossier = builders.submitted(pw.world)
    with pytest.raises(services.DossierError) as refused:
        services.dossier_receive(dossier=dossier, officer=pw.world.reception)
    assert "Chưa xác định được Công an cấp xã" in str(refused.value)
    dossier.refresh_from_db()
    assert dossier.state == S.SUBMITTED and not dossier.code and not dossier.steps.exists()


def test_an_inactive_police_unit_is_not_chosen_and_the_resolution_follows_the_tree(pw):
    assert police_by_commune(commune_ids=[pw.ward.pk]) == {pw.ward.pk: pw.police.pk}
    # A unit below the commune resolving for it finds the commune's police through the tree.
    unit = AgencyFactory(name="Bộ phận một cửa phường Hoa Lư", parent=pw.ward, kind=AgencyKind.OTHER)
    assert commune_police_id(unit.path, police_by_commune()) == pw.police.pk
    pw.police.is_active = False
    pw.police.save()
    assert commune_police_id(pw.ward.path, police_by_commune()) is None


def test_a_step_routed_to_the_commune_police_names_no_fixed_agency_and_a_locality_is_a_commune(pw):
    step = ProcessingStep(
        procedure=pw.world.procedure,
        order=4,
        name="Xác minh",
        role=StepRole.SPECIALIST,
        duration_days="1",
        agency=pw.insurance,
        agency_rule=StepAgencyRule.COMMUNE_POLICE,
    )
    with pytest.raises(ValidationError):
        step.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        step.save()
    pw.police.locality = pw.insurance
    with pytest.raises(ValidationError) as error:
        pw.police.full_clean()
    assert "locality" in error.value.message_dict


@pytest.mark.parametrize("code", ["2.000986", "2.002623"])
def test_in_the_demo_the_ward_police_officer_gets_the_residence_step_of_a_dossier_received_at_the_ward(
    code, settings, clock
):
    from django.core.management import call_command

    from portal.accounts.models import User
    from procedures.models import Agency, Procedure

    settings.DEBUG = True  # load_demo refuses its published passwords otherwise
    call_command("load_demo", quiet=True)
    settings.DEBUG = False
    ward = Agency.objects.get(name="UBND phường Hoa Lư")
    police = Agency.objects.get(name="Công an phường Hoa Lư")
    assert police.locality == ward and police.kind == AgencyKind.POLICE
    users = {u.username: u for u in User.objects.filter(username__in=["motcua", "lanhdao", "chuyenvien", "congan"])}
    citizen = User.objects.get(username="037192004517")
    procedure = Procedure.objects.get(national_code=code)
    version = procedure.current_version.snapshot
    answers = {}
    for spec in version["form_fields"]:
        answers[spec["code"]] = {
            "cccd": citizen.cccd,
            "phone": citizen.phone,
            "date": "2026-03-02",
            "choice": (spec.get("choices") or "").splitlines()[0] if spec.get("choices") else "",
        }.get(spec["kind"], "Nguyễn Văn An")
    dossier = services.dossier_create_draft(procedure=procedure, agency=ward, owner=citizen)
    services.dossier_save_answers(dossier=dossier, user=citizen, answers=answers)
    for index, document in enumerate(version["documents"], start=1):
        if document.get("is_mandatory"):
            services.dossier_attach_file(
                dossier=dossier, user=citizen, requirement_id=index, upload=builders.pdf_upload(f"giay-to-{index}.pdf")
            )
    dossier = services.dossier_submit(dossier=Dossier.objects.get(pk=dossier.pk), user=citizen)
    dossier = services.dossier_receive(dossier=dossier, officer=users["motcua"])
    dossier = services.dossier_assign(dossier=dossier, actor=users["lanhdao"], assignee=users["chuyenvien"])
    step = dossier.steps.get(agency=police)
    assert step.is_parallel and step.role == StepRole.SPECIALIST and step.started_at == at(9, 3)
    assert dossier.pk in queue_ids(users["congan"], "new")
    services.dossier_forward(dossier=dossier, officer=users["congan"], step=step)
    step.refresh_from_db()
    assert step.completed_at == at(9, 3) and step.assignee == users["congan"]
