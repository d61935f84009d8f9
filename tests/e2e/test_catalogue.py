"""The public catalogue in Debian's Chromium, as a citizen uses it."""

import pytest
from playwright.sync_api import expect

from tests.factories import AgencyFactory, FeeItemFactory, FieldFactory, ProcedureFactory, RequiredDocumentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue():
    commune = AgencyFactory(name="UBND phường Hoa Lư", address="Số 1 Đinh Tiên Hoàng")
    civil = FieldFactory(code="HT", name="Hộ tịch")
    birth = ProcedureFactory(
        national_code="1.001193",
        name="Đăng ký khai sinh",
        field=civil,
        agencies=[commune],
        processing_days="0.5",
        result_type="Giấy khai sinh",
        legal_basis="Luật Hộ tịch 2014",
    )
    RequiredDocumentFactory(procedure=birth, name="Tờ khai đăng ký khai sinh", order=1)
    RequiredDocumentFactory(procedure=birth, name="Giấy chứng sinh", order=2)
    FeeItemFactory(procedure=birth, name="Lệ phí đăng ký khai sinh đúng hạn", amount=0)
    permit = ProcedureFactory(
        national_code="1.009999", name="Cấp giấy phép xây dựng nhà ở riêng lẻ", agencies=[commune]
    )
    FeeItemFactory(procedure=permit, name="Lệ phí cấp giấy phép xây dựng", amount=75000)
    for n in range(25):
        ProcedureFactory(name=f"Thủ tục khác số {n}")
    return birth


def test_citizen_finds_birth_registration_without_diacritics_and_sees_documents_and_fees(page, live_server, catalogue):
    page.goto(f"{live_server.url}/")
    page.get_by_label("Tìm thủ tục hành chính").fill("khai sinh")
    page.get_by_role("button", name="Tìm kiếm").click()
    page.wait_for_url("**/procedures/?q=khai+sinh")
    assert page.get_by_role("status").first.inner_text().startswith("Tìm thấy 1 thủ tục")
    page.get_by_role("link", name="Đăng ký khai sinh").click()
    page.wait_for_url("**/procedures/1.001193/")
    assert page.get_by_role("heading", level=1).inner_text() == "Đăng ký khai sinh"
    documents = page.locator("section", has=page.get_by_role("heading", name="Thành phần hồ sơ"))
    assert "Giấy chứng sinh" in documents.inner_text()
    assert "Tờ khai đăng ký khai sinh" in documents.inner_text()
    fees = page.locator("section", has=page.get_by_role("heading", name="Phí, lệ phí"))
    assert "Miễn phí" in fees.inner_text()
    assert "UBND phường Hoa Lư" in page.content()


def test_catalogue_fits_a_360px_phone_and_paginates_without_javascript(browser, live_server, catalogue):
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False, locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/procedures/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        expect(page.get_by_role("link", name="Trang sau →")).to_be_visible()
        page.get_by_role("link", name="Trang sau →").click()
        page.wait_for_url("**/procedures/?page=2*")
        page.get_by_label("Tìm thủ tục").fill("giay phep xay dung")
        page.get_by_role("button", name="Tìm kiếm").click()
        page.wait_for_url("**/procedures/?q=giay+phep+xay+dung*")
        expect(page.get_by_role("link", name="Cấp giấy phép xây dựng nhà ở riêng lẻ")).to_be_visible()
        page.get_by_role("link", name="Cấp giấy phép xây dựng nhà ở riêng lẻ").click()
        page.wait_for_url("**/procedures/1.009999/")
        assert "75.000 đồng" in page.content()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()


def test_catalogue_pages_have_no_serious_accessibility_violations(phone_page, live_server, catalogue, axe_audit):
    for path in ("/", "/procedures/", "/procedures/?q=khai+sinh", f"/procedures/{catalogue.national_code}/"):
        phone_page.goto(f"{live_server.url}{path}")
        assert axe_audit(phone_page) == [], path
