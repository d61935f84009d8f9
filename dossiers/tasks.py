"""Workers' side of dossier side effects: thin, idempotent, re-driven by a sweeper."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .constants import STATE_EXPLANATIONS
from .models import SideEffect

logger = logging.getLogger("dossiers.tasks")


def _notify(effect: SideEffect) -> None:
    dossier = effect.dossier
    if not dossier.applicant_email:
        return
    subject = _("Hồ sơ %(code)s: %(state)s") % {
        "code": dossier.code or dossier.public_id,
        "state": dossier.get_state_display(),
    }
    body = str(STATE_EXPLANATIONS.get(dossier.state, ""))
    send_mail(subject, body, None, [dossier.applicant_email])


# Kinds without a handler yet (postal_shipment: the workers issue) stay pending for their handler.
HANDLERS = {"notify": _notify}


@shared_task(name="dossiers.run_side_effect", bind=True, max_retries=5, default_retry_delay=30)
def run_side_effect(self, effect_id: int) -> str:
    """Carry out one recorded side effect once. Safe to run twice: the row's status is the guard."""
    with transaction.atomic():
        effect = (
            SideEffect.objects.select_for_update(skip_locked=True)
            .select_related("dossier")
            .filter(pk=effect_id, status=SideEffect.Status.PENDING)
            .first()
        )
        if effect is None or effect.kind not in HANDLERS:
            return "skipped"
        effect.attempts += 1
        try:
            HANDLERS[effect.kind](effect)
        except OSError as exc:  # SMTP and network errors are transient
            effect.save(update_fields=["attempts"])
            raise self.retry(exc=exc) from exc
        effect.status = SideEffect.Status.DONE
        effect.done_at = timezone.now()
        effect.save(update_fields=["status", "done_at", "attempts"])
    return "done"


@shared_task(name="dossiers.sweep_side_effects")
def sweep_side_effects(older_than_seconds: int = 300) -> int:
    """Re-publish side effects still pending after a while (the broker may have been down)."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    ids = list(
        SideEffect.objects.filter(
            status=SideEffect.Status.PENDING, created_at__lt=cutoff, kind__in=list(HANDLERS)
        ).values_list("pk", flat=True)[:500]
    )
    for effect_id in ids:
        run_side_effect.delay(effect_id)
    return len(ids)


@shared_task(name="dossiers.report_late_consultations")
def report_late_consultations() -> int:
    """Flag consultations past their deadline to the head of the one-stop unit; each once."""
    from .services import consultations_report_late

    return consultations_report_late()
