"""Inter-agency processing of an electronic dossier (liên thông): agencies work in parallel.

domain.md §1.3 rows 3c/3d: the dossier is sent to all participating agencies at once, marking the
lead agency and each agency's task and deadline. Specialist steps sharing an `order` in the
procedure form such a parallel group.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dossiers import selectors, services
from dossiers.constants import Action, DossierState
from dossiers.models import Dossier, DossierEvent, DossierStep
from portal.accounts.constants import Role
from procedures.constants import StepRole
from tests.dossiers import builders
from tests.factories import AgencyFactory, OfficerFactory, ProcessingStepFactory

pytestmark = pytest.mark.django_db
S = DossierState


@dataclass
class ParallelWorld:
    world: builders.World
    police: object
    insurance: object
    police_specialist: object
    insurance_specialist: object
    outsider: object


def make_parallel_world() -> ParallelWorld:
    world = builders.make_world(processing_days="6")
    procedure = world.procedure
    procedure.steps.all().delete()
    police = AgencyFactory(name="Công an phường Hoa Lư")
    insurance = AgencyFactory(name="Bảo hiểm xã hội khu vực Hoa Lư")
    outside = AgencyFactory(name="UBND phường Nam Hoa Lư")
    ProcessingStepFactory(procedure=procedure, order=1, name="Tiếp nhận", role=StepRole.RECEPTION, duration_days="0.5")
    ProcessingStepFactory(procedure=procedure, order=2, name="Thẩm định", role=StepRole.SPECIALIST, duration_days="2")
    ProcessingStepFactory(
        procedure=procedure, order=2, name="Xác nhận cư trú", role=StepRole.SPECIALIST, agency=police, duration_days="1"
    )
    ProcessingStepFactory(
        procedure=procedure,
        order=2,
        name="Cấp thẻ BHYT",
        role=StepRole.SPECIALIST,
        agency=insurance,
        duration_days="1.5",
    )
    ProcessingStepFactory(procedure=procedure, order=3, name="Phê duyệt", role=StepRole.LEADER, duration_days="0.5")
    return ParallelWorld(
        world=world,
        police=police,
        insurance=insurance,
        police_specialist=OfficerFactory(
            role=Role.SPECIALIST, membership__agency=police, full_name="Chuyên Viên Công An"
        ),
        insurance_specialist=OfficerFactory(
            role=Role.SPECIALIST, membership__agency=insurance, full_name="Chuyên Viên BHXH"
        ),
        outsider=OfficerFactory(role=Role.SPECIALIST, membership__agency=outside, full_name="Người Ngoài"),
    )


def group_steps(dossier: Dossier) -> dict[str, DossierStep]:
    return {
        step.agency.name: step
        for step in dossier.steps.select_related("agency").filter(role=StepRole.SPECIALIST, is_parallel=True)
    }


def queue_ids(user, tab: str) -> list[int]:
    return [d.pk for d in selectors.queue_for_officer(user, tab)]


@pytest.fixture
def pw() -> ParallelWorld:
    return make_parallel_world()


def test_steps_sharing_an_order_form_one_parallel_group(pw):
    dossier = builders.received(pw.world)
    rows = list(dossier.steps.order_by("order", "id").values_list("order", "name", "is_parallel"))
    assert rows == [
        (1, "Tiếp nhận", False),
        (2, "Thẩm định", True),
        (2, "Xác nhận cư trú", True),
        (2, "Cấp thẻ BHYT", True),
        (3, "Phê duyệt", False),
    ]


def test_assigning_the_first_specialist_step_starts_the_whole_group_each_with_its_own_deadline(pw):
    dossier = builders.in_processing(pw.world)
    steps = group_steps(dossier)
    lead = steps["UBND phường Hoa Lư"]
    assert dossier.current_step_id == lead.pk  # the lead agency's step
    started = {step.started_at for step in steps.values()}
    assert len(started) == 1 and None not in started
    assert all(step.completed_at is None for step in steps.values())
    for step in steps.values():
        assert step.due_at == services._due(step.started_at, step.duration_days)
    assert len({step.due_at for step in steps.values()}) == 3
    assert lead.assignee == pw.world.specialist
    assert steps["Công an phường Hoa Lư"].assignee is None
    leader_step = dossier.steps.get(role=StepRole.LEADER)
    assert leader_step.started_at is None
    timeline = selectors.dossier_timeline(dossier)
    assert [row.is_parallel for row in timeline] == [False, True, True, True]


def test_each_agency_sees_the_dossier_in_its_queue_and_in_new_until_assigned(pw, django_assert_max_num_queries):
    dossier = builders.in_processing(pw.world)
    for officer in (pw.police_specialist, pw.insurance_specialist, pw.world.specialist):
        ids = queue_ids(officer, "all")
        assert ids.count(dossier.pk) == 1  # one row per dossier
    assert dossier.pk not in queue_ids(pw.outsider, "all")
    assert dossier.pk in queue_ids(pw.police_specialist, "new")
    assert dossier.pk in queue_ids(pw.insurance_specialist, "new")
    assert dossier.pk not in queue_ids(pw.world.specialist, "new")  # the lead step is assigned

    police_step = group_steps(dossier)["Công an phường Hoa Lư"]
    services.dossier_assign(
        dossier=dossier, actor=pw.police_specialist, assignee=pw.police_specialist, step=police_step
    )
    dossier.refresh_from_db()
    assert dossier.assignee == pw.world.specialist  # the dossier's assignee stays the lead's
    assert dossier.pk not in queue_ids(pw.police_specialist, "new")
    assert dossier.pk in queue_ids(pw.police_specialist, "mine")
    assert dossier.pk in queue_ids(pw.insurance_specialist, "new")
    assert dossier.pk not in queue_ids(pw.insurance_specialist, "mine")

    # Constant query count: evaluating a queue is one query, however many steps match.
    for officer in (pw.police_specialist, pw.world.specialist):
        for tab in selectors.QUEUE_TABS:
            qs = selectors.queue_for_officer(officer, tab)
            with django_assert_max_num_queries(1):
                list(qs)


def test_an_agency_specialist_cannot_be_assigned_to_another_agencys_step(pw):
    dossier = builders.in_processing(pw.world)
    insurance_step = group_steps(dossier)["Bảo hiểm xã hội khu vực Hoa Lư"]
    with pytest.raises(services.DossierError):
        services.dossier_assign(
            dossier=dossier, actor=pw.police_specialist, assignee=pw.police_specialist, step=insurance_step
        )


def test_submit_for_approval_is_refused_while_partner_agencies_are_still_working(pw):
    dossier = builders.in_processing(pw.world)
    before = Dossier.objects.get(pk=dossier.pk)
    events = DossierEvent.objects.filter(dossier=dossier).count()
    with pytest.raises(services.NotAllowedError) as refused:
        services.dossier_submit_for_approval(
            dossier=dossier, officer=pw.world.specialist, result_upload=builders.pdf_upload("ket-qua.pdf")
        )
    message = refused.value.message
    assert message.startswith("Còn cơ quan phối hợp chưa hoàn thành phần việc: ")
    assert "Công an phường Hoa Lư" in message and "Bảo hiểm xã hội khu vực Hoa Lư" in message
    after = Dossier.objects.get(pk=dossier.pk)
    assert (after.state, after.version, after.current_step_id) == (
        S.IN_PROCESSING,
        before.version,
        before.current_step_id,
    )
    assert DossierEvent.objects.filter(dossier=dossier).count() == events
    assert all(step.completed_at is None for step in group_steps(after).values())


def test_an_officer_outside_the_group_cannot_complete_a_step(pw):
    dossier = builders.in_processing(pw.world)
    police_step = group_steps(dossier)["Công an phường Hoa Lư"]
    with pytest.raises(services.PermissionDeniedError):
        services.dossier_forward(dossier=dossier, officer=pw.outsider, step=police_step)
    with pytest.raises(services.PermissionDeniedError):
        services.dossier_forward(dossier=dossier, officer=pw.insurance_specialist, step=police_step)
    assert DossierStep.objects.get(pk=police_step.pk).completed_at is None


def test_the_lead_step_cannot_be_forwarded_past_the_leader(pw):
    dossier = builders.in_processing(pw.world)
    with pytest.raises(services.NotAllowedError):
        services.dossier_forward(dossier=dossier, officer=pw.world.specialist)


@pytest.mark.parametrize("partners_order", [("police", "insurance"), ("insurance", "police")])
def test_each_agency_completes_its_own_step_and_the_leader_step_starts_after_the_last(pw, partners_order):
    dossier = builders.in_processing(pw.world)
    steps = group_steps(dossier)
    partners = {
        "police": (pw.police_specialist, steps["Công an phường Hoa Lư"]),
        "insurance": (pw.insurance_specialist, steps["Bảo hiểm xã hội khu vực Hoa Lư"]),
    }
    leader_step = dossier.steps.get(role=StepRole.LEADER)
    for remaining, name in zip((2, 1), partners_order, strict=True):
        officer, step = partners[name]
        dossier = services.dossier_forward(dossier=dossier, officer=officer, step=step, note="Đã xong")
        assert dossier.state == S.IN_PROCESSING
        assert DossierStep.objects.get(pk=step.pk).completed_at is not None
        assert DossierStep.objects.get(pk=step.pk).assignee == officer
        event = DossierEvent.objects.filter(dossier=dossier).latest("id")
        assert event.action == Action.FORWARD and event.data["parallel_remaining"] == remaining
        assert DossierStep.objects.get(pk=leader_step.pk).started_at is None
        assert dossier.current_step_id == steps["UBND phường Hoa Lư"].pk
        # Done: the dossier leaves that agency's queue; the others still see it.
        assert dossier.pk not in queue_ids(officer, "all")
        assert dossier.pk in queue_ids(pw.world.specialist, "all")
    # Completing again is refused.
    with pytest.raises(services.NotAllowedError):
        services.dossier_forward(dossier=dossier, officer=pw.police_specialist, step=partners["police"][1])

    dossier = services.dossier_submit_for_approval(
        dossier=dossier, officer=pw.world.specialist, result_upload=builders.pdf_upload("ket-qua.pdf")
    )
    assert dossier.state == S.AWAITING_APPROVAL
    assert dossier.current_step_id == leader_step.pk
    assert DossierStep.objects.get(pk=leader_step.pk).started_at is not None
    assert all(step.completed_at is not None for step in group_steps(dossier).values())
    assert dossier.pk in queue_ids(pw.world.leader, "approval")
    dossier = services.dossier_approve(dossier=dossier, officer=pw.world.leader)
    assert dossier.state == S.RESULT_READY


def test_a_group_followed_by_a_specialist_step_starts_it_when_the_last_agency_finishes(pw):
    procedure = pw.world.procedure
    procedure.steps.filter(role=StepRole.LEADER).update(order=4)
    ProcessingStepFactory(procedure=procedure, order=3, name="Tổng hợp", role=StepRole.SPECIALIST, duration_days="0.5")
    dossier = builders.in_processing(pw.world)
    steps = group_steps(dossier)
    summary = dossier.steps.get(name="Tổng hợp")
    assert summary.order == 3 and not summary.is_parallel
    dossier = services.dossier_forward(dossier=dossier, officer=pw.world.specialist)  # the lead finishes first
    assert dossier.current_step_id == steps["UBND phường Hoa Lư"].pk
    dossier = services.dossier_forward(
        dossier=dossier, officer=pw.insurance_specialist, step=steps["Bảo hiểm xã hội khu vực Hoa Lư"]
    )
    assert DossierStep.objects.get(pk=summary.pk).started_at is None
    dossier = services.dossier_forward(
        dossier=dossier, officer=pw.police_specialist, step=steps["Công an phường Hoa Lư"]
    )
    assert dossier.current_step_id == summary.pk
    assert DossierStep.objects.get(pk=summary.pk).started_at is not None
    assert dossier.assignee is None
    assert DossierEvent.objects.filter(dossier=dossier).latest("id").data["to_step"] == "Tổng hợp"


def test_send_back_reopens_the_lead_agencys_step(pw):
    dossier = builders.in_processing(pw.world)
    steps = group_steps(dossier)
    for officer, name in (
        (pw.police_specialist, "Công an phường Hoa Lư"),
        (pw.insurance_specialist, "Bảo hiểm xã hội khu vực Hoa Lư"),
    ):
        dossier = services.dossier_forward(dossier=dossier, officer=officer, step=steps[name])
    dossier = services.dossier_submit_for_approval(
        dossier=dossier, officer=pw.world.specialist, result_upload=builders.pdf_upload("ket-qua.pdf")
    )
    dossier = services.dossier_send_back(dossier=dossier, officer=pw.world.leader, reason="Bổ sung căn cứ")
    assert dossier.state == S.IN_PROCESSING
    assert dossier.current_step.agency == pw.world.agency
    assert dossier.current_step.assignee == pw.world.specialist
    dossier = services.dossier_submit_for_approval(dossier=dossier, officer=pw.world.specialist)
    assert dossier.state == S.AWAITING_APPROVAL


def test_the_public_tracking_page_marks_parallel_steps(pw, client):
    from django.core.cache import cache

    cache.clear()
    dossier = builders.in_processing(pw.world)
    page = client.get(f"/tra-cuu/{dossier.code}/").content.decode()
    assert "Xác nhận cư trú (song song)" in page
    assert "Tiếp nhận (song song)" not in page
