"""Queues at provincial scale: holdings, bounded queries, index plans, filters in the URL, access.

The queue reads DossierHolding (who holds each open dossier now): these tests check that the rows
are right, that a queue request costs the same few queries whatever the number of dossiers, that
every tab's query is an index range scan on PostgreSQL, and that no officer sees another agency's
dossiers through it.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from dossiers import selectors, services
from dossiers.constants import DossierState, HoldingBucket
from dossiers.filters import HELD_STATES, QueueFilterSet, dossier_search
from dossiers.models import Dossier, DossierHolding
from portal.accounts.constants import Role
from tests.dossiers import builders
from tests.factories import AgencyFactory, OfficerFactory, UserFactory

pytestmark = pytest.mark.django_db

S = DossierState
B = HoldingBucket
QUEUE = reverse("dossiers:officer_queue")
API_QUEUE = "/api/officer/queue/"


@pytest.fixture
def world():
    return builders.make_world()


@pytest.fixture(autouse=True)
def fast_pdf(monkeypatch):
    monkeypatch.setattr("dossiers.pdf.render_dossier_form", lambda *args, **kwargs: builders.PDF_BYTES)


def build(world, n: int) -> None:
    """n dossiers spread over the open states."""
    makers = [builders.submitted, builders.received, builders.in_processing, builders.awaiting_approval]
    for index in range(n):
        makers[index % len(makers)](world)


def holders(dossier) -> list[tuple]:
    return sorted((h.agency_id, h.role, h.bucket) for h in DossierHolding.objects.filter(dossier=dossier))


# --- the holding record ---------------------------------------------------------------------------


def test_holdings_follow_the_dossier_through_its_life(world):
    agency = world.agency.pk
    dossier = builders.submitted(world)
    assert holders(dossier) == [(agency, Role.RECEPTION, B.RECEPTION)]
    dossier = builders.received(world)
    assert holders(dossier) == [(agency, Role.SPECIALIST, B.UNASSIGNED)]
    dossier = builders.in_processing(world)
    holding = DossierHolding.objects.get(dossier=dossier)
    assert (holding.bucket, holding.assignee, holding.is_running) == (B.PROCESSING, world.specialist, True)
    assert holding.due_at == dossier.current_due_at and holding.step_id == dossier.current_step_id
    dossier = builders.awaiting_approval(world)
    assert holders(dossier) == [(agency, Role.LEADER, B.APPROVAL)]
    dossier = builders.result_ready(world)
    assert holders(dossier) == [(agency, Role.RECEPTION, B.RESULT)]
    dossier = builders.returned(world)
    assert holders(dossier) == []  # a closed dossier is held by nobody


def test_the_data_migration_fills_holdings_for_existing_dossiers(world):
    import importlib

    from django.apps import apps

    fill = importlib.import_module("dossiers.migrations.0003_fill_holdings")
    dossiers = [builders.submitted(world), builders.in_processing(world), builders.returned(world)]
    before = {d.pk: holders(d) for d in dossiers}
    DossierHolding.objects.all().delete()

    class Editor:
        connection = connection

    fill.unfill(apps, Editor())
    fill.fill(apps, Editor())
    assert {d.pk: holders(d) for d in dossiers} == before
    assert dossiers[0].__class__.objects.get(pk=dossiers[1].pk).register_number is not None


# --- bounded queries ------------------------------------------------------------------------------


def _page_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(QUEUE, params)
    assert response.status_code == 200
    return len(queries)


def _api_queries(api, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(API_QUEUE, params)
    assert response.status_code == 200, response.content
    return len(queries)


def _requests(world):
    # A deep page of received dossiers (selectable for bulk assignment in both rounds).
    cursor_page = selectors.queue_page(world.leader, "new", size=1)[1]
    return [
        *({"tab": tab} for tab in selectors.QUEUE_TABS),
        {"tab": "new", "after": cursor_page},
        {"tab": "all", "procedure": world.procedure.pk},
        {"tab": "all", "q": "le van"},
        {"tab": "new", "q": "037"},
        {"tab": "all", "overdue": "true", "state": S.IN_PROCESSING},
    ]


def test_queue_page_and_api_queries_do_not_grow_with_the_dossiers(client, world):
    build(world, 8)
    client.force_login(world.leader)
    api = APIClient()
    api.force_authenticate(world.leader)
    client.get(QUEUE)  # the session's first request also writes the session
    api.get(API_QUEUE)  # and the first API request of the process warms its caches
    few = [(_page_queries(client, **p), _api_queries(api, **_api(p))) for p in _requests(world)]
    build(world, 42)
    more = [(_page_queries(client, **p), _api_queries(api, **_api(p))) for p in _requests(world)]
    assert few == more
    assert max(page for page, _api_count in more) <= 14
    assert max(api_count for _page, api_count in more) <= 6


def _api(params: dict) -> dict:
    import base64

    if params.get("after"):
        params = {**params, "after": base64.urlsafe_b64encode(params["after"].encode()).decode().rstrip("=")}
    return params


def test_tab_counts_stop_at_99_plus(client, world):
    for _n in range(101):
        builders.submitted(world)
    client.force_login(world.reception)
    response = client.get(QUEUE, {"tab": "new"})
    tabs = {t["key"]: t for t in response.context["tabs"]}
    assert tabs["new"]["count"] == selectors.COUNT_LIMIT
    assert "Hồ sơ mới (99+)" in response.content.decode()


# --- index plans ----------------------------------------------------------------------------------


def _tab_sql(user, tab: str, **params):
    now = timezone.now()
    filterset = QueueFilterSet(params or None, agency_ids=selectors.officer_agency_ids(user), now=now)
    ranges = selectors.queue_tab_ranges(user, tab, now=now)
    return selectors._holding_ids(ranges, filterset.qs, None, 26)


@pytest.mark.postgres
def test_every_tab_is_an_index_range_scan_of_the_holdings(world):
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    build(world, 8)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE dossiers_dossierholding")
        # Tiny tables: make PostgreSQL show the plan it uses on a province's.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        for user in (world.reception, world.specialist, world.leader):
            for tab in selectors.QUEUE_TABS:
                sql, params = _tab_sql(user, tab)
                cursor.execute(f"EXPLAIN {sql}", params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                assert "Seq Scan on dossiers_dossierholding" not in plan, plan
                assert re.search(r"Index (Only )?Scan using holding_\w+ on dossiers_dossierholding", plan), plan
                # Each range is read in index order up to its LIMIT: no sort of the range itself.
                assert "Limit" in plan.split("Nested Loop", 1)[-1], plan
                for line in plan.splitlines():
                    if "Sort" in line and "Sort Key" not in line:
                        # The only sort is the final merge of the ranges' few rows, above the join.
                        assert plan.index(line) < plan.index("Nested Loop"), plan


# --- search by name -----------------------------------------------------------------------------


def _every_dossier_search(text: str):
    """The search as it was before it was limited to held dossiers: over every dossier ever submitted."""
    from procedures.text import normalize_search

    text = text.strip()
    match = Q(code__in={text, text.upper()}) | Q(applicant_id_number=text)
    name = normalize_search(text)
    if any(ch.isalpha() for ch in name):
        match |= Q(search_text__contains=name)
    return DossierHolding.objects.filter(dossier_id__in=Dossier.objects.filter(match).values("pk"))


def test_name_search_lists_what_a_search_of_every_dossier_lists(world):
    """Limiting the name search to held dossiers changes no queue: closed and draft ones are in none."""
    closed = builders.returned(world)  # the same applicant, Lê Văn Công, held by nobody
    builders.draft(world)
    open_ones = [builders.submitted(world), builders.in_processing(world), builders.result_ready(world)]
    other = UserFactory(full_name="Phạm Thị Hoa", cccd="001195004321")
    theirs = services.dossier_create_draft(procedure=world.procedure, agency=world.agency, owner=other)
    services.dossier_save_answers(dossier=theirs, user=other, answers={"ten_ho_kinh_doanh": "Quán Hoa"})
    services.dossier_attach_file(dossier=theirs, user=other, requirement_id=1, upload=builders.pdf_upload())
    theirs = services.dossier_receive(
        dossier=services.dossier_submit(dossier=theirs, user=other), officer=world.reception
    )
    searches = ["Lê Văn", "le van cong", "LE VAN", "công", "Phạm Thị Hoa", "pham thi", "hoa", "nobody", closed.code]
    for user in (world.reception, world.specialist, world.leader):
        for tab in selectors.QUEUE_TABS:
            for text in searches:
                filterset = QueueFilterSet({"q": text}, agency_ids=selectors.officer_agency_ids(user))
                found = [d.pk for d in selectors.queue_page(user, tab, base=filterset.qs, size=50)[0]]
                expected = [d.pk for d in selectors.queue_page(user, tab, base=_every_dossier_search(text), size=50)[0]]
                assert found == expected, (user, tab, text)
    listed = lambda text: {  # noqa: E731
        d.pk
        for d in selectors.queue_page(
            world.leader,
            "all",
            base=QueueFilterSet({"q": text}, agency_ids=selectors.officer_agency_ids(world.leader)).qs,
            size=50,
        )[0]
    }
    assert listed("le van cong") == listed("Lê Văn Công") == {d.pk for d in open_ones}
    assert listed("pham thi") == {theirs.pk}
    assert listed(closed.code) == set()


def test_the_held_states_of_the_search_are_those_with_holdings_and_those_of_the_index():
    import importlib

    from dossiers.holdings import UNHELD_STATES

    migration = importlib.import_module("dossiers.migrations.0008_held_search_index")
    assert set(HELD_STATES) == set(S.values) - set(UNHELD_STATES)
    assert migration.HELD_STATES == HELD_STATES  # the same list, in the same order, as the index predicate


@pytest.mark.postgres
def test_name_search_reads_the_trigram_index_of_held_dossiers(world):
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    build(world, 8)
    builders.returned(world)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE dossiers_dossier")
        # Tiny tables: make PostgreSQL show the plan it uses on a province's, where the search's
        # candidates come from the indexes (bitmap scans) and the holdings' range joins them by hash.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        # And where the held states are 6% of a million dossiers, so that the B-tree indexes with a
        # `state` column read far more than the trigram lists of a name: here they read nine rows and
        # would win. Dropped inside the test's transaction (rolled back with it).
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'dossiers_dossier' AND indexdef ~ %s",
            [r"USING btree \([^)]*\mstate\M"],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        for text in ("le van", "Lê Văn Công", "PHAM"):
            sql, params = Dossier.objects.filter(dossier_search(text)).values("pk").query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Bitmap Index Scan on dossier_held_search_trgm_idx" in plan, plan
            assert "Seq Scan" not in plan, plan
        # Without the states, the same search cannot use the index (the index holds held dossiers only).
        sql, params = _every_dossier_search("le van").query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        assert "dossier_held_search_trgm_idx" not in "\n".join(row[0] for row in cursor.fetchall())
        names = {row[0] for row in _indexes(cursor, "dossiers_dossier")}
    assert "dossier_search_trgm_idx" not in names  # the index of every dossier is gone


def _indexes(cursor, table: str):
    cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
    return cursor.fetchall()


# --- access ---------------------------------------------------------------------------------------


def test_an_officer_of_another_agency_never_sees_a_held_dossier(client, world):
    build(world, 8)
    code = builders.received(world).code
    outsider_agency = AgencyFactory(name="UBND xã Bên Cạnh")
    api = APIClient()
    for role in (Role.RECEPTION, Role.SPECIALIST, Role.LEADER, Role.AGENCY_ADMIN):
        outsider = OfficerFactory(role=role, membership__agency=outsider_agency)
        client.force_login(outsider)
        api.force_authenticate(outsider)
        for tab in selectors.QUEUE_TABS:
            for params in ({"tab": tab}, {"tab": tab, "q": code}, {"tab": tab, "q": "le van"}):
                response = client.get(QUEUE, params)
                assert response.context["items"] == [], params
                assert api.get(API_QUEUE, params).json()["results"] == [], params
            assert selectors.queue_counts(outsider)[tab] == 0
    assert DossierHolding.objects.exclude(agency=world.agency).count() == 0


def test_a_unit_above_sees_its_subunits_dossiers_but_not_its_siblings():
    province = AgencyFactory(name="Trung tâm Phục vụ hành chính công tỉnh")
    commune = AgencyFactory(name="UBND xã Dưới", parent=province)
    sibling = AgencyFactory(name="UBND xã Khác")
    below = builders.make_world(agency=commune)
    below.procedure.agencies.add(sibling)
    mine = builders.submitted(below)
    theirs = services.dossier_create_draft(procedure=below.procedure, agency=sibling, owner=below.citizen)
    services.dossier_save_answers(dossier=theirs, user=below.citizen, answers={"ten_ho_kinh_doanh": "Quán Bên"})
    services.dossier_attach_file(dossier=theirs, user=below.citizen, requirement_id=1, upload=builders.pdf_upload())
    theirs = services.dossier_submit(dossier=theirs, user=below.citizen)
    centre = OfficerFactory(role=Role.RECEPTION, membership__agency=province)
    listed = {d.pk for d in selectors.queue_page(centre, "new")[0]}
    assert mine.pk in listed and theirs.pk not in listed


# --- filters in the URL -----------------------------------------------------------------------------


def test_api_queue_takes_the_same_filters_and_rejects_a_bad_one(world):
    received = builders.received(world)
    builders.submitted(world)
    api = APIClient()
    api.force_authenticate(world.reception)
    body = api.get(API_QUEUE, {"tab": "all", "state": S.RECEIVED}).json()
    assert [row["id"] for row in body["results"]] == [received.pk]
    assert [row["id"] for row in api.get(API_QUEUE, {"tab": "all", "q": received.code}).json()["results"]] == [
        received.pk
    ]
    response = api.get(API_QUEUE, {"tab": "all", "received_from": "2026-03-10", "received_to": "2026-03-01"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_api_queue_pages_by_the_size_asked_up_to_100(world):
    build(world, 3)
    api = APIClient()
    api.force_authenticate(world.reception)
    first = api.get(API_QUEUE, {"tab": "all", "size": "2"}).json()
    assert len(first["results"]) == 2 and first["next"]
    rest = api.get(API_QUEUE, {"tab": "all", "size": "2", "after": first["next"]}).json()
    assert len(rest["results"]) == 1 and rest["next"] is None
    assert {r["id"] for r in first["results"]}.isdisjoint(r["id"] for r in rest["results"])
    for bad in ("0", "101", "abc"):
        response = api.get(API_QUEUE, {"tab": "all", "size": bad})
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["size"]


def test_overdue_filter_lists_only_dossiers_past_due(client, world):
    late = builders.received(world)
    builders.received(world)
    DossierHolding.objects.filter(dossier=late).update(due_at=timezone.now() - dt.timedelta(hours=1))
    client.force_login(world.leader)
    response = client.get(QUEUE, {"tab": "all", "overdue": "on"})
    assert [item["id"] for item in response.context["items"]] == [late.pk]
    assert "overdue=on" in response.content.decode().replace("&amp;", "&")


# --- tracking and submission ------------------------------------------------------------------------


def test_tracking_reads_neither_the_procedure_snapshot_nor_personal_columns(client, world):
    from django.core.cache import cache

    cache.clear()
    dossier = builders.in_processing(world)
    api = APIClient()
    for get, url in ((client.get, f"/tra-cuu/{dossier.code}/"), (api.get, f"/api/track/{dossier.code}/")):
        with CaptureQueriesContext(connection) as queries:
            response = get(url)
        assert response.status_code == 200, url
        # The rate limit is one upsert on the counter table (portal/ratelimit.py); the rest is two reads.
        counted = [q["sql"] for q in queries if "portal_ratecounter" in q["sql"]]
        assert len(counted) == 1, [q["sql"] for q in queries]
        assert len(queries) - len(counted) <= 2, [q["sql"] for q in queries]
        sql = " ".join(q["sql"] for q in queries)
        assert '"answers"' not in sql and '"applicant_id_number"' not in sql
        assert '"procedures_procedureversion"."snapshot",' not in sql  # one key only, extracted by the database
    assert "Đăng ký kinh doanh hộ cá thể" in client.get(f"/tra-cuu/{dossier.code}/").content.decode()


def test_a_draft_costs_no_holdings_query_and_a_closed_dossier_keeps_no_rows(world):
    dossier = builders.draft(world)
    with CaptureQueriesContext(connection) as queries:
        services.dossier_save_answers(dossier=dossier, user=world.citizen, answers={"ten_ho_kinh_doanh": "Quán"})
    assert not any("dossierholding" in q["sql"] for q in queries)
    returned = builders.returned(world)
    assert not DossierHolding.objects.filter(dossier=returned).exists()


def test_the_unfiltered_sql_path_returns_what_the_orm_path_returns_for_every_tab_and_cursor(world):
    if connection.vendor != "postgresql":
        pytest.skip("the SQL fast path is PostgreSQL's; SQLite reads rows through the ORM")
    build(world, 12)
    DossierHolding.objects.filter(pk__in=DossierHolding.objects.values("pk")[:3]).update(due_at=None)
    now = timezone.now()
    anything = DossierHolding.objects.filter(pk__gte=0)  # a filter that keeps every row: the ORM path
    compared = []
    for officer in (world.reception, world.specialist, world.leader):
        for tab in selectors.QUEUE_TABS:
            ranges = selectors.queue_tab_ranges(officer, tab, now=now)
            if not ranges.pairs:
                continue
            everything = selectors._fetch(selectors._holding_ids(ranges, anything, None, 100))
            cursors = [None] + [(due, pk) for pk, due in everything[:: max(len(everything) // 3, 1)]]
            for cursor in cursors:
                fast = selectors._fetch(selectors._holding_ids(ranges, DossierHolding.objects.all(), cursor, 5))
                slow = selectors._fetch(selectors._holding_ids(ranges, anything, cursor, 5))
                assert fast == slow, (officer, tab, cursor)
                compared.append((tab, cursor is not None and cursor[0] is None, len(fast)))
    # Rows were compared on every kind of tab, after a cursor with a due time and after one without.
    assert {tab for tab, _null, n in compared if n} >= {"new", "all", "mine"}
    assert any(null for _tab, null, _n in compared)


@pytest.mark.postgres
def test_the_search_index_migration_goes_back_to_the_index_of_every_dossier_and_forth():
    import importlib

    from django.apps import apps

    if connection.vendor != "postgresql":
        pytest.skip("the trigram indexes are PostgreSQL's")
    migration = importlib.import_module("dossiers.migrations.0008_held_search_index")
    with connection.cursor() as cursor, connection.schema_editor(atomic=False) as editor:
        migration.restore_full_index(apps, editor)
        assert {"dossier_search_trgm_idx"} <= {row[0] for row in _indexes(cursor, "dossiers_dossier")}
        assert "dossier_held_search_trgm_idx" not in {row[0] for row in _indexes(cursor, "dossiers_dossier")}
        migration.create_held_index(apps, editor)
        names = {row[0] for row in _indexes(cursor, "dossiers_dossier")}
        assert "dossier_held_search_trgm_idx" in names and "dossier_search_trgm_idx" not in names
