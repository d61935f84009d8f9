import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD

from .conftest import CITIZEN_CCCD, CITIZEN_EMAIL

NEW_PASSWORD = "mat-khau-moi-cua-toi-2026"


def request_reset(client, email):
    return client.post(reverse("accounts:password_reset"), {"email": email})


def reset_link(message) -> str:
    match = re.search(r"https?://testserver(/accounts/password-reset/[^/\s]+/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_password_reset_sends_an_email_in_vietnamese_to_the_account_address(client, citizen):
    response = request_reset(client, CITIZEN_EMAIL.upper())

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [CITIZEN_EMAIL]
    assert message.subject == "Đặt lại mật khẩu tài khoản Cổng dịch vụ công"
    assert "Xin chào Nguyễn Văn An" in message.body
    assert CITIZEN_EMAIL in message.body
    assert CITIZEN_CCCD not in message.body  # the e-mail names the account by its address only
    assert settings.PORTAL_PROVINCE_NAME in message.body


def test_password_reset_link_sets_a_new_password(client, citizen):
    request_reset(client, CITIZEN_EMAIL)
    link = reset_link(mail.outbox[0])

    form_page = client.get(link, follow=True)
    assert "Đặt mật khẩu mới" in form_page.content.decode()
    set_password_url = form_page.redirect_chain[-1][0]
    response = client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_complete")
    citizen.refresh_from_db()
    assert citizen.check_password(NEW_PASSWORD)
    login = client.post(reverse("accounts:login"), {"username": CITIZEN_CCCD, "password": NEW_PASSWORD})
    assert login.status_code == 302


def test_password_reset_link_works_only_once(client, citizen):
    request_reset(client, CITIZEN_EMAIL)
    link = reset_link(mail.outbox[0])
    set_password_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    again = client.get(link, follow=True)

    assert "Liên kết đặt lại mật khẩu không hợp lệ" in again.content.decode()


def test_new_password_is_validated_with_vietnamese_messages(client, citizen):
    request_reset(client, CITIZEN_EMAIL)
    set_password_url = client.get(reset_link(mail.outbox[0]), follow=True).redirect_chain[-1][0]

    response = client.post(set_password_url, {"new_password1": "ngan-qua", "new_password2": "ngan-qua"})

    assert response.status_code == 200
    assert "Mật khẩu quá ngắn. Mật khẩu phải có ít nhất 12 ký tự." in response.content.decode()
    citizen.refresh_from_db()
    assert citizen.check_password(PASSWORD)


def test_password_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client, db):
    response = request_reset(client, "nobody@example.vn")

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_password_reset_emails_to_one_address_are_rate_limited(client, citizen):
    for _ in range(7):
        assert request_reset(client, CITIZEN_EMAIL)["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 5


def test_password_reset_lifts_a_lockout(client, citizen):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": CITIZEN_CCCD, "password": f"sai-{attempt:04d}"})
    request_reset(client, CITIZEN_EMAIL)
    set_password_url = client.get(reset_link(mail.outbox[0]), follow=True).redirect_chain[-1][0]
    client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    login = client.post(reverse("accounts:login"), {"username": CITIZEN_CCCD, "password": NEW_PASSWORD})

    assert login.status_code == 302


@pytest.mark.django_db
def test_password_reset_pages_are_in_vietnamese(client):
    assert "Quên mật khẩu" in client.get(reverse("accounts:password_reset")).content.decode()
    assert "Hãy kiểm tra email của bạn" in client.get(reverse("accounts:password_reset_done")).content.decode()
    assert "Đã đặt mật khẩu mới" in client.get(reverse("accounts:password_reset_complete")).content.decode()
