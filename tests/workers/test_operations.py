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
