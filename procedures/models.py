"""Agencies, fields and administrative procedures (thủ tục hành chính) as administrators configure them.

A procedure is edited in place by administrators; every saved change that alters what a citizen
submits becomes a new immutable ProcedureVersion (a JSON snapshot). Dossiers point at the version
they were submitted under, so later edits never change a dossier already filed.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .constants import (
    DOCUMENT_TYPES,
    AgencyKind,
    ApplicantType,
    CalendarDayKind,
    DiscountCombination,
    DiscountKind,
    ExemptionGroup,
    FeeChannel,
    FeeKind,
    FeeUnit,
    FieldKind,
    PaymentTiming,
    ServiceLevel,
    StepAgencyRule,
    StepRole,
)
from .text import normalize_search

# QĐ 20/2020/QĐ-TTg: at most 35 characters of digits, A-Z and dots, containing a level-1 code
# MX1X2 (a letter A-Y and two digits). Both the QCVN 102:2016 order (000.00.12.H56) and the
# level-1-first order (H55.242) are found in use, so both are accepted.
agency_identifier_validator = RegexValidator(
    r"^(?=.*\b[A-Y]\d{2}\b)[0-9A-Z.]{3,35}$",
    _("Mã định danh gồm tối đa 35 ký tự: chữ số, chữ in hoa, dấu chấm, và có mã cấp 1 dạng H56."),
)
# National TTHC code d.dddddd, optionally followed by a local variant suffix (…000.00.00.H38).
procedure_code_validator = RegexValidator(
    r"^(\d\.\d{6}(\.[0-9A-Z]+)*|DP\.\d{6})$",
    _("Mã thủ tục có dạng 1.001193 (một chữ số, dấu chấm, sáu chữ số); thủ tục riêng của địa phương: DP.000001."),
)
# Procedures of the province's own (no national code yet) get a code of this series.
LOCAL_CODE_PREFIX = "DP."


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)

    class Meta:
        abstract = True


class Agency(TimeStampedModel):
    """A unit of the administrative tree: province, department, commune, centre... of any depth."""

    name = models.CharField(_("tên cơ quan"), max_length=255)
    kind = models.CharField(_("loại"), max_length=20, choices=AgencyKind.choices, default=AgencyKind.OTHER)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("cơ quan cấp trên"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    identifier = models.CharField(
        _("mã định danh điện tử"),
        max_length=35,
        unique=True,
        validators=[agency_identifier_validator],
        help_text=_("Theo QCVN 102:2016/BTTTT, ví dụ 000.00.12.H56. Dùng để sinh mã hồ sơ."),
    )
    # The identifier under QĐ 20/2020/QĐ-TTg (level 1 first, e.g. H55.242), used by the centralised
    # dossier-code format of Circular 04/2025. A value of its own: the two schemes are assigned
    # separately and one is never derived from the other by reversing its groups.
    centralised_identifier = models.CharField(
        _("mã định danh theo QĐ 20/2020"),
        max_length=35,
        blank=True,
        validators=[agency_identifier_validator],
        help_text=_("Cấp 1 đứng đầu, ví dụ H55.242. Dùng cho mã hồ sơ trên hệ thống tập trung (Thông tư 04/2025)."),
    )
    # A unit of a vertical branch (the commune police, under the provincial police in the tree) serves
    # the territory of one commune: the tree gives its line of command, this gives its locality, so
    # that a step "the police of the resolving commune" finds it (StepAgencyRule.COMMUNE_POLICE).
    locality = models.ForeignKey(
        "self",
        verbose_name=_("địa bàn phụ trách"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="local_units",
        limit_choices_to={"kind": AgencyKind.COMMUNE},
        help_text=_(
            "Xã, phường, đặc khu mà đơn vị phụ trách (ví dụ Công an phường Hoa Lư phụ trách phường Hoa Lư). "
            "Dùng để chuyển bước đăng ký cư trú cho Công an cấp xã nơi giải quyết hồ sơ."
        ),
    )
    address = models.CharField(_("địa chỉ"), max_length=255, blank=True)
    phone = models.CharField(_("điện thoại"), max_length=30, blank=True)
    email = models.EmailField(_("thư điện tử"), blank=True)
    is_active = models.BooleanField(_("đang hoạt động"), default=True)
    # Materialised path of ids ("/1/5/12/") so that a subtree is one indexed prefix query.
    path = models.CharField(_("đường dẫn cây"), max_length=500, editable=False, db_index=True, default="")
    depth = models.PositiveSmallIntegerField(_("cấp"), editable=False, default=0)

    class Meta:
        verbose_name = _("cơ quan")
        verbose_name_plural = _("cơ quan")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        old_path = self.path
        previous = (
            Agency.objects.filter(pk=self.pk).values("identifier", "centralised_identifier").first()
            if self.pk
            else None
        )
        super().save(*args, **kwargs)
        AgencyIdentifier.record(self, previous or {})
        new_path = f"{self.parent.path if self.parent else '/'}{self.pk}/"
        if new_path != old_path:
            depth = new_path.count("/") - 2
            Agency.objects.filter(pk=self.pk).update(path=new_path, depth=depth)
            self.path, self.depth = new_path, depth
            if old_path:
                for child in self.children.all():
                    child.save(update_fields=["path", "depth"])

    def clean(self) -> None:
        super().clean()
        if self.locality_id is not None and self.locality.kind != AgencyKind.COMMUNE:
            raise ValidationError({"locality": _("Địa bàn phụ trách phải là một xã, phường hoặc đặc khu.")})
        ancestor = self.parent
        while ancestor is not None:
            if self.pk and ancestor.pk == self.pk:
                raise ValidationError({"parent": _("Cơ quan cấp trên không thể là chính nó hoặc đơn vị trực thuộc.")})
            ancestor = ancestor.parent

    def subtree(self) -> models.QuerySet[Agency]:
        """This agency and every unit below it."""
        return Agency.objects.filter(path__startswith=self.path)

    def ancestors(self) -> list[Agency]:
        ids = [int(part) for part in self.path.strip("/").split("/") if part][:-1]
        by_id = Agency.objects.in_bulk(ids)
        return [by_id[i] for i in ids if i in by_id]

    @property
    def level1_code(self) -> str | None:
        match = re.search(r"\b([A-Y]\d{2})\b", self.identifier)
        return match.group(1) if match else None


class AgencyIdentifier(models.Model):
    """The history of an agency's identifiers, one row per scheme and period (domain.md §3.3)."""

    class Scheme(models.TextChoices):
        QCVN102 = "qcvn102", _("QCVN 102:2016/BTTTT")
        QD20 = "qd20", _("QĐ 20/2020/QĐ-TTg")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="identifier_history")
    scheme = models.CharField(_("hệ mã"), max_length=10, choices=Scheme.choices)
    value = models.CharField(_("mã định danh"), max_length=35)
    valid_from = models.DateTimeField(_("từ"), auto_now_add=True)
    valid_to = models.DateTimeField(_("đến"), null=True, blank=True)

    class Meta:
        verbose_name = _("lịch sử mã định danh")
        verbose_name_plural = _("lịch sử mã định danh")
        ordering = ["agency", "scheme", "valid_from", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "scheme"],
                condition=Q(valid_to__isnull=True),
                name="one_current_identifier_per_scheme",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()}: {self.value}"

    @classmethod
    def record(cls, agency: Agency, previous: dict) -> None:
        """Close the current row of each scheme whose value changed and open one for the new value."""
        from django.utils import timezone

        for scheme, field in ((cls.Scheme.QCVN102, "identifier"), (cls.Scheme.QD20, "centralised_identifier")):
            value = getattr(agency, field)
            current = cls.objects.filter(agency=agency, scheme=scheme, valid_to__isnull=True).first()
            if current is not None and current.value == value:
                continue
            if current is None and not value:
                continue
            if current is not None:
                cls.objects.filter(pk=current.pk).update(valid_to=timezone.now())
            if value:
                cls.objects.create(agency=agency, scheme=scheme, value=value)


class Field(TimeStampedModel):
    """A sector (lĩnh vực) of administrative procedures: hộ tịch, cư trú, xây dựng..."""

    code = models.CharField(_("mã lĩnh vực"), max_length=30, unique=True)
    name = models.CharField(_("tên lĩnh vực"), max_length=255)

    class Meta:
        verbose_name = _("lĩnh vực")
        verbose_name_plural = _("lĩnh vực")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        # The field's name is part of each procedure's search text.
        for procedure in self.procedures.all():
            procedure.save(update_fields=["search_text"])


class ProcedureQuerySet(models.QuerySet):
    def published(self) -> ProcedureQuerySet:
        return self.filter(is_published=True)

    def search(self, query: str) -> ProcedureQuerySet:
        """Every word must appear, with or without diacritics ("dang ky khai sinh")."""
        qs = self
        for word in normalize_search(query).split():
            qs = qs.filter(search_text__contains=word)
        return qs


def next_local_code() -> str:
    """The next free code of the local series (DP.000001, DP.000002…)."""
    codes = Procedure.objects.filter(national_code__startswith=LOCAL_CODE_PREFIX).values_list(
        "national_code", flat=True
    )
    numbers = [int(code[len(LOCAL_CODE_PREFIX) :]) for code in codes if code[len(LOCAL_CODE_PREFIX) :].isdigit()]
    return f"{LOCAL_CODE_PREFIX}{max(numbers, default=0) + 1:06d}"


class Procedure(TimeStampedModel):
    national_code = models.CharField(
        _("mã thủ tục"),
        max_length=40,
        unique=True,
        blank=True,
        validators=[procedure_code_validator],
        help_text=_(
            "Mã trên Cơ sở dữ liệu quốc gia về TTHC, ví dụ 1.001193. Để trống với thủ tục riêng của địa phương: "
            "hệ thống cấp mã DP.000001, DP.000002…"
        ),
    )
    is_local = models.BooleanField(
        _("thủ tục riêng của địa phương"),
        default=False,
        help_text=_(
            "Thủ tục do tỉnh ban hành, chưa có mã trên Cơ sở dữ liệu quốc gia về TTHC "
            "(Nghị định 63/2010/NĐ-CP Điều 15: công khai cả thủ tục do địa phương quy định)."
        ),
    )
    name = models.CharField(_("tên thủ tục"), max_length=500)
    field = models.ForeignKey(Field, verbose_name=_("lĩnh vực"), on_delete=models.PROTECT, related_name="procedures")
    agencies = models.ManyToManyField(
        Agency,
        verbose_name=_("cơ quan thực hiện"),
        related_name="procedures",
        help_text=_("Các cơ quan có thẩm quyền tiếp nhận và giải quyết thủ tục này."),
    )
    level = models.CharField(_("mức độ dịch vụ công trực tuyến"), max_length=20, choices=ServiceLevel.choices)
    applicant_type = models.CharField(
        _("đối tượng thực hiện"), max_length=20, choices=ApplicantType.choices, default=ApplicantType.INDIVIDUAL
    )
    processing_days = models.DecimalField(
        _("thời hạn giải quyết (ngày làm việc)"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5"), _("Thời hạn giải quyết phải lớn hơn 0 ngày làm việc."))],
        help_text=_("Cho phép nửa ngày, ví dụ 0,5 hoặc 2,5."),
    )
    cutoff_time = models.TimeField(
        _("giờ chốt tiếp nhận"),
        default="16:00",
        help_text=_(
            "Hồ sơ tiếp nhận sau giờ này được tính từ ngày làm việc tiếp theo "
            "(Nghị định 297/2025 Điều 6 khoản 3: trong 01 giờ trước khi hết giờ làm việc)."
        ),
    )
    supplement_window_days = models.PositiveSmallIntegerField(
        _("thời hạn yêu cầu bổ sung sau thẩm định (ngày làm việc)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1, _("Thời hạn yêu cầu bổ sung ít nhất 01 ngày làm việc."))],
        help_text=_(
            "Để trống: theo quy định chung (03 ngày làm việc kể từ ngày tiếp nhận, Nghị định 61/2018 Điều 19 "
            "khoản 4). Chỉ điền khi pháp luật chuyên ngành quy định khác."
        ),
    )
    legal_basis = models.TextField(_("căn cứ pháp lý"), blank=True)
    # Where the code, time limit and fees were taken from; a procedure whose data was not checked
    # against the national TTHC database is marked as an example on its public page.
    source = models.TextField(_("nguồn thông tin"), blank=True)
    is_example = models.BooleanField(
        _("dữ liệu minh họa"),
        default=False,
        help_text=_("Mã, thời hạn hoặc phí chưa đối chiếu với Cơ sở dữ liệu quốc gia về TTHC: trang thủ tục ghi rõ."),
    )
    result_type = models.CharField(_("kết quả thực hiện"), max_length=500)
    description = models.TextField(_("trình tự thực hiện"), blank=True)
    conditions = models.TextField(_("yêu cầu, điều kiện"), blank=True)
    channel_online = models.BooleanField(_("nộp trực tuyến"), default=True)
    channel_counter = models.BooleanField(_("nộp trực tiếp"), default=True)
    channel_postal = models.BooleanField(_("nộp qua bưu chính công ích"), default=True)
    fee_before_processing = models.BooleanField(
        _("nộp phí trước khi giải quyết"),
        default=False,
        help_text=_("Hồ sơ chờ thanh toán phí, lệ phí trước khi chuyển xử lý."),
    )
    payment_timing = models.CharField(
        _("thời điểm nộp phí, lệ phí"),
        max_length=20,
        choices=PaymentTiming.choices,
        blank=True,
        help_text=_("Để trống: theo ô “nộp phí trước khi giải quyết”; không bắt buộc nộp vào thời điểm nào."),
    )
    centralised_system_code = models.CharField(
        _("mã hệ thống tập trung (AA)"),
        max_length=2,
        blank=True,
        validators=[RegexValidator(r"^\d{2}$", _("Hai chữ số, lấy từ mã định danh của cơ quan sở hữu hệ thống."))],
        help_text=_(
            "Chỉ điền khi thủ tục được giải quyết trên hệ thống tập trung của bộ, ngành: mã hồ sơ theo "
            "Thông tư 04/2025/TT-VPCP."
        ),
    )
    # How long dossiers of this procedure keep their personal data after they close. The Law on
    # Archives 33/2024/QH15 and the Ministry of Home Affairs' tables of retention periods keep most
    # dossiers of administrative procedures for years (10 by default here) and some (civil status,
    # land) permanently: 0 means "permanent", never purged. Decree 13/2023 Art 16 lets personal data
    # go once its purpose ends, so the purge task removes what this period no longer requires.
    retention_years = models.PositiveSmallIntegerField(
        _("thời hạn lưu trữ hồ sơ (năm)"),
        default=10,
        help_text=_(
            "Số năm giữ dữ liệu cá nhân của hồ sơ sau khi kết thúc, theo Luật Lưu trữ và bảng thời hạn "
            "bảo quản tài liệu; 0 là lưu trữ vĩnh viễn."
        ),
    )
    is_published = models.BooleanField(_("công khai"), default=True)
    search_text = models.TextField(editable=False, default="")

    objects = ProcedureQuerySet.as_manager()

    class Meta:
        verbose_name = _("thủ tục hành chính")
        verbose_name_plural = _("thủ tục hành chính")
        ordering = ["national_code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(processing_days__gt=0),
                name="procedure_processing_days_positive",
                violation_error_message=_("Thời hạn giải quyết phải lớn hơn 0 ngày làm việc."),
            ),
            models.CheckConstraint(
                condition=Q(channel_online=True) | Q(channel_counter=True) | Q(channel_postal=True),
                name="procedure_has_a_channel",
                violation_error_message=_("Thủ tục phải có ít nhất một cách thức nộp hồ sơ."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.national_code} – {self.name}"

    def save(self, *args, **kwargs) -> None:
        if not self.national_code and self.is_local:
            self.national_code = next_local_code()
        # The code says it (and survives an export and import): DP.… is the local series.
        if self.national_code.startswith(LOCAL_CODE_PREFIX):
            self.is_local = True
        field_name = self.field.name if self.field_id else ""
        self.search_text = normalize_search(f"{self.national_code} {self.name} {field_name} {self.result_type}")
        if "update_fields" in kwargs and kwargs["update_fields"] is not None:
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {"search_text"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if not self.national_code and not self.is_local:
            raise ValidationError(
                {
                    "national_code": _(
                        "Nhập mã thủ tục trên Cơ sở dữ liệu quốc gia, hoặc đánh dấu “thủ tục riêng của địa phương”."
                    )
                }
            )
        # A value that failed its field's validation (e.g. "2,5" from an import file) is left as given.
        if isinstance(self.processing_days, Decimal) and (self.processing_days * 2) % 1:
            raise ValidationError({"processing_days": _("Thời hạn giải quyết tính theo ngày hoặc nửa ngày.")})

    @property
    def channels(self) -> list[str]:
        labels = []
        if self.channel_online:
            labels.append(str(_("Trực tuyến")))
        if self.channel_counter:
            labels.append(str(_("Trực tiếp")))
        if self.channel_postal:
            labels.append(str(_("Bưu chính công ích")))
        return labels

    @property
    def current_version(self) -> ProcedureVersion | None:
        return self.versions.order_by("-number").first()


class RequiredDocument(models.Model):
    """A component of the dossier (thành phần hồ sơ)."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="documents")
    order = models.PositiveSmallIntegerField(_("thứ tự"), default=0)
    name = models.CharField(_("tên giấy tờ"), max_length=500)
    is_mandatory = models.BooleanField(_("bắt buộc"), default=True)
    original_count = models.PositiveSmallIntegerField(_("số bản chính"), default=0)
    copy_count = models.PositiveSmallIntegerField(_("số bản sao"), default=0)
    template = models.FileField(_("mẫu đơn, tờ khai"), upload_to="templates/%Y/", blank=True)
    allowed_types = models.CharField(
        _("định dạng cho phép"),
        max_length=50,
        default="pdf,jpg,png",
        help_text=_("Các định dạng cách nhau bởi dấu phẩy: pdf, jpg, png."),
    )
    max_size_mb = models.PositiveSmallIntegerField(
        _("dung lượng tối đa (MB)"),
        default=10,
        validators=[MinValueValidator(1, _("Dung lượng tối đa phải từ 1 MB."))],
    )
    note = models.CharField(_("ghi chú"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("thành phần hồ sơ")
        verbose_name_plural = _("thành phần hồ sơ")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        unknown = set(self.allowed_type_list) - set(DOCUMENT_TYPES)
        if unknown or not self.allowed_type_list:
            raise ValidationError(
                {
                    "allowed_types": _("Định dạng không hỗ trợ: %(types)s. Chọn trong: pdf, jpg, png.")
                    % {"types": ", ".join(sorted(unknown)) or "—"}
                }
            )

    @property
    def allowed_type_list(self) -> list[str]:
        return [t.strip().lower() for t in self.allowed_types.split(",") if t.strip()]


class FormField(models.Model):
    """One question of the electronic form, defined as data so that no code is needed per procedure."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="form_fields")
    order = models.PositiveSmallIntegerField(_("thứ tự"), default=0)
    code = models.SlugField(_("mã trường"), max_length=50, help_text=_("Chữ thường không dấu, ví dụ ho_ten_tre."))
    label = models.CharField(_("nhãn"), max_length=255)
    kind = models.CharField(_("kiểu dữ liệu"), max_length=20, choices=FieldKind.choices, default=FieldKind.TEXT)
    section = models.CharField(
        _("nhóm câu hỏi"),
        max_length=255,
        blank=True,
        help_text=_("Các trường cùng nhóm hiện trên cùng một trang của biểu mẫu."),
    )
    required = models.BooleanField(_("bắt buộc"), default=True)
    help_text = models.CharField(_("hướng dẫn"), max_length=500, blank=True)
    choices = models.TextField(_("các lựa chọn"), blank=True, help_text=_("Mỗi dòng một lựa chọn."))
    min_value = models.DecimalField(_("giá trị nhỏ nhất"), max_digits=15, decimal_places=2, null=True, blank=True)
    max_value = models.DecimalField(_("giá trị lớn nhất"), max_digits=15, decimal_places=2, null=True, blank=True)
    max_length = models.PositiveIntegerField(_("độ dài tối đa"), null=True, blank=True)
    pattern = models.CharField(_("biểu thức kiểm tra"), max_length=255, blank=True)
    pattern_message = models.CharField(_("thông báo khi sai"), max_length=255, blank=True)

    class Meta:
        # One name for one thing: the admin's section and its "add" button say the same words.
        verbose_name = _("trường thông tin tờ khai")
        verbose_name_plural = _("trường thông tin tờ khai")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "code"],
                name="formfield_code_unique_per_procedure",
                violation_error_message=_("Mã trường đã dùng trong thủ tục này."),
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.kind == FieldKind.CHOICE and len(self.choice_list) < 2:
            errors["choices"] = _("Trường lựa chọn cần ít nhất hai lựa chọn, mỗi dòng một lựa chọn.")
        numbers = (int, float, Decimal)  # a value that failed its field's validation is left as given
        if (
            isinstance(self.min_value, numbers)
            and isinstance(self.max_value, numbers)
            and self.min_value > self.max_value
        ):
            errors["max_value"] = _("Giá trị lớn nhất phải không nhỏ hơn giá trị nhỏ nhất.")
        if self.pattern:
            try:
                re.compile(self.pattern)
            except re.error:
                errors["pattern"] = _("Biểu thức kiểm tra không hợp lệ.")
        if errors:
            raise ValidationError(errors)


class FeeItem(models.Model):
    """A fee (phí) or charge (lệ phí) line of a procedure, versioned with it.

    The rate may differ by channel, count pages or copies (from a form answer, within a range and
    under a cap), apply only when a form field has a given value, and be in force between dates.
    """

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="fees")
    kind = models.CharField(_("loại"), max_length=10, choices=FeeKind.choices, default=FeeKind.CHARGE)
    name = models.CharField(_("nội dung"), max_length=255)
    amount = models.BigIntegerField(
        _("mức thu (đồng)"),
        validators=[MinValueValidator(0, _("Mức thu không được là số âm."))],
        help_text=_("Mức thu chung; mức riêng theo cách thức nộp (nếu có) thay thế mức này."),
    )
    amount_counter = models.BigIntegerField(
        _("mức thu khi nộp trực tiếp"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    amount_online = models.BigIntegerField(
        _("mức thu khi nộp trực tuyến"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    amount_postal = models.BigIntegerField(
        _("mức thu khi nộp qua bưu chính"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    unit = models.CharField(_("đơn vị tính"), max_length=10, choices=FeeUnit.choices, default=FeeUnit.DOSSIER)
    quantity_field = models.SlugField(
        _("số lượng lấy từ trường"),
        max_length=50,
        blank=True,
        help_text=_("Mã trường thông tin ghi số trang hoặc số bản, ví dụ so_trang."),
    )
    quantity_from = models.PositiveIntegerField(_("tính từ đơn vị thứ"), default=1, validators=[MinValueValidator(1)])
    quantity_to = models.PositiveIntegerField(_("đến đơn vị thứ"), null=True, blank=True)
    max_amount = models.BigIntegerField(
        _("mức thu tối đa (đồng)"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    condition_field = models.SlugField(
        _("áp dụng khi trường"),
        max_length=50,
        blank=True,
        help_text=_("Để trống nếu luôn áp dụng. Nhập mã trường thông tin, ví dụ loai_cong_trinh."),
    )
    condition_value = models.CharField(_("có giá trị"), max_length=255, blank=True)
    effective_from = models.DateField(_("áp dụng từ ngày"), null=True, blank=True)
    effective_to = models.DateField(_("áp dụng đến ngày"), null=True, blank=True)
    legal_basis = models.CharField(_("căn cứ thu"), max_length=500, blank=True)
    refundable = models.BooleanField(
        _("được hoàn trả"),
        default=False,
        help_text=_("Hoàn trả khi hồ sơ bị từ chối tiếp nhận sau khi đã nộp, hoặc khi thu thừa."),
    )
    note = models.CharField(_("ghi chú"), max_length=500, blank=True)
    source = models.CharField(_("nguồn mức thu"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("phí, lệ phí")
        verbose_name_plural = _("phí, lệ phí")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="feeitem_amount_not_negative",
                violation_error_message=_("Mức thu không được là số âm."),
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_from__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="feeitem_effective_range",
                violation_error_message=_("Ngày hết hiệu lực phải sau ngày bắt đầu."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.amount:,} đ"

    def clean(self) -> None:
        super().clean()
        if bool(self.condition_field) != bool(self.condition_value):
            raise ValidationError(_("Điều kiện áp dụng cần cả mã trường và giá trị."))
        if self.unit != FeeUnit.DOSSIER and not self.quantity_field:
            raise ValidationError({"quantity_field": _("Thu theo trang hoặc bản cần mã trường ghi số lượng.")})
        if self.quantity_to is not None and self.quantity_to < (self.quantity_from or 1):
            raise ValidationError({"quantity_to": _("Đơn vị cuối phải không nhỏ hơn đơn vị đầu.")})

    def applies_to(self, answers: dict) -> bool:
        if not self.condition_field:
            return True
        return str(answers.get(self.condition_field, "")).strip() == self.condition_value.strip()


class DiscountPolicy(TimeStampedModel):
    """A reduction administrators configure (e.g. 50% for online dossiers by a council resolution).

    Policies are read at quote time; a dossier keeps the breakdown frozen at submission, so a
    later change of policy never touches it.
    """

    name = models.CharField(_("tên chính sách"), max_length=255)
    kind = models.CharField(_("cách giảm"), max_length=10, choices=DiscountKind.choices, default=DiscountKind.PERCENT)
    value = models.BigIntegerField(
        _("mức giảm"),
        validators=[MinValueValidator(0)],
        help_text=_("Phần trăm (0–100) hoặc số đồng, theo cách giảm."),
    )
    channel = models.CharField(
        _("áp dụng cho cách thức nộp"),
        max_length=10,
        choices=FeeChannel.choices,
        blank=True,
        help_text=_("Để trống: mọi cách thức nộp."),
    )
    fee_kind = models.CharField(
        _("áp dụng cho loại"),
        max_length=10,
        choices=FeeKind.choices,
        blank=True,
        help_text=_("Để trống: cả phí và lệ phí."),
    )
    procedure = models.ForeignKey(
        Procedure, verbose_name=_("thủ tục"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    field = models.ForeignKey(
        Field, verbose_name=_("lĩnh vực"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("cơ quan"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Áp dụng cho hồ sơ của cơ quan này và các đơn vị trực thuộc."),
    )
    valid_from = models.DateField(_("hiệu lực từ ngày"))
    valid_to = models.DateField(_("hiệu lực đến ngày"), null=True, blank=True)
    legal_basis = models.CharField(_("căn cứ pháp lý"), max_length=500)
    combination = models.CharField(
        _("cách kết hợp"), max_length=10, choices=DiscountCombination.choices, default=DiscountCombination.BEST
    )
    order = models.PositiveSmallIntegerField(_("thứ tự cộng dồn"), default=0)
    # A line whose own online (or postal) rate is set by law already carries the incentive for that
    # channel (e.g. Circular 75/2022 residence fees); a council's "50% online" must not halve it again.
    skip_channel_rates = models.BooleanField(
        _("không áp dụng cho khoản có mức thu riêng theo cách thức nộp"),
        default=False,
        help_text=_(
            "Chọn khi văn bản chỉ giảm các khoản chưa có mức thu riêng cho cách thức nộp của hồ sơ "
            "(ví dụ lệ phí đăng ký cư trú đã có mức thu trực tuyến theo Thông tư 75/2022/TT-BTC)."
        ),
    )
    is_active = models.BooleanField(_("đang áp dụng"), default=True)

    class Meta:
        verbose_name = _("chính sách giảm phí, lệ phí")
        verbose_name_plural = _("chính sách giảm phí, lệ phí")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=DiscountKind.PERCENT) | Q(value__lte=100),
                name="discount_percent_at_most_100",
                violation_error_message=_("Tỷ lệ giảm không quá 100%."),
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="discount_value_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="discount_valid_range",
                violation_error_message=_("Ngày hết hiệu lực phải sau ngày bắt đầu."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FeeExemption(TimeStampedModel):
    """An exemption or reduction for a group the law names, with the proof the applicant must show."""

    group = models.CharField(_("đối tượng"), max_length=20, choices=ExemptionGroup.choices)
    procedure = models.ForeignKey(
        Procedure, verbose_name=_("thủ tục"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    field = models.ForeignKey(
        Field, verbose_name=_("lĩnh vực"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    percent = models.PositiveSmallIntegerField(
        _("tỷ lệ miễn, giảm (%)"),
        default=100,
        validators=[MinValueValidator(1)],
        help_text=_("100: miễn toàn bộ."),
    )
    proof_required = models.CharField(
        _("giấy tờ chứng minh"), max_length=500, help_text=_("Ví dụ: Giấy chứng nhận hộ nghèo còn hiệu lực.")
    )
    legal_basis = models.CharField(_("căn cứ pháp lý"), max_length=500)
    valid_from = models.DateField(_("hiệu lực từ ngày"), null=True, blank=True)
    valid_to = models.DateField(_("hiệu lực đến ngày"), null=True, blank=True)
    is_active = models.BooleanField(_("đang áp dụng"), default=True)

    class Meta:
        verbose_name = _("miễn, giảm phí, lệ phí theo đối tượng")
        verbose_name_plural = _("miễn, giảm phí, lệ phí theo đối tượng")
        ordering = ["group", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gte=1) & Q(percent__lte=100),
                name="exemption_percent_range",
                violation_error_message=_("Tỷ lệ miễn, giảm từ 1 đến 100%."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_group_display()} ({self.percent}%)"


class ProcessingStep(models.Model):
    """One step of the internal workflow: which role of which agency does what, in how long."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("thứ tự"), default=0)
    name = models.CharField(_("nội dung công việc"), max_length=255)
    role = models.CharField(_("vai trò thực hiện"), max_length=20, choices=StepRole.choices)
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("cơ quan thực hiện"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("Để trống: cơ quan giải quyết hồ sơ."),
    )
    agency_rule = models.CharField(
        _("cách xác định cơ quan thực hiện"),
        max_length=20,
        choices=StepAgencyRule.choices,
        default=StepAgencyRule.FIXED,
        help_text=_(
            "“Công an cấp xã nơi giải quyết hồ sơ”: khi tiếp nhận, bước được giao cho Công an xã, phường phụ "
            "trách địa bàn của cơ quan giải quyết (không chọn cơ quan thực hiện)."
        ),
    )
    duration_days = models.DecimalField(
        _("thời gian (ngày làm việc)"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5"), _("Thời gian mỗi bước ít nhất nửa ngày làm việc."))],
    )

    class Meta:
        verbose_name = _("bước xử lý")
        verbose_name_plural = _("quy trình xử lý")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_days__gt=0),
                name="processingstep_duration_positive",
                violation_error_message=_("Thời gian mỗi bước phải lớn hơn 0."),
            ),
            models.CheckConstraint(
                condition=Q(agency_rule=StepAgencyRule.FIXED) | Q(agency__isnull=True),
                name="processingstep_rule_or_agency",
                violation_error_message=_(
                    "Bước giao cho Công an cấp xã nơi giải quyết hồ sơ không chọn cơ quan thực hiện cố định."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProcedureVersion(models.Model):
    """An immutable snapshot of a procedure as citizens submit it; dossiers keep theirs."""

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("phiên bản"))
    snapshot = models.JSONField(_("nội dung"))
    effective_from = models.DateTimeField(_("hiệu lực từ"), auto_now_add=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("người tạo")
    )

    class Meta:
        verbose_name = _("phiên bản thủ tục")
        verbose_name_plural = _("phiên bản thủ tục")
        ordering = ["procedure", "-number"]
        constraints = [models.UniqueConstraint(fields=["procedure", "number"], name="procedureversion_unique")]

    def __str__(self) -> str:
        return f"{self.procedure.national_code} v{self.number}"


class CalendarDay(TimeStampedModel):
    """A day the government schedule makes different from the `holidays` library's calendar."""

    date = models.DateField(_("ngày"), unique=True)
    kind = models.CharField(_("loại ngày"), max_length=20, choices=CalendarDayKind.choices)
    name = models.CharField(_("lý do"), max_length=255, help_text=_("Ví dụ: làm bù cho ngày 31/8/2026."))

    class Meta:
        verbose_name = _("ngày nghỉ, ngày làm bù")
        verbose_name_plural = _("lịch nghỉ, làm bù")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} – {self.get_kind_display()}"
