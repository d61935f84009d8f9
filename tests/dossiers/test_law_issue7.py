"""The law exactly (issue 7): deadlines, supplements, apologies, stop requests, and the forms officers sign.

Realistic dossiers taken through the services on real 2026 dates with frozen time; forms read back
through pdftotext (helpers shared with test_forms_pdf).
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import unicodedata
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from dossiers import services
from dossiers.constants import Action, AppointmentKind, Channel, DossierState
from dossiers.models import Dossier, DossierConsultation, SideEffect
from dossiers.pdf import render_dossier_form, render_register
from dossiers.tasks import run_side_effect
from notifications.models import Notification
from portal.accounts.constants import Role
from procedures.constants import StepRole
from procedures.services import procedure_publish_version
from tests.dossiers import builders
from tests.dossiers.test_forms_pdf import _poppler, flat, pdf_text, stored_form, when  # noqa: F401 - fixture
from tests.factories import AgencyFactory, OfficerFactory

pytestmark = pytest.mark.django_db

VN = ZoneInfo("Asia/Ho_Chi_Minh")
S = DossierState


def raw_text(data: bytes) -> str:
    """The text in reading order (pdftotext -raw): a table cell's wrapped lines stay together."""
    out = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True)
    return " ".join(unicodedata.normalize("NFC", out.stdout.decode("utf-8")).split())


def at(day: int, month: int, hour: int = 9, minute: int = 30) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=VN)


@pytest.fixture
def clock():
    with time_machine.travel(at(9, 3), tick=False) as traveller:
        yield traveller


def travel(clock, moment: dt.datetime) -> None:
    clock.move_to(moment)


def received_on(world, clock, moment: dt.datetime) -> Dossier:
    travel(clock, moment)
    return builders.received(world)


def in_processing_on(world, clock, moment: dt.datetime) -> Dossier:
    dossier = received_on(world, clock, moment)
    return services.dossier_assign(dossier=dossier, actor=world.leader, assignee=world.specialist)


def snapshot_of(dossier: Dossier) -> tuple:
    dossier = Dossier.objects.get(pk=dossier.pk)
    return (
        dossier.state,
        dossier.version,
        dossier.original_due_at,
        dossier.current_due_at,
        dossier.events.count(),
        dossier.pauses.count(),
        dossier.files.count(),
        dossier.appointments.count(),
    )


# --- 1. apology: the timing of record stays against the original appointment -------------------


def test_an_apology_rescheduled_dossier_stays_late_against_its_original_appointment_on_form_06(clock):
    world = builders.make_world(processing_days="5")
    # Thu 12/02/2026 + 5 working days, Tết 16–20/02 off: Thu 26/02.
    dossier = in_processing_on(world, clock, at(12, 2))
    assert dossier.original_due_at == at(26, 2, 17, 0)
    travel(clock, at(24, 2, 10, 0))
    dossier = services.dossier_apologise(
        dossier=dossier, officer=world.leader, new_due_at=at(3, 3, 17, 0), reason="Chờ xác minh"
    )
    travel(clock, at(2, 3, 10, 0))
    dossier = services.dossier_submit_for_approval(
        dossier=dossier, officer=world.specialist, result_upload=builders.pdf_upload("ket-qua.pdf")
    )
    dossier = services.dossier_approve(dossier=dossier, officer=world.leader)

    assert dossier.timing == "late"  # Circular 01/2018 index 1 scores it 0
    assert dossier.rescheduled_timing == "early"  # the 03/03 date was met
    assert dossier.original_due_at == at(26, 2, 17, 0) and dossier.current_due_at == at(3, 3, 17, 0)
    assert list(dossier.appointments.values_list("kind", "due_at")) == [
        (AppointmentKind.ORIGINAL, at(26, 2, 17, 0)),
        (AppointmentKind.APOLOGY, at(3, 3, 17, 0)),
    ]
    body = flat(pdf_text(render_dossier_form(dossier, "06")))
    assert f"Hẹn trả kết quả vào {when(at(26, 2, 17, 0))}" in body
    assert f"Hẹn lại (văn bản xin lỗi) vào {when(at(3, 3, 17, 0))}" in body
    assert "Kết quả giải quyết so với ngày hẹn trả: Quá hạn; so với ngày hẹn lại: Trước hạn" in body
    assert "Trước hạn" not in body.split("Tên đơn vị")[0].replace("so với ngày hẹn lại: Trước hạn", "")


def test_the_officer_page_shows_both_timings(clock, client):
    world = builders.make_world(processing_days="5")
    dossier = in_processing_on(world, clock, at(12, 2))
    travel(clock, at(24, 2, 10, 0))
    dossier = services.dossier_apologise(dossier=dossier, officer=world.leader, new_due_at=at(3, 3, 17, 0), reason="x")
    travel(clock, at(2, 3, 10, 0))
    dossier = services.dossier_submit_for_approval(
        dossier=dossier, officer=world.specialist, result_upload=builders.pdf_upload("ket-qua.pdf")
    )
    dossier = services.dossier_approve(dossier=dossier, officer=world.leader)
    client.force_login(world.leader)
    page = client.get(reverse("dossiers:officer_dossier", args=[dossier.pk]), HTTP_ACCEPT_LANGUAGE="vi").content
    text = " ".join(page.decode().split())
    assert "Quá hạn <small>(so với ngày hẹn trả đã cấp cho người nộp)</small>" in text
    assert "So với ngày hẹn lại</dt><dd>Trước hạn" in text


# --- 2. return for supplement after appraisal: once, within 3 working days --------------------


def test_a_supplement_after_appraisal_restarts_the_clock_beside_the_old_appointment(clock):
    world = builders.make_world(processing_days="3")
    dossier = in_processing_on(world, clock, at(9, 3))  # Mon 09/03, due Thu 12/03
    assert dossier.current_due_at == at(12, 3, 17, 0)
    travel(clock, at(10, 3, 10, 0))
    dossier = services.dossier_request_supplement(
        dossier=dossier, officer=world.specialist, items=["Bản sao hợp đồng thuê nhà"], reason="Thiếu giấy tờ"
    )
    travel(clock, at(11, 3, 9, 0))
    services.dossier_attach_file(dossier=dossier, user=world.citizen, requirement_id=1, upload=builders.pdf_upload())
    dossier = services.dossier_supplement(dossier=dossier, user=world.citizen, note="Đã bổ sung")

    assert dossier.current_due_at == at(16, 3, 17, 0)  # restarted from 11/03
    assert list(dossier.appointments.values_list("kind", "due_at")) == [
        (AppointmentKind.ORIGINAL, at(12, 3, 17, 0)),
        (AppointmentKind.RESTART, at(16, 3, 17, 0)),
    ]
    # 3. A new Form 01 with the new appointment, on the supplement event, same register entry.
    restart = dossier.appointments.get(kind=AppointmentKind.RESTART)
    event = dossier.events.get(action=Action.SUPPLEMENT)
    assert event.attachments.filter(pk=restart.form_id).exists()
    body = flat(pdf_text(restart.form.file.read()))
    assert f"Thời gian trả kết quả giải quyết hồ sơ: {when(at(16, 3, 17, 0))}" in body
    assert "Thời gian nhận đủ hồ sơ bổ sung: 09 giờ 00 phút, ngày 11 tháng 3 năm 2026" in body
    assert "thay giấy hẹn trả ngày 12/03/2026" in body
    assert f"Quyển số: 01, Số thứ tự: {dossier.register_number:02d}" in body
    original = flat(pdf_text(dossier.appointments.get(kind=AppointmentKind.ORIGINAL).form.file.read()))
    assert f"Thời gian trả kết quả giải quyết hồ sơ: {when(at(12, 3, 17, 0))}" in original


def test_a_second_supplement_request_after_appraisal_is_refused_and_changes_nothing(clock):
    world = builders.make_world(processing_days="3")
    dossier = in_processing_on(world, clock, at(9, 3))
    travel(clock, at(10, 3, 10, 0))
    dossier = services.dossier_request_supplement(dossier=dossier, officer=world.specialist, items=["A"], reason="B")
    travel(clock, at(10, 3, 14, 0))
    services.dossier_attach_file(dossier=dossier, user=world.citizen, requirement_id=1, upload=builders.pdf_upload())
    dossier = services.dossier_supplement(dossier=dossier, user=world.citizen)
    travel(clock, at(11, 3, 9, 0))  # still inside the 3-day window, but a second round
    before = snapshot_of(dossier)
    with pytest.raises(services.NotAllowedError, match="chỉ được yêu cầu bổ sung một lần"):
        services.dossier_request_supplement(dossier=dossier, officer=world.specialist, items=["C"], reason="D")
    assert snapshot_of(dossier) == before


def test_a_first_supplement_request_after_the_window_is_refused_and_changes_nothing(clock):
    world = builders.make_world(processing_days="3")
    dossier = in_processing_on(world, clock, at(9, 3))
    travel(clock, at(13, 3, 9, 0))  # the window closed at 17:00 on Thu 12/03
    before = snapshot_of(dossier)
    with pytest.raises(services.NotAllowedError, match=r"Đã quá thời hạn yêu cầu bổ sung.*17:00 12/03/2026"):
        services.dossier_request_supplement(dossier=dossier, officer=world.specialist, items=["C"], reason="D")
    assert snapshot_of(dossier) == before


def test_a_procedure_may_set_its_own_supplement_window(clock):
    world = builders.make_world(processing_days="10")
    world.procedure.supplement_window_days = 5
    world.procedure.save()
    procedure_publish_version(procedure=world.procedure)
    dossier = in_processing_on(world, clock, at(9, 3))
    travel(clock, at(13, 3, 9, 0))  # day 4 of a 5-day window
    dossier = services.dossier_request_supplement(dossier=dossier, officer=world.specialist, items=["A"], reason="B")
    assert dossier.state == S.SUPPLEMENT_REQUESTED


# --- 4. refusal after appraisal past the time limit -------------------------------------------


def test_a_refusal_after_the_time_limit_needs_the_lateness_stated_and_counts_late(clock):
    world = builders.make_world(processing_days="3")
    dossier = in_processing_on(world, clock, at(9, 3))
    travel(clock, at(13, 3, 9, 0))
    before = snapshot_of(dossier)
    with pytest.raises(services.NotAllowedError, match="Đã quá thời hạn giải quyết"):
        services.dossier_refuse(dossier=dossier, officer=world.leader, reason="Không đủ điều kiện")
    assert snapshot_of(dossier) == before
    dossier = services.dossier_refuse(
        dossier=dossier, officer=world.leader, reason="Không đủ điều kiện", lateness_reason="Chờ ý kiến sở"
    )
    assert dossier.state == S.REFUSED_AFTER_APPRAISAL and dossier.timing == "late"
    event = dossier.events.get(action=Action.REFUSE)
    assert event.data["late"] is True and event.data["lateness_reason"] == "Chờ ý kiến sở"


# --- 5. Form 03: who signs --------------------------------------------------------------------


def test_form_03_after_appraisal_is_signed_by_the_authority_without_a_submitter_block(clock):
    world = builders.make_world(processing_days="3")
    dossier = in_processing_on(world, clock, at(9, 3))
    travel(clock, at(11, 3, 9, 0))
    dossier = services.dossier_refuse(dossier=dossier, officer=world.leader, reason="Không đủ điều kiện")
    text = pdf_text(stored_form(dossier, "03", Action.REFUSE))
    assert "THỦ TRƯỞNG CƠ QUAN, ĐƠN VỊ" in text
    assert re.search(r"THỦ TRƯỞNG CƠ QUAN, ĐƠN VỊ(.|\n)*Lãnh Đạo", text)
    assert "NGƯỜI NỘP HỒ SƠ" not in text and "NGƯỜI TIẾP NHẬN HỒ SƠ" not in text
    lines = text.splitlines()
    assert any("UBND PHƯỜNG HOA LƯ" in line and "Độc lập - Tự do - Hạnh phúc" in line for line in lines)


def test_form_03_at_the_counter_has_the_submitter_block(clock):
    world = builders.make_world()
    dossier = services.dossier_create_at_counter(
        procedure=world.procedure,
        agency=world.agency,
        officer=world.reception,
        applicant={"applicant_name": "Trần Thị Bình", "applicant_id_number": "037190001111"},
    )
    services.dossier_save_answers(dossier=dossier, user=world.reception, answers={"ten_ho_kinh_doanh": "A"})
    services.dossier_attach_file(dossier=dossier, user=world.reception, requirement_id=1, upload=builders.pdf_upload())
    dossier = services.dossier_submit(dossier=dossier, user=world.reception)
    dossier = services.dossier_refuse(dossier=dossier, officer=world.reception, reason="Không thuộc thẩm quyền")
    text = pdf_text(stored_form(dossier, "03", Action.REFUSE))
    assert re.search(r"NGƯỜI NỘP HỒ SƠ\s+NGƯỜI TIẾP NHẬN HỒ SƠ", text)
    assert re.search(r"Trần Thị Bình\s+Cán bộ Một Cửa", text)


# --- 6. stop requests: when and how they arrived ---------------------------------------------


def test_a_stop_requested_online_prints_the_request_time_and_channel_on_form_05(clock, client):
    world = builders.make_world(processing_days="5")
    dossier = in_processing_on(world, clock, at(9, 3))
    travel(clock, at(10, 3, 10, 0))
    client.force_login(world.citizen)
    response = client.post(
        reverse("dossiers:request_stop", args=[dossier.public_id]),
        {"version": Dossier.objects.get(pk=dossier.pk).version, "reason": "Tôi không còn nhu cầu"},
    )
    assert response.status_code == 302
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.state == S.IN_PROCESSING  # the officer decides
    assert dossier.stop_requested_at == at(10, 3, 10, 0) and dossier.stop_request_channel == Channel.ONLINE
    with pytest.raises(services.ConflictError):
        services.dossier_request_stop(dossier=dossier, user=world.citizen, reason="lần nữa")

    travel(clock, at(11, 3, 14, 0))
    dossier = services.dossier_stop(dossier=dossier, officer=world.reception)
    body = flat(pdf_text(stored_form(dossier, "05", Action.STOP)))
    assert "Thời gian đề nghị dừng giải quyết: 10 giờ 00 phút, ngày 10 tháng 3 năm 2026" in body
    assert "Hình thức đề nghị: trực tuyến trên Cổng dịch vụ công" in body
    assert "Lý do dừng giải quyết: Tôi không còn nhu cầu" in body
    assert dossier.closed_at == at(11, 3, 14, 0)


def test_a_stop_request_through_the_api_is_recorded_for_the_officer(clock):
    from rest_framework.test import APIClient

    world = builders.make_world()
    dossier = in_processing_on(world, clock, at(9, 3))
    api = APIClient()
    api.force_login(world.citizen)
    response = api.post(
        f"/api/dossiers/{dossier.public_id}/stop-request/",
        {"version": Dossier.objects.get(pk=dossier.pk).version, "reason": "Đổi ý"},
        format="json",
    )
    assert response.status_code == 200, response.content
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.stop_request_channel == Channel.ONLINE
    assert dossier.events.filter(action=Action.REQUEST_STOP).count() == 1


def test_a_stop_request_by_post_is_entered_with_the_time_it_arrived(clock):
    world = builders.make_world()
    dossier = in_processing_on(world, clock, at(9, 3))
    travel(clock, at(11, 3, 15, 0))
    dossier = services.dossier_stop(
        dossier=dossier,
        officer=world.reception,
        reason="Đơn đề nghị dừng gửi qua bưu điện",
        requested_at=at(10, 3, 8, 0),
        request_channel=Channel.POSTAL,
    )
    body = flat(pdf_text(stored_form(dossier, "05", Action.STOP)))
    assert "Thời gian đề nghị dừng giải quyết: 08 giờ 00 phút, ngày 10 tháng 3 năm 2026" in body
    assert "Hình thức đề nghị: qua dịch vụ bưu chính" in body


# --- 7. register numbers: continuous through the year, the same on Form 01 and Form 07 ----------


def test_the_march_register_carries_the_numbers_of_the_form_01_slips(clock):
    world = builders.make_world()
    february = received_on(world, clock, at(24, 2))
    march = [received_on(world, clock, at(2, 3)), received_on(world, clock, at(10, 3))]
    assert [february.register_number, *[d.register_number for d in march]] == [1, 2, 3]
    registered = Dossier.objects.filter(pk__in=[d.pk for d in march]).order_by("received_at")
    text = pdf_text(
        render_register(agency=world.agency, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), dossiers=registered)
    )
    assert "Quyển số: 01" in flat(text)
    for dossier in march:
        slip = flat(pdf_text(stored_form(dossier, "01", Action.RECEIVE)))
        assert f"Quyển số: 01, Số thứ tự: {dossier.register_number:02d}" in slip
        assert re.search(rf"^\s*{dossier.register_number:02d}\s+" + re.escape(dossier.code[:10]), text, re.M)
    assert not re.search(r"^\s*01\s+\S", text, re.M)  # the February entry is not renumbered into March


def test_the_register_restarts_at_01_in_a_new_year(clock):
    world = builders.make_world()
    received_on(world, clock, at(29, 12).replace(year=2025))
    january = received_on(world, clock, at(5, 1))
    assert january.register_number == 1


# --- 9–11. Form 06 people and parallel steps, Form 01 receiver, addressing --------------------


def test_form_06_names_who_returned_the_result_and_who_received_it(clock):
    world = builders.make_world()
    travel(clock, at(10, 3))
    dossier = builders.returned(world)
    body = raw_text(render_dossier_form(dossier, "06"))
    assert "Trả kết quả cho người nộp hồ sơ" in body
    row = body.split("Trả kết quả cho người nộp hồ sơ")[1]
    assert "2. Nhận: Người nộp hồ sơ" in row
    assert "Người giao: Cán bộ Một Cửa" in row and "Người nhận: Lê Văn Công" in row


def test_form_06_marks_parallel_steps(clock):
    from tests.dossiers.test_parallel_steps import make_parallel_world

    pw = make_parallel_world()
    dossier = in_processing_on(pw.world, clock, at(10, 3))
    body = raw_text(render_dossier_form(dossier, "06"))
    assert body.count("(xử lý song song)") == 3
    assert "Xác nhận cư trú (xử lý song song)" in body


def test_form_01_names_the_receiving_officer_when_the_procedure_has_no_reception_step(clock):
    world = builders.make_world()
    world.procedure.steps.filter(role=StepRole.RECEPTION).delete()
    procedure_publish_version(procedure=world.procedure)
    dossier = received_on(world, clock, at(10, 3))
    text = pdf_text(stored_form(dossier, "01", Action.RECEIVE))
    assert re.search(r"NGƯỜI TIẾP NHẬN HỒ SƠ(.|\n)*Cán bộ Một Cửa", text)


def test_forms_address_the_applicant_by_gender_and_give_the_officer_and_unit_phone(clock):
    world = builders.make_world()
    world.citizen.gender = "male"
    world.citizen.save()
    world.agency.phone = "0229 3871 234"
    world.agency.save()
    travel(clock, at(10, 3))
    dossier = builders.submitted(world)
    dossier = services.dossier_request_supplement(dossier=dossier, officer=world.reception, items=["A"], reason="B")
    body = flat(pdf_text(stored_form(dossier, "02", Action.REQUEST_SUPPLEMENT)))
    assert "Ông liên hệ với Cán bộ Một Cửa, Bộ phận Một cửa UBND phường Hoa Lư số điện thoại 0229 3871 234" in body
    assert "1900" not in body.split("Lý do")[1].split("Tra cứu")[0]


# --- 15. consultation answers ------------------------------------------------------------------


def test_a_consulted_unit_answers_in_the_system_and_late_answers_are_reported_once(clock):
    world = builders.make_world(processing_days="5")
    dossier = in_processing_on(world, clock, at(9, 3))
    police = AgencyFactory(name="Công an phường Hoa Lư")
    police_officer = OfficerFactory(role=Role.SPECIALIST, membership__agency=police, full_name="Cán Bộ Công An")
    services.dossier_consult(
        dossier=dossier,
        officer=world.specialist,
        agency=police,
        question="Xác nhận nơi cư trú",
        deadline=at(11, 3, 17, 0),
    )
    consultation = DossierConsultation.objects.get(dossier=dossier)
    with pytest.raises(services.PermissionDeniedError):
        services.dossier_answer_consultation(consultation=consultation, officer=world.leader, answer="x")

    travel(clock, at(12, 3, 8, 0))
    assert services.consultations_report_late() == 1
    assert services.consultations_report_late() == 0  # once
    alert = SideEffect.objects.get(dossier=dossier, kind="alert_one_stop_head")
    assert alert.payload["event"] == "consultation_late" and alert.payload["recipient_role"] == Role.LEADER
    # The worker tells the one-stop unit's leaders (in the portal), never the applicant.
    assert run_side_effect.apply(args=[alert.pk]).get() == "done"
    told = Notification.objects.filter(dossier=dossier, event="consultation_late")
    assert {n.recipient for n in told} == {world.leader}

    services.dossier_answer_consultation(consultation=consultation, officer=police_officer, answer="Có cư trú")
    consultation.refresh_from_db()
    assert consultation.answer == "Có cư trú" and consultation.is_late
    assert dossier.events.get(action=Action.ANSWER_CONSULTATION).data["late"] is True
    with pytest.raises(services.ConflictError):
        services.dossier_answer_consultation(consultation=consultation, officer=police_officer, answer="lại")
