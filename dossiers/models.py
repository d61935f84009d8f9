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

from procedures.constants import ExemptionGroup
from procedures.models import Agency, ProcedureVersion

from .constants import (
    Action,
    AppointmentKind,
    Channel,
    DossierState,
    FileKind,
    FormNumber,
    HoldingBucket,
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
    # Given at submission, so that the applicant leaves with something to quote (and to track)
    # before the dossier code, which the law attaches to reception.
    reference = models.CharField(_("mã tham chiếu nộp hồ sơ"), max_length=20, unique=True, null=True, blank=True)
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
    # The fee quote frozen at submission (procedures.fees.FeeQuote.as_dict): base, discounts,
    # exemption, total and legal bases as the applicant saw them. Policies changed later never touch it.
    fee_breakdown = models.JSONField(_("chi tiết phí, lệ phí"), default=dict, blank=True)
    fee_exemption_group = models.CharField(
        _("đối tượng miễn, giảm phí"), max_length=20, choices=ExemptionGroup.choices, blank=True
    )
    # The applicant's name lower-cased without diacritics (procedures.text.normalize_search), written
    # by dossiers.services: officers find "Phạm Thị Hoa" by typing "pham thi hoa". Trigram-indexed on
    # PostgreSQL (migration 0002_holdings), a plain substring match on SQLite.
    search_text = models.CharField(max_length=255, blank=True, default="", editable=False)

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
            # Running dossiers by due time. The deadline alerts read DossierHolding now
            # (holding_primary_due_idx); only the benchmark's set-based reference query reads this.
            models.Index(
                fields=["current_due_at"],
                name="dossier_running_due_idx",
                condition=Q(state__in=["received", "in_processing", "awaiting_approval"]),
            ),
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
        indexes = [
            # Open steps (started, not completed) by due time. The deadline alerts read
            # DossierHolding now (holding_step_due_idx): no reader is left, a candidate to drop.
            models.Index(
                fields=["due_at"],
                name="dossierstep_open_due_idx",
                condition=Q(started_at__isnull=False, completed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class DossierHolding(models.Model):
    """Who holds an open dossier right now: one row per holder, kept by dossiers.holdings.

    Written only by dossiers.holdings.holdings_sync, which dossiers.services._save() calls in the
    transaction of every change, so the rows are always those that dossiers.holdings.holdings_for()
    computes from the dossier and its steps. A closed dossier (FINAL_STATES) and a draft have no rows.

    What a row means:
    - `agency` holds the dossier: the resolving agency, the receiving unit, the agency of the current
      step, or of any open step of a parallel (liên thông) group. Each such agency has at least one
      row; officers of the agency (or of a unit above it) see the dossier in their queues.
    - `role` is the role that must act there now (reception, specialist, leader); blank when the
      agency holds the dossier but nobody there has to act (it is watched, e.g. the receiving unit
      while a department processes it, or everybody while the applicant supplements it).
    - `bucket` is the stage (HoldingBucket); (agency, role, bucket) is one queue: "new" is
      (reception, RECEPTION|PAYMENT) and (specialist, UNASSIGNED), "approval" is (leader, APPROVAL),
      "result" is (reception, RESULT), "supplement" is (blank, SUPPLEMENT).
    - `step` is the open step the row stands for (one row per open step of a parallel group, each
      with its own agency and `step_due_at` for per-step alerts); null for a row of the whole dossier.
    - `assignee` is the officer working on it now ("mine"): the dossier's assignee on the current
      step's row, a parallel step's own assignee on that step's row; null otherwise.
    - `state` mirrors the dossier's state; `due_at` mirrors dossier.current_due_at (null before the
      clock starts) and is the queue order with `dossier_id`; `is_running` is true while the clock
      runs (received, in processing, awaiting approval): overdue is `is_running and due_at < now`.
    - `is_primary` marks the one row that stands for the whole dossier: the resolving agency's (the
      current step's row when that step is there, so its `assignee` is the dossier's). Province-wide
      readers (the deadline alerts, dashboards, the national-portal sync) take these rows, one per
      dossier, without DISTINCT; `apologised` mirrors the dossier's (rescheduled once, Form 04).
    - `since` is when this holder got the dossier (the step's start, the submission, the reception...).

    The deadline alerts (notifications.selectors) read only this table: per-step alerts from the
    step rows (`step_due_at`, index holding_step_due_idx), whole-dossier alerts and the agencies'
    digest counts from the primary rows (`due_at`, index holding_primary_due_idx).
    """

    # No single-column indexes on dossier, agency, assignee: the composite indexes and unique
    # constraints below start with them (and a second index would tempt the planner into sorting).
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="holdings", db_index=False)
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("cơ quan"), db_index=False
    )
    role = models.CharField(_("vai trò phải xử lý"), max_length=20, blank=True)
    bucket = models.CharField(_("giai đoạn"), max_length=20, choices=HoldingBucket.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cán bộ xử lý"),
        db_index=False,
    )
    step = models.ForeignKey(
        DossierStep, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("bước")
    )
    state = models.CharField(_("trạng thái"), max_length=30, choices=S.choices)
    since = models.DateTimeField(_("nắm giữ từ"), null=True, blank=True)
    due_at = models.DateTimeField(_("hẹn trả"), null=True, blank=True)
    step_due_at = models.DateTimeField(_("hạn của bước"), null=True, blank=True)
    is_running = models.BooleanField(_("đang tính thời hạn"), default=False)
    is_primary = models.BooleanField(_("dòng đại diện cho hồ sơ"), default=False)
    apologised = models.BooleanField(_("đã xin lỗi, hẹn lại"), default=False)

    class Meta:
        verbose_name = _("nơi đang giữ hồ sơ")
        verbose_name_plural = _("nơi đang giữ hồ sơ")
        # Every queue tab is one range of one of these, read in (due_at, dossier) order.
        indexes = [
            # "new", "approval", "result", "supplement": (agency, role, bucket) ranges.
            models.Index(fields=["agency", "role", "bucket", "due_at", "dossier"], name="holding_queue_idx"),
            # "mine".
            models.Index(fields=["assignee", "due_at", "dossier"], name="holding_assignee_idx"),
            # "due soon", "overdue" (is_running, a range of due_at), "all" (both values); alerts.
            models.Index(fields=["agency", "is_running", "due_at", "dossier"], name="holding_agency_idx"),
            # Province-wide, one row per dossier: whole-dossier alerts (is_running, a range of due_at)
            # and the digest's counts per agency. The trailing columns are what those queries read, so
            # PostgreSQL answers them from the index alone, in due order (key columns, not INCLUDE:
            # SQLite has no covering indexes).
            models.Index(
                fields=["is_running", "due_at", "dossier", "agency", "assignee", "apologised"],
                name="holding_primary_due_idx",
                condition=Q(is_primary=True),
            ),
            # Per-step alerts, province-wide: each open step's own deadline, with what the alert names.
            models.Index(
                fields=["step_due_at", "step", "dossier", "agency", "role", "assignee", "bucket"],
                name="holding_step_due_idx",
                condition=Q(is_running=True, step_due_at__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dossier", "agency"], condition=Q(step__isnull=True), name="holding_one_per_agency"
            ),
            models.UniqueConstraint(fields=["dossier", "step"], name="holding_one_per_step"),
            models.UniqueConstraint(fields=["dossier"], condition=Q(is_primary=True), name="holding_one_primary"),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id} @ {self.agency_id} {self.role or '-'} {self.bucket}"


class DossierRegisterCounter(models.Model):
    """The last register number a receiving unit gave in a year (Circular 01/2018 Art 10).

    Form 01 and the register (Form 07) print the number; it runs on through the year, so it is a
    counter row taken under a short row lock, never a count of the year's dossiers.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "year"], name="register_counter_unique")]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.year}: {self.last}"


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
    # What is due for the line after discounts and exemption.
    amount = models.BigIntegerField(_("số tiền (đồng)"))
    unit_amount = models.BigIntegerField(_("đơn giá (đồng)"), default=0)
    quantity = models.PositiveIntegerField(_("số lượng"), default=1)
    base_amount = models.BigIntegerField(_("mức thu (đồng)"), default=0)
    discount_amount = models.BigIntegerField(_("được giảm (đồng)"), default=0)
    exemption_amount = models.BigIntegerField(_("được miễn (đồng)"), default=0)
    legal_basis = models.TextField(_("căn cứ"), blank=True)
    refundable = models.BooleanField(_("được hoàn trả"), default=False)

    class Meta:
        verbose_name = _("phí, lệ phí của hồ sơ")
        verbose_name_plural = _("phí, lệ phí của hồ sơ")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="dossierfee_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(amount__lte=models.F("base_amount")) | Q(base_amount=0),
                name="dossierfee_amount_within_base",
            ),
        ]

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


def _first_sweep_at():
    # A row published on commit is normally done within seconds; if it is still pending after this
    # grace period, its message was lost (broker down, worker killed) and the sweeper re-publishes it.
    return timezone.now() + timezone.timedelta(seconds=settings.SIDE_EFFECT_GRACE_SECONDS)


class SideEffect(models.Model):
    """Work to do outside the transaction (notifications, national-portal sync...), recorded with it.

    Written in the same transaction as the state change and published on commit; a sweeper
    re-publishes rows still pending at `next_attempt_at`, so nothing is lost when the broker is
    down. A failing handler is retried with backoff and marked failed, with its reason, after
    SIDE_EFFECT_MAX_ATTEMPTS attempts: never retried for ever.
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
    next_attempt_at = models.DateTimeField(_("lần thử tiếp theo"), default=_first_sweep_at)
    last_error = models.TextField(_("lỗi gần nhất"), blank=True)

    class Meta:
        verbose_name = _("tác vụ nền")
        verbose_name_plural = _("tác vụ nền")
        indexes = [
            models.Index(fields=["status", "created_at"], name="sideeffect_pending_idx"),
            # The sweeper's scan: only pending rows are indexed, in the order it takes them.
            models.Index(
                fields=["next_attempt_at", "id"],
                name="sideeffect_due_idx",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.get_status_display()})"


class DossierAssistance(models.Model):
    """A dossier a community digital helper submitted for a citizen who was present.

    The dossier belongs to the citizen (their account when one has their CCCD); this row proves
    their consent (when, given to whom) and keeps the helper's access to the dossier, which ends
    at reception (dossiers.selectors.dossiers_assisted_by).
    """

    class Confirmation(models.TextChoices):
        PRINTED = "printed", _("Phiếu xác nhận in")
        SMS = "sms", _("Tin nhắn SMS")

    dossier = models.OneToOneField(
        Dossier, on_delete=models.CASCADE, related_name="assistance", verbose_name=_("hồ sơ")
    )
    helper = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("người hỗ trợ")
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("xã, phường của tổ công nghệ số")
    )
    citizen_id_number = models.CharField(_("số định danh của công dân"), max_length=12)
    consent_text = models.TextField(_("nội dung đồng ý"))
    consent_at = models.DateTimeField(_("đồng ý lúc"))
    confirmation = models.CharField(
        _("hình thức xác nhận"), max_length=10, choices=Confirmation.choices, default=Confirmation.PRINTED
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("hồ sơ nộp có hỗ trợ")
        verbose_name_plural = _("hồ sơ nộp có hỗ trợ")
        indexes = [models.Index(fields=["helper", "-created_at"], name="assistance_helper_idx")]

    def __str__(self) -> str:
        return f"{self.dossier} ({self.helper})"
