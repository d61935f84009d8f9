"""POST /api/dossiers/submissions/: create, answers, uploads and submit in one request, all or nothing."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from dossiers.constants import DossierState
from dossiers.models import Dossier, DossierFile
from dossiers.privacy.models import Consent
from dossiers.services import snapshot_documents
from procedures.services import procedure_publish_version
from tests.dossiers import builders

pytestmark = pytest.mark.django_db

URL = "/api/dossiers/submissions/"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world():
    return builders.make_world()


def citizen(world) -> APIClient:
    client = APIClient()
    client.force_login(world.citizen)
    return client


def requirement(world) -> int:
    """The id the API gives the procedure's one document (its position in the version's documents)."""
    (document,) = snapshot_documents(procedure_publish_version(procedure=world.procedure).snapshot)
    return document["id"]


def body(world, **overrides) -> dict:
    return {
        "procedure": world.procedure.national_code,
        "agency": world.agency.pk,
        "answers": '{"ten_ho_kinh_doanh": "Tạp hóa An"}',
        f"file_{requirement(world)}": builders.pdf_upload(),
        "consent_notifications": "true",
        **overrides,
    }


def stored_files() -> set[str]:
    root = str(settings.MEDIA_ROOT)
    return {os.path.join(folder, name) for folder, _, names in os.walk(root) for name in names}


def assert_refused_in_vietnamese(response, field: str | None = None) -> dict:
    assert response.status_code == 400, response.content
    detail = response.json()
    assert any(ch in detail["detail"] for ch in "ăâđêôơưáàảãạếềểễệốồổỗộớờởỡợứừửữự"), detail
    if field is not None:
        assert detail.get("field") == field or field in detail.get("errors", {}), detail
    return detail


def test_a_whole_submission_in_one_request_is_submitted_with_its_answers_file_and_consents(world):
    response = citizen(world).post(URL, body(world), format="multipart")

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["state"] == DossierState.SUBMITTED
    assert data["answers"] == {"ten_ho_kinh_doanh": "Tạp hóa An"}
    assert data["missing"] == []
    dossier = Dossier.objects.get(public_id=data["public_id"])
    assert dossier.owner == world.citizen
    (file,) = dossier.files.all()
    assert file.requirement_id == requirement(world) and file.content_type == "application/pdf"
    assert file.file.storage.exists(file.file.name)
    consents = dict(Consent.objects.filter(dossier=dossier).values_list("purpose", "granted"))
    assert consents["notifications"] is True and consents["data_reuse"] is False


def test_a_refused_submission_writes_no_row_and_leaves_no_stored_file(world):
    """The file is stored before submit finds the form incomplete: the rows roll back, the bytes go too."""
    before = stored_files()

    response = citizen(world).post(URL, body(world, answers="{}"), format="multipart")

    detail = assert_refused_in_vietnamese(response)
    assert "Tên hộ kinh doanh" in detail["detail"]
    assert Dossier.objects.count() == 0 and DossierFile.objects.count() == 0 and Consent.objects.count() == 0
    assert stored_files() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"answers": '{"khong_co": "x"}'}, "answers"),
        ({"answers": "không phải JSON"}, "answers"),
        ({"answers": "[1, 2]"}, "answers"),
        ({"procedure": "9.999999"}, "procedure"),
    ],
)
def test_invalid_parts_are_refused_in_vietnamese_and_nothing_is_written(world, overrides, field):
    response = citizen(world).post(URL, body(world, **overrides), format="multipart")

    assert_refused_in_vietnamese(response, field)
    assert Dossier.objects.count() == 0 and DossierFile.objects.count() == 0


def test_a_file_part_not_named_after_a_requirement_is_refused(world):
    data = body(world)
    data["giay_to"] = data.pop(f"file_{requirement(world)}")

    response = citizen(world).post(URL, data, format="multipart")

    assert_refused_in_vietnamese(response, "giay_to")
    assert Dossier.objects.count() == 0


def test_a_file_whose_content_is_not_its_type_is_refused_and_nothing_is_written(world):
    fake = builders.pdf_upload("gia-mao.pdf", b"<html><script>alert(1)</script></html>")
    before = stored_files()

    response = citizen(world).post(URL, body(world, **{f"file_{requirement(world)}": fake}), format="multipart")

    assert_refused_in_vietnamese(response, "file")
    assert Dossier.objects.count() == 0 and stored_files() == before


def test_the_same_idempotency_key_replays_the_submission_and_submits_once(world):
    client = citizen(world)

    first = client.post(URL, body(world), format="multipart", HTTP_IDEMPOTENCY_KEY="nop-1")
    again = client.post(URL, body(world), format="multipart", HTTP_IDEMPOTENCY_KEY="nop-1")
    other = client.post(
        URL, body(world, answers='{"ten_ho_kinh_doanh": "Tạp hóa Bình"}'), format="multipart",
        HTTP_IDEMPOTENCY_KEY="nop-1",
    )  # fmt: skip

    assert first.status_code == 201, first.content
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["public_id"] == first.json()["public_id"]
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert Dossier.objects.count() == 1 and DossierFile.objects.count() == 1


def test_an_anonymous_submission_is_refused(world):
    response = APIClient().post(URL, body(world), format="multipart")

    assert response.status_code in (401, 403)
    assert Dossier.objects.count() == 0


def test_the_schema_describes_the_one_request_submission():
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"][URL]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert {"201", "400", "422"} <= set(operation["responses"])
