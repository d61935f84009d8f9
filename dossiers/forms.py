"""Forms generated from a procedure version's form fields, one topic (section) per page."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django import forms
from django.core.validators import RegexValidator
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.accounts.cccd import validate_cccd
from portal.accounts.models import phone_validator
from portal.widgets import DATE_HELP, DATE_INPUT_FORMATS, VietnameseDateInput
from procedures.constants import FieldKind

from .constants import RATING_CRITERIA, RATING_SCORES, ResultChannel

DEFAULT_SECTION = gettext_lazy("Thông tin hồ sơ")


# Questions of a procedure's form that ask for the applicant's own details (the catalogue's codes):
# they are answered once, on the applicant step, from the account and the applicant's answers there.
APPLICANT_ANSWER_CODES = {
    "ho_ten_nguoi_yeu_cau": "applicant_name",
    "so_dinh_danh_nguoi_yeu_cau": "applicant_id_number",
    "so_dien_thoai": "applicant_phone",
    "email": "applicant_email",
}


def applicant_codes(fields: list[dict]) -> dict[str, str]:
    """The form's questions answered by the applicant step: code → applicant attribute."""
    return {f["code"]: APPLICANT_ANSWER_CODES[f["code"]] for f in fields if f.get("code") in APPLICANT_ANSWER_CODES}


def applicant_sections(fields: list[dict]) -> set[str]:
    """Topics about the applicant (holding one of their details): asked on the applicant step itself."""
    codes = applicant_codes(fields)
    return {f.get("section") or str(DEFAULT_SECTION) for f in fields if f["code"] in codes}


def own_sections(fields: list[dict]) -> list[str]:
    """The topics that get a page of their own (those about the applicant are merged into its step)."""
    merged = applicant_sections(fields)
    return [name for name in sections(fields) if name not in merged]


def applicant_extra_fields(fields: list[dict]) -> list[dict]:
    """The other questions of the applicant's topics, asked on the applicant step after their details."""
    merged, codes = applicant_sections(fields), applicant_codes(fields)
    return [
        f
        for f in sorted(fields, key=lambda f: int(f.get("order") or 0))
        if (f.get("section") or str(DEFAULT_SECTION)) in merged and f["code"] not in codes
    ]


def display_answer(spec: dict, value) -> str:
    """An answer as people read it: dates dd/mm/yyyy (stored ISO), "—" when empty."""
    if value in (None, ""):
        return "—"
    if spec.get("kind") == FieldKind.DATE:
        try:
            return dt.date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)
    return str(value)


def sections(fields: list[dict]) -> list[str]:
    """The topics of the form in order of first appearance."""
    seen: list[str] = []
    for field in sorted(fields, key=lambda f: int(f.get("order") or 0)):
        name = field.get("section") or str(DEFAULT_SECTION)
        if name not in seen:
            seen.append(name)
    return seen


def _form_field(spec: dict) -> forms.Field:
    kind = spec.get("kind", FieldKind.TEXT)
    # Django renders help text as HTML; this one comes from administrators and imported catalogue files.
    common = {
        "label": spec["label"],
        "required": bool(spec.get("required")),
        "help_text": escape(spec.get("help_text") or ""),
    }
    validators = []
    if spec.get("pattern"):
        validators.append(RegexValidator(spec["pattern"], spec.get("pattern_message") or _("Giá trị không hợp lệ.")))
    max_length = spec.get("max_length") or (2000 if kind == FieldKind.TEXTAREA else 255)
    if kind == FieldKind.TEXTAREA:
        return forms.CharField(
            widget=forms.Textarea(attrs={"rows": 4}), max_length=max_length, validators=validators, **common
        )
    if kind == FieldKind.NUMBER:
        return forms.DecimalField(
            min_value=Decimal(spec["min_value"]) if spec.get("min_value") not in (None, "") else None,
            max_value=Decimal(spec["max_value"]) if spec.get("max_value") not in (None, "") else None,
            **common,
        )
    if kind == FieldKind.DATE:
        # Typed dd/mm/yyyy whatever the browser's language (its picker would say mm/dd/yyyy).
        help_text = " ".join(filter(None, [common.pop("help_text"), str(DATE_HELP)]))
        return forms.DateField(
            widget=VietnameseDateInput(), input_formats=DATE_INPUT_FORMATS, help_text=help_text, **common
        )
    if kind == FieldKind.CHOICE:
        # Stripped like FormField.choice_list, so that fee conditions compare the same values.
        options = [c.strip() for c in (spec.get("choices") or "").splitlines() if c.strip()]
        choices = [("", _("— Chọn —"))] + [(c, c) for c in options]
        return forms.ChoiceField(choices=choices, **common)
    if kind == FieldKind.CCCD:
        return forms.CharField(
            max_length=12,
            min_length=12,
            validators=[validate_cccd, *validators],
            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
            **common,
        )
    if kind == FieldKind.PHONE:
        return forms.CharField(
            max_length=11,
            validators=[phone_validator, *validators],
            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
            **common,
        )
    if kind == FieldKind.EMAIL:
        return forms.EmailField(validators=validators, **common)
    if kind == FieldKind.ADDRESS:
        return forms.CharField(
            max_length=500,
            min_length=5,
            validators=validators,
            widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
            **common,
        )
    return forms.CharField(max_length=max_length, validators=validators, **common)


def _jsonable(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class AnswersForm(forms.Form):
    """The questions of one section; `cleaned_answers` is JSON-ready."""

    def __init__(self, *args, fields: list[dict], section: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.answer_codes: list[str] = []
        for spec in sorted(fields, key=lambda f: int(f.get("order") or 0)):
            if section is None or (spec.get("section") or str(DEFAULT_SECTION)) == section:
                self.fields[spec["code"]] = _form_field(spec)
                self.answer_codes.append(spec["code"])

    @property
    def cleaned_answers(self) -> dict:
        return {key: _jsonable(value) for key, value in self.cleaned_data.items()}


def validate_answers(fields: list[dict], answers: dict) -> list[str]:
    """Messages for every stored answer that is missing or invalid (re-checked at submission)."""
    data = {}
    for spec in fields:
        value = answers.get(spec["code"])
        if spec.get("kind") == FieldKind.DATE and isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", value):
            data[spec["code"]] = value
        else:
            data[spec["code"]] = "" if value is None else str(value)
    form = AnswersForm(data, fields=fields)
    if form.is_valid():
        return []
    labels = {spec["code"]: spec["label"] for spec in fields}
    return [f"{labels.get(code, code)}: {' '.join(errors)}" for code, errors in form.errors.items()]


class DeliveryForm(forms.Form):
    channel_out = forms.ChoiceField(
        label=gettext_lazy("Hình thức nhận kết quả"), choices=ResultChannel.choices, widget=forms.RadioSelect
    )
    postal_address = forms.CharField(
        label=gettext_lazy("Địa chỉ nhận kết quả qua bưu chính"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("Số nhà, đường, xã/phường, tỉnh/thành phố. Phí bưu chính do người nhận trả."),
    )

    def __init__(self, *args, postal_allowed: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not postal_allowed:
            self.fields["channel_out"].choices = [c for c in ResultChannel.choices if c[0] != ResultChannel.POSTAL]
            # No postal channel: the address question would only confuse.
            del self.fields["postal_address"]
        else:
            from dossiers.postal.services import postal_fee_quote

            # The postage is shown before the citizen chooses (QĐ 45/2016 Art 11: the applicant pays it).
            fee = f"{postal_fee_quote():,}".replace(",", ".")
            self.fields["channel_out"].choices = [
                (value, _("%(label)s (cước %(fee)s đồng, người nhận trả)") % {"label": label, "fee": fee})
                if value == ResultChannel.POSTAL
                else (value, label)
                for value, label in ResultChannel.choices
            ]

    def clean(self):
        data = super().clean()
        if data.get("channel_out") == ResultChannel.POSTAL and len((data.get("postal_address") or "").strip()) < 10:
            self.add_error("postal_address", _("Vui lòng nhập đầy đủ địa chỉ nhận kết quả qua bưu chính."))
        return data


class ApplicantForm(forms.Form):
    applicant_name = forms.CharField(label=gettext_lazy("Họ và tên người nộp"), max_length=255)
    applicant_id_number = forms.CharField(
        label=gettext_lazy("Số định danh cá nhân (CCCD)"), max_length=12, validators=[validate_cccd]
    )
    applicant_phone = forms.CharField(
        label=gettext_lazy("Số điện thoại"), max_length=11, required=False, validators=[phone_validator]
    )
    applicant_email = forms.EmailField(label=gettext_lazy("Thư điện tử"), required=False)
    applicant_address = forms.CharField(label=gettext_lazy("Địa chỉ"), max_length=500, required=False)


class UploadForm(forms.Form):
    requirement = forms.IntegerField(widget=forms.HiddenInput)
    file = forms.FileField(label=gettext_lazy("Chọn tệp"))


class ReasonForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=gettext_lazy("Lý do"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class SupplementRequestForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    items = forms.CharField(
        label=gettext_lazy("Giấy tờ, nội dung cần bổ sung (mỗi dòng một mục)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
    )
    reason = forms.CharField(label=gettext_lazy("Lý do"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    @property
    def item_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["items"].splitlines() if line.strip()]


class RatingForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("Góp ý thêm (không bắt buộc)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(score), label) for score, label in RATING_SCORES.items()]
        for key, label in RATING_CRITERIA.items():
            self.fields[f"score_{key}"] = forms.TypedChoiceField(
                label=label, choices=choices, coerce=int, widget=forms.RadioSelect
            )
        # The criteria first, the free comment last.
        self.order_fields([*(f"score_{key}" for key in RATING_CRITERIA), "comment"])

    @property
    def scores(self) -> dict[str, int]:
        return {key: self.cleaned_data[f"score_{key}"] for key in RATING_CRITERIA}


class _FetchedChoiceIterator(forms.models.ModelChoiceIterator):
    """Iterates the evaluated queryset: ModelChoiceIterator's queryset.iterator() opens a server-side
    cursor on PostgreSQL (DECLARE, FETCH, CLOSE: three round trips) for a list of a few officers."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        preset = self.field.preset_options
        for obj in self.queryset if preset is None else preset:
            yield self.choice(obj)


class FetchedModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField for short lists: its options come from one ordinary query, or are given
    as already read (`preset_options`, in the queryset's order; a submitted value is still checked
    against the queryset)."""

    iterator = _FetchedChoiceIterator
    preset_options: list | None = None
