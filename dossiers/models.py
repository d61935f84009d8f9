"""Dossiers (hồ sơ thủ tục hành chính) and everything recorded about them.

State changes happen only in dossiers.services: each locks the row, checks the transition with
django-fsm, writes an append-only DossierEvent and schedules side effects on commit. The state
field is protected so that no other code can assign it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from procedures.models import Agency, ProcedureVersion

from .constants import (
    Action,
    AppointmentKind,
    Channel,
    DossierState,
    FileKind,
    FormNumber,
    PauseReason,
    ResultChannel,
    SupplementStage,
)

S = DossierState
RECEPTION_STAGE = [S.SUBMITTED]
ACTIVE_AFTER_RECEPTION = [S.RECEIVED, S.AWAITING_PAYMENT, S.IN_PROCESSING, S.AWAITING_APPROVAL]


def _upload_path(instance, filename: str) -> str:
    # The citizen's file name is never used as a path (ASVS 12.3.1): a random name is.
    return f"dossiers/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Dossier(FSMModelMixin, models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("mã hồ sơ"), max_length=64, unique=True, null=True, blank=True)
    procedure_version = models.ForeignKey(
        ProcedureVersion, on_delete=models.PROTECT, related_name="dossiers", verbose_name=_("thủ tục (phiên bản)")
    )
    # Denormalised from the version for queue filters at a million rows.
    procedure = models.ForeignKey(
        "procedures.Procedure", on_delete=models.PROTECT, related_name="dossiers", verbose_name=_("thủ tục")
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="dossiers", verbose_name=_("cơ quan giải quyết")
    )
    receiving_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="received_dossiers",
        null=True,
        blank=True,
        verbose_name=_("nơi tiếp nhận"),
    )
    state = FSMField(_("trạng thái"), default=S.DRAFT, choices=S.choices, protected=True, db_index=True)
    # Optimistic concurrency: a form carries the version it was rendered with.
    version = models.PositiveIntegerField(default=0)
    rule_set = models.CharField(_("bộ quy định áp dụng"), max_length=40, blank=True)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="dossiers",
        null=True,
        blank=True,
        verbose_name=_("chủ hồ sơ"),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="dossiers_submitted",
        null=True,
        blank=True,
        verbose_name=_("người nộp thay"),
    )
    applicant_name = models.CharField(_("họ tên người nộp"), max_length=255, blank=True)
    applicant_id_number = models.CharField(_("số định danh"), max_length=20, blank=True, db_index=True)
    applicant_phone = models.CharField(_("số điện thoại"), max_length=20, blank=True)
    applicant_email = models.EmailField(_("thư điện tử"), blank=True)
    applicant_address = models.CharField(_("địa chỉ"), max_length=500, blank=True)
    answers = models.JSONField(_("nội dung tờ khai"), default=dict, blank=True)
    summary = models.CharField(_("trích yếu"), max_length=500, blank=True)

    channel_in = models.CharField(_("hình thức nộp"), max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    channel_out = models.CharField(
        _("hình thức nhận kết quả"), max_length=10, choices=ResultChannel.choices, default=ResultChannel.DOWNLOAD
    )
    postal_address = models.CharField(_("địa chỉ nhận kết quả qua bưu chính"), max_length=500, blank=True)

    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)
    submitted_at = models.DateTimeField(_("nộp lúc"), null=True, blank=True)
    received_at = models.DateTimeField(_("tiếp nhận lúc"), null=True, blank=True)
    # When the clock last (re)started: reception, or the completed supplement after appraisal.
    clock_started_at = models.DateTimeField(_("bắt đầu tính thời hạn"), null=True, blank=True)
    original_due_at = models.DateTimeField(_("hẹn trả ban đầu"), null=True, blank=True)
    current_due_at = models.DateTimeField(_("hẹn trả hiện tại"), null=True, blank=True)
    completed_at = models.DateTimeField(_("giải quyết xong lúc"), null=True, blank=True)
    returned_at = models.DateTimeField(_("trả kết quả lúc"), null=True, blank=True)
    closed_at = models.DateTimeField(_("kết thúc lúc"), null=True, blank=True)
    # The timing of record: against the appointment the citizen was given (original_due_at), as
    # Circular 01/2018 index 1 scores it, even when an apology moved the date.
    timing = models.CharField(_("kết quả về thời hạn"), max_length=10, blank=True)
    # Whether the date set by the apology (current_due_at) was met; empty without an apology.
    rescheduled_timing = models.CharField(_("kết quả so với ngày hẹn lại"), max_length=10, blank=True)
    apologised = models.BooleanField(_("đã xin lỗi, hẹn lại"), default=False)
    # Entry in the receiving unit's register (Sổ theo dõi hồ sơ): numbered continuously from 01
    # through the year (Circular 01/2018 Art 10), printed on Form 01 and Form 07 alike.
    register_book = models.PositiveSmallIntegerField(_("quyển số"), null=True, blank=True)
    register_number = models.PositiveIntegerField(_("số thứ tự trong sổ"), null=True, blank=True)
    # The applicant's request to stop (Decree 118/2025 Art 21): when and how it arrived.
    stop_requested_at = models.DateTimeField(_("đề nghị dừng lúc"), null=True, blank=True)
    stop_request_channel = models.CharField(
        _("hình thức đề nghị dừng"), max_length=10, choices=Channel.choices, blank=True
    )
    stop_request_reason = models.TextField(_("nội dung đề nghị dừng"), blank=True)

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assigned_dossiers",
        null=True,
        blank=True,
        verbose_name=_("cán bộ xử lý"),
    )
    current_step = models.ForeignKey(
        "DossierStep",
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("bước hiện tại"),
    )
    supplement_stage = models.CharField(max_length=10, choices=SupplementStage.choices, blank=True)
    supplement_note = models.TextField(_("nội dung yêu cầu bổ sung"), blank=True)
    decision_note = models.TextField(_("lý do từ chối, dừng"), blank=True)
    fee_total = models.BigIntegerField(_("tổng phí, lệ phí"), default=0)
    fee_paid_at = models.DateTimeField(_("nộp phí lúc"), null=True, blank=True)
    is_fully_online = models.BooleanField(_("xử lý trực tuyến toàn trình"), default=False)

    class Meta:
        verbose_name = _("hồ sơ")
        verbose_name_plural = _("hồ sơ")
        ordering = ["-created_at"]
        indexes = [
            # Officer queues: an agency's dossiers in a state, nearest deadline first (keyset on id).
            models.Index(fields=["agency", "state", "current_due_at", "id"], name="dossier_queue_idx"),
            models.Index(fields=["assignee", "state", "current_due_at", "id"], name="dossier_assignee_idx"),
            models.Index(fields=["owner", "-created_at"], name="dossier_owner_idx"),
            models.Index(fields=["agency", "received_at"], name="dossier_register_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(fee_total__gte=0), name="dossier_fee_total_not_negative"),
            models.CheckConstraint(
                condition=~Q(channel_out=ResultChannel.POSTAL) | ~Q(postal_address=""),
                name="dossier_postal_needs_address",
            ),
        ]

    def __str__(self) -> str:
        return self.code or f"#{self.pk} ({self.get_state_display()})"

    @property
    def snapshot(self) -> dict:
        return self.procedure_version.snapshot

    @property
    def is_overdue(self) -> bool:
        """Past its due time while the agency holds it (the queues' "Quá hạn" tab)."""
        running = (S.RECEIVED, S.IN_PROCESSING, S.AWAITING_APPROVAL)
        return self.state in running and self.current_due_at is not None and timezone.now() > self.current_due_at

    # django-fsm transitions: the graph only. Services do the work around them.

    @transition(field=state, source=S.DRAFT, target=S.SUBMITTED)
    def submit(self):
        pass

    @transition(field=state, source=RECEPTION_STAGE, target=S.RECEIVED)
    def receive(self):
        pass

    @transition(field=state, source=[*RECEPTION_STAGE, S.IN_PROCESSING], target=S.SUPPLEMENT_REQUESTED)
    def request_supplement(self):
        pass

    @transition(field=state, source=S.SUPPLEMENT_REQUESTED, target=S.SUBMITTED)
    def supplement_at_reception(self):
        pass

    @transition(field=state, source=S.SUPPLEMENT_REQUESTED, target=S.IN_PROCESSING)
    def supplement_after_appraisal(self):
        pass

    @transition(field=state, source=RECEPTION_STAGE, target=S.REFUSED_AT_RECEPTION)
    def refuse_at_reception(self):
        pass

    @transition(field=state, source=S.RECEIVED, target=S.AWAITING_PAYMENT)
    def wait_for_payment(self):
        pass

    @transition(field=state, source=S.AWAITING_PAYMENT, target=S.RECEIVED)
    def payment_received(self):
        pass

    @transition(field=state, source=[S.RECEIVED, S.IN_PROCESSING], target=S.IN_PROCESSING)
    def assign(self):
        pass

    @transition(field=state, source=S.IN_PROCESSING, target=S.IN_PROCESSING)
    def forward(self):
        pass

    @transition(field=state, source=S.IN_PROCESSING, target=S.AWAITING_APPROVAL)
    def submit_for_approval(self):
        pass

    @transition(field=state, source=S.AWAITING_APPROVAL, target=S.IN_PROCESSING)
    def send_back(self):
        pass

    @transition(field=state, source=S.AWAITING_APPROVAL, target=S.RESULT_READY)
    def approve(self):
        pass

    @transition(field=state, source=[S.IN_PROCESSING, S.AWAITING_APPROVAL], target=S.REFUSED_AFTER_APPRAISAL)
    def refuse_after_appraisal(self):
        pass

    @transition(field=state, source=S.RESULT_READY, target=S.RETURNED)
    def return_result(self):
        pass

    @transition(field=state, source=[*ACTIVE_AFTER_RECEPTION, S.SUPPLEMENT_REQUESTED], target=S.STOPPED)
    def stop(self):
        pass

    @transition(field=state, source=[S.DRAFT, S.SUBMITTED, S.SUPPLEMENT_REQUESTED], target=S.WITHDRAWN)
    def withdraw(self):
        pass


class DossierStep(models.Model):
    """One step of processing: who, where, from when, due when, done when, early / on time / late."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("thứ tự"))
    name = models.CharField(_("nội dung"), max_length=255)
    role = models.CharField(_("vai trò"), max_length=20)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("cơ quan"))
    duration_days = models.DecimalField(_("thời gian (ngày làm việc)"), max_digits=5, decimal_places=1)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người thực hiện"),
    )
    started_at = models.DateTimeField(_("nhận lúc"), null=True, blank=True)
    due_at = models.DateTimeField(_("hạn xử lý"), null=True, blank=True)
    completed_at = models.DateTimeField(_("hoàn thành lúc"), null=True, blank=True)
    timing = models.CharField(_("kết quả về thời hạn"), max_length=10, blank=True)
    # Inter-agency (liên thông) steps with the same order run in parallel.
    is_parallel = models.BooleanField(_("xử lý song song"), default=False)

    class Meta:
        verbose_name = _("bước xử lý hồ sơ")
        verbose_name_plural = _("các bước xử lý hồ sơ")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class DossierPause(models.Model):
    """An interval during which the clock did not run for the applicant's sake (stored either way)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="pauses")
    reason = models.CharField(_("lý do"), max_length=20, choices=PauseReason.choices)
    started_at = models.DateTimeField(_("từ"))
    ended_at = models.DateTimeField(_("đến"), null=True, blank=True)

    class Meta:
        verbose_name = _("tạm dừng tính thời hạn")
        verbose_name_plural = _("tạm dừng tính thời hạn")
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(fields=["dossier"], condition=Q(ended_at__isnull=True), name="one_open_pause")
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.started_at:%d/%m/%Y})"


class DossierFee(models.Model):
    """A fee line frozen on the dossier at submission: later price changes do not touch it."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="fees")
    kind = models.CharField(_("loại"), max_length=10)
    name = models.CharField(_("nội dung"), max_length=255)
    amount = models.BigIntegerField(_("số tiền (đồng)"))

    class Meta:
        verbose_name = _("phí, lệ phí của hồ sơ")
        verbose_name_plural = _("phí, lệ phí của hồ sơ")
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="dossierfee_amount_not_negative")]

    def __str__(self) -> str:
        return f"{self.name}: {self.amount:,} đ"


class DossierFile(models.Model):
    """An uploaded or generated file; stored under a random name outside the web root."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(_("loại"), max_length=20, choices=FileKind.choices)
    # The required document (its id in the procedure version's snapshot) this file answers.
    requirement_id = models.PositiveIntegerField(null=True, blank=True)
    requirement_name = models.CharField(_("thành phần hồ sơ"), max_length=500, blank=True)
    form_number = models.CharField(max_length=2, choices=FormNumber.choices, blank=True)
    file = models.FileField(upload_to=_upload_path, max_length=255)
    original_name = models.CharField(_("tên tệp"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Files superseded by a supplement stay for the record but are no longer current.
    is_current = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("tệp của hồ sơ")
        verbose_name_plural = _("tệp của hồ sơ")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["dossier", "kind"], name="dossierfile_kind_idx")]

    def __str__(self) -> str:
        return self.original_name


class DossierEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("audit events are append-only")

    def delete(self):
        raise PermissionError("audit events are append-only")


class DossierEvent(models.Model):
    """The audit trail: who did what, when, from which state to which, and why. Append-only."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("thao tác"), max_length=30, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("người thực hiện")
    )
    actor_name = models.CharField(_("tên người thực hiện"), max_length=255, blank=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    from_state = models.CharField(_("từ trạng thái"), max_length=30, blank=True)
    to_state = models.CharField(_("sang trạng thái"), max_length=30, blank=True)
    note = models.TextField(_("ghi chú"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    attachments = models.ManyToManyField(DossierFile, blank=True, related_name="events")
    created_at = models.DateTimeField(_("thời điểm"), default=timezone.now, db_index=True)

    objects = DossierEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("nhật ký xử lý")
        verbose_name_plural = _("nhật ký xử lý")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} – {self.created_at:%d/%m/%Y %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit events are append-only")


@receiver(m2m_changed, sender=DossierEvent.attachments.through)
def _attachments_are_append_only(sender, instance, action, reverse, **kwargs):
    """An audit event keeps the forms it issued: attachments may be added, never removed."""
    if action in ("pre_remove", "pre_clear"):
        raise PermissionError("audit events are append-only")


class DossierCodeSequence(models.Model):
    """The last sequence number given to a receiving agency on a day (Circular 01/2018 Art 19)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "day"], name="dossiercode_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.day}: {self.last}"


class DossierRegisterSequence(models.Model):
    """The last register number of a receiving unit in a year (Circular 01/2018 Art 10: from 01, continuous)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "year"], name="dossier_register_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.year}: {self.last}"


class DossierAppointment(models.Model):
    """An appointment date given to the applicant, with the form that gave it. Append-only: a restart
    or an apology adds a row beside the earlier ones (Decree 61/2018 Art 19(4), (9))."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="appointments")
    kind = models.CharField(_("loại"), max_length=10, choices=AppointmentKind.choices)
    due_at = models.DateTimeField(_("hẹn trả kết quả"))
    issued_at = models.DateTimeField(_("ngày hẹn"))
    form = models.ForeignKey(
        DossierFile, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("biểu mẫu")
    )

    class Meta:
        verbose_name = _("lịch hẹn trả kết quả")
        verbose_name_plural = _("lịch hẹn trả kết quả")
        ordering = ["issued_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dossier"], condition=Q(kind=AppointmentKind.ORIGINAL), name="one_original_appointment"
            ),
            models.UniqueConstraint(
                fields=["dossier"], condition=Q(kind=AppointmentKind.APOLOGY), name="one_apology_appointment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {timezone.localtime(self.due_at):%d/%m/%Y %H:%M}"


class DossierConsultation(models.Model):
    """A request for another unit's opinion and its answer (Decree 61/2018 Art 19(5))."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="consultations")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="consultations")
    question = models.TextField(_("nội dung lấy ý kiến"))
    deadline = models.DateTimeField(_("hạn trả lời"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("người đề nghị")
    )
    requested_at = models.DateTimeField(_("đề nghị lúc"))
    answer = models.TextField(_("ý kiến trả lời"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người trả lời"),
    )
    answered_at = models.DateTimeField(_("trả lời lúc"), null=True, blank=True)
    # Set when the head of the one-stop unit was told the answer is late (Art 19(5)).
    late_reported_at = models.DateTimeField(_("đã báo trễ hạn lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("lấy ý kiến phối hợp")
        verbose_name_plural = _("lấy ý kiến phối hợp")
        ordering = ["requested_at", "id"]
        indexes = [
            # The sweeper of late answers: unanswered, unreported, by deadline.
            models.Index(
                fields=["deadline"],
                condition=Q(answered_at__isnull=True, late_reported_at__isnull=True),
                name="consultation_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency}: {self.question[:40]}"

    @property
    def is_late(self) -> bool:
        end = self.answered_at or timezone.now()
        return end > self.deadline


class DossierRating(models.Model):
    """The applicant's evaluation after the result (Decree 61/2018 Art 31; scores 2/1/0)."""

    dossier = models.OneToOneField(Dossier, on_delete=models.CASCADE, related_name="rating")
    scores = models.JSONField(_("điểm theo tiêu chí"))
    comment = models.TextField(_("góp ý"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("đánh giá")
        verbose_name_plural = _("đánh giá")

    def __str__(self) -> str:
        return f"{self.dossier}: {sum(self.scores.values())}"


class SideEffect(models.Model):
    """Work to do outside the transaction (notifications, national-portal sync...), recorded with it.

    Written in the same transaction as the state change and published on commit; a sweeper
    re-publishes rows still pending, so nothing is lost when the broker is down.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Chờ xử lý")
        DONE = "done", _("Đã xử lý")
        FAILED = "failed", _("Lỗi")

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="side_effects")
    kind = models.CharField(max_length=40)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"], name="sideeffect_pending_idx")]

    def __str__(self) -> str:
        return f"{self.kind} ({self.get_status_display()})"
