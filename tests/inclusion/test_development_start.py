"""Issue 11, point 10: the development start follows WEB_PORT; /favicon.ico is an icon."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_load_demo_prints_the_port_of_web_port(settings, capsys):
    settings.DEBUG = True
    settings.WEB_PORT = 8123
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123/" in out and ":8000" not in out


def test_the_base_url_of_forms_follows_web_port_in_development():
    env = {**os.environ, "DEBUG": "true", "WEB_PORT": "8123", "DJANGO_SETTINGS_MODULE": "portal.settings"}
    env.pop("PORTAL_BASE_URL", None)
    code = "import django; django.setup(); from django.conf import settings; print(settings.PORTAL_BASE_URL)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "http://127.0.0.1:8123"


def test_the_readme_documents_web_port():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "| `WEB_PORT` | `8000` |" in readme


@pytest.mark.django_db
def test_favicon_ico_answers_with_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    body = b"".join(icon.streaming_content) if icon.streaming else icon.content
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file
