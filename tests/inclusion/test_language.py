"""Issue 11, points 8 and 11: Vietnamese for everyone, English only when chosen (and kept)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_an_english_browser_gets_the_vietnamese_home_page(client):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="vi">' in response.content.decode()
    assert response["Content-Language"] == "vi"
    assert "Accept-Language" not in response.get("Vary", "")


def test_an_english_browser_gets_the_vietnamese_admin(client, admin_user):
    page = client.get(reverse("admin:login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Tên đăng nhập" in page or "Đăng nhập" in page
    assert "Log in" not in page
    client.force_login(admin_user)
    page = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="vi"' in page
    assert "Site administration" not in page


def test_english_chosen_with_the_switcher_stays_chosen_for_a_year(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en"
    assert int(cookie["max-age"]) == 365 * 24 * 3600
    assert '<html lang="en">' in client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    client.post(reverse("set_language"), {"language": "vi", "next": "/"})
    assert '<html lang="vi">' in client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_an_unknown_language_cookie_falls_back_to_vietnamese(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert '<html lang="vi">' in client.get(reverse("home")).content.decode()
