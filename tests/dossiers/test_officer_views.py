"""The officers' pages: queue, dossier page with its actions, counter submission and register."""

from __future__ import annotations

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dossiers import services
from dossiers.constants import Channel, DossierState, FileKind, FormNumber
from dossiers.models import Dossier, DossierEvent
from portal.accounts.constants import Role
from procedures.constants import StepRole
from procedures.models import ProcessingStep
from tests.dossiers import builders
from tests.factories import AgencyFactory, OfficerFactory, ProcessingStepFactory, UserFactory

pytestmark = pytest.mark.django_db

S = DossierState
VN = ZoneInfo("Asia/Ho_Chi_Minh")
# A Monday morning: three working days later is Thursday 5 March 2026, 17:00.
MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=VN)
QUEUE = reverse("dossiers:officer_queue")
CONFLICT = "Hồ sơ vừa được người khác cập nhật"


@pytest.fixture
def world():
    return builders.make_world()


@pytest.fixture
def fast_pdf(monkeypatch):
    """Forms 01–06 as a fixed PDF, for tests that build many dossiers and never read the forms."""
    monkeypatch.setattr("dossiers.pdf.render_dossier_form", lambda *args, **kwargs: builders.PDF_BYTES)


def foreign_dossier(world) -> Dossier:
    """A received dossier of another commune that also resolves the procedure."""
    other = AgencyFactory(name="UBND xã Khác")
    world.procedure.agencies.add(other)
    clerk = OfficerFactory(role=Role.RECEPTION, membership__agency=other, full_name="Cán bộ xã Khác")
    dossier = services.dossier_create_draft(procedure=world.procedure, agency=other, owner=world.citizen)
    services.dossier_save_answers(dossier=dossier, user=world.citizen, answers={"ten_ho_kinh_doanh": "Quán Xa"})
    services.dossier_attach_file(dossier=dossier, user=world.citizen, requirement_id=1, upload=builders.pdf_upload())
    dossier = services.dossier_submit(dossier=dossier, user=world.citizen)
    return services.dossier_receive(dossier=dossier, officer=clerk)


def page_url(dossier) -> str:
    return reverse("dossiers:officer_dossier", args=[dossier.pk])


def act(client, dossier, action: str, version: int | None = None, **data):
    """Post an action form as the page would, with the version the page was rendered with."""
    if version is None:
        version = Dossier.objects.get(pk=dossier.pk).version
    url = reverse("dossiers:officer_dossier_action", args=[dossier.pk, action])
    return client.post(url, {"version": version, **data})


def success_message(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def queue_ids(client, tab: str = "all", **params) -> list[int]:
    response = client.get(QUEUE, {"tab": tab, **params})
    assert response.status_code == 200
    return [item["id"] for item in response.context["items"]]


def snapshot(dossier) -> tuple:
    fresh = Dossier.objects.get(pk=dossier.pk)
    return fresh.state, fresh.version, DossierEvent.objects.filter(dossier=dossier).count()


# --- access -----------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client, world):
    dossier = builders.submitted(world)
    for url in (QUEUE, page_url(dossier), reverse("dossiers:officer_counter_new")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_a_citizen_gets_the_403_page_everywhere_and_changes_nothing(client, world):
    dossier = builders.submitted(world)
    before = snapshot(dossier)
    client.force_login(world.citizen)
    for url in (
        QUEUE,
        page_url(dossier),
        reverse("dossiers:officer_counter_new"),
        reverse("dossiers:officer_register"),
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Không có quyền truy cập" in response.content.decode()
    assert act(client, dossier, "receive").status_code == 403
    assert snapshot(dossier) == before


def test_an_officer_of_another_agency_gets_404_and_changes_nothing(client, world):
    dossier = builders.submitted(world)
    before = snapshot(dossier)
    stranger = OfficerFactory(role=Role.RECEPTION, membership__agency=AgencyFactory(name="UBND xã Khác"))
    client.force_login(stranger)
    assert client.get(page_url(dossier)).status_code == 404
    assert act(client, dossier, "receive").status_code == 404
    assert act(client, dossier, "refuse", reason="Không thuộc thẩm quyền").status_code == 404
    assert dossier.pk not in queue_ids(client, "all")
    assert dossier.pk not in queue_ids(client, "new")
    assert snapshot(dossier) == before


def test_an_action_posted_without_the_csrf_token_is_refused(world):
    dossier = builders.submitted(world)
    before = snapshot(dossier)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.reception)
    assert act(client, dossier, "receive").status_code == 403
    assert snapshot(dossier) == before


def test_officer_pages_are_never_cached(client, world):
    dossier = builders.submitted(world)
    client.force_login(world.reception)
    for url in (QUEUE, page_url(dossier)):
        assert "no-store" in client.get(url)["Cache-Control"]


# --- queue ------------------------------------------------------------------------------------


def test_queue_tabs_list_the_right_dossiers(client, world, fast_pdf):
    submitted = builders.submitted(world)
    received = builders.received(world)
    processing = builders.in_processing(world)
    approval = builders.awaiting_approval(world)
    ready = builders.result_ready(world)
    supplement = services.dossier_request_supplement(
        dossier=builders.submitted(world), officer=world.reception, items=["Bản sao CCCD"], reason="Thiếu giấy tờ"
    )

    client.force_login(world.reception)
    assert queue_ids(client, "new") == [submitted.pk]
    assert queue_ids(client, "result") == [ready.pk]
    assert queue_ids(client, "supplement") == [supplement.pk]
    assert set(queue_ids(client, "all")) == {
        submitted.pk,
        received.pk,
        processing.pk,
        approval.pk,
        ready.pk,
        supplement.pk,
    }
    tabs = {t["key"]: t["count"] for t in client.get(QUEUE).context["tabs"]}
    assert tabs["new"] == 1
    assert tabs["all"] == 6

    client.force_login(world.leader)
    assert queue_ids(client, "new") == [received.pk]
    assert queue_ids(client, "approval") == [approval.pk]

    client.force_login(world.specialist)
    # The specialist stays the assignee while the leader approves: both are "mine".
    assert set(queue_ids(client, "mine")) == {processing.pk, approval.pk}


def test_queue_shows_due_soon_and_overdue_as_text(client, world):
    with time_machine.travel(MONDAY):
        dossier = builders.received(world)
    due = dossier.current_due_at
    with time_machine.travel(due - dt.timedelta(hours=20)):
        client.force_login(world.leader)
        response = client.get(QUEUE, {"tab": "due_soon"})
        assert [i["id"] for i in response.context["items"]] == [dossier.pk]
        assert "Sắp đến hạn" in response.content.decode()
    with time_machine.travel(due + dt.timedelta(hours=1)):
        client.force_login(world.leader)
        response = client.get(QUEUE, {"tab": "overdue"})
        assert [i["id"] for i in response.context["items"]] == [dossier.pk]
        assert '<strong class="badge error">Quá hạn</strong>' in response.content.decode()


def test_search_is_a_get_parameter_by_code_full_cccd_or_name_without_diacritics(client, world, fast_pdf):
    first = builders.received(world)
    other_citizen = UserFactory(full_name="Phạm Thị Hoa", cccd="001195004321")
    second = services.dossier_create_draft(procedure=world.procedure, agency=world.agency, owner=other_citizen)
    services.dossier_save_answers(dossier=second, user=other_citizen, answers={"ten_ho_kinh_doanh": "Quán Hoa"})
    services.dossier_attach_file(dossier=second, user=other_citizen, requirement_id=1, upload=builders.pdf_upload())
    second = services.dossier_receive(
        dossier=services.dossier_submit(dossier=second, user=other_citizen), officer=world.reception
    )
    client.force_login(world.reception)

    assert queue_ids(client, "all", q=first.code) == [first.pk]
    assert queue_ids(client, "all", q=first.code.lower()) == [first.pk]
    assert queue_ids(client, "all", q="001195004321") == [second.pk]
    assert queue_ids(client, "all", q="0011950043") == []  # part of a CCCD finds nobody
    assert queue_ids(client, "all", q="Phạm Thị") == [second.pk]
    assert queue_ids(client, "all", q="pham thi hoa") == [second.pk]  # without diacritics
    assert queue_ids(client, "all", q="PHAM") == [second.pk]
    # The search stays in the links of the tabs, so that changing tab keeps it (and a bookmark holds it).
    page = client.get(QUEUE, {"tab": "all", "q": "pham"}).content.decode()
    assert "q=pham" in html.unescape(page)
    assert set(queue_ids(client, "all")) == {first.pk, second.pk}


def test_queue_filters_by_channel_and_state(client, world, fast_pdf):
    online = builders.received(world)
    waiting = builders.submitted(world)
    counter = services.dossier_create_at_counter(
        procedure=world.procedure,
        agency=world.agency,
        officer=world.reception,
        applicant={"applicant_name": "Đỗ Văn Quầy", "applicant_id_number": "037090009999"},
    )
    services.dossier_save_answers(dossier=counter, user=world.reception, answers={"ten_ho_kinh_doanh": "Quầy"})
    services.dossier_attach_file(dossier=counter, user=world.reception, requirement_id=1, upload=builders.pdf_upload())
    counter = services.dossier_submit(dossier=counter, user=world.reception)
    client.force_login(world.reception)
    assert queue_ids(client, "all", channel_in=Channel.COUNTER) == [counter.pk]
    assert set(queue_ids(client, "all", state=S.SUBMITTED)) == {waiting.pk, counter.pk}
    assert queue_ids(client, "all", state=S.RECEIVED) == [online.pk]
    today = online.received_at.astimezone(VN).date()
    assert queue_ids(client, "all", received_from=today.isoformat(), received_to=today.isoformat()) == [online.pk]
    # A filter typed wrongly is shown with its error and not applied.
    response = client.get(QUEUE, {"tab": "all", "received_from": "2026-03-10", "received_to": "2026-03-01"})
    assert "Ngày kết thúc phải sau ngày bắt đầu." in response.content.decode()


def test_keyset_pagination_lists_each_of_60_dossiers_exactly_once(client, world, fast_pdf):
    expected = set()
    # Thirty received at three moments (ten share each due date), thirty not received (no due date).
    for day in range(3):
        with time_machine.travel(MONDAY + dt.timedelta(days=day)):
            for _n in range(10):
                expected.add(builders.received(world).pk)
    for _n in range(30):
        expected.add(builders.submitted(world).pk)
    client.force_login(world.reception)

    seen, pages, query = [], 0, "tab=all"
    while query is not None:
        response = client.get(f"{QUEUE}?{query}")
        assert response.status_code == 200
        rows = [item["id"] for item in response.context["items"]]
        assert len(rows) <= 25
        seen += rows
        pages += 1
        link = re.search(r'href="\?([^"]+)">Trang sau', response.content.decode())
        query = html.unescape(link.group(1)) if link else None
    assert pages == 3
    assert len(seen) == 60
    assert set(seen) == expected
    # Nearest deadline first; dossiers without one come last.
    dues = [Dossier.objects.get(pk=pk).current_due_at for pk in seen]
    assert dues[:30] == sorted(dues[:30])
    assert all(due is None for due in dues[30:])


def test_a_hand_edited_cursor_starts_again_from_the_first_page(client, world):
    builders.submitted(world)
    client.force_login(world.reception)
    response = client.get(QUEUE, {"tab": "all", "after": "not-a-date~1"})
    assert response.status_code == 200
    assert len(response.context["items"]) == 1


def test_bulk_assign_reports_each_dossier(client, world, fast_pdf):
    first, second, stale = builders.received(world), builders.received(world), builders.received(world)
    waiting = builders.submitted(world)
    foreign = foreign_dossier(world)
    client.force_login(world.leader)
    page = client.get(QUEUE, {"tab": "new"})
    assert {i["id"] for i in page.context["items"] if i["selectable"]} == {first.pk, second.pk, stale.pk}
    response = client.post(
        reverse("dossiers:officer_bulk_assign"),
        {
            "assignee": world.specialist.pk,
            "dossiers": [first.pk, second.pk, stale.pk, waiting.pk, foreign.pk],
            f"version-{first.pk}": first.version,
            f"version-{second.pk}": second.version,
            f"version-{stale.pk}": stale.version - 1,
            f"version-{waiting.pk}": waiting.version,
            "back": "tab=new",
        },
        follow=True,
    )
    text = success_message(response)
    assert f"Đã phân công 2 hồ sơ cho Chuyên Viên: {first.code}, {second.code}." in text
    assert f"Hồ sơ {stale.code}: {CONFLICT}" in text
    assert "chỉ phân công hàng loạt hồ sơ ở trạng thái “Đã tiếp nhận”" in text
    assert f"Hồ sơ #{foreign.pk}: không tìm thấy hồ sơ." in text
    assert response.redirect_chain[-1][0].endswith("?tab=new")
    states = {d.pk: (d.state, d.assignee_id) for d in Dossier.objects.all()}
    assert states[first.pk] == (S.IN_PROCESSING, world.specialist.pk)
    assert states[second.pk] == (S.IN_PROCESSING, world.specialist.pk)
    assert states[stale.pk] == (S.RECEIVED, None)
    assert states[waiting.pk] == (S.SUBMITTED, None)
    assert states[foreign.pk] == (S.RECEIVED, None)


# --- the dossier page -------------------------------------------------------------------------


def test_dossier_page_shows_applicant_answers_documents_timeline_and_audit(client, world):
    dossier = builders.in_processing(world)
    client.force_login(world.specialist)
    response = client.get(page_url(dossier))
    assert response.status_code == 200
    text = response.content.decode()
    for expected in (
        dossier.code,
        "Lê Văn Công",
        "037090001234",
        "Tên hộ kinh doanh",
        "Tạp hóa An",
        "Giấy đề nghị đăng ký hộ kinh doanh",
        "to-khai.pdf",
        "Mẫu 01 – Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
        "Thẩm định",
        "Phân công xử lý",
        "Cán bộ xử lý: Chuyên Viên",
        "Không thu phí, lệ phí.",
    ):
        assert expected in text, expected
    assert [row["event"].action for row in response.context["events"]] == ["create", "submit", "receive", "assign"]


def test_the_page_offers_only_the_actions_of_the_officers_roles(client, world):
    dossier = builders.submitted(world)
    offered = {}
    for officer in (world.reception, world.specialist, world.leader):
        client.force_login(officer)
        offered[officer.pk] = {a["spec"].name for a in client.get(page_url(dossier)).context["actions"]}
    assert offered[world.reception.pk] == {"receive", "request_supplement", "refuse"}
    assert offered[world.specialist.pk] == set()
    assert offered[world.leader.pk] == set()


def test_reception_officer_receives_a_dossier(client, world):
    with time_machine.travel(MONDAY):
        dossier = builders.submitted(world)
        client.force_login(world.reception)
        form_action = f'action="/can-bo/ho-so/{dossier.pk}/thao-tac/receive/"'
        assert form_action in client.get(page_url(dossier)).content.decode()
        response = act(client, dossier, "receive", note="Đủ giấy tờ")
        assert response.status_code == 302
        assert response["Location"] == page_url(dossier)
        page = client.get(page_url(dossier))
        # Form 01 is rendered by a worker after commit: meanwhile the page says so and reloads itself.
        assert page.context["receipt"] is None
        assert_receipt_pending(page, dossier)
        builders.issue_pending_forms(dossier)
        ready = client.get(page_url(dossier))
    dossier.refresh_from_db()
    assert dossier.state == S.RECEIVED
    assert dossier.current_due_at == dt.datetime(2026, 3, 5, 17, 0, tzinfo=VN)
    assert f"Đã tiếp nhận hồ sơ {dossier.code}. Ngày hẹn trả kết quả: 17:00 05/03/2026." in success_message(page)
    assert dossier.files.filter(kind=FileKind.FORM, form_number=FormNumber.RECEIPT).exists()
    assert ready.context["receipt"] is not None
    assert_receipt_ready(ready)
    assert form_action not in page.content.decode()
    assert form_action not in ready.content.decode()


def assert_receipt_pending(page, dossier) -> None:
    """The page after a reception, before the worker rendered Form 01: a message, a link, a meta refresh."""
    html = page.content.decode()
    assert "Đang tạo Giấy tiếp nhận và hẹn trả kết quả (Mẫu 01)…" in html
    assert "Trang sẽ tự tải lại sau 3 giây; nút in Mẫu 01 hiện ra ngay khi giấy được tạo xong." in html
    assert f'<a href="{page_url(dossier)}#receipt-status">Tải lại trang</a>' in html
    assert '<meta http-equiv="refresh" content="3">' in html
    assert "In Giấy tiếp nhận và hẹn trả kết quả (Mẫu 01)" not in html


def assert_receipt_ready(page) -> None:
    html = page.content.decode()
    receipt_url = reverse("dossiers:file", args=[page.context["receipt"].public_id])
    assert f'<a class="button" href="{receipt_url}">In Giấy tiếp nhận và hẹn trả kết quả (Mẫu 01)</a>' in html
    assert "Đang tạo Giấy tiếp nhận" not in html
    assert 'http-equiv="refresh"' not in html


def test_reception_requests_a_supplement(client, world):
    dossier = builders.submitted(world)
    client.force_login(world.reception)
    response = act(client, dossier, "request_supplement", items="Bản sao CCCD\nẢnh 4x6", reason="Thiếu giấy tờ")
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == S.SUPPLEMENT_REQUESTED
    assert dossier.events.last().data["items"] == ["Bản sao CCCD", "Ảnh 4x6"]


def test_reception_refuses_and_an_empty_reason_is_refused_first(client, world):
    dossier = builders.submitted(world)
    client.force_login(world.reception)
    before = snapshot(dossier)
    response = act(client, dossier, "refuse", reason="")
    assert response.status_code == 400
    assert "Trường này là bắt buộc." in response.content.decode()
    assert snapshot(dossier) == before
    response = act(client, dossier, "refuse", reason="Không thuộc thẩm quyền giải quyết")
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == S.REFUSED_AT_RECEPTION
    assert dossier.decision_note == "Không thuộc thẩm quyền giải quyết"


def test_reception_records_a_counter_payment(client):
    world = builders.make_world(fee=50000, fee_first=True)
    dossier = builders.received(world)
    assert dossier.state == S.AWAITING_PAYMENT
    client.force_login(world.reception)
    response = act(client, dossier, "record_payment", amount="40000", receipt_number="BL-01")
    assert response.status_code == 400
    assert "không khớp với tổng phí, lệ phí 50.000 đồng" in response.content.decode()
    response = act(client, dossier, "record_payment", amount="50000", receipt_number="BL-01")
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == S.RECEIVED
    assert dossier.fee_paid_at is not None


def test_leader_assigns_a_specialist_of_the_steps_agency(client, world):
    dossier = builders.received(world)
    outsider = OfficerFactory(role=Role.SPECIALIST, membership__agency=AgencyFactory(), full_name="Người Ngoài")
    client.force_login(world.leader)
    choices = list(client.get(page_url(dossier)).context["actions"][0]["form"].fields["assignee"].queryset)
    assert choices == [world.specialist]
    assert act(client, dossier, "assign", assignee=outsider.pk).status_code == 400
    response = act(client, dossier, "assign", assignee=world.specialist.pk, note="Xử lý trong tuần")
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert (dossier.state, dossier.assignee) == (S.IN_PROCESSING, world.specialist)


def test_specialist_forwards_to_the_next_step(client):
    world = builders.make_world()
    ProcessingStep.objects.filter(procedure=world.procedure, role=StepRole.LEADER).update(order=4)
    ProcessingStepFactory(
        procedure=world.procedure, order=3, name="Kiểm tra thực địa", role=StepRole.SPECIALIST, duration_days=1
    )
    dossier = builders.in_processing(world)
    client.force_login(world.specialist)
    assert "forward" in {a["spec"].name for a in client.get(page_url(dossier)).context["actions"]}
    response = act(client, dossier, "forward", note="Đã thẩm định hồ sơ")
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.current_step.name == "Kiểm tra thực địa"
    assert dossier.assignee is None


def test_specialist_consults_another_unit(client, world):
    dossier = builders.in_processing(world)
    police = AgencyFactory(name="Công an phường Hoa Lư")
    client.force_login(world.specialist)
    past = (dt.datetime.now(VN) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert act(client, dossier, "consult", agency=police.pk, question="Xác minh cư trú", deadline=past).status_code == (
        400
    )
    deadline = (dt.datetime.now(VN) + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = act(client, dossier, "consult", agency=police.pk, question="Xác minh cư trú", deadline=deadline)
    assert response.status_code == 302
    event = dossier.events.last()
    assert (event.action, event.note, event.data["agency"]) == ("consult", "Xác minh cư trú", "Công an phường Hoa Lư")


def test_specialist_submits_the_draft_result_for_approval(client, world):
    dossier = builders.in_processing(world)
    client.force_login(world.specialist)
    response = act(client, dossier, "submit_for_approval", note="Đề nghị phê duyệt")
    assert response.status_code == 400
    assert "Vui lòng đính kèm dự thảo kết quả giải quyết." in response.content.decode()
    assert Dossier.objects.get(pk=dossier.pk).state == S.IN_PROCESSING
    response = act(client, dossier, "submit_for_approval", result=builders.pdf_upload("du-thao.pdf"))
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == S.AWAITING_APPROVAL
    assert dossier.files.get(kind=FileKind.RESULT, is_current=True).original_name == "du-thao.pdf"


def test_leader_sends_back_then_approves(client, world):
    dossier = builders.awaiting_approval(world)
    client.force_login(world.leader)
    response = act(client, dossier, "send_back", reason="Sai tên hộ kinh doanh")
    assert response.status_code == 302
    assert Dossier.objects.get(pk=dossier.pk).state == S.IN_PROCESSING
    services.dossier_submit_for_approval(dossier=dossier, officer=world.specialist)
    response = act(client, dossier, "approve", result=builders.pdf_upload("ket-qua-da-ky.pdf"))
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == S.RESULT_READY
    assert dossier.files.get(kind=FileKind.RESULT, is_current=True).original_name == "ket-qua-da-ky.pdf"


def test_reception_returns_the_result(client, world):
    dossier = builders.result_ready(world)
    client.force_login(world.reception)
    form = client.get(page_url(dossier)).context["actions"]
    channels = [c[0] for a in form if a["spec"].name == "return_result" for c in a["form"].fields["channel"].choices]
    assert "postal" not in channels  # no postal address on this dossier
    response = act(client, dossier, "return_result", channel="counter")
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert (dossier.state, dossier.channel_out) == (S.RETURNED, "counter")


def test_leader_apologises_and_reschedules_once(client, world):
    with time_machine.travel(MONDAY):
        dossier = builders.received(world)
        client.force_login(world.leader)
        response = act(client, dossier, "apologise", new_due_at="2026-03-10T17:00", reason="Chờ xác minh")
        assert response.status_code == 302
        dossier.refresh_from_db()
        assert dossier.current_due_at == dt.datetime(2026, 3, 10, 17, 0, tzinfo=VN)
        assert dossier.original_due_at == dt.datetime(2026, 3, 5, 17, 0, tzinfo=VN)
        page = client.get(page_url(dossier))
        assert "apologise" not in {a["spec"].name for a in page.context["actions"]}
        response = act(client, dossier, "apologise", new_due_at="2026-03-12T17:00", reason="Lần hai")
        assert response.status_code == 403
        assert "không được hẹn lại lần thứ hai" in response.content.decode()


def test_reception_stops_processing_at_the_applicants_request(client, world):
    dossier = builders.in_processing(world)
    client.force_login(world.reception)
    response = act(client, dossier, "stop", reason="Người nộp có đơn đề nghị dừng")
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == S.STOPPED
    assert dossier.files.filter(kind=FileKind.FORM, form_number=FormNumber.STOP).exists()


def test_a_stale_form_gets_the_conflict_message_and_changes_nothing(client, world):
    dossier = builders.submitted(world)
    colleague = OfficerFactory(role=Role.RECEPTION, membership__agency=world.agency, full_name="Đồng Nghiệp")
    client.force_login(world.reception)
    seen_version = client.get(page_url(dossier)).context["actions"][0]["form"].initial["version"]
    services.dossier_request_supplement(
        dossier=dossier, officer=colleague, items=["Bản sao CCCD"], reason="Thiếu", expected_version=seen_version
    )
    before = snapshot(dossier)
    response = act(client, dossier, "receive", version=seen_version)
    assert response.status_code == 409
    text = response.content.decode()
    assert "Hồ sơ vừa được người khác cập nhật (trạng thái hiện tại: Yêu cầu bổ sung hồ sơ)." in text
    assert 'role="alert"' in text
    assert snapshot(dossier) == before


def test_a_transition_not_allowed_now_shows_a_vietnamese_message(client, world):
    dossier = builders.received(world)
    before = snapshot(dossier)
    client.force_login(world.reception)
    response = act(client, dossier, "receive")
    assert response.status_code == 403
    assert "Không thể thực hiện thao tác này khi hồ sơ đang ở trạng thái “Đã tiếp nhận”." in response.content.decode()
    client.force_login(world.leader)
    response = act(client, dossier, "approve")
    assert "Không thể thực hiện thao tác này khi hồ sơ đang ở trạng thái “Đã tiếp nhận”." in response.content.decode()
    assert snapshot(dossier) == before


def test_an_unknown_action_is_404(client, world):
    dossier = builders.submitted(world)
    client.force_login(world.reception)
    assert act(client, dossier, "delete").status_code == 404


# --- counter submission -----------------------------------------------------------------------


def test_counter_submission_then_immediate_reception(client, world):
    client.force_login(world.reception)
    assert client.get(reverse("dossiers:officer_counter_new")).status_code == 200
    response = client.post(
        reverse("dossiers:officer_counter_new"),
        {
            "procedure": world.procedure.pk,
            "agency": world.agency.pk,
            "applicant_name": "Trương Văn Đến",
            "applicant_id_number": "037090005678",
            "applicant_phone": "0912345678",
            "applicant_address": "Số 5 phố Tràng An",
        },
    )
    assert response.status_code == 302
    dossier = Dossier.objects.get(applicant_name="Trương Văn Đến")
    edit = reverse("dossiers:officer_counter_edit", args=[dossier.public_id])
    assert response["Location"] == edit
    assert (dossier.state, dossier.channel_in, dossier.submitted_by, dossier.owner) == (
        S.DRAFT,
        Channel.COUNTER,
        world.reception,
        None,
    )

    page = client.get(edit)
    assert "Thiếu giấy tờ bắt buộc: Giấy đề nghị đăng ký hộ kinh doanh" in page.content.decode()
    assert client.post(edit, {"part": "answers", "ten_ho_kinh_doanh": "Tiệm Đến"}).status_code == 302
    assert client.post(edit, {"part": "upload", "requirement": 1, "file": builders.pdf_upload()}).status_code == 302
    assert client.post(edit, {"part": "delivery", "channel_out": "counter"}).status_code == 302
    dossier.refresh_from_db()
    assert dossier.answers == {"ten_ho_kinh_doanh": "Tiệm Đến"}
    assert dossier.channel_out == "counter"

    response = client.post(edit, {"part": "submit", "version": dossier.version, "receive_now": "1"}, follow=True)
    dossier.refresh_from_db()
    assert response.redirect_chain[-1][0] == page_url(dossier)
    assert dossier.state == S.RECEIVED
    assert f"Đã tiếp nhận hồ sơ {dossier.code}." in success_message(response)
    assert_receipt_pending(response, dossier)
    builders.issue_pending_forms(dossier)
    assert dossier.files.filter(kind=FileKind.FORM, form_number=FormNumber.RECEIPT).exists()
    ready = client.get(page_url(dossier))
    assert ready.context["receipt"] is not None
    assert_receipt_ready(ready)
    # Once submitted, the counter page leads to the dossier page.
    assert client.get(edit)["Location"] == page_url(dossier)


def test_counter_submission_with_a_wrong_file_or_missing_items_says_why(client, world):
    dossier = services.dossier_create_at_counter(
        procedure=world.procedure,
        agency=world.agency,
        officer=world.reception,
        applicant={"applicant_name": "Vũ Thị Sai", "applicant_id_number": "037190001111"},
    )
    edit = reverse("dossiers:officer_counter_edit", args=[dossier.public_id])
    client.force_login(world.reception)
    fake = builders.pdf_upload("gia.pdf", b"<html>not a pdf</html>")
    response = client.post(edit, {"part": "upload", "requirement": 1, "file": fake})
    assert response.status_code == 400
    assert "không phải định dạng được chấp nhận" in response.content.decode()
    response = client.post(edit, {"part": "submit", "version": dossier.version})
    assert response.status_code == 400
    assert "Thiếu giấy tờ bắt buộc" in response.content.decode()
    assert Dossier.objects.get(pk=dossier.pk).state == S.DRAFT


def test_another_officer_cannot_open_a_counter_draft(client, world):
    dossier = services.dossier_create_at_counter(
        procedure=world.procedure,
        agency=world.agency,
        officer=world.reception,
        applicant={"applicant_name": "Vũ Thị Riêng", "applicant_id_number": "037190002222"},
    )
    colleague = OfficerFactory(role=Role.RECEPTION, membership__agency=world.agency)
    client.force_login(colleague)
    assert client.get(reverse("dossiers:officer_counter_edit", args=[dossier.public_id])).status_code == 404


def test_counter_pages_are_for_reception_officers(client, world):
    client.force_login(world.specialist)
    assert client.get(reverse("dossiers:officer_counter_new")).status_code == 403


# --- register ---------------------------------------------------------------------------------


def test_register_lists_the_agencys_dossiers_received_in_the_range(client, world, fast_pdf, monkeypatch):
    captured = {}

    def fake_register(**kwargs):
        captured.update(kwargs)
        return builders.PDF_BYTES

    monkeypatch.setattr("dossiers.views.officer.render_register", fake_register)
    with time_machine.travel(MONDAY):
        inside = [builders.received(world), builders.received(world)]
    with time_machine.travel(MONDAY + dt.timedelta(days=10)):
        builders.received(world)
    with time_machine.travel(MONDAY):
        foreign_dossier(world)
        builders.submitted(world)
    client.force_login(world.reception)
    response = client.get(
        reverse("dossiers:officer_register"), {"agency": world.agency.pk, "start": "2026-03-01", "end": "2026-03-07"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="so-theo-doi-ho-so-20260301-20260307.pdf"'
    assert [d.pk for d in captured["dossiers"]] == [d.pk for d in inside]
    assert (captured["agency"], captured["start"], captured["end"]) == (
        world.agency,
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 7),
    )


def test_register_is_a_real_pdf_and_checks_the_range(client, world):
    builders.received(world)
    client.force_login(world.reception)
    today = dt.datetime.now(VN).date()
    assert client.get(reverse("dossiers:officer_register")).status_code == 200
    response = client.get(
        reverse("dossiers:officer_register"),
        {"agency": world.agency.pk, "start": today.isoformat(), "end": today.isoformat()},
    )
    assert response.content.startswith(b"%PDF")
    response = client.get(
        reverse("dossiers:officer_register"), {"agency": world.agency.pk, "start": "2026-03-10", "end": "2026-03-01"}
    )
    assert response.status_code == 400
    assert "Ngày kết thúc phải sau ngày bắt đầu." in response.content.decode()


def test_the_queue_page_costs_the_same_few_queries_whatever_the_rows(client, world, fast_pdf):
    builders.received(world)
    client.force_login(world.leader)
    client.get(QUEUE, {"tab": "all"})  # the first request of a session also updates the session
    with CaptureQueriesContext(connection) as few:
        client.get(QUEUE, {"tab": "all"})
    for _n in range(6):
        builders.received(world)
    with CaptureQueriesContext(connection) as more:
        client.get(QUEUE, {"tab": "all"})
    assert len(more) == len(few) <= 40
