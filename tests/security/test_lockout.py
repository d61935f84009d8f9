"""Issue 10 point 3: a stranger's failures do not lock the owner out; guessing stays slow.

Tier 1 (django-axes): AXES_FAILURE_LIMIT failures on one account from one address lock that pair.
Tier 2 (portal.accounts.lockout): LOGIN_ACCOUNT_FAILURE_LIMIT failures an hour on one account from
anywhere lock its password login (ASVS 2.2.1); VNeID and a reset link still let the owner in.
"""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from portal.accounts.constants import Role
from tests.factories import PASSWORD, OfficerFactory, UserFactory

pytestmark = pytest.mark.django_db
CCCD = "037090001234"
STRANGER = "203.0.113.66"
OWNER = "198.51.100.7"


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def citizen():
    return UserFactory(username=CCCD, cccd=CCCD, phone="0912000001", email="an@example.vn")


def log_in(client, username, password=PASSWORD, addr=OWNER, url=None):
    return client.post(url or reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=addr)


def logged_in(client):
    return client.session.get("_auth_user_id") is not None


def test_a_strangers_failures_do_not_lock_the_citizen_out(client, citizen, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT * 3):
        log_in(client, CCCD, f"sai-{attempt}", addr=STRANGER)
    # The stranger is locked, even with the right password...
    assert log_in(client, CCCD, addr=STRANGER).status_code == 429
    # ...the owner, elsewhere, is not.
    assert log_in(client, CCCD, addr=OWNER).status_code == 302
    assert logged_in(client)


def test_a_strangers_failures_do_not_lock_an_officer_out_of_the_admin(client, settings):
    OfficerFactory(role=Role.AGENCY_ADMIN, username="qt.coquan", is_staff=True)
    for attempt in range(settings.AXES_FAILURE_LIMIT + 2):
        log_in(client, "qt.coquan", f"sai-{attempt}", addr=STRANGER, url="/admin/login/")
    assert log_in(client, "qt.coquan", addr=STRANGER, url="/admin/login/").status_code == 429
    response = log_in(client, "qt.coquan", addr=OWNER, url="/admin/login/")
    assert response.status_code == 302
    assert logged_in(client)


def test_the_101st_failure_from_rotating_addresses_is_refused(client, citizen, settings):
    """ASVS 2.2.1: no more than LOGIN_ACCOUNT_FAILURE_LIMIT failed logins an hour on one account."""
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 100
    for attempt in range(100):
        response = log_in(client, CCCD, f"sai-{attempt}", addr=f"10.{attempt // 250}.{attempt % 250}.1")
        assert response.status_code == 200  # a wrong password, not a lock: each address is fresh
    response = log_in(client, CCCD, PASSWORD, addr="10.99.99.99")
    assert response.status_code == 429
    assert "VNeID" in response.content.decode()
    assert not logged_in(client)


def test_the_owner_of_a_locked_account_gets_in_with_a_reset_link(client, citizen, settings):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 5
    for attempt in range(5):
        log_in(client, CCCD, f"sai-{attempt}", addr=f"10.0.{attempt}.1")
    assert log_in(client, CCCD).status_code == 429
    client.post(reverse("accounts:password_reset"), {"email": "an@example.vn"})
    link = re.search(r"https?://[^/]+(/accounts/password-reset/[^\s]+/)", mail.outbox[-1].body).group(1)
    form = client.get(link, follow=True)
    new = "Mat-khau-moi-cua-chu-2026"
    client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert log_in(client, CCCD, new).status_code == 302
    assert logged_in(client)


def test_the_owner_of_a_locked_account_gets_in_with_vneid(client, citizen, settings):
    settings.IDENTITY_PROVIDER = "sandbox"
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 5
    for attempt in range(5):
        log_in(client, CCCD, f"sai-{attempt}", addr=f"10.0.{attempt}.1")
    assert log_in(client, CCCD).status_code == 429
    start = client.get(reverse("accounts:idp_login"))
    assert start.status_code == 302
    pending = client.session["accounts.idp_login"]
    response = client.post(
        start.url.split("?")[0],
        {
            "state": pending["state"],
            "nonce": pending["nonce"],
            "cccd": CCCD,
            "full_name": "Nguyễn Văn An",
            "date_of_birth": "1990-05-12",
            "gender": "male",
            "identity_level": "2",
            "phone": "",
            "email": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client.get(response.url)
    assert client.session.get("_auth_user_id") == str(citizen.pk)
