from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """Written by a Celery task: proves that beat schedules and a worker executes."""

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField(_("lần cuối"))
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("nhịp tác vụ nền")
        verbose_name_plural = _("nhịp tác vụ nền")

    def __str__(self) -> str:
        return self.name
