"""The queue API's rows, built by a plain function from values(), equal QueueItemSerializer's.

The API stopped serialising model instances through QueueItemSerializer (most of its Python time at
50 rows a page); the serializer stays its OpenAPI schema. These tests build a world with dossiers in
every tab and compare the served rows, page by page through the cursor, with the serializer's output
for the same officer, tab and filter, field by field.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.db import connection
from django.db.models import Min
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from dossiers import selectors, services
from dossiers.api import serializers as s
from dossiers.api.views import _encode_cursor
from dossiers.filters import QueueFilterSet
from dossiers.models import DossierHolding
from dossiers.views.officer import QUEUE_PAGE_VALUES
from tests.dossiers import builders

pytestmark = pytest.mark.django_db

API_QUEUE = "/api/officer/queue/"
OFFICERS = ("reception", "specialist", "leader")


@pytest.fixture(autouse=True)
def fast_pdf(monkeypatch):
    monkeypatch.setattr("dossiers.pdf.render_dossier_form", lambda *args, **kwargs: builders.PDF_BYTES)


@pytest.fixture
def world():
    world = builders.make_world()
    for make in (builders.submitted, builders.received, builders.in_processing, builders.awaiting_approval):
        make(world)
        make(world)
    builders.result_ready(world)
    services.dossier_request_supplement(
        dossier=builders.submitted(world), officer=world.reception, items=["Bản sao"], reason="Thiếu giấy tờ"
    )
    return world


def _serializer_pages(user, tab: str, params: dict, size: int) -> list[tuple[list[dict], str | None]]:
    """Every page of the tab as the API served it before: queue_page's instances through the serializer."""
    pages, after = [], None
    while True:
        now = timezone.now()
        filterset = QueueFilterSet(params, agency_ids=selectors.officer_agency_ids(user), now=now)
        assert filterset.is_valid(), filterset.errors
        rows, cursor = selectors.queue_page(user, tab, base=filterset.qs, after=after, size=size, now=now)
        data = json.loads(JSONRenderer().render(s.QueueItemSerializer(rows, many=True).data))
        pages.append((data, _encode_cursor(cursor)))
        if cursor is None:
            return pages
        after = cursor


def _api_pages(user, tab: str, params: dict, size: int) -> list[tuple[list[dict], str | None]]:
    api = APIClient()
    api.force_authenticate(user)
    pages, query = [], {"tab": tab, "size": size, **params}
    while True:
        response = api.get(API_QUEUE, query)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append((body["results"], body["next"]))
        if body["next"] is None:
            return pages
        query = {**query, "after": body["next"]}


def _assert_same_pages(served, expected) -> None:
    assert len(served) == len(expected)
    for (rows, cursor), (old_rows, old_cursor) in zip(served, expected, strict=True):
        assert cursor == old_cursor
        assert [row["id"] for row in rows] == [row["id"] for row in old_rows]
        for row, old in zip(rows, old_rows, strict=True):
            assert list(row) == list(old)  # the same fields in the same order
            for name in old:
                assert row[name] == old[name], (row["id"], name)


@pytest.mark.parametrize("tab", selectors.QUEUE_TABS)
def test_every_tab_serves_the_rows_the_serializer_wrote_page_by_page(world, tab):
    served_any = False
    for name in OFFICERS:
        user = getattr(world, name)
        expected = _serializer_pages(user, tab, {}, size=2)
        _assert_same_pages(_api_pages(user, tab, {}, size=2), expected)
        served_any |= any(rows for rows, _cursor in expected)
    # Nothing is due soon or overdue yet: those tabs get rows in the next test, days later.
    assert served_any or tab in ("due_soon", "overdue"), f"the world has no dossier in tab {tab}"


@pytest.mark.parametrize("tab", ["due_soon", "overdue", "all"])
def test_due_soon_and_overdue_rows_match_the_serializer_when_deadlines_come_near(world, tab):
    # A day before the first deadline its dossier is due soon; a day after it, overdue.
    first_due = DossierHolding.objects.filter(is_running=True).aggregate(first=Min("due_at"))["first"]
    served_any = False
    for moment in (first_due - dt.timedelta(days=1), first_due + dt.timedelta(days=1)):
        with time_machine.travel(moment, tick=False):
            expected = _serializer_pages(world.leader, tab, {}, size=3)
            _assert_same_pages(_api_pages(world.leader, tab, {}, size=3), expected)
            served_any |= any(rows for rows, _cursor in expected)
            if tab == "overdue":
                assert all(row["is_overdue"] for rows, _cursor in expected for row in rows)
    assert served_any


def test_a_filtered_queue_serves_the_rows_the_serializer_wrote(world):
    params = {"procedure": world.procedure.pk, "state": "received"}
    for name in ("reception", "leader"):
        user = getattr(world, name)
        expected = _serializer_pages(user, "all", params, size=1)
        assert {row["state"] for rows, _cursor in expected for row in rows} == {"received"}
        _assert_same_pages(_api_pages(user, "all", params, size=1), expected)


def test_assignee_names_and_state_labels_match_the_serializer_in_every_language(world):
    world.specialist.full_name = ""
    world.specialist.first_name, world.specialist.last_name = "Văn", "Tâm"
    world.specialist.save()
    bare = builders.OfficerFactory(
        role="specialist", membership__agency=world.agency, full_name="", first_name="", last_name=""
    )
    services.dossier_assign(dossier=builders.received(world), actor=world.leader, assignee=bare)
    ids, _cursor = selectors.queue_page_ids(world.leader, "all", size=50)
    for language in ("vi", "en", "vi"):
        with translation.override(language):
            rows, _cursor = selectors.queue_page(world.leader, "all", size=50)
            expected = json.loads(JSONRenderer().render(s.QueueItemSerializer(rows, many=True).data))
            served = json.loads(
                JSONRenderer().render(s.queue_items(selectors.queue_row_values(ids, s.QUEUE_ITEM_VALUES)))
            )
            assert served == expected
    names = {row["assignee"]["full_name"] for row in served if row["assignee"]}
    assert names == {"Văn Tâm", bare.username}


def _resolve(schema: dict, node: dict) -> dict:
    while True:
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        elif "allOf" in node or "oneOf" in node:
            node = next(part for part in node.get("allOf", node.get("oneOf")) if part.get("type") != "null")
        else:
            return node


def test_the_served_rows_have_exactly_the_fields_of_the_openapi_schema(world):
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    response = schema["paths"][API_QUEUE]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    page = _resolve(schema, response)
    item = _resolve(schema, page["properties"]["results"]["items"])
    rows = [row for rows, _next in _api_pages(world.leader, "all", {}, size=50) for row in rows]
    assert rows
    assert set(page["properties"]) == {"results", "next"}
    for row in rows:
        assert set(row) == set(item["properties"])
        for name in ("procedure", "agency", "assignee"):
            if row[name] is not None:
                assert set(row[name]) == set(_resolve(schema, item["properties"][name])["properties"]), name
    assert any(row["assignee"] for row in rows)


@pytest.mark.parametrize("fields", [s.QUEUE_ITEM_VALUES, QUEUE_PAGE_VALUES], ids=["api", "page"])
@pytest.mark.parametrize("params", [{}, {"state": "received"}], ids=["all", "filtered"])
def test_the_rows_read_with_their_pairs_are_the_pairs_then_their_values(world, fields, params):
    """queue_page_rows (the pairs joined with the dossiers) pages as queue_page_ids + queue_row_values."""
    user, pages = world.leader, 0
    selectors.remember_memberships(user)  # as each officer request does first
    after = None
    while True:
        now = timezone.now()
        filterset = QueueFilterSet(params, agency_ids=selectors.officer_agency_ids(user), now=now)
        assert filterset.is_valid(), filterset.errors
        ids, cursor = selectors.queue_page_ids(user, "all", base=filterset.qs, after=after, size=2, now=now)
        expected = selectors.queue_row_values(ids, fields)
        with CaptureQueriesContext(connection) as statements:
            rows, joined_cursor = selectors.queue_page_rows(
                user, "all", fields, base=filterset.qs, after=after, size=2, now=now
            )
        assert (rows, joined_cursor) == (expected, cursor)
        assert rows or pages  # the first page is not empty
        assert all(list(row) == list(fields) for row in rows)
        if connection.vendor == "postgresql":
            assert len(statements) == 1, [q["sql"] for q in statements.captured_queries]
        pages += 1
        if cursor is None:
            break
        after = cursor
    assert pages >= (1 if params else 2)
