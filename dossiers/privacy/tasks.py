"""Scheduled personal-data work: a thin task over the purge service (idempotent, safe to re-run)."""

from celery import shared_task

from . import services


@shared_task(name="privacy.purge_expired_dossiers")
def purge_expired_dossiers() -> int:
    """Strip personal data past its retention period; runs daily from beat, re-runs change nothing twice."""
    return services.dossiers_purge_expired()
