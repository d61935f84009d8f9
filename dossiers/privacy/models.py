"""Personal data records (Decree 13/2023/NĐ-CP; Law 91/2025/QH15): consents, views of personal data, purges.

Every table here is append-only: each row is evidence (of a consent given or refused, of who saw a
dossier's personal data, of a purge), so it is written once and never changed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .constants import AccessChannel, ConsentContext, Purpose


class AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"{type(self).__name__} rows are append-only")


class Consent(AppendOnly):
    """One answer of one person for one purpose, with the text version and the moment."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consents", verbose_name=_("người dùng")
    )
    dossier = models.ForeignKey(
        "dossiers.Dossier", on_delete=models.PROTECT, null=True, blank=True, related_name="consents"
    )
    purpose = models.CharField(_("mục đích"), max_length=20, choices=Purpose.choices)
    granted = models.BooleanField(_("đồng ý"))
    context = models.CharField(_("khi"), max_length=20, choices=ConsentContext.choices)
    text_version = models.CharField(_("phiên bản nội dung"), max_length=20)
    created_at = models.DateTimeField(_("thời điểm"), auto_now_add=True)

    class Meta:
        verbose_name = _("sự đồng ý xử lý dữ liệu cá nhân")
        verbose_name_plural = _("sự đồng ý xử lý dữ liệu cá nhân")
        indexes = [models.Index(fields=["user", "purpose", "-created_at"], name="consent_user_purpose")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()}: {'✓' if self.granted else '✗'}"


class PersonalDataAccess(AppendOnly):
    """Who opened a dossier's personal data, when, and through which channel."""

    dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.PROTECT, related_name="personal_data_accesses")
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("người xem")
    )
    channel = models.CharField(_("kênh"), max_length=10, choices=AccessChannel.choices)
    created_at = models.DateTimeField(_("thời điểm"), auto_now_add=True)

    class Meta:
        verbose_name = _("lượt xem dữ liệu cá nhân")
        verbose_name_plural = _("nhật ký xem dữ liệu cá nhân")
        indexes = [models.Index(fields=["dossier", "-created_at"], name="pdaccess_dossier_time")]

    def __str__(self) -> str:
        return f"{self.dossier_id} – {self.viewer_id}"


class DossierPurge(AppendOnly):
    """The personal data of one dossier was removed after its retention period (kept: the register facts)."""

    dossier = models.OneToOneField("dossiers.Dossier", on_delete=models.PROTECT, related_name="purge")
    retention_years = models.PositiveSmallIntegerField()
    files_removed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("thời điểm"), auto_now_add=True)

    class Meta:
        verbose_name = _("xóa dữ liệu hết hạn lưu trữ")
        verbose_name_plural = _("xóa dữ liệu hết hạn lưu trữ")

    def __str__(self) -> str:
        return f"{self.dossier_id} ({self.created_at:%Y-%m-%d})"
