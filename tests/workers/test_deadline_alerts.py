"""Due-soon and overdue alerts, and the apology prompt, on the right working day and once only."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from notifications.alerts import deadlines_scan, digest_send
from notifications.models import Notification, SentAlert
from notifications.selectors import alerts_due
from tests.dossiers import builders

pytestmark = pytest.mark.django_db
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=VN)


def _levels(dossier):
    return sorted(SentAlert.objects.filter(dossier=dossier, step__isnull=True).values_list("level", flat=True))


def _scan(when: dt.datetime) -> int:
    with time_machine.travel(when, tick=False):
        return deadlines_scan()


@pytest.fixture
def world():
    return builders.make_world(processing_days="3")


def test_across_a_weekend_due_soon_and_the_apology_prompt_fire_on_the_last_working_day_then_overdue_once(world):
    with time_machine.travel(at("2026-03-05"), tick=False):  # Thursday
        dossier = builders.received(world)
    assert dossier.current_due_at.astimezone(VN).date() == dt.date(2026, 3, 10)  # Tuesday
    _scan(at("2026-03-06", 10))  # Friday: Tuesday is two working days away
    assert _levels(dossier) == []
    _scan(at("2026-03-07", 10))  # Saturday: nobody at work, nothing sent
    assert _levels(dossier) == []
    _scan(at("2026-03-09", 10))  # Monday: the last day an apology is still allowed
    assert _levels(dossier) == ["apology_prompt", "due_soon"]
    _scan(at("2026-03-09", 16))
    assert _levels(dossier) == ["apology_prompt", "due_soon"]
    _scan(at("2026-03-11", 9))  # Wednesday: late
    _scan(at("2026-03-11", 10))
    assert _levels(dossier) == ["apology_prompt", "due_soon", "overdue"]
    overdue = Notification.objects.filter(dossier=dossier, event="overdue", channel="in_app")
    assert {n.recipient for n in overdue} == {world.leader}


def test_across_tet_2026_the_due_soon_alert_fires_before_the_holiday_and_overdue_after_it(world):
    with time_machine.travel(at("2026-02-11"), tick=False):  # Wednesday before Tết
        dossier = builders.received(world)
    assert dossier.current_due_at.astimezone(VN).date() == dt.date(2026, 2, 23)  # first day after Tết
    _scan(at("2026-02-12", 10))
    assert _levels(dossier) == []
    _scan(at("2026-02-13", 10))  # Friday 13 February: the last working day before the due day
    assert _levels(dossier) == ["apology_prompt", "due_soon"]
    _scan(at("2026-02-17", 10))  # Tết
    _scan(at("2026-02-23", 10))  # due today, not yet late
    assert _levels(dossier) == ["apology_prompt", "due_soon"]
    _scan(at("2026-02-24", 9))
    assert _levels(dossier) == ["apology_prompt", "due_soon", "overdue"]


def test_step_alerts_go_to_the_officer_holding_the_step(world):
    from dossiers import services

    with time_machine.travel(at("2026-03-05"), tick=False):
        dossier = services.dossier_assign(
            dossier=builders.received(world), actor=world.leader, assignee=world.specialist
        )
    step = dossier.current_step
    _scan(step.due_at + dt.timedelta(hours=20))
    alert = SentAlert.objects.get(dossier=dossier, step=step, level="overdue")
    recipients = {
        n.recipient
        for n in Notification.objects.filter(
            dossier=dossier, event="overdue", channel="in_app", created_at__gte=alert.created_at
        )
    }
    assert world.specialist in recipients


def test_the_scan_returns_nothing_already_sent(world):
    with time_machine.travel(at("2026-03-05"), tick=False):
        builders.received(world)
    when = at("2026-03-11", 9)
    assert alerts_due(when)
    _scan(when)
    assert alerts_due(when) == []


def test_the_daily_digest_goes_to_the_agency_leader_once_a_day(world):
    with time_machine.travel(at("2026-03-05"), tick=False):
        builders.received(world)
    with time_machine.travel(at("2026-03-11", 7), tick=False):
        assert digest_send() > 0
        assert digest_send() == 0
    digest = Notification.objects.get(event="digest", channel="in_app", recipient=world.leader)
    assert "1 hồ sơ quá hạn" in digest.body
