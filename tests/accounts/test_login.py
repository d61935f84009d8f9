import logging

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from portal.accounts.sessions import SessionStore
from tests.factories import PASSWORD, UserFactory

from .conftest import CITIZEN_CCCD, CITIZEN_EMAIL, CITIZEN_PHONE

LOGIN = "/accounts/login/"


def log_in(client, username, password=PASSWORD, **extra):
    return client.post(reverse("accounts:login"), {"username": username, "password": password}, **extra)


def logged_in_user_id(client):
    return client.session.get("_auth_user_id")


def test_login_keeps_its_url_name():
    assert reverse("accounts:login") == LOGIN
    assert reverse("accounts:logout") == "/accounts/logout/"


@pytest.mark.django_db
def test_login_page_asks_for_cccd_phone_or_email_and_offers_vneid(client):
    html = client.get(reverse("accounts:login")).content.decode()
    assert '<label for="id_username">Số định danh cá nhân, số điện thoại hoặc email' in html
    assert '<label for="id_password">Mật khẩu' in html
    assert reverse("accounts:idp_login") in html
    assert reverse("accounts:register") in html
    assert reverse("accounts:password_reset") in html


@pytest.mark.parametrize(
    "identifier",
    [CITIZEN_CCCD, CITIZEN_PHONE, CITIZEN_EMAIL, CITIZEN_EMAIL.upper(), f"  {CITIZEN_CCCD} "],
    ids=["cccd", "phone", "email", "email-upper-case", "cccd-with-spaces"],
)
def test_citizen_logs_in_with_cccd_phone_or_email(client, citizen, identifier):
    response = log_in(client, identifier)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert logged_in_user_id(client) == str(citizen.pk)


def test_wrong_password_is_refused_with_a_vietnamese_message(client, citizen):
    response = log_in(client, CITIZEN_CCCD, "mat-khau-sai-roi-2026")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Thông tin đăng nhập không đúng." in html
    assert 'aria-describedby="login-error"' in html
    assert logged_in_user_id(client) is None


def test_unknown_account_gets_the_same_message_as_a_wrong_password(client, db):
    response = log_in(client, "001099000001")
    assert "Thông tin đăng nhập không đúng." in response.content.decode()


def test_inactive_account_is_told_so_only_with_the_right_password(client, citizen):
    citizen.is_active = False
    citizen.save()

    right = log_in(client, CITIZEN_CCCD).content.decode()
    wrong = log_in(client, CITIZEN_CCCD, "mat-khau-sai-roi-2026").content.decode()

    assert "Tài khoản này đã bị vô hiệu hóa." in right
    assert "Tài khoản này đã bị vô hiệu hóa." not in wrong
    assert logged_in_user_id(client) is None


def test_lockout_after_failure_limit_on_one_account_from_one_address(client, citizen):
    """django-axes locks the account from the address that guessed (the per-account limit for
    rotating addresses is in tests/security/test_lockout.py)."""
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, CITIZEN_CCCD, f"mat-khau-sai-{attempt:04d}", REMOTE_ADDR="203.0.113.1")

    response = log_in(client, CITIZEN_CCCD, PASSWORD, REMOTE_ADDR="203.0.113.1")

    assert response.status_code == 429
    html = response.content.decode()
    assert "Tài khoản tạm thời bị khóa" in html
    assert "1 giờ" in html
    assert logged_in_user_id(client) is None


def test_lockout_counts_every_identifier_of_the_account_together(client, citizen):
    """Alternating CCCD, phone and e-mail (in any letter case) does not multiply the allowed guesses."""
    identifiers = [CITIZEN_CCCD, CITIZEN_PHONE, CITIZEN_EMAIL, CITIZEN_EMAIL.upper(), f" {CITIZEN_PHONE}"]
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        identifier = identifiers[attempt % len(identifiers)]
        log_in(client, identifier, f"mat-khau-sai-{attempt:04d}", REMOTE_ADDR="203.0.113.1")

    response = log_in(client, CITIZEN_EMAIL, PASSWORD, REMOTE_ADDR="203.0.113.1")

    assert response.status_code == 429
    assert logged_in_user_id(client) is None


def test_failures_below_the_limit_do_not_lock_and_success_resets_the_count(client, citizen):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, CITIZEN_CCCD, f"mat-khau-sai-{attempt:04d}")
    assert log_in(client, CITIZEN_CCCD).status_code == 302

    client.post(reverse("accounts:logout"))
    log_in(client, CITIZEN_CCCD, "mat-khau-sai-lan-nua")
    assert log_in(client, CITIZEN_CCCD).status_code == 302


@pytest.mark.parametrize(
    "target", ["https://elsewhere.example/", "//elsewhere.example/", "http://elsewhere.example/x", "https:evil"]
)
def test_login_refuses_to_redirect_off_site(client, citizen, target):
    """ASVS 5.1.5: ?next=https://elsewhere goes home instead."""
    response = client.post(
        f"{reverse('accounts:login')}?next={target}", {"username": CITIZEN_CCCD, "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_login_follows_a_local_next_url(client, citizen):
    response = client.post(
        reverse("accounts:login"), {"username": CITIZEN_CCCD, "password": PASSWORD, "next": "/procedures/"}
    )
    assert response["Location"] == "/procedures/"


def test_login_form_does_not_carry_an_off_site_next_url(client, db):
    html = client.get(f"{reverse('accounts:login')}?next=https://elsewhere.example/").content.decode()
    assert '<input type="hidden" name="next" value="">' in html
    assert f'href="{reverse("accounts:idp_login")}"' in html


def test_login_gives_the_session_a_new_key(client, citizen):
    """ASVS 3.2.1: a session key known before login (session fixation) is worthless after it."""
    session = client.session
    session["marker"] = "before-login"
    session.save()
    old_key = session.session_key

    log_in(client, CITIZEN_CCCD)

    new_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key != old_key
    assert not SessionStore().exists(old_key)
    assert logged_in_user_id(client) == str(citizen.pk)


def test_logout_by_post_ends_the_session_on_the_server(client, citizen):
    log_in(client, CITIZEN_CCCD)
    old_key = client.cookies[settings.SESSION_COOKIE_NAME].value

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert not SessionStore().exists(old_key)
    # Replaying the old cookie gets nowhere.
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_key
    assert replay.get(reverse("accounts:profile"))["Location"].startswith(reverse("accounts:login"))


def test_logout_by_get_is_refused(client, citizen):
    log_in(client, CITIZEN_CCCD)

    assert client.get(reverse("accounts:logout")).status_code == 405
    assert logged_in_user_id(client) == str(citizen.pk)


def test_logout_needs_a_csrf_token(citizen):
    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen)
    assert client.post(reverse("accounts:logout")).status_code == 403


def test_profile_shows_own_data_and_is_never_cached(client, citizen):
    client.force_login(citizen)

    response = client.get(reverse("accounts:profile"))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    for value in (CITIZEN_CCCD, CITIZEN_PHONE, CITIZEN_EMAIL, "Nguyễn Văn An", "12/05/1990"):
        assert value in html


def test_profile_needs_login(client, db):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_login_logs_the_result_without_cccd_or_password(client, citizen, caplog):
    """ASVS 7.1.1 and 7.1.3: results are logged, with the public id only."""
    caplog.set_level(logging.DEBUG)
    wrong_password = "mat-khau-sai-roi-2026"

    log_in(client, CITIZEN_CCCD, wrong_password)
    log_in(client, CITIZEN_PHONE)
    client.post(reverse("accounts:logout"))

    text = caplog.text
    for secret in (CITIZEN_CCCD, CITIZEN_PHONE, CITIZEN_EMAIL, PASSWORD, wrong_password):
        assert secret not in text
    accounts_log = [r.getMessage() for r in caplog.records if r.name == "portal.accounts"]
    assert f"auth.login.failed method=password reason=invalid_credentials public_id={citizen.public_id}" in accounts_log
    assert f"auth.login.succeeded method=password public_id={citizen.public_id}" in accounts_log
    assert f"auth.logout public_id={citizen.public_id}" in accounts_log


def test_staff_log_in_with_their_username(client, db):
    officer = UserFactory(username="canbo.motcua")
    assert log_in(client, "canbo.motcua").status_code == 302
    assert logged_in_user_id(client) == str(officer.pk)


def test_admin_login_shares_the_account_lockout_when_axes_uses_the_login_key(client, settings, db):
    """With AXES_USERNAME_CALLABLE set, e-mail spellings on /admin/login/ do not multiply the guesses."""
    settings.AXES_USERNAME_CALLABLE = "portal.accounts.forms.axes_username"
    UserFactory(username="quantri.vien", email="quantri@example.vn", is_staff=True, is_superuser=True)
    spellings = ["quantri@example.vn", "QUANTRI@example.vn", "Quantri@Example.vn", " quantri@EXAMPLE.vn"]
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/admin/login/",
            {"username": spellings[attempt % len(spellings)], "password": f"sai-{attempt:04d}"},
            REMOTE_ADDR="203.0.113.1",
        )

    response = client.post(
        "/admin/login/", {"username": "QuanTri@example.vn", "password": PASSWORD}, REMOTE_ADDR="203.0.113.1"
    )

    assert response.status_code == 429
    assert logged_in_user_id(client) is None


def test_axes_username_is_the_account_username_for_every_identifier(citizen):
    from portal.accounts.forms import axes_username

    for identifier in (CITIZEN_CCCD, CITIZEN_PHONE, CITIZEN_EMAIL.upper(), f" {CITIZEN_EMAIL} "):
        assert axes_username(None, {"username": identifier}) == citizen.username
    assert axes_username(None, {"username": " unknown "}) == "unknown"
    assert axes_username(None, {}) is None
