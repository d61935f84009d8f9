"""Never lost, never twice: the side-effect runner, its retries, the handler registry and the sweeper."""

import datetime as dt

import pytest
from django.utils import timezone

from dossiers.models import SideEffect
from dossiers.side_effects import HANDLERS, register
from dossiers.tasks import side_effect_retry, side_effect_run, side_effects_sweep
from tests.dossiers import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return builders.make_world()


@pytest.fixture
def failing_kind():
    calls = []

    @register("always_fails")
    def handler(effect):
        calls.append(effect.pk)
        raise OSError("connection refused")

    yield calls
    HANDLERS.pop("always_fails")


def test_a_kind_without_a_handler_is_marked_failed_with_the_reason(world):
    dossier = builders.submitted(world)
    effect = SideEffect.objects.create(dossier=dossier, kind="nobody_handles_this")
    assert side_effect_run(effect.pk) == "skipped"
    effect.refresh_from_db()
    assert effect.status == SideEffect.Status.FAILED
    assert "no handler" in effect.last_error


def test_a_failing_side_effect_backs_off_then_fails_with_its_reason_after_n_attempts(world, settings, failing_kind):
    settings.SIDE_EFFECT_MAX_ATTEMPTS = 3
    settings.SIDE_EFFECT_BACKOFF_SECONDS = [30, 120]
    effect = SideEffect.objects.create(dossier=builders.submitted(world), kind="always_fails")
    before = timezone.now()
    assert side_effect_run(effect.pk) == "retry"
    effect.refresh_from_db()
    assert effect.status == SideEffect.Status.PENDING and effect.attempts == 1
    assert effect.next_attempt_at >= before + dt.timedelta(seconds=30)
    assert side_effect_run(effect.pk) == "retry"
    effect.refresh_from_db()
    assert effect.next_attempt_at >= before + dt.timedelta(seconds=120)
    assert side_effect_run(effect.pk) == "failed"
    effect.refresh_from_db()
    assert effect.status == SideEffect.Status.FAILED
    assert effect.last_error == "OSError: connection refused"
    assert side_effect_run(effect.pk) == "skipped"
    assert len(failing_kind) == 3


def test_staff_retry_puts_a_failed_side_effect_back_with_a_fresh_budget(world, failing_kind):
    effect = SideEffect.objects.create(
        dossier=builders.submitted(world), kind="always_fails", status="failed", attempts=6, last_error="x"
    )
    effect = side_effect_retry(effect=effect)
    assert effect.status == SideEffect.Status.PENDING and effect.attempts == 0


def test_the_sweeper_takes_due_rows_oldest_first_and_at_most_its_batch(world, settings, monkeypatch):
    published = []
    monkeypatch.setattr("dossiers.tasks._publish", published.append)
    dossier = builders.submitted(world)
    SideEffect.objects.filter(dossier=dossier).delete()
    now = timezone.now()
    rows = [
        SideEffect.objects.create(dossier=dossier, kind="notify", next_attempt_at=now - dt.timedelta(minutes=m))
        for m in (1, 5, 3)
    ]
    SideEffect.objects.create(dossier=dossier, kind="notify", next_attempt_at=now + dt.timedelta(minutes=5))
    SideEffect.objects.create(dossier=dossier, kind="notify", status="done", next_attempt_at=now)
    assert side_effects_sweep(now=now, limit=2) == 2
    assert published == [rows[1].pk, rows[2].pk]
    # Taken rows wait a grace period: the next run takes the remaining due one only.
    published.clear()
    assert side_effects_sweep(now=now, limit=10) == 1
    assert published == [rows[0].pk]


def test_a_side_effect_run_twice_does_its_work_once(world):
    dossier = builders.submitted(world)
    effect = SideEffect.objects.get(dossier=dossier, kind="notify")
    assert side_effect_run(effect.pk) == "done"
    assert side_effect_run(effect.pk) == "skipped"
    assert (
        dossier.notifications.filter(event="submitted").count()
        == dossier.notifications.filter(event="submitted").values("dedupe_key").distinct().count()
    )
