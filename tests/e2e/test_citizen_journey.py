"""A citizen submits a dossier on a 360 px phone in Debian's Chromium, with and without JavaScript."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from dossiers.constants import DossierState
from dossiers.models import Dossier, DossierFile
from procedures.constants import FieldKind
from tests.dossiers import builders
from tests.factories import PASSWORD, FormFieldFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HTML_BYTES = b"<!DOCTYPE html><html><body>not a pdf</body></html>"


@pytest.fixture
def world():
    world = builders.make_world()
    FormFieldFactory(
        procedure=world.procedure,
        code="ngay_bat_dau",
        label="Ngày bắt đầu kinh doanh",
        kind=FieldKind.DATE,
        order=2,
        required=False,
    )
    return world


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def assert_accessible(page, axe_audit) -> None:
    assert fits_the_phone(page), page.url
    assert axe_audit(page) == [], page.url


def test_a_citizen_submits_a_dossier_from_the_procedure_page_on_a_phone(phone_page, live_server, world, axe_audit):
    page = phone_page
    page.goto(f"{live_server.url}/procedures/{world.procedure.national_code}/")
    page.get_by_role("button", name="Nộp hồ sơ trực tuyến").click()

    # Not logged in yet: the login page, then back to the start of the dossier.
    page.get_by_label("Số định danh cá nhân, số điện thoại hoặc email").fill(world.citizen.cccd)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nộp hồ sơ trực tuyến")
    assert_accessible(page, axe_audit)
    page.get_by_role("button", name="Bắt đầu khai hồ sơ").click()

    # Step 1: the applicant, prefilled from the account.
    expect(page.get_by_text("Bước 1/5")).to_be_visible()
    assert page.locator('[aria-current="step"]').inner_text() == "Thông tin người nộp hồ sơ"
    assert page.get_by_label("Họ và tên người nộp").input_value() == "Lê Văn Công"
    assert_accessible(page, axe_audit)
    page.get_by_label("Số điện thoại").fill("0912345678")
    page.get_by_role("button", name="Lưu và tiếp tục").click()

    # Step 2: the form; a wrong value first.
    expect(page.get_by_text("Bước 2/5")).to_be_visible()
    page.get_by_role("button", name="Lưu và tiếp tục").click()
    summary = page.locator("#error-summary")
    assert "Tên hộ kinh doanh" in summary.inner_text()
    assert_accessible(page, axe_audit)
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "id_ten_ho_kinh_doanh"
    page.get_by_label("Tên hộ kinh doanh").fill("Tạp hóa Bình An")
    page.get_by_label("Ngày bắt đầu kinh doanh").fill("2026-03-05")
    page.get_by_role("button", name="Lưu và tiếp tục").click()

    # Step 3: documents; a web page named .pdf is refused, a PDF is uploaded with a progress bar.
    expect(page.get_by_text("Bước 3/5")).to_be_visible()
    expect(page.get_by_text("Định dạng PDF, JPG, PNG, tối đa 10 MB mỗi tệp")).to_be_visible()
    assert_accessible(page, axe_audit)
    file_input = page.get_by_label("Chọn tệp cho “Giấy đề nghị đăng ký hộ kinh doanh”")
    file_input.set_input_files(files=[{"name": "x.pdf", "mimeType": "application/pdf", "buffer": HTML_BYTES}])
    page.get_by_role("button", name="Tải lên").click()
    page.locator("#error-summary").wait_for()
    assert "không phải định dạng được chấp nhận" in page.locator("#id_doc1_file_error").inner_text()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert_accessible(page, axe_audit)
    assert DossierFile.objects.count() == 0

    page.evaluate(
        """() => {
            // Records what the progress bar shows while the request is under way.
            window.__progressSeen = [];
            const original = XMLHttpRequest.prototype.send;
            XMLHttpRequest.prototype.send = function (body) {
                this.upload.addEventListener("progress", () => {
                    const bar = document.querySelector("#doc1-progress");
                    window.__progressSeen.push([bar.closest("[data-upload-progress-box]").hidden, bar.value]);
                });
                return original.call(this, body);
            };
        }"""
    )
    page.get_by_label("Chọn tệp cho “Giấy đề nghị đăng ký hộ kinh doanh”").set_input_files(
        files=[{"name": "de-nghi.pdf", "mimeType": "application/pdf", "buffer": builders.PDF_BYTES}]
    )
    page.get_by_role("button", name="Tải lên").click()
    page.get_by_role("link", name="de-nghi.pdf").wait_for()
    assert "Đã tải lên “de-nghi.pdf”" in page.get_by_role("status").first.inner_text()
    seen = page.evaluate("window.__progressSeen")
    assert seen and all(hidden is False for hidden, _value in seen) and seen[-1][1] > 0
    assert_accessible(page, axe_audit)
    page.get_by_role("button", name="Tiếp tục", exact=True).click()

    # Step 4: how the result comes back.
    expect(page.get_by_text("Bước 4/5")).to_be_visible()
    assert_accessible(page, axe_audit)
    page.get_by_label("Nhận kết quả điện tử trên Cổng").check()
    page.get_by_role("button", name="Lưu và tiếp tục").click()

    # Step 5: check and submit.
    expect(page.get_by_text("Bước 5/5")).to_be_visible()
    for text in ("Tạp hóa Bình An", "05/03/2026", "de-nghi.pdf", "0912345678"):
        expect(page.get_by_text(text).first, text).to_be_visible()
    assert_accessible(page, axe_audit)
    page.get_by_role("button", name="Nộp hồ sơ").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Đã nộp hồ sơ thành công")
    assert_accessible(page, axe_audit)
    dossier = Dossier.objects.get(owner=world.citizen)
    assert dossier.state == DossierState.SUBMITTED
    assert dossier.answers == {"ten_ho_kinh_doanh": "Tạp hóa Bình An", "ngay_bat_dau": "2026-03-05"}
    assert dossier.applicant_phone == "0912345678"

    # It is listed in "Hồ sơ của tôi", without a code until the one-stop shop receives it.
    page.goto(f"{live_server.url}/ho-so/")
    assert "Chờ tiếp nhận" in page.content() and "Chưa có mã" in page.content()
    assert_accessible(page, axe_audit)
    page.get_by_role("link", name="Đăng ký kinh doanh hộ cá thể").click()
    page.wait_for_url(f"**/ho-so/{dossier.public_id}/")
    assert "Nộp hồ sơ" in page.content()
    assert_accessible(page, axe_audit)


def test_uploads_work_without_javascript(browser, live_server, world):
    dossier = builders.draft(world)
    client = Client()
    client.force_login(world.citizen)
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, java_script_enabled=False, locale="vi-VN", base_url=live_server.url
    )
    context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    try:
        page.goto(f"/ho-so/{dossier.public_id}/giay-to/")
        assert not page.locator("#doc1-progress").is_visible()  # the bar needs the script
        label = "Chọn tệp cho “Giấy đề nghị đăng ký hộ kinh doanh”"
        page.get_by_label(label).set_input_files(
            files=[{"name": "x.pdf", "mimeType": "application/pdf", "buffer": HTML_BYTES}]
        )
        page.get_by_role("button", name="Tải lên").click()
        assert "không phải định dạng được chấp nhận" in page.locator("#id_doc1_file_error").inner_text()
        assert fits_the_phone(page)
        page.get_by_label(label).set_input_files(
            files=[{"name": "trang-2.pdf", "mimeType": "application/pdf", "buffer": builders.PDF_BYTES}]
        )
        page.get_by_role("button", name="Tải lên").click()
        expect(page.get_by_role("link", name="trang-2.pdf")).to_be_visible()
        assert DossierFile.objects.filter(dossier=dossier).count() == 2
        with page.expect_navigation():
            page.get_by_role("button", name="Xóa to-khai.pdf").click()
        assert not page.get_by_role("link", name="to-khai.pdf").is_visible()
        assert fits_the_phone(page)
    finally:
        context.close()
