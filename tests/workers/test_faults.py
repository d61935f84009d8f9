"""Fault tests through a real Celery worker and a real Redis: kill -9, Redis down, then recovery.

Each test asserts the end state (one shipment, at most one extra e-mail with the same Message-ID,
every notification sent once) and is bounded by timeouts. The sweeper is run by the test at the
moment beat would run it, so that no test waits for a schedule.
"""

from __future__ import annotations

import email
import time

import pytest
from django.utils import timezone

from dossiers import services
from dossiers.models import Dossier, SideEffect
from dossiers.postal.models import SandboxPostalOrder, Shipment
from dossiers.postal.provider import SandboxPostalOperator
from dossiers.tasks import side_effects_sweep
from notifications.models import Notification
from notifications.services import notifications_sweep
from tests.dossiers import builders

from .processes import Redis, StallingSmtp, Worker, filesystem_broker, publishing_to, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(150),
]


def _postal_dossier_awaiting_approval(world):
    dossier = builders.draft(world)
    services.dossier_set_delivery(
        dossier=dossier, user=world.citizen, channel_out="postal", postal_address="12 Trần Hưng Đạo, phường Hoa Lư"
    )
    dossier = services.dossier_submit(dossier=dossier, user=world.citizen)
    dossier = services.dossier_receive(dossier=dossier, officer=world.reception)
    dossier = services.dossier_assign(dossier=dossier, actor=world.leader, assignee=world.specialist)
    return services.dossier_submit_for_approval(
        dossier=dossier, officer=world.specialist, result_upload=builders.pdf_upload("kq.pdf")
    )


def _due_now() -> None:
    """What waiting out the grace period would do: every pending row is due for the sweeper."""
    past = timezone.now() - timezone.timedelta(seconds=1)
    SideEffect.objects.filter(status="pending").update(next_attempt_at=past)


def test_a_postal_result_books_exactly_one_shipment_and_follows_it_to_delivered(tmp_path, redis_url, client):
    world = builders.make_world()
    dossier = _postal_dossier_awaiting_approval(world)
    worker = Worker(tmp_path, redis_url)
    try:
        with publishing_to(redis_url):
            services.dossier_approve(dossier=dossier, officer=world.leader)
        shipment = wait_for(
            lambda: Shipment.objects.filter(dossier=dossier).exclude(tracking_number="").first(), 60, "the booking"
        )
    finally:
        output = worker.stop()
    for status in ("in_transit", "delivered"):
        body, signature = SandboxPostalOperator.status_callback(shipment.tracking_number, status)
        client.post("/buu-chinh/trang-thai/", body, content_type="application/json", headers={"X-Signature": signature})
    shipment.refresh_from_db()
    assert shipment.status == "delivered"
    assert Shipment.objects.filter(dossier=dossier).count() == 1
    assert SandboxPostalOrder.objects.filter(client_reference=shipment.reference).count() == 1
    assert "Traceback" not in output, output[-3000:]


@pytest.fixture(params=["redis", "filesystem"])
def broker(request, tmp_path):
    """(url for the worker's REDIS_URL, url and options for this process): Redis, or the embedded broker."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        return url, url, None
    url, options = filesystem_broker(tmp_path)
    return "", url, options


def test_kill_9_of_the_worker_during_a_shipment_booking_then_a_new_worker_books_exactly_one(tmp_path, broker):
    worker_url, url, options = broker
    world = builders.make_world()
    dossier = _postal_dossier_awaiting_approval(world)
    slow = Worker(tmp_path, worker_url, POSTAL_SANDBOX_DELAY_SECONDS=60)
    try:
        with publishing_to(url, options):
            services.dossier_approve(dossier=dossier, officer=world.leader)
        # The operator has taken the order; our worker is waiting for its answer.
        wait_for(lambda: SandboxPostalOrder.objects.exists(), 60, "the operator's order")
    finally:
        slow.kill9()
    assert not Shipment.objects.filter(dossier=dossier).exists()  # our side rolled back with the worker
    fresh = Worker(tmp_path, worker_url)
    try:
        _due_now()
        with publishing_to(url, options):
            side_effects_sweep()
        shipment = wait_for(
            lambda: Shipment.objects.filter(dossier=dossier).exclude(tracking_number="").first(), 60, "the re-run"
        )
    finally:
        fresh.stop()
    assert Shipment.objects.filter(dossier=dossier).count() == 1
    order = SandboxPostalOrder.objects.get()
    assert order.tracking_number == shipment.tracking_number
    effect = SideEffect.objects.get(dossier=dossier, kind="postal_shipment")
    assert effect.status == "done" and effect.attempts == 2


def test_kill_9_during_an_e_mail_send_sends_at_most_once_more_with_the_same_message_id(tmp_path, redis_url):
    smtp = StallingSmtp()
    smtp.stall.set()
    world = builders.make_world()
    env = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": smtp.port,
        "NOTIFICATION_LEASE_SECONDS": 1,
        "EMAIL_TIMEOUT": 30,
    }
    try:
        first = Worker(tmp_path, redis_url, **env)
        try:
            with publishing_to(redis_url):
                dossier = builders.submitted(world)
            assert smtp.received.wait(60), "the first send never reached the SMTP server"
        finally:
            first.kill9()
        smtp.stall.clear()
        notice = Notification.objects.get(dossier=dossier, event="submitted", channel="email")
        assert notice.status == "sending"
        second = Worker(tmp_path, redis_url, **env)
        try:
            time.sleep(1.2)  # the killed worker's lease runs out
            with publishing_to(redis_url):
                notifications_sweep()
            wait_for(lambda: Notification.objects.get(pk=notice.pk).status == "sent", 60, "the resend")
        finally:
            second.stop()
    finally:
        smtp.close()
    to_citizen = [email.message_from_string(m) for m in smtp.messages if world.citizen.email in m]
    assert 1 <= len(to_citizen) <= 2
    assert {m["Message-ID"] for m in to_citizen} == {Notification.objects.get(pk=notice.pk).message_id}


def test_with_redis_stopped_every_submission_is_saved_and_each_notice_is_sent_once_when_it_returns(tmp_path, settings):
    settings.SIDE_EFFECT_GRACE_SECONDS = 0
    world = builders.make_world()
    redis = Redis()
    mail_dir = tmp_path / "mail"
    try:
        drafts = [builders.draft(world) for _ in range(3)]
        with publishing_to(redis.url):  # nothing listens there yet
            for draft in drafts:
                services.dossier_submit(dossier=draft, user=world.citizen)
        assert Dossier.objects.filter(state="submitted").count() == 3
        assert SideEffect.objects.filter(kind="notify", status="pending").count() == 3
        redis.start()
        worker = Worker(
            tmp_path,
            redis.url,
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=mail_dir,
        )
        try:
            with publishing_to(redis.url):
                assert side_effects_sweep() == 3
            wait_for(
                lambda: (
                    not SideEffect.objects.filter(kind="notify", status="pending").exists()
                    and Notification.objects.exclude(channel="in_app").exists()
                    and not Notification.objects.exclude(status="sent").exists()
                ),
                60,
                "the backlog",
            )
        finally:
            worker.stop()
    finally:
        redis.close()
    citizen_mail = Notification.objects.filter(event="submitted", channel="email")
    assert citizen_mail.count() == 3
    assert set(citizen_mail.values_list("attempts", flat=True)) == {1}
    sent_ids = []
    for path in mail_dir.iterdir():
        sent_ids += [m.split(":", 1)[1].strip() for m in path.read_text().splitlines() if m.startswith("Message-ID:")]
    assert sorted(sent_ids) == sorted(n.message_id for n in Notification.objects.filter(channel="email"))
