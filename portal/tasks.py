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
