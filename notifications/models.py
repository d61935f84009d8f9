"""Notifications to citizens and officers: editable templates, one row per message, its delivery log.

A Notification is written in the transaction that decides it (the side effect's handler, the
deadline scan) with a unique `dedupe_key`, so a handler run twice never queues a message twice. Its
`reference` is fixed at creation and sent with every attempt (the e-mail's Message-ID, the SMS
provider's client reference), so a provider that deduplicates drops a repeat after a killed worker.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .constants import AlertLevel, Channel, Event, Status


class NotificationTemplate(models.Model):
    """The text of one event on one channel in one language; administrators edit it in /admin/.

    Subject and body are Django templates over a fixed context of the dossier's public fields
    (procedure, reference, link, appointment, items asked for, amount); the CCCD is never in it.
    """

    event = models.CharField(_("sự kiện"), max_length=30, choices=Event.choices)
    channel = models.CharField(_("kênh"), max_length=10, choices=Channel.choices)
    language = models.CharField(_("ngôn ngữ"), max_length=5, choices=settings.LANGUAGES, default="vi")
    subject = models.CharField(_("tiêu đề"), max_length=255, blank=True)
    body = models.TextField(_("nội dung"))
    is_active = models.BooleanField(_("đang dùng"), default=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)

    class Meta:
        verbose_name = _("mẫu thông báo")
        verbose_name_plural = _("mẫu thông báo")
        ordering = ["event", "channel", "language"]
        constraints = [
            models.UniqueConstraint(fields=["event", "channel", "language"], name="notificationtemplate_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} / {self.get_channel_display()} / {self.language}"


class NotificationPreference(models.Model):
    """The channels a person wants besides the Portal (in-app notifications are always kept)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notify_prefs")
    email = models.BooleanField(_("nhận qua thư điện tử"), default=True)
    sms = models.BooleanField(_("nhận qua tin nhắn SMS"), default=True)

    class Meta:
        verbose_name = _("lựa chọn nhận thông báo")
        verbose_name_plural = _("lựa chọn nhận thông báo")

    def __str__(self) -> str:
        return str(self.user)


def _reference() -> str:
    return uuid.uuid4().hex


class Notification(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    dossier = models.ForeignKey(
        "dossiers.Dossier", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    side_effect = models.ForeignKey(
        "dossiers.SideEffect", on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("người nhận"),
    )
    event = models.CharField(_("sự kiện"), max_length=30, choices=Event.choices)
    channel = models.CharField(_("kênh"), max_length=10, choices=Channel.choices)
    address = models.CharField(_("địa chỉ nhận"), max_length=255, blank=True)
    subject = models.CharField(_("tiêu đề"), max_length=255, blank=True)
    body = models.TextField(_("nội dung"))
    link = models.CharField(_("liên kết"), max_length=500, blank=True)
    status = models.CharField(_("trạng thái"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("số lần gửi"), default=0)
    next_attempt_at = models.DateTimeField(_("lần gửi tiếp theo"), default=timezone.now)
    last_error = models.TextField(_("lỗi gần nhất"), blank=True)
    # Unique per decision: the same side effect or alert never queues the same message twice.
    dedupe_key = models.CharField(max_length=200, unique=True)
    # Stable across retries: Message-ID of the e-mail, client reference of the SMS.
    reference = models.CharField(_("mã tham chiếu"), max_length=64, unique=True, default=_reference)
    provider_id = models.CharField(_("mã của nhà cung cấp"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("tạo lúc"), default=timezone.now)
    sent_at = models.DateTimeField(_("gửi lúc"), null=True, blank=True)
    read_at = models.DateTimeField(_("đã đọc lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("thông báo")
        verbose_name_plural = _("thông báo")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                name="notification_due_idx",
                condition=Q(status__in=["queued", "sending"]),
            ),
            models.Index(fields=["recipient", "channel", "-created_at"], name="notification_inbox_idx"),
            models.Index(fields=["status", "created_at"], name="notification_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} → {self.address or self.recipient_id} ({self.get_status_display()})"

    @property
    def message_id(self) -> str:
        return f"<{self.reference}@{settings.NOTIFICATION_MESSAGE_ID_DOMAIN}>"


class DeliveryLog(models.Model):
    """Append-only: each step of a notification's delivery (queued, sending, sent, failed, retried)."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="log")
    status = models.CharField(_("trạng thái"), max_length=10)
    attempt = models.PositiveSmallIntegerField(_("lần gửi"), default=0)
    detail = models.TextField(_("chi tiết"), blank=True)
    at = models.DateTimeField(_("thời điểm"), default=timezone.now)

    class Meta:
        verbose_name = _("nhật ký gửi")
        verbose_name_plural = _("nhật ký gửi")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.status} #{self.attempt}"


class SentAlert(models.Model):
    """A deadline alert already decided: at most one per dossier, step and level (the unique keys)."""

    dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.CASCADE, related_name="+")
    step = models.ForeignKey("dossiers.DossierStep", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    level = models.CharField(_("mức"), max_length=20, choices=AlertLevel.choices)
    due_at = models.DateTimeField(_("hạn"))
    created_at = models.DateTimeField(_("lúc"), default=timezone.now)

    class Meta:
        verbose_name = _("cảnh báo thời hạn đã gửi")
        verbose_name_plural = _("cảnh báo thời hạn đã gửi")
        constraints = [
            models.UniqueConstraint(
                fields=["dossier", "step", "level"], condition=Q(step__isnull=False), name="sentalert_step_once"
            ),
            models.UniqueConstraint(
                fields=["dossier", "level"], condition=Q(step__isnull=True), name="sentalert_dossier_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id}/{self.step_id}/{self.level}"


class SandboxSms(models.Model):
    """What the sandbox SMS provider "sent": the demo and the tests read the messages here."""

    to = models.CharField(max_length=20)
    text = models.TextField()
    client_reference = models.CharField(max_length=64, unique=True)
    provider_id = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tin nhắn thử nghiệm")
        verbose_name_plural = _("tin nhắn thử nghiệm")

    def __str__(self) -> str:
        return f"{self.to}: {self.text[:40]}"
