import json
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from portal.admin_scope import AgencyScopedAdminMixin, InlineScopedMixin, administered_agency_ids

from .constants import StepAgencyRule
from .models import (
    Agency,
    CalendarDay,
    DiscountPolicy,
    FeeExemption,
    FeeItem,
    Field,
    FormField,
    Procedure,
    ProcedureVersion,
    ProcessingStep,
    RequiredDocument,
)
from .selectors import agencies_without_commune_police
from .services import ImportError_, procedure_publish_version, procedures_export, procedures_import


@admin.register(Agency)
class AgencyAdmin(AgencyScopedAdminMixin, admin.ModelAdmin):
    list_display = ["indented_name", "identifier", "centralised_identifier", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "identifier", "centralised_identifier"]
    readonly_fields = ["identifier_history"]
    autocomplete_fields = ["parent", "locality"]
    agency_lookup = "pk"

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not self._scoped(request):
            return form
        allowed = administered_agency_ids(request)

        class ScopedAgencyForm(form):
            """Agency administrators add and move units only below the agencies they administer."""

            def clean_parent(self):
                parent = self.cleaned_data.get("parent")
                unchanged = self.instance.pk is not None and parent == self.instance.parent
                if not unchanged and (parent is None or parent.pk not in allowed):
                    raise ValidationError(_("Chỉ thêm hoặc chuyển đơn vị vào các cơ quan bạn quản trị."))
                return parent

        return ScopedAgencyForm

    @admin.display(description=_("lịch sử mã định danh"))
    def identifier_history(self, obj):
        """Each scheme's identifiers with their periods (recorded on save, read-only)."""
        rows = obj.identifier_history.order_by("scheme", "valid_from", "id") if obj.pk else []
        return format_html_join(
            mark_safe("<br>"),
            "{}: {} ({} – {})",
            (
                (
                    row.get_scheme_display(),
                    row.value,
                    f"{row.valid_from:%d/%m/%Y}",
                    f"{row.valid_to:%d/%m/%Y}" if row.valid_to else "…",
                )
                for row in rows
            ),
        )

    @admin.display(description=_("tên cơ quan"), ordering="path")
    def indented_name(self, obj):
        return format_html("{}{}", "\u2003" * obj.depth, obj.name)


@admin.register(Field)
class FieldAdmin(AgencyScopedAdminMixin, admin.ModelAdmin):
    agency_lookup = None
    read_only_for_agency_admins = True
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


class PublishRequiresFormSet(BaseInlineFormSet):
    """Refuses to publish the procedure while this part of it is empty (issue 11, point 12).

    The admin builds the inline formsets on the procedure as the form would save it, so
    ``self.instance.is_published`` is the box as ticked; nothing is saved when this fails.
    """

    missing_message = ""

    def live_forms(self) -> list:
        return [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]

    def clean(self):
        super().clean()
        if self.instance.is_published and not self.live_forms():
            raise ValidationError(self.missing_message)


class RequiredDocumentFormSet(PublishRequiresFormSet):
    missing_message = _(
        "Chưa thể công khai: thủ tục chưa có thành phần hồ sơ nào (Nghị định 63/2010/NĐ-CP Điều 8). "
        "Thêm giấy tờ, hoặc bỏ chọn “công khai” để lưu bản nháp."
    )


class RequiredDocumentInline(InlineScopedMixin, admin.StackedInline):
    model = RequiredDocument
    formset = RequiredDocumentFormSet
    extra = 0
    fields = [
        ("order", "name"),
        ("is_mandatory", "original_count", "copy_count"),
        ("allowed_types", "max_size_mb"),
        "template",
        "note",
    ]


class FormFieldInline(InlineScopedMixin, admin.StackedInline):
    model = FormField
    extra = 0
    fields = [
        ("order", "code", "label"),
        ("kind", "section", "required"),
        "help_text",
        "choices",
        ("min_value", "max_value", "max_length"),
        ("pattern", "pattern_message"),
    ]


class FeeItemForm(forms.ModelForm):
    """Unit and range fall back to their defaults when left empty (one line per dossier)."""

    class Meta:
        model = FeeItem
        fields = [f.name for f in FeeItem._meta.fields if f.editable and f.name not in ("id", "procedure")]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("unit", "quantity_from"):
            self.fields[name].required = False

    def clean_unit(self):
        return self.cleaned_data.get("unit") or FeeItem._meta.get_field("unit").default

    def clean_quantity_from(self):
        return self.cleaned_data.get("quantity_from") or 1


class FeeItemInline(InlineScopedMixin, admin.StackedInline):
    # Stacked, two or three fields a line: the table of every column ran past the form at 1280 px.
    model = FeeItem
    form = FeeItemForm
    extra = 0
    fields = [
        ("kind", "name"),
        ("amount", "amount_counter", "amount_online", "amount_postal"),
        ("unit", "quantity_field", "quantity_from", "quantity_to", "max_amount"),
        ("condition_field", "condition_value"),
        ("effective_from", "effective_to"),
        "legal_basis",
        ("refundable", "note"),
    ]


class ProcessingStepFormSet(PublishRequiresFormSet):
    missing_message = _(
        "Chưa thể công khai: thủ tục chưa có bước xử lý nào. Thêm quy trình xử lý, hoặc bỏ chọn “công khai” "
        "để lưu bản nháp."
    )

    def clean(self):
        super().clean()
        days = self.instance.processing_days
        total = sum(
            (form.cleaned_data.get("duration_days") or Decimal(0))
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        )
        if days and total > days:
            raise ValidationError(
                _("Tổng thời gian các bước (%(total)s ngày) vượt thời hạn giải quyết của thủ tục (%(days)s ngày)."),
                params={"total": total, "days": days},
            )
        if self.instance.is_published and any(
            form.cleaned_data.get("agency_rule") == StepAgencyRule.COMMUNE_POLICE for form in self.live_forms()
        ):
            # The agencies as ticked in this same POST (ProcedureAdmin.save_form), else as saved.
            agencies = getattr(self.instance, "posted_agencies", None)
            if agencies is None:
                agencies = self.instance.agencies.all() if self.instance.pk else []
            gaps = agencies_without_commune_police(agencies)
            if gaps:
                raise ValidationError(
                    _(
                        "Chưa thể công khai: có bước do công an cấp xã giải quyết nhưng chưa có đơn vị công an "
                        "nào có địa bàn là %(agencies)s. Thêm đơn vị công an (loại “Công an”, địa bàn là xã, "
                        "phường đó), hoặc bỏ cơ quan này khỏi thủ tục."
                    ),
                    params={"agencies": ", ".join(agency.name for agency in gaps)},
                )


class ProcessingStepForm(forms.ModelForm):
    """A step posted without a routing rule (a form or client older than the field) keeps the rule it had
    (a fixed agency for a new step)."""

    class Meta:
        model = ProcessingStep
        fields = ["order", "name", "role", "agency", "agency_rule", "duration_days"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "agency_rule" in self.fields:
            self.fields["agency_rule"].required = False

    def clean_agency_rule(self):
        return self.cleaned_data.get("agency_rule") or self.instance.agency_rule or StepAgencyRule.FIXED


class ProcessingStepInline(InlineScopedMixin, admin.StackedInline):
    # Stacked like the others: the table with the agency search ran past the form at 1280 px.
    model = ProcessingStep
    form = ProcessingStepForm
    formset = ProcessingStepFormSet
    extra = 0
    fields = [("order", "name"), ("role", "agency", "agency_rule", "duration_days")]
    autocomplete_fields = ["agency"]


class ProcedureImportForm(forms.Form):
    file = forms.FileField(label=_("Tệp JSON danh mục thủ tục"))


@admin.register(Procedure)
class ProcedureAdmin(AgencyScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "national_code",
        "name",
        "field",
        "level",
        "processing_days",
        "is_published",
        "is_local",
        "version_number",
    ]
    list_filter = ["level", "field", "is_published", "is_local", "agencies"]
    change_form_template = "admin/procedures/procedure/change_form.html"
    search_fields = ["national_code", "name", "search_text"]
    autocomplete_fields = ["field", "agencies"]
    inlines = [RequiredDocumentInline, FormFieldInline, FeeItemInline, ProcessingStepInline]
    actions = ["export_json"]
    change_list_template = "admin/procedures/procedure/change_list.html"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("national_code", "is_local"),
                    "name",
                    "field",
                    "agencies",
                    "level",
                    "applicant_type",
                    "is_published",
                ]
            },
        ),
        (_("Thời hạn"), {"fields": ["processing_days", "cutoff_time"]}),
        (
            _("Cách thức thực hiện"),
            {
                "fields": [
                    "channel_online",
                    "channel_counter",
                    "channel_postal",
                    "fee_before_processing",
                    "payment_timing",
                    "centralised_system_code",
                ]
            },
        ),
        (_("Nội dung"), {"fields": ["result_type", "legal_basis", "description", "conditions"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("field")

    def get_changeform_initial_data(self, request):
        # A new procedure starts as a draft: published only once it is complete and previewed.
        return {"is_published": False, **super().get_changeform_initial_data(request)}

    def preview_view(self, request, object_id):
        """The citizen's page of the procedure as it would be published, drafts included."""
        procedure = self.get_object(request, object_id)
        if procedure is None or not self.has_view_or_change_permission(request, procedure):
            return redirect("admin:procedures_procedure_changelist")
        return render(
            request,
            "procedures/procedure_detail.html",
            {
                "procedure": procedure,
                "total_fee": sum(fee.amount for fee in procedure.fees.all() if not fee.condition_field),
                "preview": True,
            },
        )

    def export_view(self, request):
        """The whole catalogue this administrator may see, as the JSON file the import reads."""
        queryset = self.get_queryset(request)
        payload = json.dumps(procedures_export(queryset), ensure_ascii=False, indent=2)
        response = HttpResponse(payload, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="danh-muc-thu-tuc.json"'
        return response

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "agencies" and self._scoped(request):
            kwargs["queryset"] = Agency.objects.filter(pk__in=administered_agency_ids(request))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("phiên bản"))
    def version_number(self, obj):
        version = obj.current_version
        return version.number if version else "—"

    def save_form(self, request, form, change):
        procedure = super().save_form(request, form, change)
        # The step formset validates against the agencies ticked in this POST, not yet saved (M2M).
        if "agencies" in form.cleaned_data:
            procedure.posted_agencies = list(form.cleaned_data["agencies"])
        return procedure

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        version = procedure_publish_version(procedure=form.instance, user=request.user)
        self.message_user(request, _("Thủ tục đang ở phiên bản %(n)s.") % {"n": version.number}, messages.INFO)

    @admin.action(description=_("Xuất các thủ tục đã chọn ra tệp JSON"))
    def export_json(self, request, queryset):
        payload = json.dumps(procedures_export(queryset), ensure_ascii=False, indent=2)
        response = HttpResponse(payload, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="thu-tuc.json"'
        return response

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="procedures_procedure_import"),
            path("export/", self.admin_site.admin_view(self.export_view), name="procedures_procedure_export"),
            path(
                "<path:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="procedures_procedure_preview",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        # A file may replace any procedure of the province: system administrators only.
        if not (
            request.user.has_perm("procedures.add_procedure") and request.user.has_perm("procedures.change_procedure")
        ):
            return redirect("admin:index")
        form = ProcedureImportForm(request.POST or None, request.FILES or None)
        problems: list[str] = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > 20 * 1024 * 1024:
                problems = [str(_("Tệp quá lớn (tối đa 20 MB)."))]
            else:
                try:
                    imported = procedures_import(upload.read(), user=request.user)
                except ImportError_ as exc:
                    problems = exc.messages
                else:
                    self.message_user(request, _("Đã nhập %(n)s thủ tục.") % {"n": len(imported)}, messages.SUCCESS)
                    return redirect(reverse("admin:procedures_procedure_changelist"))
            if problems:
                self.message_user(request, _("Tệp có lỗi, không có thay đổi nào được lưu."), messages.ERROR)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "problems": problems,
            "title": _("Nhập danh mục thủ tục từ tệp JSON"),
        }
        return render(request, "admin/procedures/procedure/import.html", context)


@admin.register(ProcedureVersion)
class ProcedureVersionAdmin(AgencyScopedAdminMixin, admin.ModelAdmin):
    agency_lookup = "procedure__agencies"
    read_only_for_agency_admins = True

    list_display = ["procedure", "number", "effective_from", "created_by"]
    list_filter = ["effective_from"]
    search_fields = ["procedure__national_code", "procedure__name"]
    readonly_fields = ["procedure", "number", "snapshot", "effective_from", "created_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(AgencyScopedAdminMixin, admin.ModelAdmin):
    agency_lookup = None
    read_only_for_agency_admins = True

    list_display = ["date", "kind", "name"]
    list_filter = ["kind"]
    search_fields = ["name"]
    date_hierarchy = "date"


@admin.register(DiscountPolicy)
class DiscountPolicyAdmin(admin.ModelAdmin):
    """Reductions administrators set for a period, with their legal basis (e.g. a council resolution)."""

    list_display = ["name", "kind", "value", "channel", "procedure", "field", "agency", "valid_from", "valid_to"]
    list_filter = ["is_active", "channel", "kind", "combination"]
    search_fields = ["name", "legal_basis"]
    autocomplete_fields = ["procedure", "field", "agency"]
    fieldsets = [
        (None, {"fields": ["name", "legal_basis", "is_active"]}),
        (_("Mức giảm"), {"fields": [("kind", "value"), ("combination", "order")]}),
        (_("Phạm vi"), {"fields": ["channel", "fee_kind", "skip_channel_rates", "procedure", "field", "agency"]}),
        (_("Hiệu lực"), {"fields": [("valid_from", "valid_to")]}),
    ]


@admin.register(FeeExemption)
class FeeExemptionAdmin(admin.ModelAdmin):
    list_display = ["group", "percent", "procedure", "field", "proof_required", "is_active"]
    list_filter = ["group", "is_active"]
    search_fields = ["proof_required", "legal_basis"]
    autocomplete_fields = ["procedure", "field"]
