"""Shapes of the dossier API: what a request may carry and what an answer shows.

Request serializers validate shape and type only; whether an action is allowed is the services'
decision. They refuse any field they do not declare, so that `state`, `owner`, `code` and the like
can never be assigned through the API (ASVS 5.1.2). Error messages are in Vietnamese: the
translations shipped with DRF leave most of its field messages in English.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.reverse import reverse

from portal.accounts.constants import Role
from portal.accounts.models import display_name
from procedures.models import Agency
from procedures.selectors import procedure_list_public

from .. import forms as dossier_forms
from ..constants import (
    RATING_CRITERIA,
    STATE_EXPLANATIONS,
    DossierState,
    FileKind,
    FormState,
    ResultChannel,
    state_labels,
)
from ..holdings import RUNNING_STATES
from ..models import Dossier, DossierEvent, DossierFee, DossierFile, DossierRating
from ..services import dossier_missing_items, dossier_receipt_status, snapshot_documents

S = DossierState

# --- fields with Vietnamese messages -----------------------------------------------------------

_COMMON = {
    "required": gettext_lazy("Trường này là bắt buộc."),
    "null": gettext_lazy("Trường này không được để trống."),
}


class ViCharField(serializers.CharField):
    default_error_messages = {
        **_COMMON,
        "invalid": gettext_lazy("Giá trị phải là chuỗi ký tự."),
        "blank": gettext_lazy("Trường này không được bỏ trống."),
        "max_length": gettext_lazy("Tối đa {max_length} ký tự."),
        "min_length": gettext_lazy("Tối thiểu {min_length} ký tự."),
    }


class ViIntegerField(serializers.IntegerField):
    default_error_messages = {
        **_COMMON,
        "invalid": gettext_lazy("Giá trị phải là một số nguyên."),
        "max_value": gettext_lazy("Giá trị không được lớn hơn {max_value}."),
        "min_value": gettext_lazy("Giá trị không được nhỏ hơn {min_value}."),
        "max_string_length": gettext_lazy("Số quá lớn."),
    }


class ViChoiceField(serializers.ChoiceField):
    default_error_messages = {
        **_COMMON,
        "invalid_choice": gettext_lazy("“{input}” không phải là một lựa chọn hợp lệ."),
    }


class ViDateTimeField(serializers.DateTimeField):
    default_error_messages = {
        **_COMMON,
        "invalid": gettext_lazy("Ngày giờ không đúng định dạng; dùng dạng ISO 8601, ví dụ 2026-03-16T16:00:00+07:00."),
        "date": gettext_lazy("Cần cả ngày và giờ, không chỉ ngày."),
        "make_aware": gettext_lazy("Thời điểm không hợp lệ theo múi giờ “{timezone}”."),
        "overflow": gettext_lazy("Thời điểm nằm ngoài phạm vi cho phép."),
    }


class ViFileField(serializers.FileField):
    default_error_messages = {
        **_COMMON,
        "required": gettext_lazy("Vui lòng chọn tệp."),
        "invalid": gettext_lazy("Dữ liệu gửi lên không phải là tệp; hãy gửi dạng multipart/form-data."),
        "no_name": gettext_lazy("Không xác định được tên tệp."),
        "empty": gettext_lazy("Tệp rỗng."),
        "max_length": gettext_lazy("Tên tệp tối đa {max_length} ký tự (hiện có {length})."),
    }


class ViDictField(serializers.DictField):
    default_error_messages = {
        **_COMMON,
        "not_a_dict": gettext_lazy("Cần một đối tượng JSON, nhận được kiểu “{input_type}”."),
        "empty": gettext_lazy("Không được để trống."),
    }


class ViListField(serializers.ListField):
    default_error_messages = {
        **_COMMON,
        "not_a_list": gettext_lazy("Cần một danh sách, nhận được kiểu “{input_type}”."),
        "empty": gettext_lazy("Danh sách không được để trống."),
        "min_length": gettext_lazy("Danh sách cần ít nhất {min_length} mục."),
        "max_length": gettext_lazy("Danh sách có tối đa {max_length} mục."),
    }


class ViPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {
        **_COMMON,
        "does_not_exist": gettext_lazy("Không tìm thấy đối tượng có mã “{pk_value}”."),
        "incorrect_type": gettext_lazy("Sai kiểu dữ liệu: cần một mã số, nhận được {data_type}."),
    }


class ViSlugField(serializers.SlugRelatedField):
    default_error_messages = {
        **_COMMON,
        "does_not_exist": gettext_lazy("Không tìm thấy “{value}”."),
        "invalid": gettext_lazy("Giá trị không hợp lệ."),
    }


class RequestSerializer(serializers.Serializer):
    """A request body that may hold only the declared fields: anything else is refused, never applied."""

    default_error_messages = {**_COMMON, "invalid": gettext_lazy("Dữ liệu gửi lên phải là một đối tượng JSON.")}
    # Browsers posting a form add the CSRF token to the body; it is the middleware's, not data.
    tolerated_fields = frozenset({"csrfmiddlewaretoken"})

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields) - self.tolerated_fields)
            if unknown:
                message = _("Trường này không được phép gửi.")
                raise serializers.ValidationError(
                    {name: [ErrorDetail(message, code="unknown_field")] for name in unknown}
                )
        return super().to_internal_value(data)


class VersionSerializer(RequestSerializer):
    version = ViIntegerField(
        min_value=0, help_text=gettext_lazy("Phiên bản của hồ sơ mà người thao tác đã xem (`version`).")
    )


class ConsentChoicesSerializer(RequestSerializer):
    """The optional consents of Decree 13/2023 asked at submission (processing rests on the legal duty)."""

    consent_notifications = serializers.BooleanField(
        default=False, help_text=gettext_lazy("Đồng ý nhận thông báo về hồ sơ qua email, tin nhắn.")
    )
    consent_data_reuse = serializers.BooleanField(
        default=False, help_text=gettext_lazy("Đồng ý lưu thông tin để điền sẵn cho lần nộp sau.")
    )


class SubmitSerializer(ConsentChoicesSerializer, VersionSerializer):
    """Submission, with the optional consents."""


# --- errors ------------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """Every refusal: a Vietnamese message for the person and a stable code for programs."""

    detail = serializers.CharField(help_text=gettext_lazy("Thông báo cho người dùng, bằng tiếng Việt."))
    code = serializers.CharField(
        help_text=gettext_lazy(
            "invalid, unknown_field, not_found, permission_denied, csrf_failed, not_authenticated, "
            "conflict, not_allowed, idempotency_key_in_use, idempotency_key_reused, throttled…"
        )
    )
    field = serializers.CharField(required=False, help_text=gettext_lazy("Trường gây lỗi, khi có."))
    errors = serializers.DictField(
        required=False,
        child=serializers.JSONField(),
        help_text=gettext_lazy("Lỗi theo từng trường (chỉ với lỗi dữ liệu 400)."),
    )


# --- citizen requests ----------------------------------------------------------------------------


class DossierCreateSerializer(RequestSerializer):
    procedure = ViSlugField(
        slug_field="national_code",
        queryset=procedure_list_public(),
        help_text=gettext_lazy("Mã thủ tục trên Cơ sở dữ liệu quốc gia, ví dụ 1.001612."),
    )
    agency = ViPrimaryKeyField(
        queryset=Agency.objects.filter(is_active=True), help_text=gettext_lazy("Cơ quan giải quyết (id).")
    )


class SubmissionSerializer(ConsentChoicesSerializer, DossierCreateSerializer):
    """A whole submission in one multipart request; each document is a file part `file_<requirement id>`."""

    answers = serializers.JSONField(
        binary=True,
        required=False,
        default=dict,
        help_text=gettext_lazy("Câu trả lời tờ khai, một đối tượng JSON: mã trường → giá trị."),
    )

    def validate_answers(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("Câu trả lời tờ khai phải là một đối tượng JSON."), code="invalid")
        return value


class AnswersUpdateSerializer(RequestSerializer):
    """Answers to some questions of the form; each is checked as the form page checks it."""

    answers = ViDictField(
        allow_empty=False,
        child=serializers.JSONField(),
        help_text=gettext_lazy("Mã trường → giá trị, chỉ các trường cần lưu."),
    )

    def validate_answers(self, value: dict) -> dict:
        specs = {spec["code"]: spec for spec in self.context["form_fields"]}
        unknown = sorted(set(value) - set(specs))
        if unknown:
            raise serializers.ValidationError(
                _("Tờ khai không có trường: %(names)s.") % {"names": ", ".join(unknown)}, code="unknown_field"
            )
        data = {}
        for code, raw in value.items():
            if raw is None:
                data[code] = ""
            elif isinstance(raw, bool) or not isinstance(raw, (str, int, float, Decimal)):
                raise serializers.ValidationError(
                    {code: [_("%(label)s: giá trị phải là chữ hoặc số.") % {"label": specs[code]["label"]}]}
                )
            else:
                data[code] = str(raw)
        form = dossier_forms.AnswersForm(data, fields=[specs[code] for code in value])
        if not form.is_valid():
            raise serializers.ValidationError(
                {
                    code: [f"{specs[code]['label']}: {message}" for message in messages]
                    for code, messages in form.errors.items()
                }
            )
        return form.cleaned_answers


class DeliverySerializer(RequestSerializer):
    channel_out = ViChoiceField(choices=ResultChannel.choices, help_text=gettext_lazy("Hình thức nhận kết quả."))
    postal_address = ViCharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text=gettext_lazy("Địa chỉ nhận kết quả, bắt buộc khi nhận qua bưu chính."),
    )


class FileUploadSerializer(RequestSerializer):
    requirement = ViIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text=gettext_lazy("Thành phần hồ sơ (id trong `documents` của hồ sơ)."),
    )
    file = ViFileField(help_text=gettext_lazy("PDF, JPG hoặc PNG; loại tệp được xác định theo nội dung."))


class WithdrawSerializer(VersionSerializer):
    reason = ViCharField(required=False, allow_blank=True, max_length=2000)


class StopRequestSerializer(VersionSerializer):
    reason = ViCharField(max_length=2000)


class SupplementSerializer(VersionSerializer):
    note = ViCharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text=gettext_lazy("Giải trình kèm theo giấy tờ bổ sung (các tệp tải lên trước qua /files/)."),
    )


class RatingRequestSerializer(RequestSerializer):
    scores = ViDictField(
        child=ViIntegerField(min_value=0, max_value=2),
        help_text=gettext_lazy("Điểm cho từng tiêu chí (2 hài lòng, 1 bình thường, 0 không hài lòng): ")
        + ", ".join(RATING_CRITERIA),
    )
    comment = ViCharField(required=False, allow_blank=True, max_length=2000)


# --- officer requests ----------------------------------------------------------------------------


class NoteActionSerializer(VersionSerializer):
    note = ViCharField(required=False, allow_blank=True, max_length=2000)


class ReasonActionSerializer(VersionSerializer):
    reason = ViCharField(max_length=2000)


class RefuseSerializer(ReasonActionSerializer):
    lateness_reason = ViCharField(required=False, allow_blank=True, max_length=2000)


class RequestSupplementSerializer(VersionSerializer):
    items = ViListField(
        child=ViCharField(max_length=500),
        allow_empty=False,
        max_length=50,
        help_text=gettext_lazy("Giấy tờ, nội dung cần bổ sung; mỗi mục một dòng của Mẫu 02."),
    )
    reason = ViCharField(max_length=2000)


class RecordPaymentSerializer(VersionSerializer):
    amount = ViIntegerField(min_value=0, help_text=gettext_lazy("Số tiền đã nộp (đồng)."))
    receipt_number = ViCharField(max_length=50)
    method = serializers.ChoiceField(
        choices=[("cash", gettext_lazy("Tiền mặt")), ("card", gettext_lazy("Thẻ qua máy POS"))],
        required=False,
        default="cash",
    )


class AssignSerializer(VersionSerializer):
    assignee = ViPrimaryKeyField(
        queryset=get_user_model().objects.filter(is_active=True, memberships__role=Role.SPECIALIST).distinct(),
        help_text=gettext_lazy("Chuyên viên được phân công (id)."),
    )
    note = ViCharField(required=False, allow_blank=True, max_length=2000)


class ConsultSerializer(VersionSerializer):
    agency = ViPrimaryKeyField(
        queryset=Agency.objects.filter(is_active=True), help_text=gettext_lazy("Cơ quan được hỏi ý kiến (id).")
    )
    question = ViCharField(max_length=2000)
    deadline = ViDateTimeField()


class SubmitForApprovalSerializer(VersionSerializer):
    result = ViFileField(
        required=False, help_text=gettext_lazy("Dự thảo kết quả (PDF, JPG, PNG); bắt buộc nếu chưa có.")
    )
    note = ViCharField(required=False, allow_blank=True, max_length=2000)


# Inline, so that the schema does not name the result channels a second time (`ChannelOutEnum`).
@extend_schema_field({"type": "string", "enum": ResultChannel.values})
class ResultChannelField(ViChoiceField):
    pass


class ReturnResultSerializer(VersionSerializer):
    channel = ResultChannelField(
        choices=ResultChannel.choices,
        required=False,
        help_text=gettext_lazy("Mặc định là hình thức người nộp đã chọn."),
    )


class ApologiseSerializer(VersionSerializer):
    new_due_at = ViDateTimeField(help_text=gettext_lazy("Ngày hẹn trả mới (một ngày làm việc)."))
    reason = ViCharField(max_length=2000)


# --- answers: shared parts ---------------------------------------------------------------------


class DossierProcedureSerializer(serializers.Serializer):
    national_code = serializers.CharField()
    name = serializers.CharField()


class DossierAgencySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class FormFieldSpecSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField()
    section = serializers.CharField()
    required = serializers.BooleanField()
    help_text = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField())


class RequirementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    is_mandatory = serializers.BooleanField()
    allowed_types = serializers.CharField()
    max_size_mb = serializers.IntegerField()


class DossierFileSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = DossierFile
        fields = [
            "public_id",
            "kind",
            "kind_label",
            "requirement_id",
            "requirement_name",
            "form_number",
            "original_name",
            "content_type",
            "size",
            "is_current",
            "created_at",
            "download_url",
        ]

    def get_download_url(self, obj: DossierFile) -> str:
        return reverse("dossiers_api:file-download", args=[obj.public_id], request=self.context.get("request"))


class DossierFeeSerializer(serializers.ModelSerializer):
    class Meta:
        model = DossierFee
        fields = ["kind", "name", "amount"]


class RatingSerializer(serializers.ModelSerializer):
    class Meta:
        model = DossierRating
        fields = ["scores", "comment", "created_at"]


def citizen_visible_files(dossier: Dossier):
    """The files file_get_for_user lets the applicant download: results only once approved."""
    files = dossier.files.exclude(kind=FileKind.ATTACHMENT)
    if dossier.state not in (S.RESULT_READY, S.RETURNED):
        files = files.exclude(kind=FileKind.RESULT)
    return files


# --- citizen answers ---------------------------------------------------------------------------


class DossierSummarySerializer(serializers.ModelSerializer):
    procedure = DossierProcedureSerializer()
    agency = DossierAgencySerializer()
    state_label = serializers.CharField(source="get_state_display")

    class Meta:
        model = Dossier
        fields = [
            "public_id",
            "code",
            "procedure",
            "agency",
            "state",
            "state_label",
            "version",
            "created_at",
            "submitted_at",
            "received_at",
            "current_due_at",
        ]


class DossierSerializer(DossierSummarySerializer):
    """The applicant's own dossier: everything they entered, the forms issued and what is missing."""

    state_explanation = serializers.SerializerMethodField()
    form_fields = serializers.SerializerMethodField()
    documents = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()
    fees = DossierFeeSerializer(many=True)
    missing = serializers.SerializerMethodField()
    rated = serializers.SerializerMethodField()

    class Meta(DossierSummarySerializer.Meta):
        fields = [
            *DossierSummarySerializer.Meta.fields,
            "state_explanation",
            "channel_in",
            "channel_out",
            "postal_address",
            "applicant_name",
            "applicant_id_number",
            "applicant_phone",
            "applicant_email",
            "applicant_address",
            "answers",
            "form_fields",
            "documents",
            "files",
            "missing",
            "fees",
            "fee_total",
            "fee_paid_at",
            "supplement_note",
            "decision_note",
            "original_due_at",
            "completed_at",
            "returned_at",
            "timing",
            "rated",
        ]

    def get_state_explanation(self, obj: Dossier) -> str:
        return str(STATE_EXPLANATIONS.get(obj.state, ""))

    @extend_schema_field(FormFieldSpecSerializer(many=True))
    def get_form_fields(self, obj: Dossier):
        return [
            {
                "code": spec["code"],
                "label": spec.get("label", ""),
                "kind": spec.get("kind", ""),
                "section": spec.get("section") or str(dossier_forms.DEFAULT_SECTION),
                "required": bool(spec.get("required")),
                "help_text": spec.get("help_text", ""),
                "choices": [c.strip() for c in (spec.get("choices") or "").splitlines() if c.strip()],
            }
            for spec in sorted(obj.snapshot.get("form_fields", []), key=lambda f: int(f.get("order") or 0))
        ]

    @extend_schema_field(RequirementSerializer(many=True))
    def get_documents(self, obj: Dossier):
        return [
            {
                "id": document["id"],
                "name": document.get("name", ""),
                "is_mandatory": bool(document.get("is_mandatory")),
                "allowed_types": document.get("allowed_types") or "pdf,jpg,png",
                "max_size_mb": int(document.get("max_size_mb") or 10),
            }
            for document in snapshot_documents(obj.snapshot)
        ]

    @extend_schema_field(DossierFileSerializer(many=True))
    def get_files(self, obj: Dossier):
        files = list(citizen_visible_files(obj))
        # Read once: `missing` needs the current submitted ones, which these include.
        self._files_read = (obj.pk, files)
        return DossierFileSerializer(files, many=True, context=self.context).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_missing(self, obj: Dossier):
        """What still stops submission; empty once submitted."""
        if obj.state not in (S.DRAFT, S.SUPPLEMENT_REQUESTED):
            return []
        read_for, files = getattr(self, "_files_read", (None, None))
        return dossier_missing_items(obj, files=files if read_for == obj.pk else None)

    def get_rated(self, obj: Dossier) -> bool:
        # Only a returned dossier can be rated (dossier_rate), and nothing leaves that state: no query before.
        return obj.state == S.RETURNED and DossierRating.objects.filter(dossier=obj).exists()


# --- officer answers ---------------------------------------------------------------------------


class OfficerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    # A method field, not source="get_full_name": DRF inspects a callable source's signature on
    # every row, a large share of a 50-row queue page.
    full_name = serializers.SerializerMethodField()

    def get_full_name(self, obj) -> str:
        return obj.get_full_name()


class StepSerializer(serializers.Serializer):
    name = serializers.CharField()
    agency = serializers.CharField()
    assignee = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    timing = serializers.CharField()


class EventSerializer(serializers.ModelSerializer):
    action_label = serializers.CharField(source="get_action_display")

    class Meta:
        model = DossierEvent
        fields = ["action", "action_label", "actor_name", "from_state", "to_state", "note", "created_at"]


STATE_LABELS = dict(DossierState.choices)


class QueueItemSerializer(serializers.ModelSerializer):
    procedure = DossierProcedureSerializer()
    agency = DossierAgencySerializer()
    # get_state_display rebuilds a dict of the lazily translated choices and DRF inspects its signature
    # on every row: the label is looked up in a dict built once instead.
    state_label = serializers.SerializerMethodField()
    assignee = OfficerRefSerializer(allow_null=True)
    is_overdue = serializers.BooleanField(read_only=True)
    # Lists show the CCCD masked (037******517); the full number only on the dossier itself.
    applicant_id_number_masked = serializers.SerializerMethodField()

    class Meta:
        model = Dossier
        fields = [
            "id",
            "public_id",
            "code",
            "procedure",
            "agency",
            "state",
            "state_label",
            "version",
            "applicant_name",
            "applicant_id_number_masked",
            "submitted_at",
            "received_at",
            "current_due_at",
            "is_overdue",
            "assignee",
        ]

    def get_state_label(self, obj: Dossier) -> str:
        return str(STATE_LABELS.get(obj.state, obj.state))

    def get_applicant_id_number_masked(self, obj: Dossier) -> str:
        from dossiers.privacy.masking import mask_cccd

        return mask_cccd(obj.applicant_id_number)


# The columns a queue row of the API shows (dossiers.selectors.queue_page_rows).
QUEUE_ITEM_VALUES = (
    "id",
    "public_id",
    "code",
    "state",
    "version",
    "applicant_name",
    "applicant_id_number",
    "submitted_at",
    "received_at",
    "current_due_at",
    "procedure__national_code",
    "procedure__name",
    "agency__id",
    "agency__name",
    "assignee__id",
    "assignee__full_name",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
)


def _datetime(value: dt.datetime | None, zone) -> str | None:
    """What DRF's DateTimeField writes: ISO 8601 in the current time zone, "Z" for UTC."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def queue_items(rows: list[dict]) -> list[dict]:
    """QueueItemSerializer's output, built from queue_page_rows(..., QUEUE_ITEM_VALUES) in one plain loop.

    The same JSON as the serializer (tests/dossiers/test_queue_items.py compares them field by field)
    without its per-field machinery and without model instances: at 50 rows a page that machinery was
    most of the queue API's Python time. QueueItemSerializer stays the schema of these rows.
    """
    from dossiers.privacy.masking import mask_cccd

    labels = state_labels(translation.get_language())
    zone = timezone.get_current_timezone()
    now = timezone.now()
    items = []
    for row in rows:
        state, due = row["state"], row["current_due_at"]
        if row["assignee__id"] is None:
            assignee = None
        else:
            full_name = display_name(
                row["assignee__full_name"],
                row["assignee__first_name"],
                row["assignee__last_name"],
                row["assignee__username"],
            )
            assignee = {"id": row["assignee__id"], "full_name": full_name}
        items.append(
            {
                "id": row["id"],
                "public_id": str(row["public_id"]),
                "code": row["code"],
                "procedure": {"national_code": row["procedure__national_code"], "name": row["procedure__name"]},
                "agency": {"id": row["agency__id"], "name": row["agency__name"]},
                "state": state,
                "state_label": labels.get(state, state),
                "version": row["version"],
                "applicant_name": row["applicant_name"],
                "applicant_id_number_masked": mask_cccd(row["applicant_id_number"]),
                "submitted_at": _datetime(row["submitted_at"], zone),
                "received_at": _datetime(row["received_at"], zone),
                "current_due_at": _datetime(due, zone),
                "is_overdue": state in RUNNING_STATES and due is not None and now > due,
                "assignee": assignee,
            }
        )
    return items


class QueuePageSerializer(serializers.Serializer):
    results = QueueItemSerializer(many=True)
    next = serializers.CharField(
        allow_null=True, help_text=gettext_lazy("Con trỏ của trang sau (tham số `after`); null ở trang cuối.")
    )


class FormStatusSerializer(serializers.Serializer):
    """Form 01 while a worker renders it after the reception: pending, then ready with its download URL."""

    state = serializers.ChoiceField(choices=FormState.choices)
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, obj) -> str | None:
        if obj.file is None:
            return None
        return reverse("dossiers_api:file-download", args=[obj.file.public_id], request=self.context.get("request"))


class OfficerDossierSerializer(QueueItemSerializer):
    """The dossier as the officers handling it see it: applicant, answers, files, steps, audit trail."""

    receiving_agency = DossierAgencySerializer(allow_null=True)
    current_step = serializers.CharField(source="current_step.name", allow_null=True, default=None)
    files = DossierFileSerializer(many=True)
    fees = DossierFeeSerializer(many=True)
    steps = serializers.SerializerMethodField()
    events = EventSerializer(many=True)
    receipt = serializers.SerializerMethodField()

    class Meta(QueueItemSerializer.Meta):
        fields = [
            *QueueItemSerializer.Meta.fields,
            "receiving_agency",
            "channel_in",
            "channel_out",
            "postal_address",
            "applicant_id_number",
            "applicant_phone",
            "applicant_email",
            "applicant_address",
            "answers",
            "summary",
            "files",
            "fees",
            "fee_total",
            "fee_paid_at",
            "supplement_stage",
            "supplement_note",
            "decision_note",
            "original_due_at",
            "completed_at",
            "returned_at",
            "timing",
            "apologised",
            "current_step",
            "steps",
            "events",
            "receipt",
        ]

    @extend_schema_field(FormStatusSerializer(allow_null=True))
    def get_receipt(self, obj: Dossier):
        """Form 01: null when none is owed (not received, or waiting for the fee)."""
        status = dossier_receipt_status(dossier=obj, files=list(obj.files.all()))
        return FormStatusSerializer(status, context=self.context).data if status else None

    @extend_schema_field(StepSerializer(many=True))
    def get_steps(self, obj: Dossier):
        from ..selectors import dossier_timeline

        return StepSerializer(dossier_timeline(obj), many=True).data


# --- public tracking ---------------------------------------------------------------------------


class TrackStepSerializer(serializers.Serializer):
    name = serializers.CharField()
    agency = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    timing = serializers.CharField()


class TrackProcedureSerializer(serializers.Serializer):
    national_code = serializers.CharField(source="procedure_national_code")
    name = serializers.CharField(source="procedure_current_name")


class TrackSerializer(serializers.Serializer):
    """What anyone holding the code may read: the procedure and its progress, nothing about the person.

    Reads a selectors.PublicDossier (one statement, the steps included).
    """

    code = serializers.CharField(allow_null=True)
    procedure = TrackProcedureSerializer(source="*")
    agency = serializers.CharField(source="agency_name")
    state = serializers.ChoiceField(choices=DossierState.choices)
    state_label = serializers.CharField(source="get_state_display")
    state_explanation = serializers.SerializerMethodField()
    received_at = serializers.DateTimeField(allow_null=True)
    current_due_at = serializers.DateTimeField(allow_null=True)
    steps = TrackStepSerializer(many=True)

    def get_state_explanation(self, obj) -> str:
        return str(STATE_EXPLANATIONS.get(obj.state, ""))


def _text(value) -> str | None:
    # What DRF's CharField writes, None included (the serializer writes None for a None attribute).
    return None if value is None else str(value)


def track_payload(dossier) -> dict:
    """TrackSerializer's output for a selectors.PublicDossier, written by one plain function.

    The same JSON (tests/dossiers/test_tracking_payload.py compares them in both languages, with
    and without steps, by code and by reference) without the serializer's copy of its nine fields
    and two nested serializers on every request. TrackSerializer stays the schema.
    """
    zone = timezone.get_current_timezone()
    return {
        "code": _text(dossier.code),
        "procedure": {
            "national_code": _text(dossier.procedure_national_code),
            "name": _text(dossier.procedure_current_name),
        },
        "agency": _text(dossier.agency_name),
        "state": dossier.state,
        "state_label": _text(dossier.get_state_display()),
        "state_explanation": str(STATE_EXPLANATIONS.get(dossier.state, "")),
        "received_at": _datetime(dossier.received_at, zone),
        "current_due_at": _datetime(dossier.current_due_at, zone),
        "steps": [
            {
                "name": _text(step.name),
                "agency": _text(step.agency),
                "started_at": _datetime(step.started_at, zone),
                "completed_at": _datetime(step.completed_at, zone),
                "timing": _text(step.timing),
            }
            for step in dossier.steps
        ],
    }
