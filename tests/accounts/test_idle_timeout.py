"""ASVS 3.3.2: a session left idle for more than settings.SESSION_IDLE_SECONDS (30 minutes) ends."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from tests.factories import PASSWORD

from .conftest import CITIZEN_CCCD

MIDDLEWARE = "portal.accounts.middleware.IdleSessionTimeoutMiddleware"
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _idle_timeout_middleware(settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]


@pytest.fixture
def traveller():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def log_in(client):
    response = client.post(reverse("accounts:login"), {"username": CITIZEN_CCCD, "password": PASSWORD})
    assert response.status_code == 302


def test_session_idle_for_31_minutes_is_logged_out(client, citizen, traveller):
    log_in(client)

    traveller.shift(datetime.timedelta(minutes=31))
    response = client.get(reverse("accounts:profile"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "_auth_user_id" not in client.session
    login_page = client.get(response["Location"]).content.decode()
    assert "Phiên làm việc đã kết thúc vì quá lâu không thao tác" in login_page


def test_session_idle_for_10_minutes_stays_logged_in(client, citizen, traveller):
    log_in(client)

    traveller.shift(datetime.timedelta(minutes=10))

    assert client.get(reverse("accounts:profile")).status_code == 200


def test_activity_keeps_the_session_alive_past_30_minutes(client, citizen, traveller):
    log_in(client)
    for _ in range(4):
        traveller.shift(datetime.timedelta(minutes=20))
        assert client.get(reverse("accounts:profile")).status_code == 200


def test_session_with_a_single_page_view_after_login_still_times_out(client, citizen, traveller):
    log_in(client)
    traveller.shift(datetime.timedelta(minutes=5))
    assert client.get(reverse("accounts:profile")).status_code == 200

    traveller.shift(datetime.timedelta(minutes=31))

    assert client.get(reverse("accounts:profile")).status_code == 302


def test_idle_limit_follows_the_setting(client, citizen, traveller, settings):
    settings.SESSION_IDLE_SECONDS = 5 * 60
    log_in(client)

    traveller.shift(datetime.timedelta(minutes=6))

    assert client.get(reverse("accounts:profile")).status_code == 302


def test_anonymous_visitors_are_unaffected(client, db, traveller):
    assert client.get(reverse("home")).status_code == 200
    traveller.shift(datetime.timedelta(hours=2))
    assert client.get(reverse("home")).status_code == 200
