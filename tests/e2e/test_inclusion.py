"""Issue 11 in Debian's Chromium: a first-time citizen on a cheap phone, a community helper, the admin.

Phones are 360 px wide (320 px for the sideways-scroll check), the admin 1280 px. Sessions are
opened with the test client's cookie so that each test goes straight to what it checks.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from dossiers import services
from dossiers.constants import DossierState
from dossiers.models import Dossier, DossierFile
from portal.accounts.constants import Role
from procedures.constants import FieldKind
from tests.dossiers import builders
from tests.factories import FeeItemFactory, FormFieldFactory, OfficerFactory, RequiredDocumentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCUMENT = "Giấy đề nghị đăng ký hộ kinh doanh"
FILE_LABEL = f"Chọn tệp cho \u201c{DOCUMENT}\u201d"
PAGE_BUDGET = 200 * 1024


def pdf(name: str, data: bytes = builders.PDF_BYTES) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": data}


@pytest.fixture
def open_as(browser, live_server):
    """A page in a context of its own, logged in as `user` (or anonymous), with the given options."""
    contexts = []

    def open_page(user=None, *, width: int = 360, javascript: bool = True, locale: str = "vi-VN", **extra):
        context = browser.new_context(
            viewport={"width": width, "height": 740 if width < 1000 else 900},
            java_script_enabled=javascript,
            locale=locale,
            base_url=live_server.url,
            **extra,
        )
        context.set_default_timeout(15000)
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
            context.add_cookies(
                [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
            )
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def transferred_bytes(page) -> int:
    """Bytes the page and its resources took over the network (what a phone plan pays for)."""
    return page.evaluate(
        """() => performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
                 .reduce((sum, e) => sum + (e.transferSize || e.encodedBodySize || 0), 0)"""
    )


SMALL_TARGETS = """() => {
    const small = [];
    const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
    const controls = 'main button, main input, main select, main textarea, main summary, main a.button, '
        + 'header button, header select';
    for (const el of document.querySelectorAll(controls)) {
        if (el.type === 'hidden' || !visible(el)) continue;
        const target = (el.type === 'radio' || el.type === 'checkbox') ? (el.closest('label') || el) : el;
        const r = target.getBoundingClientRect();
        const name = el.name || el.id || el.textContent.trim();
        const size = `${Math.round(r.width)}x${Math.round(r.height)}`;
        if (r.height < 44 || r.width < 44) small.push(`${el.tagName} ${name} ${size}`);
    }
    return small;
}"""


@pytest.fixture
def world():
    return builders.make_world()


# --- point 1 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_a_file_chosen_then_continue_is_uploaded_not_lost(open_as, world, javascript):
    dossier = services.dossier_create_draft(procedure=world.procedure, agency=world.agency, owner=world.citizen)
    page = open_as(world.citizen, javascript=javascript)
    page.goto(f"/ho-so/{dossier.public_id}/giay-to/")
    page.get_by_label(FILE_LABEL).set_input_files(files=[pdf("de-nghi.pdf")])
    page.get_by_role("button", name="Tiếp tục", exact=True).click()
    expect(page.get_by_text("Bước 4/5")).to_be_visible()
    assert list(DossierFile.objects.filter(dossier=dossier).values_list("original_name", flat=True)) == ["de-nghi.pdf"]
    assert "Đã tải lên “de-nghi.pdf”" in page.get_by_role("status").first.inner_text()


def test_a_bad_file_chosen_then_continue_stops_the_page_with_a_message(open_as, world):
    dossier = services.dossier_create_draft(procedure=world.procedure, agency=world.agency, owner=world.citizen)
    page = open_as(world.citizen)
    page.goto(f"/ho-so/{dossier.public_id}/giay-to/")
    page.get_by_label(FILE_LABEL).set_input_files(files=[pdf("x.pdf", b"<html><body>no</body></html>")])
    page.get_by_role("button", name="Tiếp tục", exact=True).click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Tệp chưa được tải lên")
    expect(page.get_by_text("Bước 3/5")).to_be_visible()
    assert not DossierFile.objects.filter(dossier=dossier).exists()


# --- points 2, 3, 6, 7, 9 and the measured budgets, on every citizen page -----------------------


def test_every_citizen_page_fits_320_px_stays_under_200_kb_has_44_px_targets_and_passes_axe(open_as, world, axe_audit):
    FormFieldFactory(
        procedure=world.procedure,
        code="ngay_bat_dau",
        label="Ngày bắt đầu",
        kind=FieldKind.DATE,
        order=2,
        required=False,
    )
    draft = services.dossier_create_draft(procedure=world.procedure, agency=world.agency, owner=world.citizen)
    submitted = builders.submitted(world)
    returned = builders.returned(world)
    code = Dossier.objects.get(pk=returned.pk).code
    citizen = [
        "/",
        "/procedures/",
        "/procedures/?q=kinh+doanh",
        f"/procedures/{world.procedure.national_code}/",
        f"/nop-ho-so/{world.procedure.national_code}/",
        f"/ho-so/{draft.public_id}/nguoi-nop/",
        f"/ho-so/{draft.public_id}/to-khai/1/",
        f"/ho-so/{draft.public_id}/giay-to/",
        f"/ho-so/{draft.public_id}/nhan-ket-qua/",
        f"/ho-so/{draft.public_id}/kiem-tra/",
        f"/ho-so/{submitted.public_id}/da-nop/",
        "/ho-so/",
        f"/ho-so/{draft.public_id}/",
        f"/ho-so/{returned.public_id}/",
        f"/tra-cuu/{code}/",
        "/accounts/profile/",
    ]
    anonymous = ["/accounts/login/", "/accounts/register/", "/tra-cuu/"]
    problems = []
    for user, paths in ((world.citizen, citizen), (None, anonymous)):
        page = open_as(user, width=320)
        for path in paths:
            page.goto(path)
            page.wait_for_load_state("load")
            if scroll_width(page) > 320:
                problems.append(f"{path}: {scroll_width(page)} px wide at 320 px")
            if transferred_bytes(page) >= PAGE_BUDGET:
                problems.append(f"{path}: {transferred_bytes(page)} bytes")
            small = page.evaluate(SMALL_TARGETS)
            if small:
                problems.append(f"{path}: small targets {small[:4]}")
            violations = axe_audit(page)
            if violations:
                problems.append(f"{path}: axe {violations}")
    assert problems == []


def test_the_rating_form_is_linked_from_its_prompt_and_is_on_the_first_screens(open_as, world):
    returned = builders.returned(world)
    page = open_as(world.citizen)
    page.goto(f"/ho-so/{returned.public_id}/")
    page.locator(".hero").get_by_role("link", name="Đánh giá mức độ hài lòng").click()
    form_top = page.evaluate("document.querySelector('#danh-gia').getBoundingClientRect().top + window.scrollY")
    assert form_top < 2 * 740  # within two screens of the top, not five
    assert page.evaluate("location.hash") == "#danh-gia"


def test_the_tracking_table_shows_every_column_on_a_phone(open_as, world):
    dossier = builders.in_processing(world)
    page = open_as(None, width=360)
    page.goto(f"/tra-cuu/{Dossier.objects.get(pk=dossier.pk).code}/")
    cell = page.locator("td[data-label='Hoàn thành']").first
    expect(cell).to_be_visible()
    box = cell.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert scroll_width(page) <= 360


def test_the_prefilled_applicant_step_asks_each_detail_once_and_shows_the_reference(open_as, world):
    for order, (code, label, kind) in enumerate(
        [
            ("ho_ten_nguoi_yeu_cau", "Họ, chữ đệm và tên người yêu cầu", FieldKind.TEXT),
            ("so_dinh_danh_nguoi_yeu_cau", "Số định danh cá nhân", FieldKind.CCCD),
            ("so_dien_thoai", "Số điện thoại liên hệ", FieldKind.PHONE),
        ],
        start=10,
    ):
        FormFieldFactory(procedure=world.procedure, code=code, label=label, kind=kind, order=order, section="Người")
    page = open_as(world.citizen)
    page.goto(f"/procedures/{world.procedure.national_code}/")
    page.get_by_role("button", name="Nộp hồ sơ trực tuyến").click()
    expect(page.get_by_label("Họ và tên người nộp")).to_have_value("Lê Văn Công")
    expect(page.get_by_label("Số định danh cá nhân (CCCD)")).to_have_value("037090001234")
    page.locator("#id_applicant_phone").fill("0912345678")
    page.get_by_role("button", name="Lưu và tiếp tục").click()
    expect(page.get_by_text("Bước 2/5")).to_be_visible()
    expect(page.get_by_label("Số định danh cá nhân", exact=True)).to_have_count(0)
    expect(page.get_by_label("Số điện thoại liên hệ")).to_have_count(0)
    page.get_by_label("Tên hộ kinh doanh").fill("Tạp hóa An")
    page.get_by_role("button", name="Lưu và tiếp tục").click()
    page.get_by_label(FILE_LABEL).set_input_files(files=[pdf("de-nghi.pdf")])
    page.get_by_role("button", name="Tiếp tục", exact=True).click()
    page.get_by_label("Nhận kết quả điện tử trên Cổng").check()
    page.get_by_role("button", name="Lưu và tiếp tục").click()
    page.get_by_role("button", name="Nộp hồ sơ", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Đã nộp hồ sơ thành công")
    reference = Dossier.objects.get(owner=world.citizen).reference
    expect(page.locator("#submission-reference")).to_have_text(reference)
    expect(page.get_by_text("Dự kiến trước")).to_be_visible()
    assert Dossier.objects.get(owner=world.citizen).answers["so_dien_thoai"] == "0912345678"


# --- point 8 and 11 ----------------------------------------------------------------------------


def test_an_english_browser_gets_vietnamese_until_english_is_chosen(open_as, world, admin_user):
    page = open_as(None, locale="en-US", extra_http_headers={"Accept-Language": "en-US,en;q=0.9"})
    page.goto("/")
    assert page.evaluate("document.documentElement.lang") == "vi"
    expect(page.get_by_role("link", name="Thủ tục hành chính")).to_be_visible()
    page.get_by_label("Ngôn ngữ").select_option("en")
    page.get_by_role("button", name="Đổi").click()
    expect(page.get_by_role("link", name="Administrative procedures")).to_be_visible()
    page.goto("/procedures/")
    assert page.evaluate("document.documentElement.lang") == "en"  # it stays chosen

    admin = open_as(admin_user, width=1280, locale="en-US", extra_http_headers={"Accept-Language": "en"})
    admin.goto("/admin/")
    assert admin.evaluate("document.documentElement.lang") == "vi"
    expect(admin.get_by_text("Site administration")).to_have_count(0)


# --- point 5 -----------------------------------------------------------------------------------


def test_dates_are_typed_day_month_year_in_an_english_browser(open_as, world):
    FormFieldFactory(procedure=world.procedure, code="ngay", label="Ngày bắt đầu", kind=FieldKind.DATE, order=2)
    dossier = services.dossier_create_draft(procedure=world.procedure, agency=world.agency, owner=world.citizen)
    page = open_as(world.citizen, locale="en-US")
    page.goto(f"/ho-so/{dossier.public_id}/to-khai/1/")
    field = page.get_by_label("Ngày bắt đầu")
    assert field.get_attribute("type") == "text" and field.get_attribute("inputmode") == "numeric"
    expect(page.get_by_text("ví dụ 20/11/2026")).to_be_visible()
    page.get_by_label("Tên hộ kinh doanh").fill("Tạp hóa An")
    field.fill("05/03/2026")
    page.get_by_role("button", name="Lưu và tiếp tục").click()
    expect(page.get_by_text("Bước 3/5")).to_be_visible()
    assert Dossier.objects.get(pk=dossier.pk).answers["ngay"] == "2026-03-05"


# --- keyboard only, and slow 3G with visible upload progress -------------------------------------


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching `selector` has the focus (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never received the focus")


def test_the_whole_citizen_journey_with_the_keyboard_alone(open_as, world):
    page = open_as(world.citizen)
    page.goto(f"/procedures/{world.procedure.national_code}/")
    tab_to(page, "form.start-online button")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Bước 1/5")).to_be_visible()
    tab_to(page, "#id_applicant_phone")
    page.keyboard.type("0912345678")
    tab_to(page, "button[value=continue]")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Bước 2/5")).to_be_visible()
    tab_to(page, "#id_ten_ho_kinh_doanh")
    page.keyboard.type("Tạp hóa An")
    page.keyboard.press("Enter")  # Enter in a field submits the form, as in any browser
    expect(page.get_by_text("Bước 3/5")).to_be_visible()
    tab_to(page, "#id_doc1_file")
    # The operating system's file dialog is outside the page: the file is given to the focused field.
    page.locator("#id_doc1_file").set_input_files(files=[pdf("de-nghi.pdf")])
    tab_to(page, "button[value=continue]")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Bước 4/5")).to_be_visible()
    tab_to(page, "input[name=channel_out]")
    page.keyboard.press("Space")
    tab_to(page, "button[value=continue]")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Bước 5/5")).to_be_visible()
    tab_to(page, "form[action$='/nop/'] button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Đã nộp hồ sơ thành công")
    assert Dossier.objects.get(owner=world.citizen).state == DossierState.SUBMITTED


def test_an_upload_on_slow_3g_shows_its_progress_and_arrives(open_as, world):
    dossier = services.dossier_create_draft(procedure=world.procedure, agency=world.agency, owner=world.citizen)
    page = open_as(world.citizen)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    # Chrome DevTools' "Slow 3G": 400 ms latency, about 400 kbit/s each way.
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 400, "downloadThroughput": 50 * 1024, "uploadThroughput": 50 * 1024},
    )
    page.goto(f"/ho-so/{dossier.public_id}/giay-to/")
    big = builders.PDF_BYTES + b"%" + b"0" * (150 * 1024)
    page.get_by_label(FILE_LABEL).set_input_files(files=[pdf("ban-quet.pdf", big)])
    page.get_by_role("button", name="Tiếp tục", exact=True).click()
    box = page.locator("#doc-1 [data-upload-progress-box]")
    expect(box).to_be_visible()
    expect(box.locator("[data-upload-status]")).to_have_text(re.compile(r"^\d+%$"), timeout=10000)
    expect(page.get_by_text("Bước 4/5")).to_be_visible(timeout=60000)
    assert DossierFile.objects.get(dossier=dossier).size == len(big)


# --- the helper's journey, the helper's pages and the officer queue ------------------------------


def test_a_community_helper_submits_for_a_present_citizen_end_to_end(open_as, world, axe_audit):
    helper = OfficerFactory(role=Role.DIGITAL_HELPER, membership__agency=world.agency, full_name="Phạm Hỗ Trợ")
    page = open_as(helper)
    page.goto("/ho-tro/")
    assert axe_audit(page) == [] and scroll_width(page) <= 360
    page.goto(f"/procedures/{world.procedure.national_code}/")
    page.get_by_role("link", name="Nộp hồ sơ giúp công dân").click()
    assert axe_audit(page) == [] and scroll_width(page) <= 360
    page.get_by_label("Họ và tên công dân").fill("Lê Văn Công")
    page.get_by_label("Số định danh cá nhân (CCCD) của công dân").fill("037090001234")
    page.get_by_label("Số điện thoại của công dân (không bắt buộc)").fill("0912345678")
    page.get_by_label("Tin nhắn SMS").check()
    page.get_by_label(re.compile("^Công dân có mặt")).check()
    page.get_by_role("button", name="Ghi nhận và bắt đầu khai hồ sơ").click()
    expect(page.get_by_text("Bước 1/5")).to_be_visible()
    page.get_by_role("button", name="Lưu và tiếp tục").click()
    page.get_by_label("Tên hộ kinh doanh").fill("Tạp hóa An")
    page.get_by_role("button", name="Lưu và tiếp tục").click()
    page.get_by_label(FILE_LABEL).set_input_files(files=[pdf("de-nghi.pdf")])
    page.get_by_role("button", name="Tiếp tục", exact=True).click()
    page.get_by_label("Nhận kết quả điện tử trên Cổng").check()
    page.get_by_role("button", name="Lưu và tiếp tục").click()
    page.get_by_role("button", name="Nộp hồ sơ", exact=True).click()
    page.get_by_role("link", name="In hoặc gửi xác nhận cho công dân").click()
    dossier = Dossier.objects.get(assistance__helper=helper)
    expect(page.locator("#submission-reference")).to_have_text(dossier.reference)
    assert axe_audit(page) == [] and scroll_width(page) <= 360
    page.get_by_role("button", name=re.compile("^Gửi tin nhắn xác nhận")).click()
    expect(page.get_by_text("Đã gửi tin nhắn xác nhận tới số 0912345678.")).to_be_visible()
    assert dossier.owner == world.citizen and dossier.state == DossierState.SUBMITTED

    # The citizen follows it in their own account; after reception the helper no longer sees it.
    citizen = open_as(world.citizen)
    citizen.goto("/ho-so/")
    expect(citizen.get_by_role("link", name=world.procedure.name)).to_be_visible()
    services.dossier_receive(dossier=dossier, officer=world.reception)
    response = page.goto(f"/ho-tro/ho-so/{dossier.public_id}/xac-nhan/")
    assert response.status == 404


def test_the_officer_queue_passes_axe(open_as, world, axe_audit):
    builders.submitted(world)
    page = open_as(world.reception, width=1280)
    page.goto("/can-bo/ho-so/")
    assert axe_audit(page) == []


# --- points 12–15: the admin at 1280 px ------------------------------------------------------------


def test_the_admin_starts_a_procedure_as_a_draft_with_visible_export_and_import(open_as, world, admin_user):
    RequiredDocumentFactory(procedure=world.procedure, name="Bản sao giấy tờ", order=2)
    FeeItemFactory(procedure=world.procedure, name="Lệ phí cấp bản sao trích lục", amount=8000)
    page = open_as(admin_user, width=1280)
    page.goto("/admin/procedures/procedure/")
    expect(page.get_by_role("link", name="Xuất danh mục ra tệp JSON")).to_be_visible()
    expect(page.get_by_role("link", name="Nhập từ tệp JSON")).to_be_visible()
    page.goto("/admin/procedures/procedure/add/")
    expect(page.get_by_label("Công khai")).not_to_be_checked()
    expect(page.get_by_label("Thủ tục riêng của địa phương")).to_be_visible()
    assert scroll_width(page) <= 1280
    page.goto(f"/admin/procedures/procedure/{world.procedure.pk}/change/")
    wide = page.evaluate(
        """() => [...document.querySelectorAll('#content-main *')].filter(e => e.getBoundingClientRect().right > 1280)
                 .slice(0, 8).map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""
    )
    assert scroll_width(page) <= 1280, wide
    with page.context.expect_page() as preview:
        page.get_by_role("link", name="Xem trước trang của công dân").click()
    expect(preview.value.get_by_text("Bản xem trước")).to_be_visible()
