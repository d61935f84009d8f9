"""Personal data: consent per purpose, the person's export, erasure, retention purge, masking, view log."""

from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from dossiers.constants import DossierState
from dossiers.models import Dossier
from dossiers.privacy import services
from dossiers.privacy.masking import mask_cccd
from dossiers.privacy.models import Consent, DossierPurge, PersonalDataAccess
from portal.accounts.models import AccountEvent
from tests.dossiers import builders
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REGISTRATION = {
    "full_name": "Trần Thị Bình",
    "cccd": "001195004321",
    "date_of_birth": "1995-11-03",
    "gender": "female",
    "phone": "0987654321",
    "email": "binh@example.vn",
    "password1": "mot-mat-khau-du-dai-2026",
    "password2": "mot-mat-khau-du-dai-2026",
}


@pytest.fixture
def world():
    return builders.make_world()


def _other_citizens_dossier(world) -> Dossier:
    other = UserFactory(full_name="Phạm Văn Khác", cccd="037090009999", email="khac@example.vn")
    dossier = services_create(world, other)
    return dossier


def services_create(world, owner) -> Dossier:
    from dossiers import services as dossier_services

    dossier = dossier_services.dossier_create_draft(procedure=world.procedure, agency=world.agency, owner=owner)
    dossier_services.dossier_save_answers(dossier=dossier, user=owner, answers={"ten_ho_kinh_doanh": "Hàng xóm"})
    return dossier


# --- consent ------------------------------------------------------------------------------------


def test_registration_records_consent_per_purpose_with_text_version(client):
    response = client.post(reverse("accounts:register"), {**REGISTRATION, "consent_processing": "on"})

    assert response.status_code == 302
    rows = {c.purpose: c for c in Consent.objects.all()}
    assert {p: c.granted for p, c in rows.items()} == {"processing": True, "notifications": False, "data_reuse": False}
    assert all(c.context == "registration" and c.text_version and c.created_at for c in rows.values())


def test_registration_without_the_processing_consent_is_refused_and_creates_nothing(client):
    from portal.accounts.models import User

    response = client.post(reverse("accounts:register"), REGISTRATION)

    assert response.status_code == 200
    assert "Cần đồng ý xử lý dữ liệu" in response.content.decode()
    assert not User.objects.exists() and not Consent.objects.exists()


def test_submission_records_the_consents_of_that_dossier(client, world):
    dossier = builders.draft(world)
    client.force_login(world.citizen)

    response = client.post(
        reverse("dossiers:submit", args=[dossier.public_id]),
        {"version": dossier.version, "consent_notifications": "on"},
    )

    assert response.status_code == 302
    rows = {c.purpose: c.granted for c in Consent.objects.filter(dossier=dossier, context="submission")}
    assert rows == {"processing": True, "notifications": True, "data_reuse": False}


# --- export -------------------------------------------------------------------------------------


def test_the_export_holds_everything_on_the_person_and_nothing_of_anyone_else(client, world):
    mine = builders.received(world)
    services.consent_record(user=world.citizen, context="registration", choices={"processing": True})
    other = _other_citizens_dossier(world)
    client.force_login(world.citizen)

    response = client.get(reverse("privacy:export_json"))

    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    text = response.content.decode()
    assert data["account"]["cccd"] == world.citizen.cccd and data["account"]["email"] == world.citizen.email
    assert [d["code"] for d in data["dossiers"]] == [mine.code]
    exported = data["dossiers"][0]
    assert exported["answers"] == {"ten_ho_kinh_doanh": "Tạp hóa An"}
    assert exported["files"] and exported["history"]
    assert data["consents"][0]["purpose"] == "processing"
    # Nothing of the other citizen, nor the officers who handled the dossier.
    for foreign in (
        other.owner.full_name,
        other.owner.cccd,
        "Hàng xóm",
        world.reception.full_name,
        world.reception.username,
    ):
        assert foreign not in text
    assert AccountEvent.objects.filter(
        subject_public_id=world.citizen.public_id, action=AccountEvent.Action.DATA_EXPORTED
    ).exists()


def test_the_export_is_also_a_readable_pdf(client, world, tmp_path):
    builders.submitted(world)
    client.force_login(world.citizen)

    response = client.get(reverse("privacy:export_pdf"))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    path = tmp_path / "x.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "DỮ LIỆU CÁ NHÂN" in text and world.citizen.cccd in text and "Lê Văn Công" in text


def test_the_export_through_the_api_is_the_persons_own(client, world):
    builders.submitted(world)
    _other_citizens_dossier(world)
    client.force_login(world.citizen)

    response = client.get("/api/me/data/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert len(response.json()["dossiers"]) == 1
    assert client.logout() is None and client.get("/api/me/data/").status_code in (401, 403)


# --- erasure ------------------------------------------------------------------------------------


def test_erasure_removes_account_data_and_drafts_but_keeps_submitted_dossiers(client, world):
    kept = builders.submitted(world)
    draft = services_create(world, world.citizen)
    client.force_login(world.citizen)

    response = client.post(reverse("privacy:erase"), {"confirm": "on"})

    assert response.status_code == 302
    world.citizen.refresh_from_db()
    assert not world.citizen.is_active and world.citizen.cccd is None and world.citizen.email == ""
    assert world.citizen.full_name == "" and not world.citizen.has_usable_password()
    draft.refresh_from_db()
    assert draft.answers == {} and DossierPurge.objects.filter(dossier=draft).exists()
    kept.refresh_from_db()
    assert kept.applicant_id_number == "037090001234" and kept.answers  # under the archive duty
    event = AccountEvent.objects.get(
        subject_public_id=world.citizen.public_id, action=AccountEvent.Action.ACCOUNT_ERASED
    )
    assert event.data == {"drafts_erased": 1, "dossiers_retained": 1}
    assert "_auth_user_id" not in client.session


def test_erasure_needs_the_confirmation_and_is_refused_for_staff(client, world):
    client.force_login(world.citizen)
    client.post(reverse("privacy:erase"), {})
    world.citizen.refresh_from_db()
    assert world.citizen.is_active

    with pytest.raises(services.PrivacyError):
        services.account_erase(user=world.reception)


# --- retention ------------------------------------------------------------------------------------


def test_the_purge_strips_dossiers_past_retention_and_keeps_the_rest(world):
    closed = builders.returned(world)
    assert closed.closed_at is not None
    world.procedure.retention_years = 10
    world.procedure.save(update_fields=["retention_years"])

    assert services.dossiers_purge_expired(now=closed.closed_at + dt.timedelta(days=9 * 365)) == 0
    later = closed.closed_at + dt.timedelta(days=10 * 366)
    assert services.dossiers_purge_expired(now=later) == 1
    assert services.dossiers_purge_expired(now=later) == 0  # a re-run changes nothing twice

    closed.refresh_from_db()
    assert closed.applicant_id_number == "" and closed.answers == {}
    assert closed.code and closed.state == DossierState.RETURNED  # the register facts stay
    assert not closed.files.exclude(file="").exists()


def test_permanent_retention_is_never_purged(world):
    closed = builders.returned(world)
    world.procedure.retention_years = 0
    world.procedure.save(update_fields=["retention_years"])

    assert services.dossiers_purge_expired(now=closed.closed_at + dt.timedelta(days=100 * 365)) == 0


def test_stale_drafts_are_purged(world):
    with time_machine.travel(timezone.now() - dt.timedelta(days=200)):
        draft = builders.draft(world)

    assert services.dossiers_purge_expired() == 1
    draft.refresh_from_db()
    assert draft.answers == {}


def test_the_purge_task_is_scheduled_daily(settings):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "privacy.purge_expired_dossiers")
    assert entry["schedule"] <= 24 * 3600


# --- masking ------------------------------------------------------------------------------------


def test_cccd_is_masked_like_037_stars_517():
    assert mask_cccd("037192004517") == "037******517"
    assert mask_cccd("") == "" and mask_cccd("123") == "***"


def test_the_officer_queue_lists_the_cccd_masked_and_the_dossier_page_in_full(client, world):
    dossier = builders.submitted(world)
    client.force_login(world.reception)

    queue = client.get(reverse("dossiers:officer_queue")).content.decode()
    api = client.get("/api/officer/queue/").json()
    page = client.get(reverse("dossiers:officer_dossier", args=[dossier.pk])).content.decode()

    assert "037******234" in queue and "037090001234" not in queue
    assert api["results"][0]["applicant_id_number_masked"] == "037******234"
    assert "037090001234" not in json.dumps(api)
    assert "037090001234" in page


def test_the_admin_user_list_shows_the_cccd_masked(client, admin_user, world):
    client.force_login(admin_user)

    html = client.get(reverse("admin:accounts_user_changelist")).content.decode()

    assert "037******234" in html and "037090001234" not in html


def test_logs_never_carry_a_full_cccd(caplog):
    from dossiers.privacy.masking import MaskCCCDFilter

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "lookup cccd=%s", ("037192004517",), None)
    MaskCCCDFilter().filter(record)

    assert record.getMessage() == "lookup cccd=037******517"


# --- view log -----------------------------------------------------------------------------------


def test_opening_a_dossier_as_officer_writes_a_view_log_row_on_the_page_and_the_api(client, world):
    dossier = builders.submitted(world)
    client.force_login(world.reception)

    client.get(reverse("dossiers:officer_dossier", args=[dossier.pk]))
    client.get(f"/api/officer/dossiers/{dossier.pk}/")

    rows = list(PersonalDataAccess.objects.filter(dossier=dossier).order_by("pk"))
    assert [(r.viewer, r.channel) for r in rows] == [(world.reception, "page"), (world.reception, "api")]
    with pytest.raises(ValueError):
        rows[0].delete()


def test_a_refused_view_writes_no_log_row(client, world):
    dossier = builders.submitted(world)
    from tests.factories import AgencyFactory, OfficerFactory

    stranger = OfficerFactory(membership__agency=AgencyFactory(name="UBND xã khác"))
    client.force_login(stranger)

    assert client.get(reverse("dossiers:officer_dossier", args=[dossier.pk])).status_code == 404
    assert not PersonalDataAccess.objects.exists()


def test_submission_through_the_api_records_consents_once(client, world):
    dossier = builders.draft(world)
    client.force_login(world.citizen)
    url = f"/api/dossiers/{dossier.public_id}/submit/"

    first = client.post(url, {"version": dossier.version, "consent_data_reuse": True}, content_type="application/json")
    again = client.post(url, {"version": dossier.version, "consent_data_reuse": True}, content_type="application/json")

    assert first.status_code == 200 and again.status_code == 409
    rows = {c.purpose: c.granted for c in Consent.objects.filter(dossier=dossier)}
    assert rows == {"processing": True, "notifications": False, "data_reuse": True}
    assert Consent.objects.filter(dossier=dossier).count() == 3
