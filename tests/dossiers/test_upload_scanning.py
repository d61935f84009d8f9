"""Uploads are scanned by ClamAV (a real clamd) and refused when they carry active content."""

from __future__ import annotations

import io
import socket
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from dossiers import services
from dossiers.models import DossierFile
from dossiers.scanning import ClamdScanner
from tests.dossiers import builders
from tests.services import EICAR

pytestmark = pytest.mark.django_db


def pdf_with(body: bytes) -> bytes:
    return b"%PDF-1.4\n" + body + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def clean_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 180, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def clean_pdf() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), (250, 250, 250)).save(buffer, "PDF")
    return buffer.getvalue()


@pytest.fixture
def draft():
    return builders.draft(builders.make_world())


def attach(draft, name: str, data: bytes, content_type: str = "application/pdf") -> DossierFile:
    upload = SimpleUploadedFile(name, data, content_type=content_type)
    return services.dossier_attach_file(dossier=draft, user=draft.owner, requirement_id=1, upload=upload)


@pytest.fixture
def scanning(settings, clamd_url):
    settings.CLAMAV_URL = clamd_url
    settings.UPLOAD_SCAN_REQUIRED = True
    return settings


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_clamd_finds_the_eicar_test_file_and_passes_a_clean_one(clamd_url):
    scanner = ClamdScanner(clamd_url)

    found = scanner.scan(EICAR)

    assert not found.clean and "EICAR" in found.signature
    assert scanner.scan(clean_pdf()).clean


def test_a_pdf_carrying_eicar_is_refused_through_clamd_and_nothing_is_stored(scanning, draft):
    before = DossierFile.objects.count()

    with pytest.raises(services.DossierError, match="mã độc"):
        attach(draft, "giay-to.pdf", pdf_with(b"1 0 obj<< /Length 68 >>stream\n" + EICAR + b"\nendstream endobj"))

    assert DossierFile.objects.count() == before


def test_a_clean_pdf_and_jpeg_are_accepted_through_clamd(scanning, draft):
    pdf = attach(draft, "to-khai.pdf", clean_pdf())
    jpeg = attach(draft, "anh.jpg", clean_jpeg(), "image/jpeg")

    assert (pdf.content_type, jpeg.content_type) == ("application/pdf", "image/jpeg")


def test_when_the_required_scanner_is_down_the_upload_is_refused_with_try_again_later(settings, draft):
    settings.CLAMAV_URL = f"tcp://127.0.0.1:{_closed_port()}"
    settings.UPLOAD_SCAN_REQUIRED = True

    before = DossierFile.objects.count()

    with pytest.raises(services.DossierError, match="thử lại sau") as refusal:
        attach(draft, "to-khai.pdf", clean_pdf())

    assert refusal.value.field == "file"
    assert DossierFile.objects.count() == before


def test_scanning_required_without_a_configured_scanner_refuses_uploads(settings, draft):
    settings.CLAMAV_URL = ""
    settings.UPLOAD_SCAN_REQUIRED = True

    with pytest.raises(services.DossierError, match="thử lại sau"):
        attach(draft, "to-khai.pdf", clean_pdf())


def test_production_settings_require_scanning_by_default():
    import os
    import subprocess
    import sys

    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "x" * 50, "UPLOAD_SCAN_REQUIRED": ""}
    code = "from portal import settings; print(settings.UPLOAD_SCAN_REQUIRED)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"


@pytest.mark.parametrize(
    "body",
    [
        b"1 0 obj<</Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj",
        b"1 0 obj<</Type/Catalog/OpenAction 2 0 R>>endobj 2 0 obj<</S/J#61vaScript/JS 3 0 R>>endobj",
        b"1 0 obj<</Type/Action/S/Launch/F(cmd.exe)>>endobj",
        b"1 0 obj<</Type/Catalog/Names<</EmbeddedFiles 2 0 R>>>>endobj",
        b"1 0 obj<</Type/Page/AA<</O 2 0 R>>>>endobj",
    ],
    ids=["javascript-open-action", "escaped-name", "launch", "embedded-file", "additional-actions"],
)
def test_a_pdf_with_active_content_is_refused(settings, draft, body):
    settings.UPLOAD_SCAN_REQUIRED = False
    before = DossierFile.objects.count()

    with pytest.raises(services.DossierError, match="nội dung thực thi"):
        attach(draft, "don.pdf", pdf_with(body))

    assert DossierFile.objects.count() == before


def test_javascript_hidden_in_a_compressed_object_stream_is_refused(settings, draft):
    settings.UPLOAD_SCAN_REQUIRED = False
    hidden = zlib.compress(b"<</S/JavaScript/JS(app.alert(1))>>")

    with pytest.raises(services.DossierError, match="nội dung thực thi"):
        attach(
            draft, "don.pdf", pdf_with(b"1 0 obj<</Type/ObjStm/Filter/FlateDecode>>stream\n" + hidden + b"\nendstream")
        )


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("don.pdf", pdf_with(b"1 0 obj<<>>endobj\n<html><script>alert(1)</script></html>"), "application/pdf"),
        ("anh.jpg", clean_jpeg() + b"<svg onload=alert(1)>", "image/jpeg"),
        ("anh.jpg", clean_jpeg()[:200] + b"<SCRIPT>alert(1)</SCRIPT>" + clean_jpeg()[200:], "image/jpeg"),
    ],
    ids=["pdf-html", "jpeg-svg", "jpeg-script"],
)
def test_a_pdf_or_jpeg_carrying_html_is_refused(settings, draft, name, data, content_type):
    settings.UPLOAD_SCAN_REQUIRED = False

    with pytest.raises(services.DossierError, match="nội dung thực thi"):
        attach(draft, name, data, content_type)


def test_the_refusal_is_shown_next_to_the_upload_field(client, settings, draft):
    settings.UPLOAD_SCAN_REQUIRED = False
    client.force_login(draft.owner)
    before = DossierFile.objects.count()
    upload = SimpleUploadedFile("don.pdf", pdf_with(b"<</S/JavaScript/JS(x)>>"), content_type="application/pdf")

    response = client.post(reverse("dossiers:upload", args=[draft.public_id]), {"requirement": "1", "file": upload})

    assert "chứa nội dung thực thi" in response.content.decode()
    assert DossierFile.objects.count() == before


def test_compose_runs_clamd_and_points_the_web_service_at_it():
    from pathlib import Path

    import yaml

    services = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text())["services"]
    assert "clamd" in services and "healthcheck" in services["clamd"]
    assert services["web"]["environment"]["CLAMAV_URL"] == "tcp://clamd:3310"
