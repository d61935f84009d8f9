"""Deciding, rendering and sending notifications. Every send is guarded by the row's status.

notifications_queue(): writes the rows of one decision (unique dedupe keys: a second call for the
same decision writes nothing) and publishes their sends after commit.
notification_send(): QUEUED → SENDING (an attempt counted, a lease taken, committed) → the provider
→ SENT; a failure goes back to QUEUED with backoff, or FAILED with its reason after the last
attempt. A worker killed mid-send leaves SENDING: once the lease expires the sweeper sends again
with the same reference, so at most one extra message, which a deduplicating provider drops.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from dossiers.side_effects import PermanentError, backoff, register

from .constants import OFFICER_EVENTS, Channel, Event, Status
from .defaults import DEFAULTS
from .models import DeliveryLog, Notification, NotificationPreference, NotificationTemplate
from .sms import sms_provider

logger = logging.getLogger("notifications")


# --- rendering ------------------------------------------------------------------------------------


def dossier_reference(dossier) -> str:
    """What the citizen quotes: the dossier code, or before reception the submission reference."""
    return (
        dossier.code or getattr(dossier, "submission_reference", "") or str(dossier.public_id).split("-", 1)[0].upper()
    )


def _when(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%H:%M %d/%m/%Y") if value else ""


def _amount(value: int) -> str:
    return f"{value:,}".replace(",", ".") + " đồng" if value else ""


def dossier_context(dossier, *, officer: bool = False, extra: dict | None = None) -> dict:
    """The fields a template may use: public facts of the dossier, never the CCCD."""
    if officer:
        path = reverse("dossiers:officer_dossier", args=[dossier.pk])
    else:
        path = reverse("dossiers:detail", args=[dossier.public_id])
    context = {
        "procedure": dossier.procedure.name,
        "reference": dossier_reference(dossier),
        "link": settings.PORTAL_BASE_URL.rstrip("/") + path,
        "appointment": _when(dossier.current_due_at),
        "due": _when(dossier.current_due_at),
        "items": "; ".join(line.strip() for line in dossier.supplement_note.splitlines() if line.strip()),
        "amount": _amount(dossier.fee_total),
        "agency": dossier.agency.name,
        "state": str(dossier.get_state_display()),
    }
    context.update(extra or {})
    return context


def _template(event: str, channel: str, language: str) -> tuple[str, str]:
    rows = {
        (row.channel, row.language): row
        for row in NotificationTemplate.objects.filter(event=event, is_active=True, language__in=[language, "vi"])
    }
    for key in ((channel, language), (Channel.EMAIL, language), (channel, "vi"), (Channel.EMAIL, "vi")):
        if key in rows:
            return rows[key].subject, rows[key].body
    texts = DEFAULTS[event]
    return texts.get(language) or texts["vi"]


def render(event: str, channel: str, language: str, context: dict) -> tuple[str, str]:
    """Subject and body of `event` on `channel`, from the administrators' template or the default."""
    subject, body = _template(event, channel, language)
    ctx = Context(context, autoescape=False)
    return Template(subject).render(ctx).strip(), " ".join(Template(body).render(ctx).split())


# --- deciding -------------------------------------------------------------------------------------


def _preferences(user) -> NotificationPreference | None:
    if user is None:
        return None
    return NotificationPreference.objects.filter(user=user).first()


def _targets(dossier, recipient, officer: bool) -> list[tuple[str, str]]:
    """(channel, address) pairs for one person, following their choice of channels."""
    prefs = _preferences(recipient)
    wants_email = prefs.email if prefs else True
    wants_sms = prefs.sms if prefs else True
    if officer:
        email = getattr(recipient, "email", "")
        return [(Channel.IN_APP, "")] + ([(Channel.EMAIL, email)] if email and wants_email else [])
    targets = [(Channel.IN_APP, "")] if recipient is not None else []
    email = dossier.applicant_email or getattr(recipient, "email", "")
    phone = dossier.applicant_phone or getattr(recipient, "phone", "") or ""
    if email and wants_email:
        targets.append((Channel.EMAIL, email))
    if phone and wants_sms:
        targets.append((Channel.SMS, phone))
    return targets


def notifications_queue(
    *,
    dossier,
    event: str,
    key: str,
    recipients: Iterable | None = None,
    side_effect=None,
    extra: dict | None = None,
) -> list[Notification]:
    """Write the notifications of one decision (`key`) and publish their sends after commit.

    Citizens' events go to the dossier's owner (in-app) and the applicant's e-mail and phone;
    officers' events to `recipients`. Running it again for the same key writes nothing new.
    """
    officer = event in OFFICER_EVENTS
    people = list(recipients) if officer else [dossier.owner]
    created: list[Notification] = []
    for person in people:
        language = getattr(person, "language", "") or settings.LANGUAGE_CODE
        context = dossier_context(dossier, officer=officer, extra=extra)
        for channel, address in _targets(dossier, person, officer):
            subject, body = render(event, channel, language, context)
            in_app = channel == Channel.IN_APP
            dedupe = f"{key}:{channel}:{getattr(person, 'pk', '-')}:{address}"[:200]
            notification, new = Notification.objects.get_or_create(
                dedupe_key=dedupe,
                defaults={
                    "dossier": dossier,
                    "side_effect": side_effect,
                    "recipient": person,
                    "event": event,
                    "channel": channel,
                    "address": address,
                    "subject": subject,
                    "body": body,
                    "link": context["link"],
                    "status": Status.SENT if in_app else Status.QUEUED,
                    "sent_at": timezone.now() if in_app else None,
                },
            )
            if new:
                DeliveryLog.objects.create(notification=notification, status=notification.status)
                if not in_app:
                    created.append(notification)
    for notification in created:
        transaction.on_commit(lambda pk=notification.pk: _publish(pk))
    return created


def _publish(notification_id: int) -> None:
    from .tasks import send_notification

    try:
        send_notification.delay(notification_id)
    except Exception:  # noqa: BLE001 - the sweeper will publish it
        logger.warning("notification.publish_failed id=%s", notification_id)


def _officers_of(agency_id: int, *roles: str):
    from portal.accounts.models import User

    return User.objects.filter(memberships__agency_id=agency_id, memberships__role__in=roles, is_active=True).distinct()


@register("notify")
def handle_notify(effect) -> None:
    """Side-effect handler: the citizen's notification of a state change, and new work for officers."""
    from portal.accounts.constants import Role

    dossier = effect.dossier
    event = effect.payload.get("event", "")
    if event not in Event.values:
        raise PermanentError(f"unknown notification event {event!r}")
    notifications_queue(dossier=dossier, event=event, key=f"se{effect.pk}", side_effect=effect, extra=effect.payload)
    if event in (Event.SUBMITTED, Event.SUPPLEMENTED):
        agency = dossier.receiving_agency_id or dossier.agency_id
        notifications_queue(
            dossier=dossier,
            event=Event.NEW_WORK,
            key=f"se{effect.pk}:work",
            recipients=_officers_of(agency, Role.RECEPTION),
            side_effect=effect,
        )


@register("alert_one_stop_head")
def handle_alert_one_stop_head(effect) -> None:
    """Side-effect handler: a late consultation answer, to the leaders of the one-stop unit (Art 19(5))."""
    from portal.accounts.constants import Role

    payload = effect.payload
    notifications_queue(
        dossier=effect.dossier,
        event=Event.CONSULTATION_LATE,
        key=f"se{effect.pk}",
        recipients=_officers_of(payload["recipient_agency"], payload.get("recipient_role") or Role.LEADER),
        side_effect=effect,
    )


# --- sending --------------------------------------------------------------------------------------


def _log(notification: Notification, status: str, detail: str = "") -> None:
    DeliveryLog.objects.create(notification=notification, status=status, attempt=notification.attempts, detail=detail)


def _deliver(notification: Notification) -> str:
    if notification.channel == Channel.EMAIL:
        message = EmailMessage(
            notification.subject,
            notification.body,
            settings.DEFAULT_FROM_EMAIL,
            [notification.address],
            headers={"Message-ID": notification.message_id, "X-Notification-Reference": notification.reference},
        )
        message.send(fail_silently=False)
        return notification.message_id
    if notification.channel == Channel.SMS:
        text = f"{notification.subject}. {notification.body}" if notification.subject else notification.body
        return sms_provider().send(to=notification.address, text=text, client_reference=notification.reference)
    raise PermanentError(f"channel {notification.channel!r} is not sent")


def notification_send(*, notification_id: int) -> str:
    """Send one notification at most once per lease; "sent", "retry", "failed" or "skipped"."""
    now = timezone.now()
    with transaction.atomic():
        notification = Notification.objects.select_for_update(skip_locked=True).filter(pk=notification_id).first()
        if notification is None or notification.status in (Status.SENT, Status.FAILED):
            return "skipped"
        if notification.status == Status.SENDING:
            if notification.next_attempt_at > now:
                return "skipped"  # another worker holds the lease
            _log(notification, "retried", "the previous attempt was lost (worker stopped mid-send)")
        if notification.attempts >= settings.SIDE_EFFECT_MAX_ATTEMPTS:
            notification.status = Status.FAILED
            notification.last_error = notification.last_error or "worker lost during every attempt"
            notification.save(update_fields=["status", "last_error"])
            _log(notification, Status.FAILED, notification.last_error)
            return "failed"
        notification.status = Status.SENDING
        notification.attempts += 1
        notification.next_attempt_at = now + dt.timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS)
        notification.save(update_fields=["status", "attempts", "next_attempt_at"])
        _log(notification, Status.SENDING)
    try:
        provider_id = _deliver(notification)
    except Exception as exc:  # noqa: BLE001 - recorded, then retried with backoff or failed
        reason = f"{exc.__class__.__name__}: {exc}"[:2000]
        final = isinstance(exc, PermanentError) or notification.attempts >= settings.SIDE_EFFECT_MAX_ATTEMPTS
        with transaction.atomic():
            updated = Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(
                status=Status.FAILED if final else Status.QUEUED,
                last_error=reason,
                next_attempt_at=timezone.now() + backoff(notification.attempts),
            )
            if updated:
                _log(notification, Status.FAILED if final else "retry", reason)
        logger.warning("notification.%s id=%s error=%s", "failed" if final else "retry", notification.pk, reason)
        return "failed" if final else "retry"
    with transaction.atomic():
        Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(
            status=Status.SENT, sent_at=timezone.now(), provider_id=provider_id[:100], last_error=""
        )
        _log(notification, Status.SENT, provider_id)
    return "sent"


def notifications_sweep(*, now=None, limit: int | None = None) -> int:
    """Re-publish queued notifications whose time has come and sends whose lease has expired."""
    now = now or timezone.now()
    limit = limit or settings.SIDE_EFFECT_SWEEP_BATCH
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status__in=[Status.QUEUED, Status.SENDING], next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .values_list("pk", "status")[:limit]
        )
        queued = [pk for pk, status in rows if status == Status.QUEUED]
        # Queued rows wait one grace period before the next re-publication; a SENDING row keeps its
        # expired lease, which is what lets the next run send it.
        Notification.objects.filter(pk__in=queued).update(
            next_attempt_at=now + dt.timedelta(seconds=settings.SIDE_EFFECT_GRACE_SECONDS)
        )
    for pk, _status in rows:
        _publish(pk)
    return len(rows)


def notification_retry(*, notification: Notification) -> Notification:
    """Staff retry of a failed notification: queued again with a fresh attempt budget, same reference."""
    with transaction.atomic():
        updated = Notification.objects.filter(pk=notification.pk, status=Status.FAILED).update(
            status=Status.QUEUED, attempts=0, next_attempt_at=timezone.now()
        )
        if updated:
            notification.refresh_from_db()
            _log(notification, "retried", "retried by staff")
            transaction.on_commit(lambda: _publish(notification.pk))
    notification.refresh_from_db()
    return notification


def notification_preferences_set(*, user, email: bool, sms: bool) -> NotificationPreference:
    """The channels the person chooses (in-app always on)."""
    prefs, _created = NotificationPreference.objects.update_or_create(user=user, defaults={"email": email, "sms": sms})
    return prefs


def notification_mark_read(*, user, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the person's own in-app notifications read (all of them without ids)."""
    rows = Notification.objects.filter(recipient=user, channel=Channel.IN_APP, read_at__isnull=True)
    if notification_ids is not None:
        rows = rows.filter(pk__in=list(notification_ids))
    return rows.update(read_at=timezone.now())
