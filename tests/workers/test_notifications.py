"""Notifications: texts with the dossier's facts, channels chosen by the citizen, guarded sends."""

import pytest
from django.core import mail

from dossiers.models import SideEffect
from dossiers.tasks import side_effect_run
from notifications.models import DeliveryLog, Notification, NotificationTemplate, SandboxSms
from notifications.services import notification_preferences_set, notification_send
from tests.dossiers import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return builders.make_world(fee=50000)


def _run_notify(dossier):
    for effect in SideEffect.objects.filter(dossier=dossier, kind="notify", status="pending"):
        side_effect_run(effect.pk)


def _send_all():
    for pk in Notification.objects.filter(status="queued").values_list("pk", flat=True):
        notification_send(notification_id=pk)


def test_the_reception_notice_names_procedure_code_appointment_amount_and_link_never_the_cccd(world):
    dossier = builders.received(world)
    dossier.applicant_phone = "0915000123"
    dossier.save(update_fields=["applicant_phone"])
    _run_notify(dossier)
    _send_all()
    message = next(m for m in mail.outbox if "tiếp nhận" in m.subject)
    assert world.procedure.name in message.body
    assert dossier.code in message.body
    assert "50.000 đồng" in message.body
    assert f"/ho-so/{dossier.public_id}/" in message.body
    assert "037090001234" not in message.body
    assert message.extra_headers["Message-ID"].startswith("<")
    sms = SandboxSms.objects.get(to="0915000123", text__contains="đã được tiếp nhận")
    assert "037090001234" not in sms.text
    inbox = Notification.objects.get(dossier=dossier, event="received", channel="in_app")
    assert inbox.recipient == world.citizen and inbox.status == "sent"


def test_the_supplement_notice_lists_the_items_asked_for(world):
    from dossiers import services

    dossier = services.dossier_request_supplement(
        dossier=builders.submitted(world),
        officer=world.reception,
        items=["Bản sao giấy chứng nhận quyền sử dụng đất", "Ảnh 4x6"],
        reason="Thiếu giấy tờ",
    )
    _run_notify(dossier)
    notice = Notification.objects.get(dossier=dossier, event="supplement_requested", channel="email")
    assert "Bản sao giấy chứng nhận quyền sử dụng đất; Ảnh 4x6" in notice.body


def test_an_administrators_template_is_used_in_the_citizens_language(world):
    # update_or_create: a transactional test earlier on the same worker empties the table the
    # data migration filled, so the seeded row may be gone.
    NotificationTemplate.objects.update_or_create(
        event="submitted",
        channel="email",
        language="vi",
        defaults={"subject": "Đã nhận hồ sơ {{ reference }}", "body": "Cảm ơn! {{ procedure }}", "is_active": True},
    )
    dossier = builders.submitted(world)
    _run_notify(dossier)
    notice = Notification.objects.get(dossier=dossier, event="submitted", channel="email")
    assert notice.body == f"Cảm ơn! {world.procedure.name}"


def test_a_citizen_who_turns_e_mail_off_gets_none_but_still_sees_it_on_the_portal(world):
    notification_preferences_set(user=world.citizen, email=False, sms=False)
    dossier = builders.submitted(world)
    _run_notify(dossier)
    channels = set(Notification.objects.filter(dossier=dossier, event="submitted").values_list("channel", flat=True))
    assert channels == {"in_app"}


def test_new_work_reaches_the_reception_officers(world):
    dossier = builders.submitted(world)
    _run_notify(dossier)
    assert Notification.objects.filter(dossier=dossier, event="new_work", recipient=world.reception).exists()


def test_a_failed_send_is_retried_with_the_same_message_id_and_logged(world, monkeypatch, settings):
    dossier = builders.submitted(world)
    _run_notify(dossier)
    notice = Notification.objects.get(dossier=dossier, event="submitted", channel="email")
    real_send = mail.EmailMessage.send

    def broken(self, fail_silently=False):
        raise OSError("SMTP down")

    monkeypatch.setattr(mail.EmailMessage, "send", broken)
    assert notification_send(notification_id=notice.pk) == "retry"
    monkeypatch.setattr(mail.EmailMessage, "send", real_send)
    assert notification_send(notification_id=notice.pk) == "sent"
    assert notification_send(notification_id=notice.pk) == "skipped"
    sent = [m for m in mail.outbox if m.extra_headers.get("Message-ID") == notice.message_id]
    assert len(sent) == 1
    statuses = list(DeliveryLog.objects.filter(notification=notice).values_list("status", flat=True))
    assert statuses == ["queued", "sending", "retry", "sending", "sent"]


def test_a_send_after_the_last_attempt_is_marked_failed_with_the_reason(world, monkeypatch, settings):
    settings.SIDE_EFFECT_MAX_ATTEMPTS = 1
    dossier = builders.submitted(world)
    _run_notify(dossier)
    notice = Notification.objects.get(dossier=dossier, event="submitted", channel="email")
    monkeypatch.setattr(
        mail.EmailMessage, "send", lambda self, fail_silently=False: (_ for _ in ()).throw(OSError("x"))
    )
    assert notification_send(notification_id=notice.pk) == "failed"
    notice.refresh_from_db()
    assert notice.status == "failed" and notice.last_error == "OSError: x"


def test_the_account_page_lists_in_app_notifications(world, client):
    dossier = builders.submitted(world)
    _run_notify(dossier)
    client.force_login(world.citizen)
    page = client.get("/accounts/me/").content.decode()
    assert dossier.procedure.name in page
    response = client.post("/accounts/me/notifications/", {"email": "on"})
    assert response.status_code == 302
    assert world.citizen.notify_prefs.sms is False


def test_a_recorded_payment_confirms_the_amount_to_the_citizen():
    from dossiers import services

    world = builders.make_world(fee=50000, fee_first=True)
    dossier = builders.received(world)
    assert dossier.state == "awaiting_payment"
    services.dossier_record_payment(dossier=dossier, officer=world.reception, amount=50000, receipt_number="BL-1")
    _run_notify(dossier)
    notice = Notification.objects.get(dossier=dossier, event="payment_confirmed", channel="email")
    assert "50.000 đồng" in notice.body and dossier.code in notice.body
