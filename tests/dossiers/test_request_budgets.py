"""Round trips per request of tracking, submission, reception and the officer's dossier page.

Each bound is the number reached when issue 6 point 5 was profiled (bench/RESULTS.md, "Issue 6 point 5:
round trips per request"); a regression fails here. Each request is measured twice, with more dossiers
in the database the second time: the count must not grow with the province.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from dossiers.models import Dossier
from tests.dossiers import builders

pytestmark = pytest.mark.django_db

# Statements per request, SAVEPOINT and RELEASE included (the test's transaction turns each atomic
# block of a request into a savepoint; in production the outermost one is BEGIN/COMMIT).
TRACKING_PAGE = 2  # the rate counter's upsert; the dossier with its steps (one statement)
TRACKING_API = 2
CREATE = 14  # the response reads the files once (missing items from the same list)
ANSWERS = 9
UPLOAD = 11
DETAIL = 5
SUBMIT = 21  # no savepoint for consent_record inside the view's transaction
RECEIVE = 58  # Form 01 included: rendered in the request, after the reception's commit
OFFICER_PAGE = 7  # the dossier with its lists (one statement), the access record, the assign form's specialists


@pytest.fixture
def world():
    return builders.make_world()


def _more_dossiers(world) -> None:
    """Dossiers of the same citizen, agency and procedure in several states."""
    builders.submitted(world)
    builders.received(world)
    builders.in_processing(world)
    builders.returned(world)


def _count(request) -> tuple[int, object, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = request()
    return len(queries), response, [q["sql"] for q in queries]


def test_tracking_page_and_api_cost_two_statements_whatever_the_number_of_dossiers(
    world, django_assert_max_num_queries
):
    dossier = builders.in_processing(world)
    page, api = Client(), APIClient()
    for _round in range(2):
        with django_assert_max_num_queries(TRACKING_PAGE):
            assert page.get(f"/tra-cuu/{dossier.code}/").status_code == 200
        with django_assert_max_num_queries(TRACKING_API):
            assert api.get(f"/api/track/{dossier.code}/").status_code == 200
        _more_dossiers(world)


@pytest.fixture
def database_cache(settings):
    """The production cache without REDIS_URL: a cache-backed limit would show up as portal_cache queries."""
    from django.core.management import call_command

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "portal_cache"}
    }
    call_command("createcachetable", verbosity=0)


def test_the_tracking_rate_limit_is_one_statement_and_no_cache_query(world, database_cache):
    dossier = builders.in_processing(world)
    for request in (
        lambda: Client().get(f"/tra-cuu/{dossier.code}/"),
        lambda: APIClient().get(f"/api/track/{dossier.code}/"),
    ):
        _n, response, sql = _count(request)
        assert response.status_code == 200
        assert sum("portal_ratecounter" in q for q in sql) == 1
        assert not any("portal_cache" in q or "SAVEPOINT" in q for q in sql), sql


def _submit_one(world, citizen: APIClient, budgets) -> Dossier:
    """The benchmark's submission (bench/province.py flows()): create, answers, two uploads, read, submit."""
    created = budgets(
        CREATE,
        lambda: citizen.post(
            "/api/dossiers/", {"procedure": world.procedure.national_code, "agency": world.agency.pk}, format="json"
        ),
    )
    assert created.status_code == 201, created.content
    url = f"/api/dossiers/{created.json()['public_id']}/"
    answered = budgets(
        ANSWERS,
        lambda: citizen.patch(url + "answers/", {"answers": {"ten_ho_kinh_doanh": "Tạp hóa An"}}, format="json"),
    )
    assert answered.status_code == 200, answered.content
    for name in ("don.pdf", "ban-sao.pdf"):
        uploaded = budgets(
            UPLOAD,
            lambda name=name: citizen.post(
                url + "files/", {"requirement": 1, "file": builders.pdf_upload(name)}, format="multipart"
            ),
        )
        assert uploaded.status_code == 201, uploaded.content
    read = budgets(DETAIL, lambda: citizen.get(url))
    submitted = budgets(
        SUBMIT, lambda: citizen.post(url + "submit/", {"version": read.json()["version"]}, format="json")
    )
    assert submitted.status_code == 200, submitted.content
    return Dossier.objects.get(public_id=created.json()["public_id"])


def test_each_request_of_a_submission_stays_within_its_budget_whatever_the_number_of_dossiers(world):
    citizen = APIClient()
    citizen.force_login(world.citizen)
    counts: list[list[int]] = [[], []]
    # Once before: the procedure's first version is published and the session's idle clock written.
    _submit_one(world, citizen, lambda limit, request: request())

    for round_ in range(2):

        def budgets(limit, request, round_=round_):
            n, response, sql = _count(request)
            assert n <= limit, "\n".join(sql)
            counts[round_].append(n)
            return response

        _submit_one(world, citizen, budgets)
        _more_dossiers(world)
    assert counts[0] == counts[1]


def test_reception_through_the_api_stays_within_its_budget_whatever_the_number_of_dossiers(world):
    officer = APIClient()
    officer.force_login(world.reception)
    counts = []
    # Once before: the day's first code and the year's first register number create their counters,
    # and the session's idle clock is written.
    builders.received(world)
    officer.get("/api/officer/queue/", {"tab": "new"})
    for _round in range(2):
        dossier = builders.submitted(world)
        n, response, sql = _count(
            lambda dossier=dossier: officer.post(
                f"/api/officer/dossiers/{dossier.pk}/receive/", {"version": dossier.version}, format="json"
            )
        )
        assert response.status_code == 200, response.content
        assert n <= RECEIVE, "\n".join(sql)
        # The officer's memberships are read once (with the session), then the reception unit's.
        assert sum('FROM "accounts_membership"' in q for q in sql) == 2, "\n".join(sql)
        counts.append(n)
        _more_dossiers(world)
    assert counts[0] == counts[1]


def test_the_officers_dossier_page_stays_within_its_budget_whatever_the_number_of_dossiers(
    world, django_assert_max_num_queries
):
    dossier = builders.in_processing(world)
    page = Client()
    page.force_login(world.leader)
    page.get(f"/can-bo/ho-so/{dossier.pk}/")  # the session's idle clock is written once
    counts = []
    for _round in range(2):
        with django_assert_max_num_queries(OFFICER_PAGE) as captured:
            assert page.get(f"/can-bo/ho-so/{dossier.pk}/").status_code == 200
        sql = [q["sql"] for q in captured.captured_queries]
        assert sum('FROM "accounts_membership"' in q for q in sql) == 1, "\n".join(sql)
        assert not any(q.startswith("DECLARE") for q in sql), "no server-side cursor for a short list"
        counts.append(len(sql))
        _more_dossiers(world)
    assert counts[0] == counts[1]
