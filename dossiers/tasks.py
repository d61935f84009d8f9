"""Workers' side of dossier side effects: thin, idempotent, re-driven by a sweeper.

Guarantees (docs/reliability.md): the SideEffect row is the source of truth. A run first claims an
attempt in a committed transaction (so attempts count even if the worker is killed), then runs the
handler under the row's lock and marks it done in the same transaction as the handler's writes.
Two deliveries of one message serialise on that lock; the second finds the row done and skips.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import SideEffect
from .side_effects import HANDLERS, PermanentError, backoff, register

logger = logging.getLogger("dossiers.tasks")


@register("issue_form")
def _issue_form(effect: SideEffect) -> None:
    """A form of an action (Form 01 of a reception), rendered after the action committed."""
    from .services import run_recorded_form

    run_recorded_form(effect)


def _claim(effect_id: int) -> SideEffect | None:
    """Count an attempt and push the next sweep past it; None when there is nothing to do."""
    with transaction.atomic():
        effect = SideEffect.objects.select_for_update(skip_locked=True).filter(pk=effect_id).first()
        if effect is None or effect.status != SideEffect.Status.PENDING:
            return None
        now = timezone.now()
        if effect.kind not in HANDLERS:
            effect.status = SideEffect.Status.FAILED
            effect.last_error = f"no handler for kind {effect.kind!r}"
            effect.save(update_fields=["status", "last_error"])
            logger.error("side_effect.no_handler id=%s kind=%s", effect.pk, effect.kind)
            return None
        if effect.attempts >= settings.SIDE_EFFECT_MAX_ATTEMPTS:
            # The previous attempts died without recording a result (killed worker): give up.
            effect.status = SideEffect.Status.FAILED
            effect.last_error = effect.last_error or "worker lost during every attempt"
            effect.save(update_fields=["status", "last_error"])
            return None
        effect.attempts += 1
        effect.next_attempt_at = now + backoff(effect.attempts)
        effect.save(update_fields=["attempts", "next_attempt_at"])
        return effect


def side_effect_run(effect_id: int) -> str:
    """Carry out one side effect at most once; "done", "retry", "failed" or "skipped"."""
    if _claim(effect_id) is None:
        return "skipped"
    try:
        with transaction.atomic():
            # of=("self",): lock the effect only; an action may hold the dossier row right now.
            effect = SideEffect.objects.select_for_update(of=("self",)).select_related("dossier").get(pk=effect_id)
            if effect.status != SideEffect.Status.PENDING:
                return "skipped"
            HANDLERS[effect.kind](effect)
            effect.status = SideEffect.Status.DONE
            effect.done_at = timezone.now()
            effect.last_error = ""
            effect.save(update_fields=["status", "done_at", "last_error"])
        return "done"
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row, then retried or failed
        reason = f"{exc.__class__.__name__}: {exc}"[:2000]
        effect = SideEffect.objects.get(pk=effect_id)
        final = isinstance(exc, PermanentError) or effect.attempts >= settings.SIDE_EFFECT_MAX_ATTEMPTS
        SideEffect.objects.filter(pk=effect_id, status=SideEffect.Status.PENDING).update(
            status=SideEffect.Status.FAILED if final else SideEffect.Status.PENDING, last_error=reason
        )
        logger.warning(
            "side_effect.%s id=%s kind=%s error=%s", "failed" if final else "retry", effect_id, effect.kind, reason
        )
        return "failed" if final else "retry"


@shared_task(name="dossiers.run_side_effect")
def run_side_effect(effect_id: int) -> str:
    """Carry out one recorded side effect once. Safe to deliver twice: the row's status is the guard.

    No Celery retry with a countdown: a countdown longer than Redis's visibility_timeout would be
    delivered twice. The row's next_attempt_at carries the backoff and the sweeper re-publishes.
    """
    return side_effect_run(effect_id)


def side_effect_retry(*, effect: SideEffect) -> SideEffect:
    """Staff retry of a failed side effect: pending again, attempts reset, published at once."""
    with transaction.atomic():
        updated = SideEffect.objects.filter(pk=effect.pk, status=SideEffect.Status.FAILED).update(
            status=SideEffect.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        if updated:
            transaction.on_commit(lambda: _publish(effect.pk))
    effect.refresh_from_db()
    return effect


def _publish(effect_id: int) -> None:
    try:
        run_side_effect.delay(effect_id)
    except Exception:  # noqa: BLE001 - the sweeper will publish it
        logger.warning("side_effect.publish_failed id=%s", effect_id)


def side_effects_sweep(*, now=None, limit: int | None = None) -> int:
    """Re-publish pending side effects whose time has come, oldest first, at most `limit` a run.

    Each taken row's next_attempt_at moves one grace period on, so the next run does not publish it
    again while its message waits in the queue. Rows locked by a running worker are stepped over.
    """
    now = now or timezone.now()
    limit = limit or settings.SIDE_EFFECT_SWEEP_BATCH
    with transaction.atomic():
        ids = list(
            SideEffect.objects.select_for_update(skip_locked=True)
            .filter(status=SideEffect.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        SideEffect.objects.filter(pk__in=ids).update(
            next_attempt_at=now + timezone.timedelta(seconds=settings.SIDE_EFFECT_GRACE_SECONDS)
        )
    for effect_id in ids:
        _publish(effect_id)
    return len(ids)


@shared_task(name="dossiers.sweep_side_effects")
def sweep_side_effects(older_than_seconds: int | None = None) -> int:
    """Beat task: re-publish side effects (and notifications) whose message may have been lost."""
    count = side_effects_sweep()
    from notifications.services import notifications_sweep

    return count + notifications_sweep()


@shared_task(name="dossiers.report_late_consultations")
def report_late_consultations() -> int:
    """Flag consultations past their deadline to the head of the one-stop unit; each once."""
    from .services import consultations_report_late

    return consultations_report_late()
