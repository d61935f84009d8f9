"""Dossiers in each state, built through the services so that fixtures cannot drift from the rules."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from dossiers import services
from dossiers.models import Dossier
from portal.accounts.constants import Role
from procedures.constants import FieldKind, StepRole
from tests.factories import (
    AgencyFactory,
    FeeItemFactory,
    FormFieldFactory,
    OfficerFactory,
    ProcedureFactory,
    ProcessingStepFactory,
    RequiredDocumentFactory,
    UserFactory,
)

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def pdf_upload(name: str = "to-khai.pdf", data: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


@dataclass
class World:
    agency: object
    procedure: object
    citizen: object
    reception: object
    specialist: object
    leader: object


def make_world(*, processing_days: str = "3", fee: int = 0, fee_first: bool = False, agency=None) -> World:
    """One commune with one officer per role, a procedure with a form field, a document and steps."""
    agency = agency or AgencyFactory(name="UBND phường Hoa Lư")
    procedure = ProcedureFactory(
        name="Đăng ký kinh doanh hộ cá thể",
        agencies=[agency],
        processing_days=Decimal(processing_days),
        fee_before_processing=fee_first,
    )
    FormFieldFactory(
        procedure=procedure, code="ten_ho_kinh_doanh", label="Tên hộ kinh doanh", kind=FieldKind.TEXT, order=1
    )
    RequiredDocumentFactory(procedure=procedure, name="Giấy đề nghị đăng ký hộ kinh doanh", order=1)
    if fee:
        FeeItemFactory(procedure=procedure, name="Lệ phí đăng ký", amount=fee)
    days = Decimal(processing_days)
    ProcessingStepFactory(
        procedure=procedure, order=1, name="Tiếp nhận", role=StepRole.RECEPTION, duration_days=Decimal("0.5")
    )
    ProcessingStepFactory(
        procedure=procedure,
        order=2,
        name="Thẩm định",
        role=StepRole.SPECIALIST,
        duration_days=max(days - 1, Decimal("0.5")),
    )
    ProcessingStepFactory(
        procedure=procedure, order=3, name="Phê duyệt", role=StepRole.LEADER, duration_days=Decimal("0.5")
    )
    citizen = UserFactory(full_name="Lê Văn Công", cccd="037090001234", email="cong@example.vn")
    return World(
        agency=agency,
        procedure=procedure,
        citizen=citizen,
        reception=OfficerFactory(role=Role.RECEPTION, membership__agency=agency, full_name="Cán bộ Một Cửa"),
        specialist=OfficerFactory(role=Role.SPECIALIST, membership__agency=agency, full_name="Chuyên Viên"),
        leader=OfficerFactory(role=Role.LEADER, membership__agency=agency, full_name="Lãnh Đạo"),
    )


def draft(world: World) -> Dossier:
    dossier = services.dossier_create_draft(procedure=world.procedure, agency=world.agency, owner=world.citizen)
    services.dossier_save_answers(dossier=dossier, user=world.citizen, answers={"ten_ho_kinh_doanh": "Tạp hóa An"})
    services.dossier_attach_file(dossier=dossier, user=world.citizen, requirement_id=1, upload=pdf_upload())
    return Dossier.objects.get(pk=dossier.pk)


def submitted(world: World) -> Dossier:
    return services.dossier_submit(dossier=draft(world), user=world.citizen)


def received(world: World) -> Dossier:
    """Received, with its Form 01 rendered as the worker renders it after the reception commits."""
    dossier = services.dossier_receive(dossier=submitted(world), officer=world.reception)
    issue_pending_forms(dossier)
    return dossier


def issue_pending_forms(dossier: Dossier) -> list[str]:
    """Run the worker's task for each form the dossier still owes (Form 01 after a reception), oldest first.

    The body of dossiers.run_side_effect, as a worker runs it once the action committed: the test
    transaction never commits, so the message published on commit is never sent here.
    """
    from dossiers.models import SideEffect
    from dossiers.tasks import side_effect_run

    pending = SideEffect.objects.filter(dossier=dossier, kind="issue_form", status=SideEffect.Status.PENDING)
    return [side_effect_run(pk) for pk in pending.order_by("id").values_list("pk", flat=True)]


def in_processing(world: World) -> Dossier:
    return services.dossier_assign(dossier=received(world), actor=world.leader, assignee=world.specialist)


def awaiting_approval(world: World) -> Dossier:
    return services.dossier_submit_for_approval(
        dossier=in_processing(world), officer=world.specialist, result_upload=pdf_upload("ket-qua.pdf")
    )


def result_ready(world: World) -> Dossier:
    return services.dossier_approve(dossier=awaiting_approval(world), officer=world.leader)


def returned(world: World) -> Dossier:
    return services.dossier_return_result(dossier=result_ready(world), actor=world.reception, channel="counter")
