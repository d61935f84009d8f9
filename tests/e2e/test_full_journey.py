"""One dossier from start to finish in Debian's Chromium, each person in a browser of their own.

The citizen on a 360 px phone submits online; the one-stop officer asks for a supplement, which the
citizen sends from the dossier page; the officer receives it and prints Form 01; the leader assigns
it, the specialist submits a draft result, the leader approves; the citizen downloads the result
and rates the service; anyone then tracks the dossier by its code without seeing who applied.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from dossiers.constants import DossierState
from dossiers.models import Dossier
from dossiers.templatetags.form_tags import gio_phut_ngay
from procedures.constants import StepRole
from tests.dossiers import builders
from tests.factories import PASSWORD
from tests.services import unavailable

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

APPLICATION_PDF = b"%PDF-1.4\n% don de nghi\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SUPPLEMENT_PDF = b"%PDF-1.4\n% don co chu ky\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
RESULT_PDF = b"%PDF-1.4\n% giay chung nhan\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DOCUMENT = "Giấy đề nghị đăng ký hộ kinh doanh"
FILE_LABEL = f"Chọn tệp cho \u201c{DOCUMENT}\u201d"
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def pdf(name: str, data: bytes) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": data}


@pytest.fixture
def open_browser(browser, live_server):
    """Opens a page in a browser context of its own (its own cookies); closes them all at the end."""
    contexts = []

    def open_page(*, phone: bool = False):
        options = {"locale": "vi-VN", "base_url": live_server.url, "accept_downloads": True}
        if phone:
            options.update(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
        else:
            options.update(viewport={"width": 1280, "height": 900})
        context = browser.new_context(**options)
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def main_nav(page):
    return page.get_by_role("navigation", name="Điều hướng chính")


def log_in(page, identifier: str) -> None:
    """Through the login page, from the link in the site's navigation."""
    page.goto("/")
    main_nav(page).get_by_role("link", name="Đăng nhập", exact=True).click()
    page.get_by_label("Số định danh cá nhân, số điện thoại hoặc email").fill(identifier)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập", exact=True).click()
    expect(main_nav(page).get_by_role("button", name=re.compile(r"^Đăng xuất"))).to_be_visible()


def open_from_queue(page, tab: str, link: str) -> None:
    """An officer opens one dossier from one tab of their work queue."""
    main_nav(page).get_by_role("link", name="Xử lý hồ sơ").click()
    page.get_by_role("navigation", name="Danh mục hồ sơ").get_by_role("link", name=f"{tab} (1)").click()
    expect(page.get_by_role("heading", level=2, name=tab, exact=True)).to_be_visible()
    page.get_by_role("link", name=link, exact=True).click()


def action(page, name: str):
    """The form of one action on the officer's dossier page (a region named by its heading)."""
    return page.get_by_role("region", name=name, exact=True)


def expect_status(page, text: str) -> None:
    expect(page.get_by_role("status").first).to_contain_text(text)


def open_own_dossier(page, procedure_name: str) -> None:
    main_nav(page).get_by_role("link", name="Hồ sơ của tôi").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hồ sơ của tôi")
    page.get_by_role("link", name=procedure_name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(procedure_name)


def pdf_text(path) -> str:
    run = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    return " ".join(run.stdout.split())


def test_a_dossier_from_online_submission_to_public_tracking(open_browser, live_server, tmp_path):
    if shutil.which("pdftotext") is None:
        unavailable("pdftotext is not installed (Debian package poppler-utils)")
    world = builders.make_world()
    procedure = world.procedure.name

    # 1. The citizen, on a phone, finds the procedure in the catalogue and submits online.
    citizen = open_browser(phone=True)
    log_in(citizen, world.citizen.cccd)
    main_nav(citizen).get_by_role("link", name="Thủ tục hành chính").click()
    expect(citizen.get_by_role("heading", level=1)).to_have_text("Thủ tục hành chính")
    citizen.get_by_role("link", name=procedure).click()
    expect(citizen.get_by_role("heading", level=1)).to_have_text(procedure)
    # One agency only and already logged in: the button starts the draft at once.
    citizen.get_by_role("button", name="Nộp hồ sơ trực tuyến").click()

    expect(citizen.get_by_text("Bước 1/5")).to_be_visible()
    expect(citizen.get_by_label("Họ và tên người nộp")).to_have_value("Lê Văn Công")
    citizen.get_by_label("Số điện thoại").fill("0912345678")
    citizen.get_by_label("Địa chỉ").fill("Số 5 đường Trần Hưng Đạo, phường Hoa Lư")
    citizen.get_by_role("button", name="Lưu và tiếp tục").click()

    expect(citizen.get_by_text("Bước 2/5")).to_be_visible()
    citizen.get_by_label("Tên hộ kinh doanh").fill("Tạp hóa Bình An")
    citizen.get_by_role("button", name="Lưu và tiếp tục").click()

    expect(citizen.get_by_text("Bước 3/5")).to_be_visible()
    citizen.get_by_label(FILE_LABEL).set_input_files(files=[pdf("don.pdf", APPLICATION_PDF)])
    citizen.get_by_role("button", name="Tải lên").click()
    expect(citizen.get_by_role("link", name="don.pdf", exact=True)).to_be_visible()
    citizen.get_by_role("button", name="Tiếp tục", exact=True).click()

    expect(citizen.get_by_text("Bước 4/5")).to_be_visible()
    citizen.get_by_label("Nhận kết quả điện tử trên Cổng").check()
    citizen.get_by_role("button", name="Lưu và tiếp tục").click()

    expect(citizen.get_by_text("Bước 5/5")).to_be_visible()
    for text in ("Tạp hóa Bình An", "0912345678", "Nhận kết quả điện tử trên Cổng"):
        expect(citizen.get_by_text(text).first).to_be_visible()
    expect(citizen.get_by_role("link", name="don.pdf", exact=True)).to_be_visible()
    citizen.get_by_role("button", name="Nộp hồ sơ", exact=True).click()
    expect(citizen.get_by_role("heading", level=1)).to_have_text("Đã nộp hồ sơ thành công")
    dossier = Dossier.objects.get(owner=world.citizen)
    assert dossier.state == DossierState.SUBMITTED

    # 2. The one-stop officer finds it among the new dossiers and asks, once, for a supplement.
    reception = open_browser()
    log_in(reception, world.reception.email)
    open_from_queue(reception, "Hồ sơ mới", f"Hồ sơ chưa cấp mã (số {dossier.pk})")
    form = action(reception, "Yêu cầu bổ sung")
    form.get_by_label("Giấy tờ, nội dung cần bổ sung (mỗi dòng một mục)").fill(
        "Giấy đề nghị có chữ ký của chủ hộ kinh doanh"
    )
    form.get_by_label("Lý do").fill("Giấy đề nghị đã nộp chưa có chữ ký.")
    form.get_by_role("button", name="Gửi yêu cầu bổ sung (Mẫu 02)").click()
    expect_status(reception, "Đã gửi yêu cầu bổ sung hồ sơ.")

    # 3. The citizen reads the request on the dossier page, uploads the file there and sends it.
    open_own_dossier(citizen, procedure)
    request = citizen.get_by_role("region", name="Bổ sung hồ sơ", exact=True)
    expect(request).to_contain_text("Giấy đề nghị có chữ ký của chủ hộ kinh doanh")
    expect(request).to_contain_text("Giấy đề nghị đã nộp chưa có chữ ký.")
    request.get_by_label(FILE_LABEL).set_input_files(files=[pdf("don-co-chu-ky.pdf", SUPPLEMENT_PDF)])
    request.get_by_role("button", name="Tải lên").click()
    expect(request.get_by_role("link", name="don-co-chu-ky.pdf", exact=True)).to_be_visible()
    request.get_by_label("Nội dung giải trình").fill("Đã ký vào giấy đề nghị.")
    request.get_by_role("button", name="Gửi bổ sung").click()
    expect_status(citizen, "Đã gửi bổ sung hồ sơ.")
    expect(citizen.get_by_role("region", name="Bổ sung hồ sơ", exact=True)).to_have_count(0)

    # 4. The officer receives the completed dossier: a code, an appointment, Form 01.
    open_from_queue(reception, "Hồ sơ mới", f"Hồ sơ chưa cấp mã (số {dossier.pk})")
    documents = reception.get_by_role("region", name="Thành phần hồ sơ", exact=True)
    expect(documents.get_by_role("link", name="don-co-chu-ky.pdf")).to_be_visible()
    reception.get_by_role("button", name="Tiếp nhận hồ sơ", exact=True).click()
    expect_status(reception, "Đã tiếp nhận hồ sơ")
    dossier.refresh_from_db()
    assert dossier.state == DossierState.RECEIVED and dossier.code
    due = dossier.current_due_at.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y")
    expect_status(reception, f"Đã tiếp nhận hồ sơ {dossier.code}. Ngày hẹn trả kết quả: {due}.")
    expect(reception.get_by_role("heading", level=1)).to_have_text(f"Hồ sơ {dossier.code}")
    expect(reception.locator("dl.facts").first).to_contain_text(due)
    # Form 01 is rendered by a worker after the reception commits: meanwhile the page says so, and its
    # meta refresh (no JavaScript needed) brings the print link once the worker's task has run.
    expect(reception.get_by_role("status").filter(has_text="Đang tạo Giấy tiếp nhận")).to_be_visible()
    builders.issue_pending_forms(dossier)
    print_link = reception.get_by_role("link", name="In Giấy tiếp nhận và hẹn trả kết quả (Mẫu 01)")
    expect(print_link).to_be_visible(timeout=20_000)
    with reception.expect_download() as info:
        print_link.click()
    form_01 = tmp_path / "mau-01.pdf"
    info.value.save_as(form_01)
    text = pdf_text(form_01)
    assert dossier.code in text
    assert gio_phut_ngay(dossier.current_due_at) in text, text

    # 5. The leader assigns it; the specialist submits a draft result; the leader approves it.
    leader = open_browser()
    log_in(leader, world.leader.email)
    open_from_queue(leader, "Hồ sơ mới", dossier.code)
    form = action(leader, "Phân công")
    form.get_by_label("Chuyên viên xử lý").select_option(label="Chuyên Viên")
    form.get_by_role("button", name="Phân công xử lý").click()
    expect_status(leader, "Đã phân công hồ sơ cho Chuyên Viên.")

    specialist = open_browser()
    log_in(specialist, world.specialist.email)
    open_from_queue(specialist, "Hồ sơ của tôi", dossier.code)
    form = action(specialist, "Trình phê duyệt")
    form.get_by_label("Dự thảo kết quả giải quyết (PDF, JPG hoặc PNG)").set_input_files(
        files=[pdf("ket-qua.pdf", RESULT_PDF)]
    )
    form.get_by_role("button", name="Trình lãnh đạo phê duyệt").click()
    expect_status(specialist, "Đã trình lãnh đạo phê duyệt.")

    open_from_queue(leader, "Chờ phê duyệt", dossier.code)
    documents = leader.get_by_role("region", name="Thành phần hồ sơ", exact=True)
    expect(documents.get_by_role("link", name="ket-qua.pdf")).to_be_visible()
    action(leader, "Phê duyệt").get_by_role("button", name="Phê duyệt kết quả").click()
    expect_status(leader, "Đã phê duyệt kết quả giải quyết.")

    # 6. The citizen downloads the result from the dossier page, then rates the service.
    open_own_dossier(citizen, procedure)
    with citizen.expect_download() as info:
        citizen.get_by_role("region", name="Kết quả giải quyết", exact=True).get_by_role(
            "link", name="Tải kết quả: ket-qua.pdf"
        ).click()
    assert info.value.suggested_filename == "ket-qua.pdf"
    info.value.save_as(tmp_path / "ket-qua.pdf")
    assert (tmp_path / "ket-qua.pdf").read_bytes() == RESULT_PDF
    citizen.reload()
    expect(citizen.get_by_role("heading", level=2, name=re.compile(r"^Trạng thái"))).to_contain_text(
        str(DossierState.RETURNED.label)
    )
    rating = citizen.get_by_role("region", name="Đánh giá mức độ hài lòng", exact=True)
    groups = rating.get_by_role("group")
    expect(groups).to_have_count(5)
    for index in range(5):
        groups.nth(index).get_by_label("Hài lòng", exact=True).check()
    rating.get_by_label("Góp ý thêm (không bắt buộc)").fill("Cán bộ hướng dẫn rõ ràng.")
    rating.get_by_role("button", name="Gửi đánh giá").click()
    expect_status(citizen, "Cảm ơn bạn đã đánh giá.")
    expect(citizen.get_by_role("region", name="Đánh giá của bạn", exact=True)).to_contain_text("Hài lòng")

    # 7. Anyone tracks the dossier by its code: every step with its dates, never the applicant.
    dossier.refresh_from_db()
    assert dossier.state == DossierState.RETURNED
    anyone = open_browser()
    anyone.goto("/")
    main_nav(anyone).get_by_role("link", name="Tra cứu hồ sơ").click()
    anyone.get_by_label("Mã hồ sơ").fill(dossier.code)
    anyone.get_by_role("button", name="Tra cứu").click()
    expect(anyone.get_by_role("heading", level=2, name=f"Hồ sơ {dossier.code}")).to_be_visible()
    steps = list(dossier.steps.order_by("order"))
    assert [(step.name, step.role) for step in steps] == [
        ("Tiếp nhận", StepRole.RECEPTION),
        ("Thẩm định", StepRole.SPECIALIST),
        ("Phê duyệt", StepRole.LEADER),
    ]
    rows = anyone.get_by_role("region", name="Quá trình giải quyết", exact=True).locator("tbody").get_by_role("row")
    expect(rows).to_have_count(3)
    for row, step in zip(rows.all(), steps, strict=True):
        cells = row.get_by_role("cell")
        expect(cells.nth(0)).to_have_text(step.name)
        expect(cells.nth(1)).to_have_text(world.agency.name)
        for column, value in ((2, step.started_at), (3, step.due_at), (4, step.completed_at)):
            expect(cells.nth(column)).to_contain_text(value.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y"))
    content = anyone.content()
    for private in (world.citizen.full_name, world.citizen.cccd, "0912345678", "Tạp hóa Bình An"):
        assert private not in content, private
