"""The second factor for staff: TOTP required by the admin, officer pages and API; recovery codes; reset."""

import os
import re
import subprocess
import sys

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts import otp
from portal.accounts.models import AccountEvent
from tests.factories import OfficerFactory, UserFactory

pytestmark = pytest.mark.django_db

QUEUE = "/can-bo/ho-so/"


@pytest.fixture(autouse=True)
def _second_factor_required(settings):
    settings.OTP_REQUIRED = True


@pytest.fixture
def officer():
    return OfficerFactory()


def code_for(device: TOTPDevice, drift: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.drift = drift
    return f"{totp.token():0{device.digits}d}"


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def test_production_settings_require_the_second_factor():
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "x" * 50}
    env.pop("OTP_REQUIRED", None)
    code = "from portal import settings; print(settings.OTP_REQUIRED)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"


def test_an_officer_without_a_device_is_sent_to_enrolment_from_the_officer_pages(client, officer):
    client.force_login(officer)

    response = client.get(QUEUE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_enrol"))


def test_an_administrator_without_a_verified_device_cannot_open_the_admin(client, admin_user):
    enrolled(admin_user)
    client.force_login(admin_user)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_verify"))


def test_an_unverified_officer_gets_403_from_the_api(client, officer):
    client.force_login(officer)

    response = client.get("/api/officer/queue/")

    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"


def test_citizens_need_no_second_factor(client):
    citizen = UserFactory()
    client.force_login(citizen)

    assert client.get(reverse("accounts:profile")).status_code == 200
    assert client.get("/api/dossiers/").status_code == 200


def test_with_a_valid_totp_code_the_officer_opens_the_officer_pages(client, officer):
    device = enrolled(officer)
    client.force_login(officer)

    response = client.post(reverse("accounts:otp_verify"), {"token": code_for(device), "next": QUEUE})

    assert response.status_code == 302 and response["Location"] == QUEUE
    assert client.get(QUEUE).status_code == 200


def test_with_a_valid_totp_code_the_administrator_opens_the_admin(client, admin_user):
    device = enrolled(admin_user)
    client.force_login(admin_user)

    client.post(reverse("accounts:otp_verify"), {"token": code_for(device)})

    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_is_refused_and_the_pages_stay_closed(client, officer):
    device = enrolled(officer)
    client.force_login(officer)
    wrong = f"{(int(code_for(device)) + 1) % 1000000:06d}"

    response = client.post(reverse("accounts:otp_verify"), {"token": wrong})

    assert response.status_code == 200
    assert "Mã xác thực không đúng" in response.content.decode()
    assert client.get(QUEUE).status_code == 302


def test_enrolment_shows_a_qr_code_and_a_correct_code_turns_it_on_with_recovery_codes_shown_once(client, officer):
    client.force_login(officer)

    page = client.get(reverse("accounts:otp_enrol"))
    assert page.status_code == 200 and "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=officer, confirmed=False)
    confirmed = client.post(reverse("accounts:otp_enrol"), {"token": code_for(device), "next": QUEUE})

    assert confirmed.status_code == 302
    codes_page = client.get(confirmed["Location"])
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", codes_page.content.decode())
    assert len(codes) == otp.RECOVERY_CODE_COUNT
    assert client.get(confirmed["Location"]).status_code == 302  # never shown again
    assert client.get(QUEUE).status_code == 200
    assert (
        AccountEvent.objects.filter(
            subject_public_id=officer.public_id, action=AccountEvent.Action.OTP_ENROLLED
        ).count()
        == 1
    )


def test_a_recovery_code_works_once(client, officer):
    enrolled(officer)
    (code, *_rest) = otp.recovery_codes_replace(user=officer)
    client.force_login(officer)

    first = client.post(reverse("accounts:otp_verify"), {"token": code.upper(), "next": QUEUE})
    assert first.status_code == 302 and client.get(QUEUE).status_code == 200
    client.logout()
    client.force_login(officer)
    second = client.post(reverse("accounts:otp_verify"), {"token": code, "next": QUEUE})

    assert second.status_code == 200
    assert client.get(QUEUE).status_code == 302
    assert not StaticToken.objects.filter(token=code).exists()
    assert (
        AccountEvent.objects.filter(
            subject_public_id=officer.public_id, action=AccountEvent.Action.OTP_RECOVERY_USED
        ).count()
        == 1
    )


def test_a_system_administrator_resets_the_second_factor_through_the_admin_and_it_is_audited(
    client, admin_user, officer
):
    admin_device = enrolled(admin_user)
    enrolled(officer)
    otp.recovery_codes_replace(user=officer)
    client.force_login(admin_user)
    client.post(reverse("accounts:otp_verify"), {"token": code_for(admin_device)})

    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [officer.pk]},
    )

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert not StaticToken.objects.filter(device__user=officer).exists()
    event = AccountEvent.objects.get(subject_public_id=officer.public_id, action=AccountEvent.Action.OTP_RESET)
    assert event.actor_public_id == admin_user.public_id


def test_only_a_system_administrator_may_reset_and_never_their_own(officer, admin_user):
    with pytest.raises(otp.SecondFactorError):
        otp.otp_reset(actor=officer, user=admin_user)
    with pytest.raises(otp.SecondFactorError):
        otp.otp_reset(actor=admin_user, user=admin_user)
    assert not AccountEvent.objects.exists()


def test_audit_rows_cannot_be_changed(officer, admin_user):
    otp.otp_reset(actor=admin_user, user=officer)
    event = AccountEvent.objects.get()

    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


def test_the_demo_staff_are_enrolled_with_the_published_secret(settings):
    from django.core.management import call_command

    from procedures.management.commands.load_demo import DEMO_TOTP_SECRET

    call_command("load_demo", "--quiet", "--force")

    device = TOTPDevice.objects.get(user__username="motcua")
    assert device.confirmed and device.bin_key.hex() == __import__("base64").b32decode(DEMO_TOTP_SECRET).hex()
    assert not TOTPDevice.objects.filter(user__username="037192004517").exists()


def test_the_api_docs_stay_open_to_an_unverified_officer(client, officer):
    client.force_login(officer)

    assert client.get("/api/schema/").status_code == 200


def test_the_otp_login_fixture_gives_a_verified_staff_session(client, officer, otp_login):
    otp_login(client, officer)

    assert client.get(QUEUE).status_code == 200
