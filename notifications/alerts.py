"""Deadline alerts to officers: due soon, overdue, the apology prompt, and a daily digest per agency.

The selector finds what is due and not yet sent; each alert is then recorded in SentAlert (unique
per dossier, step and level) in the same transaction as its notifications, so a scan run twice,
or two scans at once, alert once.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import IntegrityError, transaction
from django.utils import timezone

from dossiers.models import Dossier
from portal.accounts.constants import Role
from procedures.models import Agency

from .constants import AlertLevel, Event
from .models import SentAlert
from .selectors import DueAlert, agency_deadline_counts, alerts_due
from .services import _officers_of, notifications_queue

logger = logging.getLogger("notifications.alerts")

EVENT_OF = {
    AlertLevel.DUE_SOON: Event.DUE_SOON,
    AlertLevel.OVERDUE: Event.OVERDUE,
    AlertLevel.APOLOGY_PROMPT: Event.APOLOGY_PROMPT,
}


def _recipients(alert: DueAlert, dossier: Dossier) -> list:
    from portal.accounts.models import User

    people: dict[int, object] = {}
    assignee = alert.assignee_id
    if assignee:
        people[assignee] = User.objects.get(pk=assignee)
    elif alert.step_id and alert.role:
        # Nobody picked the step up yet: whoever holds that role at that agency.
        people.update({u.pk: u for u in _officers_of(alert.agency_id, alert.role)})
    if alert.level != AlertLevel.DUE_SOON or not people:
        # Overdue and the apology prompt also go to the agency's leaders (they sign Form 04).
        people.update({u.pk: u for u in _officers_of(alert.agency_id, Role.LEADER)})
    return list(people.values())


def alert_send(*, alert: DueAlert) -> SentAlert | None:
    """Record one alert and queue its notifications; None if it was already sent."""
    try:
        with transaction.atomic():
            sent = SentAlert.objects.create(
                dossier_id=alert.dossier_id, step_id=alert.step_id, level=alert.level, due_at=alert.due_at
            )
            dossier = Dossier.objects.select_related("procedure", "agency").get(pk=alert.dossier_id)
            notifications_queue(
                dossier=dossier,
                event=EVENT_OF[alert.level],
                key=f"alert{sent.pk}",
                recipients=_recipients(alert, dossier),
                extra={"due": timezone.localtime(alert.due_at).strftime("%H:%M %d/%m/%Y")},
            )
    except IntegrityError:
        return None
    return sent


def deadlines_scan(*, now=None) -> int:
    """Send every due alert not yet sent; the number sent."""
    now = now or timezone.now()
    return sum(alert_send(alert=alert) is not None for alert in alerts_due(now))


@shared_task(name="notifications.scan_deadlines")
def scan_deadlines() -> int:
    return deadlines_scan()


def digest_send(*, now=None) -> int:
    """One in-app and e-mail digest per agency with dossiers due soon or overdue, to its leaders, once a day."""
    from .models import Notification

    now = now or timezone.now()
    day = timezone.localtime(now).date().isoformat()
    count = 0
    for agency_id, numbers in agency_deadline_counts(now).items():
        agency = Agency.objects.get(pk=agency_id)
        for leader in _officers_of(agency_id, Role.LEADER):
            from .services import _targets, render

            for channel, address in _targets(None, leader, True):
                subject, body = render(Event.DIGEST, channel, "vi", {"agency": agency.name, **numbers, "link": ""})
                _n, new = Notification.objects.get_or_create(
                    dedupe_key=f"digest:{agency_id}:{day}:{channel}:{leader.pk}",
                    defaults={
                        "recipient": leader,
                        "event": Event.DIGEST,
                        "channel": channel,
                        "address": address,
                        "subject": subject,
                        "body": body,
                        "status": "sent" if channel == "in_app" else "queued",
                        "sent_at": now if channel == "in_app" else None,
                    },
                )
                count += new
    return count


@shared_task(name="notifications.daily_digest")
def daily_digest() -> int:
    return digest_send()
