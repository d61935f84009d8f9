"""Issue 10 point 7: console mail refused in production, per-citizen quotas, WeasyPrint's fetcher
restricted to our static files, one API exception handler mapping the project's error classes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.test import APIRequestFactory

from dossiers import services
from dossiers.api.views import api_exception_handler
from dossiers.constants import DossierState
from dossiers.models import Dossier
from dossiers.pdf import _html_to_pdf, static_only_url_fetcher
from tests.dossiers import builders

ROOT = Path(__file__).resolve().parents[2]


def _check(extra: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DATABASE_URL", "REDIS_URL", "EMAIL_BACKEND"}}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DEBUG="false",
        SECRET_KEY="k3Jx9-production-like-secret-Qw8mZt2vLp5sRb7nYc4hGd6fTa1eUo0iWkXjHs",
        ALLOWED_HOSTS="dichvucong.example.gov.vn",
        DATABASE_URL="postgres://portal:secret@127.0.0.1:5432/portal",
        REDIS_URL="redis://127.0.0.1:6379/0",
        **extra,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "backend",
    ["", "django.core.mail.backends.console.EmailBackend", "django.core.mail.backends.filebased.EmailBackend"],
)
def test_production_refuses_a_mail_backend_that_prints_reset_links(backend):
    result = _check({"EMAIL_BACKEND": backend} if backend else {})
    assert result.returncode != 0
    assert "portal.E001" in result.stdout + result.stderr


def test_production_accepts_smtp():
    result = _check({"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"})
    assert result.returncode == 0, result.stdout + result.stderr


# --- quotas -----------------------------------------------------------------------------------


@pytest.fixture
def world(db):
    return builders.make_world()


def test_a_citizen_cannot_open_more_drafts_than_the_quota(world, settings):
    settings.CITIZEN_MAX_DRAFTS = 3
    for _ in range(3):
        services.dossier_create_draft(procedure=world.procedure, agency=world.agency, owner=world.citizen)
    with pytest.raises(services.DossierError) as refused:
        services.dossier_create_draft(procedure=world.procedure, agency=world.agency, owner=world.citizen)
    assert "3 hồ sơ nháp" in refused.value.message
    assert Dossier.objects.filter(owner=world.citizen, state=DossierState.DRAFT).count() == 3


def test_the_draft_quota_answers_the_api_with_a_clear_vietnamese_error(world, settings, client):
    settings.CITIZEN_MAX_DRAFTS = 1
    client.force_login(world.citizen)
    body = {"procedure": world.procedure.national_code, "agency": world.agency.pk}
    first = client.post("/api/dossiers/", body, content_type="application/json")
    assert first.status_code == 201, first.content
    second = client.post("/api/dossiers/", body, content_type="application/json")
    assert second.status_code == 400
    assert "hồ sơ nháp" in second.json()["detail"]


def test_uploads_beyond_the_stored_bytes_quota_are_refused_and_nothing_is_written(world, settings):
    dossier = builders.draft(world)  # one file of len(PDF_BYTES)
    settings.CITIZEN_MAX_STORED_BYTES = 2 * len(builders.PDF_BYTES)
    services.dossier_attach_file(dossier=dossier, user=world.citizen, requirement_id=1, upload=builders.pdf_upload())
    with pytest.raises(services.DossierError) as refused:
        services.dossier_attach_file(
            dossier=dossier, user=world.citizen, requirement_id=1, upload=builders.pdf_upload()
        )
    assert refused.value.field == "file"
    assert "vượt quá giới hạn" in refused.value.message
    assert dossier.files.count() == 2
    stored = [p for p in Path(django_settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert len(stored) == 2


# --- WeasyPrint's URL fetcher ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        f"file://{ROOT}/portal/settings.py",
        f"file://{ROOT}/static/../portal/settings.py",
        "http://127.0.0.1:1/secret",
        "https://example.com/x.png",
        "ftp://example.com/x",
        "file://otherhost/etc/passwd",
    ],
)
def test_weasyprint_fetches_nothing_outside_our_static_files(url):
    with pytest.raises(ValueError, match="refused"):
        static_only_url_fetcher().fetch(url)


def test_weasyprint_fetches_our_static_files_and_data_uris():
    fetcher = static_only_url_fetcher()
    css = fetcher.fetch((ROOT / "static" / "css" / "site.css").resolve().as_uri())
    assert css.url.endswith("site.css")
    data = fetcher.fetch("data:text/plain;base64,SGVsbG8=")
    assert data is not None


def test_a_form_pointing_at_a_server_file_renders_without_it(tmp_path):
    secret = tmp_path / "secret.css"
    secret.write_text("body { background: red }")
    pdf = _html_to_pdf(f'<link rel="stylesheet" href="{secret.as_uri()}"><p>Mẫu</p><img src="file:///etc/hostname">')
    assert pdf.startswith(b"%PDF")


# --- one API exception handler -----------------------------------------------------------------


def _handled(exc):
    request = APIRequestFactory().get("/api/x/")
    return api_exception_handler(exc, {"request": request, "view": None})


def _deep_refusal():
    def somewhere_else():
        raise services.PermissionDeniedError("Bạn không phải cán bộ một cửa của cơ quan này.")

    somewhere_else()


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (services.PermissionDeniedError("Không có quyền."), 403, "permission_denied"),
        (services.NotAllowedError("Không hợp lệ ở trạng thái này."), 409, "not_allowed"),
        (services.ConflictError("Hồ sơ vừa được cập nhật."), 409, "conflict"),
        (services.DossierError("Thiếu thông tin.", field="x"), 400, "invalid"),
        (DjangoValidationError({"email": ["Email không hợp lệ."]}), 400, "invalid"),
    ],
)
def test_the_api_maps_each_error_class_to_one_status_and_one_shape(exc, status, code):
    response = _handled(exc)
    assert response.status_code == status
    assert response.data["code"] == code
    assert response.data["detail"]


def test_a_permission_refusal_raised_anywhere_is_a_403_not_a_409():
    """The old handler read the traceback and answered 409 unless _require_role raised it."""
    try:
        _deep_refusal()
    except services.PermissionDeniedError as exc:
        response = _handled(exc)
    assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/khong-co-duong-dan/", "/api/procedures/khong-co/"])
def test_unknown_api_paths_answer_in_the_api_shape(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_the_procedures_api_shares_the_error_shape(client):
    response = client.get("/api/procedures/999999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Không tìm thấy.", "code": "not_found"}
