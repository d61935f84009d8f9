"""The deadline alerts' selection reads DossierHolding: the right rows, fixed queries, index plans.

notifications.selectors reads only the holdings that dossiers.services keep: per-step alerts from
the rows of open steps (each with its own agency and deadline), whole-dossier alerts and the
digest's counts from the one primary row of each running dossier.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dossiers import services
from dossiers.models import DossierHolding
from notifications.alerts import deadlines_scan
from notifications.models import Notification, SentAlert
from notifications.selectors import agency_deadline_counts, alerts_due
from portal.accounts.constants import Role
from procedures.constants import StepRole
from tests.dossiers import builders
from tests.dossiers.test_parallel_steps import group_steps, make_parallel_world
from tests.factories import AgencyFactory, OfficerFactory, ProcessingStepFactory

pytestmark = pytest.mark.django_db
VN = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=VN)
LATE = dt.datetime(2026, 3, 30, 10, 0, tzinfo=VN)  # a Monday four weeks on: everything open is late


@pytest.fixture(autouse=True)
def fast_pdf(monkeypatch):
    monkeypatch.setattr("dossiers.pdf.render_dossier_form", lambda *args, **kwargs: builders.PDF_BYTES)


@pytest.fixture
def world():
    return builders.make_world(processing_days="3")


def _on_monday(make, *args):
    with time_machine.travel(MONDAY, tick=False):
        return make(*args)


def _scan(when: dt.datetime) -> int:
    with time_machine.travel(when, tick=False):
        return deadlines_scan()


def _recipients(dossier, event: str) -> set:
    return {n.recipient for n in Notification.objects.filter(dossier=dossier, event=event, channel="in_app")}


def test_a_parallel_steps_own_deadline_alerts_its_own_agency():
    pw = make_parallel_world()
    dossier = _on_monday(builders.in_processing, pw.world)
    steps = group_steps(dossier)
    police, insurance, lead = (steps[a.name] for a in (pw.police, pw.insurance, pw.world.agency))
    assert police.due_at < insurance.due_at < lead.due_at
    when = police.due_at + dt.timedelta(minutes=5)

    found = alerts_due(when)
    overdue = [(a.step_id, a.agency_id, a.role, a.assignee_id) for a in found if a.level == "overdue"]
    assert overdue == [(police.pk, pw.police.pk, Role.SPECIALIST, None)]
    soon = {(a.step_id, a.agency_id, a.assignee_id) for a in found if a.level == "due_soon" and a.step_id}
    assert soon == {(insurance.pk, pw.insurance.pk, None), (lead.pk, pw.world.agency.pk, pw.world.specialist.pk)}

    _scan(when)
    assert _recipients(dossier, "overdue") == {pw.police_specialist}  # nobody took the step: its agency's
    assert pw.insurance_specialist in _recipients(dossier, "due_soon")
    assert SentAlert.objects.get(dossier=dossier, level="overdue").step_id == police.pk


def test_the_approval_steps_alert_goes_to_the_leaders_not_to_the_specialist_who_proposed(world):
    dossier = _on_monday(builders.awaiting_approval, world)
    leader_step = dossier.current_step
    assert leader_step.role == StepRole.LEADER
    step_alerts = [a for a in alerts_due(MONDAY + dt.timedelta(minutes=5)) if a.step_id == leader_step.pk]
    assert [(a.level, a.agency_id, a.role, a.assignee_id) for a in step_alerts] == [
        ("due_soon", world.agency.pk, Role.LEADER, None)
    ]
    _scan(MONDAY + dt.timedelta(minutes=5))
    alert = SentAlert.objects.get(dossier=dossier, step=leader_step, level="due_soon")
    recipients = {
        n.recipient
        for n in Notification.objects.filter(
            dossier=dossier, channel="in_app", dedupe_key__startswith=f"alert{alert.pk}:"
        )
    }
    assert recipients == {world.leader}


def test_a_dossier_waiting_for_a_supplement_raises_no_overdue_alert(world):
    paused = _on_monday(builders.in_processing, world)
    with time_machine.travel(MONDAY, tick=False):
        services.dossier_request_supplement(
            dossier=paused, officer=world.specialist, items=["Bản sao giấy tờ"], reason="Thiếu bản sao"
        )
    running = _on_monday(builders.in_processing, world)

    found = alerts_due(LATE)
    assert {a.dossier_id for a in found} == {running.pk}  # the running one is late; the paused one is not
    assert agency_deadline_counts(LATE) == {world.agency.pk: {"overdue": 1, "due_soon": 0}}
    _scan(LATE)
    assert not SentAlert.objects.filter(dossier=paused).exists()
    assert SentAlert.objects.filter(dossier=running, level="overdue").exists()


def test_a_closed_dossier_raises_no_alert(world):
    returned = _on_monday(builders.returned, world)
    refused = _on_monday(builders.in_processing, world)
    with time_machine.travel(MONDAY, tick=False):
        services.dossier_refuse(dossier=refused, officer=world.leader, reason="Không đủ điều kiện")
    running = _on_monday(builders.received, world)

    assert {a.dossier_id for a in alerts_due(LATE)} == {running.pk}
    assert agency_deadline_counts(LATE) == {world.agency.pk: {"overdue": 1, "due_soon": 0}}
    _scan(LATE)
    assert not SentAlert.objects.filter(dossier__in=[returned, refused]).exists()


def test_an_apologised_dossier_gets_no_apology_prompt_when_its_new_date_nears(world):
    thursday = dt.datetime(2026, 3, 5, 9, 0, tzinfo=VN)
    with time_machine.travel(thursday, tick=False):
        apologised = builders.received(world)
        other = builders.received(world)
        new_due = dt.datetime(2026, 3, 13, 17, 0, tzinfo=VN)  # Friday, after the Tuesday it was due
        services.dossier_apologise(dossier=apologised, officer=world.leader, new_due_at=new_due, reason="Chờ xác minh")
    other_prompt = {a.dossier_id for a in alerts_due(dt.datetime(2026, 3, 9, 10, 0, tzinfo=VN))}
    assert other_prompt == {other.pk}  # Monday: the other one's last day to apologise
    on_thursday = alerts_due(dt.datetime(2026, 3, 12, 10, 0, tzinfo=VN))  # the apologised one's new date is next
    assert [(a.dossier_id, a.level) for a in on_thursday if a.dossier_id == apologised.pk] == [
        (apologised.pk, "due_soon")
    ]


def test_a_whole_dossier_alert_names_the_resolving_agency_while_another_agency_holds_the_step(world):
    police = AgencyFactory(name="Công an phường Hoa Lư")
    police_specialist = OfficerFactory(role=Role.SPECIALIST, membership__agency=police)
    world.procedure.steps.filter(role=StepRole.LEADER).update(order=4)
    ProcessingStepFactory(
        procedure=world.procedure, order=3, name="Xác minh", role=StepRole.SPECIALIST, agency=police, duration_days="1"
    )
    dossier = _on_monday(builders.in_processing, world)
    with time_machine.travel(MONDAY, tick=False):
        dossier = services.dossier_forward(dossier=dossier, officer=world.specialist)
        dossier = services.dossier_assign(dossier=dossier, actor=police_specialist, assignee=police_specialist)
    assert dossier.current_step.agency == police
    primary = DossierHolding.objects.get(dossier=dossier, is_primary=True)
    assert (primary.agency_id, primary.step_id, primary.assignee_id) == (world.agency.pk, None, None)

    found = alerts_due(LATE)
    by_kind = {(a.step_id is None, a.level): (a.agency_id, a.assignee_id) for a in found}
    assert by_kind[(False, "overdue")] == (police.pk, police_specialist.pk)  # the step: who works on it
    assert by_kind[(True, "overdue")] == (world.agency.pk, None)  # the dossier: the agency that answers for it
    _scan(LATE)
    assert world.leader in _recipients(dossier, "overdue")


# --- bounded, indexed -----------------------------------------------------------------------------


def _selection_queries(when: dt.datetime) -> tuple[list[str], int]:
    with CaptureQueriesContext(connection) as captured:
        found = len(alerts_due(when))
        agency_deadline_counts(when)
    return [q["sql"] for q in captured.captured_queries], found


def _open_dossiers(world, n: int) -> None:
    makers = [builders.received, builders.in_processing, builders.awaiting_approval, builders.submitted]
    with time_machine.travel(MONDAY, tick=False):
        for index in range(n):
            makers[index % len(makers)](world)


def test_the_number_of_selection_queries_does_not_grow_with_the_dossiers(world):
    _open_dossiers(world, 2)
    few, found_few = _selection_queries(LATE)
    _open_dossiers(world, 10)
    many, found_many = _selection_queries(LATE)
    assert found_many > found_few  # the new dossiers are in it
    assert len(many) == len(few)
    holding_queries = [sql for sql in many if "dossiers_dossierholding" in sql]
    assert len(holding_queries) == 7  # five kinds of alert, two counts
    for sql in many:
        assert '"dossiers_dossier"' not in sql and "dossiers_dossierstep" not in sql, sql


@pytest.mark.postgres
def test_every_selection_query_is_one_range_of_a_holdings_index_in_due_order(world):
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    _open_dossiers(world, 8)
    _scan(LATE)  # some alerts already sent: the anti-join has rows to skip
    sqls, _found = _selection_queries(LATE + dt.timedelta(days=1))
    sqls = [sql for sql in sqls if "dossiers_dossierholding" in sql]
    assert len(sqls) == 7
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE dossiers_dossierholding")
        cursor.execute("ANALYZE notifications_sentalert")
        # Tiny tables: make PostgreSQL show the plan it uses on a province's, where a LIMIT over an
        # index in the query's order wins (bench.province prints the plans on a generated province).
        for setting in ("seqscan", "bitmapscan", "sort", "mergejoin", "hashjoin"):
            cursor.execute(f"SET LOCAL enable_{setting} = off")
        # holding_one_primary only guards uniqueness (one primary row per dossier): on a province it
        # is never the cheapest way to a range of deadlines, but on a few rows it shares the grouped
        # queries' partial predicate and can win with the deadline as a mere filter. Drop it inside
        # the test's transaction (rolled back with it) so the plan compared is the province's.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred foreign-key checks run now, not after DDL
        cursor.execute("DROP INDEX holding_one_primary")  # a partial unique constraint is an index
        for sql in sqls:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan" not in plan, plan
            if "LIMIT" not in sql:
                # The digest's per-agency counts (no LIMIT, grouped): on a few rows the planner picks any of
                # the holdings indexes that bound the deadline (the primary ones, or the agency index), so
                # what is asserted is the range: the deadline is an index condition, not a filter.
                scan = re.search(r"Index (Only )?Scan using holding_\w+ on dossiers_dossierholding", plan)
                assert scan, plan
                assert re.search(r"Index Cond: .*due_at <=", plan), plan
                continue
            assert re.search(
                r"Index (Only )?Scan using holding_(step_due_idx|primary_due_idx) on dossiers_dossierholding", plan
            ), plan
            if "LIMIT" in sql:  # an alert query: read in deadline order up to its limit, never sorted
                assert plan.lstrip().startswith("Limit"), plan
                assert "Sort" not in plan, plan


def test_the_migration_fills_the_primary_row_and_apologised_for_existing_holdings():
    fill = importlib.import_module("dossiers.migrations.0007_holding_primary_alerts")
    pw = make_parallel_world()
    with time_machine.travel(MONDAY, tick=False):
        builders.submitted(pw.world)
        builders.received(pw.world)
        parallel = builders.in_processing(pw.world)
        apologised = builders.received(pw.world)
        services.dossier_apologise(
            dossier=apologised,
            officer=pw.world.leader,
            new_due_at=apologised.current_due_at + dt.timedelta(days=1),
            reason="Chờ xác minh",
        )
    columns = ("dossier_id", "agency_id", "step_id", "is_primary", "apologised")
    before = sorted(DossierHolding.objects.values_list(*columns))
    assert sum(row[3] for row in before) == len({row[0] for row in before}) == 4  # one primary per dossier
    assert {row[0] for row in before if row[4]} == {apologised.pk}
    DossierHolding.objects.update(is_primary=False, apologised=True)
    DossierHolding.objects.filter(dossier=parallel).delete()  # rows gone astray are written anew

    class Editor:
        connection = connection

    fill.fill(apps, Editor())
    assert sorted(DossierHolding.objects.values_list(*columns)) == before
