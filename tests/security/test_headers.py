"""Issue 10 points 4 and 7: the security headers on every kind of response (ASVS 14.4, 8.2.1)."""

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.dossiers import builders

pytestmark = pytest.mark.django_db


def assert_policy(response):
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.fixture
def world():
    return builders.make_world()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),  # HTML page
        ("/procedures/", 200),
        ("/api/procedures/", 200),  # API
        ("/api/schema/", 200),
        ("/api/docs/", 200),
        ("/admin/login/", 200),  # admin
        ("/healthz", None),
        ("/khong-co-trang-nay/", 404),  # errors
        ("/api/khong-co/", 404),
        ("/static/css/site.css", 200),  # static files
    ],
)
def test_every_kind_of_response_carries_the_policy_and_headers(client, path, status):
    response = client.get(path)
    if status is not None:
        assert response.status_code == status
    assert_policy(response)


def test_a_file_download_carries_the_policy_and_is_never_cached(client, world):
    dossier = builders.draft(world)
    client.force_login(world.citizen)
    file = dossier.files.get()
    response = client.get(reverse("dossiers:file", args=[file.public_id]))
    assert response.status_code == 200
    assert_policy(response)
    assert "no-store" in response["Cache-Control"]
    api = client.get(f"/api/files/{file.public_id}/")
    assert api.status_code == 200
    assert_policy(api)
    assert "no-store" in api["Cache-Control"]


def test_a_server_error_page_carries_the_policy(client, settings):
    from django.urls import path

    def boom(request):
        raise RuntimeError("boom")

    urlconf = type("U", (), {"urlpatterns": [path("boom/", boom)]})
    client.raise_request_exception = False
    with override_settings(ROOT_URLCONF=urlconf):
        response = client.get("/boom/")
    assert response.status_code == 500
    assert_policy(response)


def test_admin_pages_carry_the_policy(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/admin/accounts/user/")
    assert response.status_code == 200
    assert_policy(response)


@pytest.mark.parametrize("path", ["/accounts/me/", "/ho-so/", "/admin/", "/api/dossiers/", "/procedures/", "/"])
def test_every_response_to_a_logged_in_person_is_never_stored(client, world, path):
    world.citizen.is_staff = True  # so that /admin/ answers too
    world.citizen.is_superuser = True
    world.citizen.save()
    client.force_login(world.citizen)
    response = client.get(path)
    assert response.status_code in (200, 302, 403, 404)
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_anonymous_public_pages_may_be_cached(client, db):
    response = client.get("/procedures/")
    assert "no-store" not in response.get("Cache-Control", "")


@pytest.mark.parametrize("setting", ["SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS"])
def test_production_settings_send_hsts(setting):
    """HSTS is set by the production settings (DEBUG off); tests/portal/test_deployment.py runs
    check --deploy on them."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "dichvucong.example.vn",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    script = (
        f"import django, json; django.setup(); from django.conf import settings; print(json.dumps(settings.{setting}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1])
