"""Payments of dossier fees, the gateway messages behind them, and refunds.

A Payment's state changes only in payments.services (django-fsm, protected field); each change
writes an append-only PaymentEvent. Every message exchanged with a gateway is stored as an
append-only PaymentMessage, so the province can prove every payment.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from .constants import (
    OPEN_STATES,
    MessageKind,
    Obligation,
    PaymentMethod,
    PaymentState,
    RefundState,
)

P = PaymentState


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("append-only")

    def delete(self):
        raise PermissionError("append-only")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("append-only")


class Payment(FSMModelMixin, models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    dossier = models.ForeignKey(
        "dossiers.Dossier", on_delete=models.PROTECT, related_name="payments", verbose_name=_("hồ sơ")
    )
    obligation = models.CharField(_("khoản thu"), max_length=20, choices=Obligation.choices, default=Obligation.FEE)
    # Denormalised from the dossier for the daily report per agency.
    agency = models.ForeignKey(
        "procedures.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("cơ quan thu")
    )
    provider = models.CharField(_("cổng thanh toán"), max_length=30)
    method = models.CharField(_("hình thức"), max_length=10, choices=PaymentMethod.choices)
    # The merchant order reference sent to the gateway (vnp_TxnRef): unique, ASCII, no personal data.
    reference = models.CharField(_("mã giao dịch"), max_length=34, unique=True)
    amount = models.BigIntegerField(_("số tiền (đồng)"))
    refunded_amount = models.BigIntegerField(_("đã hoàn trả (đồng)"), default=0)
    state = FSMField(_("trạng thái"), default=P.CREATED, choices=P.choices, protected=True)
    # Why the payment is in its state, in words an officer understands (gateway codes included).
    state_reason = models.CharField(_("lý do trạng thái"), max_length=500, blank=True)
    gateway_transaction_no = models.CharField(_("mã giao dịch tại cổng"), max_length=64, blank=True)
    bank_code = models.CharField(_("ngân hàng"), max_length=20, blank=True)
    receipt_number = models.CharField(_("số biên lai"), max_length=50, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)
    started_at = models.DateTimeField(_("chuyển sang cổng lúc"), null=True, blank=True)
    paid_at = models.DateTimeField(_("thanh toán lúc"), null=True, blank=True)
    expires_at = models.DateTimeField(_("hết hạn lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("giao dịch thanh toán")
        verbose_name_plural = _("giao dịch thanh toán")
        ordering = ["-created_at"]
        indexes = [
            # Reconciliation: payments pending at the gateway, oldest first.
            models.Index(fields=["state", "started_at"], name="payment_state_idx"),
            # Daily report per agency.
            models.Index(fields=["agency", "paid_at"], name="payment_agency_paid_idx"),
            models.Index(fields=["agency", "created_at"], name="payment_agency_created_idx"),
            models.Index(fields=["dossier", "-created_at"], name="payment_dossier_idx"),
        ]
        constraints = [
            # Retrying never makes a second charge: one open payment per dossier obligation.
            models.UniqueConstraint(
                fields=["dossier", "obligation"],
                condition=Q(state__in=[s.value for s in OPEN_STATES]),
                name="payment_one_open_per_obligation",
            ),
            models.UniqueConstraint(
                fields=["dossier", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="payment_idempotency_key_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="payment_refund_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.get_state_display()})"

    @property
    def refundable_amount(self) -> int:
        return self.amount - self.refunded_amount

    # django-fsm transitions: the graph only; payments.services does the work around them.

    @transition(field=state, source=P.CREATED, target=P.PENDING)
    def start(self):
        pass

    @transition(field=state, source=[P.CREATED, P.PENDING], target=P.PAID)
    def confirm(self):
        pass

    @transition(field=state, source=[P.CREATED, P.PENDING], target=P.FAILED)
    def fail(self):
        pass

    @transition(field=state, source=[P.CREATED, P.PENDING], target=P.EXPIRED)
    def expire(self):
        pass

    @transition(field=state, source=[P.PAID, P.PARTIALLY_REFUNDED], target=P.PARTIALLY_REFUNDED)
    def refund_partly(self):
        pass

    @transition(field=state, source=[P.PAID, P.PARTIALLY_REFUNDED], target=P.REFUNDED)
    def refund_fully(self):
        pass


class PaymentEvent(AppendOnlyModel):
    """The audit trail of a payment: who or what moved it, from which state to which, and why."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="events")
    from_state = models.CharField(_("từ trạng thái"), max_length=20, blank=True)
    to_state = models.CharField(_("sang trạng thái"), max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    source = models.CharField(_("nguồn"), max_length=30, help_text=_("ipn, reconciliation, counter, officer..."))
    note = models.CharField(_("ghi chú"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("thời điểm"), auto_now_add=True)

    class Meta(AppendOnlyModel.Meta):
        verbose_name = _("nhật ký thanh toán")
        verbose_name_plural = _("nhật ký thanh toán")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class PaymentMessage(AppendOnlyModel):
    """A message exchanged with a gateway, verbatim (secrets and checksums are not secrets)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="messages", null=True, blank=True)
    provider = models.CharField(_("cổng thanh toán"), max_length=30)
    kind = models.CharField(_("loại"), max_length=20, choices=MessageKind.choices)
    # The order reference as the message named it (also for messages of unknown orders).
    reference = models.CharField(max_length=64, blank=True, db_index=True)
    request = models.JSONField(_("nội dung gửi/nhận"), default=dict, blank=True)
    response = models.JSONField(_("phản hồi"), default=dict, blank=True)
    verified = models.BooleanField(_("chữ ký hợp lệ"), null=True)
    outcome = models.CharField(_("kết quả"), max_length=30, blank=True)
    created_at = models.DateTimeField(_("thời điểm"), auto_now_add=True)

    class Meta(AppendOnlyModel.Meta):
        verbose_name = _("thông điệp cổng thanh toán")
        verbose_name_plural = _("thông điệp cổng thanh toán")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} {self.reference}"


class Refund(models.Model):
    """A refund asked by an officer, approved by a leader other than that officer, sent through the gateway."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField(_("số tiền hoàn (đồng)"))
    reason = models.CharField(_("lý do"), max_length=500)
    state = models.CharField(_("trạng thái"), max_length=20, choices=RefundState.choices, default=RefundState.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("người đề nghị")
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("người duyệt"),
    )
    gateway_reference = models.CharField(_("mã hoàn tiền tại cổng"), max_length=64, blank=True)
    state_reason = models.CharField(_("lý do trạng thái"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("đề nghị lúc"), auto_now_add=True)
    decided_at = models.DateTimeField(_("duyệt lúc"), null=True, blank=True)
    completed_at = models.DateTimeField(_("hoàn trả lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("hoàn trả phí, lệ phí")
        verbose_name_plural = _("hoàn trả phí, lệ phí")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            # Segregation of duties (ASVS 4.3.3): who asks does not approve.
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("requested_by")),
                name="refund_approver_is_not_requester",
            ),
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(state__in=[RefundState.REQUESTED, RefundState.APPROVED]),
                name="refund_one_open_per_payment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment.reference}: {self.amount:,} đ ({self.get_state_display()})"


class SandboxTransaction(models.Model):
    """The sandbox gateway's own books: what it would know at VNPay, answered by its query API."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Chờ thanh toán")
        SUCCESS = "success", _("Thành công")
        DECLINED = "declined", _("Bị từ chối")
        REFUNDED = "refunded", _("Đã hoàn")

    reference = models.CharField(max_length=34, unique=True)
    amount = models.BigIntegerField()
    refunded = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    transaction_no = models.CharField(max_length=20, blank=True)
    params = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("giao dịch cổng thử nghiệm")
        verbose_name_plural = _("giao dịch cổng thử nghiệm")

    def __str__(self) -> str:
        return self.reference


class PaymentReport(models.Model):
    """The daily report of one agency (payments.services.payments_daily_report), kept as built."""

    agency = models.ForeignKey("procedures.Agency", on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("ngày"))
    data = models.JSONField(_("nội dung"))
    created_at = models.DateTimeField(_("lập lúc"), auto_now=True)

    class Meta:
        verbose_name = _("báo cáo đối soát")
        verbose_name_plural = _("báo cáo đối soát")
        ordering = ["-day", "agency"]
        constraints = [models.UniqueConstraint(fields=["agency", "day"], name="paymentreport_unique")]

    def __str__(self) -> str:
        return f"{self.agency} {self.day}"
