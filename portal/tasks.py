from celery import shared_task
from django.db.models import F
from django.utils import timezone

from .models import WorkerHeartbeat


@shared_task(name="portal.tasks.record_heartbeat")
def record_heartbeat(name: str = "beat") -> str:
    """Record that a worker ran this task now. Idempotent in effect: it only moves a timestamp."""
    updated = WorkerHeartbeat.objects.filter(name=name).update(beat_at=timezone.now(), count=F("count") + 1)
    if not updated:
        WorkerHeartbeat.objects.get_or_create(name=name, defaults={"beat_at": timezone.now(), "count": 1})
    return name


@shared_task(name="portal.tasks.purge_rate_counters")
def purge_rate_counters() -> int:
    """Delete ended rate-limit windows. Idempotent: a second run finds nothing more to delete."""
    from .ratelimit import rate_counters_purge

    return rate_counters_purge()
