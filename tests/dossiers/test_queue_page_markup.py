"""The officer queue page's loops are written in Python (issue 6): the page reads exactly as its template did.

The reference is the queue template before its tabs, filter fields, rows and bulk fields became Python
(queue_page_before.html, verbatim), rendered with the same view context: the <main> element must be the
same, byte for byte, for every tab, role, filter, page and language; and the same as Django's own form
templates write it when the forms are rendered by DjangoTemplates instead of FastFormRenderer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.forms.renderers import DjangoTemplates
from django.http import QueryDict
from django.template import engines
from django.test.html import parse_html
from django.urls import reverse
from django.utils import translation

from dossiers.filters import FILTER_KEYS
from dossiers.selectors import QUEUE_TABS
from dossiers.views.officer import _queue_query
from dossiers.views.queue_markup import queue_rows_html
from tests.dossiers import test_queue_page_rows

pytestmark = pytest.mark.django_db
QUEUE = reverse("dossiers:officer_queue")
BEFORE = (Path(__file__).parent / "queue_page_before.html").read_text(encoding="utf-8")
varied_world = test_queue_page_rows.varied_world  # the same dossiers in every open state
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def main_of(page: str) -> str:
    found = re.search(r"<main\b.*?</main>", page, re.DOTALL)
    assert found, "no <main>"
    return CSRF.sub('name="csrfmiddlewaretoken" value=""', found.group(0))


def page_before(response, *, django_forms: bool = False) -> str:
    """The page as the template before issue 6's last step wrote it, from the view's own context."""
    context = next(c for c in response.context if "rows_html" in c).flatten()
    if django_forms:
        for name in ("form", "bulk_form"):
            if context.get(name) is not None:
                context[name].renderer = DjangoTemplates()
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        return engines["django"].from_string(BEFORE).render(context, response.wsgi_request)


def assert_same_page(client, params, compared):
    response = client.get(QUEUE, params)
    assert response.status_code == 200
    page = main_of(response.content.decode())
    assert page == main_of(page_before(response)), params
    assert parse_html(page) == parse_html(main_of(page_before(response, django_forms=True))), params
    compared["rows"] += len(response.context["items"])
    compared["bulk"] += response.context["bulk_form"] is not None
    compared["errors"] += bool(response.context["form"].errors)
    compared["pages"] += bool(response.context["next_page_query"] or response.context["first_page_query"])


def test_the_queue_page_reads_as_its_template_did_for_every_tab_role_and_filter(client, varied_world):
    world = varied_world
    compared = dict.fromkeys(("rows", "bulk", "errors", "pages"), 0)
    for user in (world.reception, world.specialist, world.leader):
        client.force_login(user)
        for tab in QUEUE_TABS:
            for extra in (
                {},
                {"q": 'Trần <b>"Ánh"</b>'},
                {"procedure": str(world.procedure.pk), "state": "received", "overdue": "on"},
                {"received_from": "2026-03-10", "received_to": "2026-03-01", "assignee": "9999", "channel_in": "x"},
            ):
                assert_same_page(client, {"tab": tab, **extra}, compared)
    # Real rows, the bulk form, a filter's errors and the pagination were all among the compared pages.
    assert compared["rows"] >= 20 and compared["bulk"] and compared["errors"]


def test_the_queue_pages_links_and_english_read_as_the_template_did(client, varied_world, monkeypatch):
    monkeypatch.setattr("dossiers.views.officer.PAGE_SIZE", 2)
    client.force_login(varied_world.leader)
    compared = dict.fromkeys(("rows", "bulk", "errors", "pages"), 0)
    first = client.get(QUEUE, {"tab": "all", "q": "a"})
    cursor = first.context["next_page_query"]
    assert cursor
    assert_same_page(client, {"tab": "all"}, compared)
    assert_same_page(client, dict(pair.split("=", 1) for pair in cursor.split("&")), compared)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for tab in ("new", "all", "overdue"):
        assert_same_page(client, {"tab": tab}, compared)
    assert compared["pages"] >= 2
    assert "Received" in client.get(QUEUE, {"tab": "all"}).content.decode()  # English indeed


def test_queue_rows_write_ids_and_versions_as_plain_digits_in_every_language():
    """The template localised them: in English the checkbox of dossier 27442 carried "27,442"."""
    row = {
        "id": 27442,
        "url": "/can-bo/ho-so/27442/",
        "code": "H40-1",
        "state_label": "Received",
        "procedure": "P",
        "applicant": "A",
        "received": "—",
        "due": "—",
        "time_left": "—",
        "badge": "",
        "step": "—",
        "assignee": "—",
        "selectable": True,
        "select_label": "Select H40-1",
        "version": 12000,
    }
    for language in ("en", "vi"):
        with translation.override(language):
            markup = queue_rows_html([row])
        assert 'name="version-27442" value="12000"' in markup
        assert 'name="dossiers" value="27442"' in markup


def test_queue_links_carry_the_query_string_querydict_wrote():
    filters = {
        "q": 'Lê Văn & "Ánh" + 50% / ?',
        "procedure": "12",
        "received_from": "2026-03-01",
        "overdue": "true",
        "unknown": "left out",
    }
    for tab, given, after in (
        ("all", filters, "2026-03-01T10:00:00+07:00~42"),
        ("new", {}, None),
        ("mine", {"state": "received", "q": ""}, ""),
    ):
        expected = QueryDict(mutable=True)
        expected["tab"] = tab
        for key in FILTER_KEYS:
            if given.get(key):
                expected[key] = given[key]
        if after:
            expected["after"] = after
        assert _queue_query(tab, given, after) == expected.urlencode()
