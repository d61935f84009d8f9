"""The operations view: staff see failed jobs and notifications and retry one; /healthz reports the backlog."""

import datetime as dt

import pytest
from django.utils import timezone

from dossiers.models import SideEffect
from notifications.models import Notification
from tests.dossiers import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return builders.make_world()


def test_healthz_reports_the_oldest_pending_side_effect(client, world):
    dossier = builders.submitted(world)
    old = timezone.now() - dt.timedelta(minutes=30)
    SideEffect.objects.filter(dossier=dossier).update(created_at=old)
    body = client.get("/healthz").json()
    assert body["background"]["oldest_pending_side_effect"] == old.isoformat()
    assert body["background"]["oldest_pending_age_seconds"] >= 1800


def test_staff_see_failed_side_effects_and_retry_one_from_the_admin(admin_client, world):
    dossier = builders.submitted(world)
    effect = SideEffect.objects.get(dossier=dossier, kind="notify")
    SideEffect.objects.filter(pk=effect.pk).update(status="failed", attempts=6, last_error="SMTPServerDisconnected")
    page = admin_client.get("/admin/dossiers/sideeffect/?status__exact=failed").content.decode()
    assert "SMTPServerDisconnected" in page
    response = admin_client.post("/admin/dossiers/sideeffect/", {"action": "retry", "_selected_action": [effect.pk]})
    assert response.status_code == 302
    effect.refresh_from_db()
    assert effect.status == "pending" and effect.attempts == 0


def test_staff_retry_a_failed_notification_which_keeps_its_reference(admin_client, world):
    from dossiers.tasks import side_effect_run

    dossier = builders.submitted(world)
    side_effect_run(SideEffect.objects.get(dossier=dossier, kind="notify").pk)
    notice = Notification.objects.get(dossier=dossier, event="submitted", channel="email")
    Notification.objects.filter(pk=notice.pk).update(status="failed", attempts=6, last_error="550 mailbox full")
    assert "550 mailbox full" in admin_client.get("/admin/notifications/notification/").content.decode()
    admin_client.post("/admin/notifications/notification/", {"action": "retry", "_selected_action": [notice.pk]})
    retried = Notification.objects.get(pk=notice.pk)
    assert retried.status == "queued" and retried.reference == notice.reference
    assert list(retried.log.values_list("status", flat=True))[-1] == "retried"


def test_a_citizen_cannot_reach_the_operations_view(client, world):
    client.force_login(world.citizen)
    assert client.get("/admin/dossiers/sideeffect/").status_code == 302


def test_beat_creates_missing_schedules_and_keeps_an_administrators_change(settings, monkeypatch):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from portal.beat import PortalScheduler

    every_10_minutes = IntervalSchedule.objects.create(every=600, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="sweep-side-effects", task="dossiers.sweep_side_effects", interval=every_10_minutes
    )
    written = {}
    monkeypatch.setattr(DatabaseScheduler, "update_from_dict", lambda self, mapping: written.update(mapping))
    PortalScheduler.update_from_dict(object.__new__(PortalScheduler), settings.CELERY_BEAT_SCHEDULE)
    assert "sweep-side-effects" not in written
    assert "scan-deadlines" in written and "worker-heartbeat" in written
    assert PeriodicTask.objects.get(name="sweep-side-effects").interval.every == 600


def test_administrators_see_the_periodic_schedules(admin_client):
    assert admin_client.get("/admin/django_celery_beat/periodictask/").status_code == 200
