"""The VNeID-style identity-provider login through the local sandbox provider."""

import datetime
import logging
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from portal.accounts.constants import Gender
from portal.accounts.providers.base import IdentityClaims
from portal.accounts.providers.registry import get_provider
from portal.accounts.providers.sandbox import DEMO_IDENTITIES, SandboxProvider
from tests.factories import UserFactory

User = get_user_model()
pytestmark = pytest.mark.django_db

DEMO = DEMO_IDENTITIES[0]
APPROVAL = {
    "cccd": DEMO.cccd,
    "full_name": DEMO.full_name,
    "date_of_birth": DEMO.date_of_birth.isoformat(),
    "gender": DEMO.gender,
    "identity_level": str(DEMO.identity_level),
    "phone": DEMO.phone,
    "email": DEMO.email,
    "decision": "approve",
}


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def start(client, next_url: str | None = None) -> dict[str, str]:
    """Begin the login; return the state and nonce the sandbox authorization page received."""
    url = reverse("accounts:idp_login") + (f"?{urlencode({'next': next_url})}" if next_url else "")
    response = client.get(url)
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("accounts:sandbox_idp_authorize")
    return query(response["Location"])


def approve(client, params: dict[str, str], **overrides) -> str:
    """Approve on the sandbox page; return the callback URL it redirects to."""
    response = client.post(reverse("accounts:sandbox_idp_authorize"), {**APPROVAL, **params, **overrides})
    assert response.status_code == 302, response.content.decode()
    assert urlsplit(response["Location"]).path == reverse("accounts:idp_callback")
    return response["Location"]


def with_query(url: str, **changes) -> str:
    params = {**query(url), **changes}
    return f"{urlsplit(url).path}?{urlencode(params)}"


def test_the_configured_provider_is_the_sandbox_in_tests():
    provider = get_provider()
    assert isinstance(provider, SandboxProvider)
    assert provider.name == settings.IDENTITY_PROVIDER == "sandbox"


def test_authorize_page_is_prefilled_with_a_valid_demo_citizen(client):
    params = start(client)

    response = client.get(f"{reverse('accounts:sandbox_idp_authorize')}?{urlencode(params)}")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'value="{DEMO.cccd}"' in html
    assert DEMO.full_name in html
    assert "môi trường thử nghiệm" in html
    assert "no-store" in response["Cache-Control"]


def test_authorize_page_offers_other_demo_citizens(client):
    params = start(client)
    url = f"{reverse('accounts:sandbox_idp_authorize')}?{urlencode({**params, 'preset': 2})}"
    assert f'value="{DEMO_IDENTITIES[2].cccd}"' in client.get(url).content.decode()


def test_sandbox_round_trip_creates_the_account_once_and_reuses_it(client):
    params = start(client)
    session_key_before = client.session.session_key

    response = client.get(approve(client, params))

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user = User.objects.get(cccd=DEMO.cccd)
    assert user.username == DEMO.cccd
    assert user.full_name == DEMO.full_name
    assert user.date_of_birth == DEMO.date_of_birth
    assert user.gender == Gender.MALE
    assert user.identity_level == 2
    assert user.phone == DEMO.phone
    assert not user.has_usable_password()
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session.session_key != session_key_before  # ASVS 3.2.1
    assert "Đăng nhập bằng VNeID thành công" in client.get(reverse("home")).content.decode()

    client.post(reverse("accounts:logout"))
    client.get(approve(client, start(client)))

    assert User.objects.filter(cccd=DEMO.cccd).count() == 1
    assert client.session["_auth_user_id"] == str(user.pk)


def test_identity_provider_login_uses_an_account_registered_with_the_same_cccd(client):
    existing = UserFactory(username=DEMO.cccd, cccd=DEMO.cccd, identity_level=0, full_name="Tên tự khai")

    client.get(approve(client, start(client), identity_level="1"))

    assert User.objects.count() == 1
    existing.refresh_from_db()
    assert client.session["_auth_user_id"] == str(existing.pk)
    assert existing.identity_level == 1
    assert existing.full_name == "Tên tự khai"  # what the person entered is kept
    assert existing.has_usable_password()


def test_identity_provider_login_returns_to_a_local_next_url_only(client):
    client.get(approve(client, start(client, next_url="/procedures/")))
    assert client.session["_auth_user_id"]
    client.post(reverse("accounts:logout"))

    response = client.get(approve(client, start(client, next_url="https://elsewhere.example/")))
    assert response["Location"] == reverse("home")


def test_callback_with_a_wrong_state_is_refused_with_400_and_no_login(client):
    callback = approve(client, start(client))

    response = client.get(with_query(callback, state="forged-state"))

    assert response.status_code == 400
    assert "mã trạng thái không khớp" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not User.objects.exists()


def test_callback_without_a_login_in_progress_is_refused(client):
    callback = approve(client, start(client))
    other_browser = client.__class__()

    response = other_browser.get(callback)

    assert response.status_code == 400
    assert not User.objects.exists()


def test_a_callback_url_cannot_be_replayed(client):
    callback = approve(client, start(client))
    client.get(callback)
    client.post(reverse("accounts:logout"))

    assert client.get(callback).status_code == 400
    assert "_auth_user_id" not in client.session


def test_tampered_code_is_refused(client):
    callback = approve(client, start(client))
    code = query(callback)["code"]
    tampered = code[:-1] + ("A" if code[-1] != "A" else "B")

    response = client.get(with_query(callback, code=tampered))

    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert not User.objects.exists()


def test_code_issued_for_another_nonce_is_refused(client):
    params = start(client)
    forged = SandboxProvider.issue_code(DEMO, nonce="another-nonce")
    callback = f"{reverse('accounts:idp_callback')}?{urlencode({'code': forged, 'state': params['state']})}"

    assert client.get(callback).status_code == 400
    assert "_auth_user_id" not in client.session


def test_expired_code_is_refused(client):
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False) as traveller:
        callback = approve(client, start(client))
        traveller.shift(datetime.timedelta(seconds=301))

        response = client.get(callback)

    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_code_is_accepted_within_five_minutes(client):
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False) as traveller:
        callback = approve(client, start(client))
        traveller.shift(datetime.timedelta(seconds=290))

        assert client.get(callback).status_code == 302


def test_sandbox_refuses_an_inconsistent_identity(client):
    params = start(client)
    response = client.post(reverse("accounts:sandbox_idp_authorize"), {**APPROVAL, **params, "gender": "female"})
    assert response.status_code == 200
    assert "Giới tính không khớp với số định danh cá nhân." in response.content.decode()


def test_callback_refuses_claims_whose_cccd_contradicts_them(client):
    params = start(client)
    claims = IdentityClaims(cccd=DEMO.cccd, full_name="X", date_of_birth=datetime.date(1991, 1, 1), gender="male")
    code = SandboxProvider.issue_code(claims, nonce=params["nonce"])

    response = client.get(f"{reverse('accounts:idp_callback')}?{urlencode({'code': code, 'state': params['state']})}")

    assert response.status_code == 400
    assert not User.objects.exists()


def test_denying_on_the_provider_returns_to_login_without_logging_in(client):
    params = start(client)

    response = client.post(reverse("accounts:sandbox_idp_authorize"), {**params, "decision": "deny"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("accounts:login")
    assert "Đăng nhập bằng VNeID đã bị hủy." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_inactive_account_cannot_log_in_through_the_provider(client):
    UserFactory(username=DEMO.cccd, cccd=DEMO.cccd, is_active=False)

    response = client.get(approve(client, start(client)))

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_sandbox_page_does_not_exist_when_another_provider_is_configured(client, settings):
    settings.IDENTITY_PROVIDER = "oidc"
    url = f"{reverse('accounts:sandbox_idp_authorize')}?{urlencode({'state': 's', 'nonce': 'n'})}"
    assert client.get(url).status_code == 404


def test_identity_provider_login_logs_no_personal_data(client, caplog):
    caplog.set_level(logging.DEBUG)

    client.get(approve(client, start(client)))

    user = User.objects.get()
    for secret in (DEMO.cccd, DEMO.phone, DEMO.email, DEMO.full_name):
        assert secret not in caplog.text
    messages = [r.getMessage() for r in caplog.records if r.name == "portal.accounts"]
    assert any("auth.login.succeeded method=idp" in m and str(user.public_id) in m for m in messages)


def test_identity_claims_keep_personal_data_out_of_repr():
    assert DEMO.cccd not in repr(DEMO)
    assert DEMO.full_name not in repr(DEMO)


def test_unknown_provider_name_is_a_configuration_error():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        get_provider("no-such-provider")


def test_login_page_still_works_when_the_provider_is_misconfigured(client, settings):
    settings.IDENTITY_PROVIDER = "no-such-provider"

    response = client.get(reverse("accounts:login"))

    assert response.status_code == 200
    assert reverse("accounts:idp_login") not in response.content.decode()
