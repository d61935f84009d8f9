from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SandboxNationalRecord(models.Model):
    """What the sandbox national portal received (DongBoHoSoMC / CapNhatTienDoHoSoMC), one per message."""

    service = models.CharField(max_length=30)
    ma_ho_so = models.CharField(max_length=64, db_index=True)
    # Our message id: the sandbox, like the national portal, keeps one record per id.
    message_id = models.CharField(max_length=64, unique=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("bản ghi Cổng quốc gia thử nghiệm")
        verbose_name_plural = _("bản ghi Cổng quốc gia thử nghiệm")

    def __str__(self) -> str:
        return f"{self.service} {self.ma_ho_so}"


class NationalComparison(models.Model):
    """The daily comparison of what the national portal holds against ours."""

    day = models.DateField(unique=True)
    ours = models.PositiveIntegerField(default=0)
    theirs = models.PositiveIntegerField(default=0)
    missing = models.JSONField(default=list, blank=True)
    mismatched = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("đối soát Cổng quốc gia")
        verbose_name_plural = _("đối soát Cổng quốc gia")

    def __str__(self) -> str:
        return str(self.day)


class NationalInbound(models.Model):
    """A dossier that came from the national portal: its id there, once (the channel is recorded here)."""

    national_id = models.CharField(_("mã hồ sơ trên Cổng quốc gia"), max_length=64, unique=True)
    dossier = models.OneToOneField("dossiers.Dossier", on_delete=models.PROTECT, related_name="national_inbound")
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("hồ sơ từ Cổng quốc gia")
        verbose_name_plural = _("hồ sơ từ Cổng quốc gia")

    def __str__(self) -> str:
        return self.national_id


class SandboxNationalFiling(models.Model):
    """A dossier a citizen filed on the sandbox national portal, waiting for us to take it."""

    national_id = models.CharField(max_length=64, unique=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    our_code = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("hồ sơ nộp trên Cổng quốc gia thử nghiệm")
        verbose_name_plural = _("hồ sơ nộp trên Cổng quốc gia thử nghiệm")

    def __str__(self) -> str:
        return self.national_id
