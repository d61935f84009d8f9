"""Shipments by the public postal service (QĐ 45/2016/QĐ-TTg): results to the citizen, dossiers to us."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    RESULT = "result", _("Chuyển trả kết quả")
    SUBMISSION = "submission", _("Gửi hồ sơ đến cơ quan")


class ShipmentStatus(models.TextChoices):
    REQUESTED = "requested", _("Đã yêu cầu bưu chính")
    ACCEPTED = "accepted", _("Bưu chính đã nhận")
    IN_TRANSIT = "in_transit", _("Đang vận chuyển, đang phát")
    DELIVERED = "delivered", _("Đã phát thành công")
    RETURNED = "returned", _("Hoàn trả cơ quan")
    FAILED = "failed", _("Không thực hiện được")


TERMINAL = {ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED, ShipmentStatus.FAILED}
# A callback may only move a shipment forward: a late "in transit" never undoes "delivered".
RANK = {
    ShipmentStatus.REQUESTED: 0,
    ShipmentStatus.ACCEPTED: 1,
    ShipmentStatus.IN_TRANSIT: 2,
    ShipmentStatus.DELIVERED: 3,
    ShipmentStatus.RETURNED: 3,
    ShipmentStatus.FAILED: 3,
}


class Shipment(models.Model):
    dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.PROTECT, related_name="shipments")
    direction = models.CharField(_("chiều"), max_length=12, choices=Direction.choices)
    # Our order code, sent to the operator with every booking attempt: it books once per code.
    reference = models.CharField(_("mã đơn hàng"), max_length=40, unique=True)
    tracking_number = models.CharField(_("số hiệu bưu gửi"), max_length=20, blank=True)
    status = models.CharField(
        _("trạng thái"), max_length=12, choices=ShipmentStatus.choices, default=ShipmentStatus.REQUESTED
    )
    address = models.CharField(_("địa chỉ"), max_length=500)
    fee = models.BigIntegerField(_("cước (đồng)"), default=0)
    created_at = models.DateTimeField(_("tạo lúc"), default=timezone.now)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)

    class Meta:
        verbose_name = _("bưu gửi")
        verbose_name_plural = _("bưu gửi")
        constraints = [
            # The last line of defence against a retried booking: one shipment per dossier and direction.
            models.UniqueConstraint(fields=["dossier", "direction"], name="shipment_one_per_direction"),
            models.UniqueConstraint(
                fields=["tracking_number"], condition=~Q(tracking_number=""), name="shipment_tracking_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_number or self.reference


class ShipmentEvent(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    # The operator's id of the status event: a replayed callback is recognised and changes nothing.
    event_id = models.CharField(max_length=64)
    status = models.CharField(_("trạng thái"), max_length=12, choices=ShipmentStatus.choices)
    note = models.CharField(_("ghi chú"), max_length=500, blank=True)
    at = models.DateTimeField(_("thời điểm"))

    class Meta:
        verbose_name = _("diễn biến bưu gửi")
        verbose_name_plural = _("diễn biến bưu gửi")
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["shipment", "event_id"], name="shipmentevent_once")]

    def __str__(self) -> str:
        return f"{self.shipment}: {self.status}"


class SandboxPostalOrder(models.Model):
    """The sandbox operator's own book of orders (what VNPost would hold on its side)."""

    client_reference = models.CharField(max_length=40, unique=True)
    tracking_number = models.CharField(max_length=20, unique=True)
    address = models.CharField(max_length=500)
    recipient = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("đơn hàng bưu chính thử nghiệm")
        verbose_name_plural = _("đơn hàng bưu chính thử nghiệm")

    def __str__(self) -> str:
        return self.tracking_number
