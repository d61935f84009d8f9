"""Beat's scheduler: periodic tasks in the database, editable by administrators in /admin/.

django-celery-beat's DatabaseScheduler writes every CELERY_BEAT_SCHEDULE entry over its row at
each start, which would undo an administrator's change at the next restart. Ours creates only the
entries that have no row yet: the settings are the defaults, the database is what runs.
"""

from __future__ import annotations

from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler


def missing_entries(mapping: dict) -> dict:
    """The entries of `mapping` that have no PeriodicTask row yet."""
    existing = set(PeriodicTask.objects.filter(name__in=list(mapping)).values_list("name", flat=True))
    return {name: entry for name, entry in mapping.items() if name not in existing}


class PortalScheduler(DatabaseScheduler):
    def update_from_dict(self, mapping):
        super().update_from_dict(missing_entries(mapping))
