"""Thin, idempotent tasks: they pass ids or nothing, re-read the database and call services."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger("payments")


@shared_task(name="payments.reconcile_pending")
def reconcile_pending() -> dict:
    """Beat, every 5 minutes: settle payments pending at the gateway longer than N minutes."""
    from .services import payments_reconcile_pending

    counts = payments_reconcile_pending()
    logger.info("payments.reconciled counts=%s", counts)
    return counts


@shared_task(name="payments.build_daily_reports")
def build_daily_reports(day: str | None = None) -> int:
    """Beat, daily: yesterday's report for every agency that had payments (rebuilt if run again)."""
    from .models import Payment, PaymentReport
    from .services import payments_daily_report

    target = dt.date.fromisoformat(day) if day else timezone.localdate() - dt.timedelta(days=1)
    start = timezone.make_aware(dt.datetime.combine(target, dt.time.min))
    end = start + dt.timedelta(days=1)
    agencies = (
        Payment.objects.filter(created_at__gte=start - dt.timedelta(days=1), created_at__lt=end)
        .values_list("agency", flat=True)
        .distinct()
    )
    from procedures.models import Agency

    count = 0
    for agency in Agency.objects.filter(pk__in=list(agencies)):
        data = payments_daily_report(agency=agency, day=target)
        PaymentReport.objects.update_or_create(agency=agency, day=target, defaults={"data": data})
        count += 1
    return count


@shared_task(name="payments.sandbox_deliver_ipn", acks_late=True)
def sandbox_deliver_ipn(params: dict) -> dict:
    """The sandbox gateway's delayed notification, delivered like VNPay's (signed, to the IPN handler)."""
    from .services import payment_handle_notification

    return payment_handle_notification(provider_name="sandbox", params=params)
