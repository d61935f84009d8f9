"""Regions of base.html and the tracking page rendered once per language ({% perlanguage %}).

The pages must stay byte for byte what the templates rendered before the regions existed: the
templates of that time are kept in tests/portal/reference_templates and each page is rendered
with both, for every kind of visitor and both languages. Only the CSRF tokens differ (Django masks
them afresh on every render), so they are compared after masking.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from portal.accounts.constants import Role
from tests.dossiers import builders
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

REFERENCE_TEMPLATES = Path(__file__).parent / "reference_templates"
CSRF_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+(")')


def _reference_templates_first() -> list[dict]:
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [REFERENCE_TEMPLATES, *templates[0]["DIRS"]]
    return templates


def _html(client: Client, path: str, language: str) -> tuple[int, str]:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(path)
    return response.status_code, CSRF_VALUE.sub(r"\1…\2", response.content.decode())


@pytest.fixture
def world():
    return builders.make_world()


def _visitors(world) -> dict[str, object | None]:
    helper = UserFactory(full_name="Lê Văn Cường")
    MembershipFactory(user=helper, agency=world.agency, role=Role.DIGITAL_HELPER)
    return {
        "anonymous": None,
        "citizen": world.citizen,
        "officer": world.leader,
        "digital helper": helper,
        "administrator": UserFactory(is_staff=True, is_superuser=True, full_name="Quản <b>trị</b>"),
    }


@pytest.mark.parametrize("language", ["vi", "en"])
def test_pages_are_the_same_as_rendered_by_the_templates_without_regions(world, language):
    running = builders.in_processing(world)
    finished = builders.returned(world)  # every step completed, with its timing
    pages = [
        reverse("home"),
        reverse("dossiers:track"),
        reverse("dossiers:track_code", kwargs={"code": running.code}),
        reverse("dossiers:track_code", kwargs={"code": finished.code}),
        reverse("dossiers:track_code", kwargs={"code": "KHONG-CO"}),
        reverse("procedures:list") + "?q=<script>",
    ]
    for visitor, user in _visitors(world).items():
        client = Client()
        if user is not None:
            client.force_login(user)
        rendered = {path: _html(client, path, language) for path in pages}
        with override_settings(TEMPLATES=_reference_templates_first()):
            for path in pages:
                assert _html(client, path, language) == rendered[path], (visitor, path)


def test_a_region_follows_the_language_of_each_request(client):
    home = reverse("home")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Skip to main content" in client.get(home).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    html = client.get(home).content.decode()
    assert "Bỏ qua, đến nội dung chính" in html
    assert "Skip to main content" not in html


def test_a_region_renders_again_after_a_setting_changes(client, settings):
    settings.PORTAL_HOTLINE = "1800 5678"
    assert 'href="tel:18005678"' in client.get(reverse("home")).content.decode()
