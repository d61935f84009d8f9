"""The accounts pages fit a 360 px screen and work without JavaScript."""

import pytest

from portal.accounts.providers.sandbox import DEMO_IDENTITIES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/accounts/login/",
    "/accounts/register/",
    "/accounts/password-reset/",
    "/accounts/idp/login/",  # lands on the sandbox provider's authorization page
]


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("path", PAGES)
def test_accounts_page_fits_a_360px_screen(phone_page, live_server, path):
    phone_page.goto(f"{live_server.url}{path}")
    assert overflow(phone_page) <= 0


def test_registration_errors_fit_a_360px_screen(phone_page, live_server):
    phone_page.goto(f"{live_server.url}/accounts/register/")
    phone_page.get_by_role("button", name="Đăng ký").click()
    assert phone_page.get_by_role("alert").count() >= 1
    assert overflow(phone_page) <= 0


def test_sandbox_login_works_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_role("link", name="Đăng nhập bằng VNeID (môi trường thử nghiệm)").click()
        page.get_by_role("button", name="Đồng ý và đăng nhập").click()
        assert "Đăng nhập bằng VNeID thành công" in page.content()
        assert DEMO_IDENTITIES[0].full_name in page.content()  # the header's logout button names the person
    finally:
        context.close()
