"""Issue 10 point 4 in Debian's Chromium: under the strict CSP the admin and the API docs still work,
and no page reports a violation."""

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])


def watch(page) -> list[str]:
    """Console errors and CSP violation reports of the page."""
    problems: list[str] = []
    # The admin asks for /favicon.ico, which the portal does not have: not a policy matter.
    page.on(
        "console",
        lambda msg: (
            problems.append(f"{msg.text} {msg.location}")
            if msg.type == "error" and "favicon.ico" not in str(msg.location)
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


def test_admin_pages_render_under_the_policy_without_violations(page, live_server):
    admin = UserFactory(username="quantri.csp", is_staff=True, is_superuser=True)
    log_in(page, live_server, admin)
    problems = watch(page)
    for path in (
        "/admin/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{admin.pk}/change/",
        "/admin/procedures/procedure/add/",
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
    # The admin's own scripts ran: the inline formsets offer their "add another" link.
    assert page.locator(".add-row a, .addlink").count() > 0
    assert problems == []


def test_api_docs_render_under_the_policy_without_violations(page, live_server):
    problems = watch(page)
    response = page.goto(f"{live_server.url}/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .opblock", timeout=20000)
    assert page.locator(".swagger-ui .opblock").count() > 5
    assert problems == []


def test_public_pages_render_under_the_policy_without_violations(page, live_server):
    problems = watch(page)
    for path in ("/", "/procedures/", "/accounts/login/", "/tra-cuu/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200
    assert problems == []
