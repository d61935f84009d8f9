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


class RateCounter(models.Model):
    """One fixed-window request counter of a rate limit (portal/ratelimit.py).

    Counted by one atomic upsert per request. On PostgreSQL the table is UNLOGGED (migration 0003):
    a count writes no WAL and its commit waits for no disk flush; a crash empties the table, which
    only restarts the windows.
    """

    key = models.CharField(_("khóa"), max_length=200, primary_key=True)
    # Unix seconds at which the current window ends and the count starts again from one.
    window_ends = models.BigIntegerField(_("hết cửa sổ lúc"))
    count = models.PositiveIntegerField(_("số lượt"), default=0)

    class Meta:
        verbose_name = _("bộ đếm giới hạn truy cập")
        verbose_name_plural = _("bộ đếm giới hạn truy cập")
        indexes = [models.Index(fields=["window_ends"], name="ratecounter_window_ends")]

    def __str__(self) -> str:
        return self.key
