"""Public tracking by dossier code: steps and dates for anyone, personal data for nobody."""

import pytest
from django.core.cache import cache

from tests.dossiers import builders

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def test_tracking_by_code_shows_state_steps_and_dates_without_personal_data(client):
    world = builders.make_world()
    dossier = builders.in_processing(world)
    response = client.get(f"/tra-cuu/{dossier.code}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert dossier.code in page
    assert "Đang xử lý" in page
    assert "Tiếp nhận" in page and "Thẩm định" in page
    assert "UBND phường Hoa Lư" in page
    for personal in (world.citizen.full_name, world.citizen.cccd, world.citizen.email, world.specialist.full_name):
        assert personal not in page
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]


def test_the_search_form_redirects_to_the_code_page(client):
    dossier = builders.received(builders.make_world())
    response = client.get("/tra-cuu/", {"code": f"  {dossier.code} "})
    assert response.status_code == 302
    assert response["Location"] == f"/tra-cuu/{dossier.code}/"


def test_an_unknown_code_answers_404_with_a_vietnamese_message(client):
    response = client.get("/tra-cuu/000.00.00.H40-260101-9999/")
    assert response.status_code == 404
    assert "Không tìm thấy hồ sơ có mã" in response.content.decode()


def test_drafts_and_submitted_dossiers_without_a_code_cannot_be_found(client):
    dossier = builders.submitted(builders.make_world())
    assert dossier.code is None
    assert client.get(f"/tra-cuu/{dossier.public_id}/").status_code == 404


def test_tracking_is_rate_limited_per_address(client, settings):
    settings.TRACKING_RATE_LIMIT = "5/m"
    statuses = [client.get(f"/tra-cuu/000.00.00.H40-260101-{n:04d}/").status_code for n in range(7)]
    assert statuses[:5] == [404] * 5
    assert statuses[5:] == [429, 429]
    other = client.get("/tra-cuu/000.00.00.H40-260101-0001/", REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 404


def test_the_qr_code_on_the_forms_points_to_the_tracking_page(settings):
    from dossiers.pdf import tracking_url

    settings.PORTAL_BASE_URL = "https://dichvucong.ninhbinh.gov.vn/"
    assert tracking_url("000.00.12.H40-260305-0001") == (
        "https://dichvucong.ninhbinh.gov.vn/tra-cuu/000.00.12.H40-260305-0001/"
    )


def test_a_submitted_dossier_is_found_by_its_reference_before_it_has_a_code(client):
    from rest_framework.test import APIClient

    dossier = builders.submitted(builders.make_world())
    assert dossier.code is None and dossier.reference
    page = client.get(f"/tra-cuu/{dossier.reference.lower()}/")
    assert page.status_code == 200
    assert dossier.reference in page.content.decode()
    assert "Hồ sơ chưa được chuyển xử lý." in page.content.decode()
    body = APIClient().get(f"/api/track/{dossier.reference}/").json()
    assert body["code"] is None
    assert body["state"] == "submitted"
    assert body["steps"] == []


def test_tracking_shows_the_name_the_procedure_had_when_the_dossier_was_submitted(client):
    world = builders.make_world()
    dossier = builders.in_processing(world)
    world.procedure.name = "Tên thủ tục đã đổi sau khi nộp"
    world.procedure.save(update_fields=["name"])
    page = client.get(f"/tra-cuu/{dossier.code}/").content.decode()
    assert "Đăng ký kinh doanh hộ cá thể" in page
    assert "Tên thủ tục đã đổi sau khi nộp" not in page


def test_a_draft_is_not_found_by_its_reference_either(client):
    from dossiers.models import Dossier

    dossier = builders.draft(builders.make_world())
    Dossier.objects.filter(pk=dossier.pk).update(reference="N260101-DRAFT1")
    assert client.get("/tra-cuu/N260101-DRAFT1/").status_code == 404
