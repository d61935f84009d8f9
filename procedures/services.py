"""Writes to the procedure catalogue: versions, and import/export of a province's catalogue as JSON."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .constants import StepAgencyRule
from .models import (
    Agency,
    FeeItem,
    Field,
    FormField,
    Procedure,
    ProcedureVersion,
    ProcessingStep,
    RequiredDocument,
)
from .selectors import agencies_without_commune_police

EXPORT_FORMAT = "cong-dich-vu-cong/procedures"
EXPORT_VERSION = 1

_PROCEDURE_FIELDS = [
    "national_code",
    "name",
    "level",
    "applicant_type",
    "processing_days",
    "cutoff_time",
    "supplement_window_days",
    "legal_basis",
    "source",
    "is_example",
    "result_type",
    "description",
    "conditions",
    "channel_online",
    "channel_counter",
    "channel_postal",
    "fee_before_processing",
    "payment_timing",
    "centralised_system_code",
    "is_published",
]
_DOCUMENT_FIELDS = [
    "order",
    "name",
    "is_mandatory",
    "original_count",
    "copy_count",
    "allowed_types",
    "max_size_mb",
    "note",
]
_FORM_FIELD_FIELDS = [
    "order",
    "code",
    "label",
    "kind",
    "section",
    "required",
    "help_text",
    "choices",
    "min_value",
    "max_value",
    "max_length",
    "pattern",
    "pattern_message",
]
_OPTIONAL_DEFAULTS = {"supplement_window_days": None, "source": "", "is_example": False}
_FEE_FIELDS = [
    "kind",
    "name",
    "amount",
    "amount_counter",
    "amount_online",
    "amount_postal",
    "unit",
    "quantity_field",
    "quantity_from",
    "quantity_to",
    "max_amount",
    "condition_field",
    "condition_value",
    "effective_from",
    "effective_to",
    "legal_basis",
    "refundable",
    "note",
    "source",
]
_STEP_FIELDS = ["order", "name", "role", "duration_days", "agency_rule"]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Fixed-point: normalize() alone writes 20 as "2E+1".
        return format(value.normalize(), "f")
    if hasattr(value, "isoformat"):
        return value.isoformat(timespec="minutes") if hasattr(value, "hour") else value.isoformat()
    return value


def _row(obj, names: list[str]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in names}


def procedure_to_dict(procedure: Procedure) -> dict[str, Any]:
    """Everything that defines a procedure, in the import/export format (also the version snapshot)."""
    data = _row(procedure, _PROCEDURE_FIELDS)
    # Fields added later appear only when set, so that catalogues written before them export unchanged.
    for name, default in _OPTIONAL_DEFAULTS.items():
        if data.get(name) == default:
            data.pop(name)
    data["field"] = procedure.field.code
    data["agencies"] = sorted(procedure.agencies.values_list("identifier", flat=True))
    data["documents"] = [_row(d, _DOCUMENT_FIELDS) for d in procedure.documents.all()]
    data["form_fields"] = [_row(f, _FORM_FIELD_FIELDS) for f in procedure.form_fields.all()]
    data["fees"] = [
        {k: v for k, v in _row(f, _FEE_FIELDS).items() if not (k == "source" and v == "")} for f in procedure.fees.all()
    ]
    data["steps"] = [
        # agency_rule only when set, so that the snapshots of procedures written before it are unchanged.
        {
            **{
                k: v for k, v in _row(s, _STEP_FIELDS).items() if not (k == "agency_rule" and v == StepAgencyRule.FIXED)
            },
            "agency": s.agency.identifier if s.agency_id else None,
        }
        for s in procedure.steps.select_related("agency")
    ]
    return data


@transaction.atomic
def procedure_publish_version(*, procedure: Procedure, user=None) -> ProcedureVersion:
    """Freeze the procedure's current content as a new version unless the latest one already equals it.

    Locks the procedure row so that two administrators saving at once cannot create the same number.
    """
    Procedure.objects.select_for_update().filter(pk=procedure.pk).first()
    snapshot = procedure_to_dict(procedure)
    latest = procedure.versions.order_by("-number").first()
    if latest is not None and latest.snapshot == snapshot:
        return latest
    return ProcedureVersion.objects.create(
        procedure=procedure,
        number=(latest.number + 1) if latest else 1,
        snapshot=snapshot,
        created_by=user if getattr(user, "pk", None) else None,
    )


def procedures_export(queryset=None) -> dict[str, Any]:
    queryset = queryset if queryset is not None else Procedure.objects.all()
    queryset = queryset.select_related("field").prefetch_related("agencies", "documents", "form_fields", "fees")
    procedures = list(queryset.order_by("national_code"))
    fields = Field.objects.filter(pk__in={p.field_id for p in procedures}).order_by("code")
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "fields": [{"code": f.code, "name": f.name} for f in fields],
        "procedures": [procedure_to_dict(p) for p in procedures],
    }


class ImportError_(ValidationError):
    """Raised with every problem found; nothing has been written when it is raised."""


def _build(
    model, data: dict[str, Any], names: list[str], where: str, errors: list[str], *, validate_unique=True, **extra
):
    unknown = set(data) - set(names) - {"agency"}
    if unknown:
        errors.append(
            _("%(where)s: trường không hợp lệ: %(names)s") % {"where": where, "names": ", ".join(sorted(unknown))}
        )
    obj = model(**{k: v for k, v in data.items() if k in names}, **extra)
    try:
        obj.full_clean(exclude=["procedure"], validate_unique=validate_unique)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            label = "" if field == "__all__" else f"{field}: "
            errors.extend(f"{where}: {label}{message}" for message in messages)
    return obj


def procedures_import(raw: bytes | str, *, user=None) -> list[Procedure]:
    """Create or replace procedures from an export file; all or nothing.

    Procedures are matched by national code; their documents, form fields, fees and steps are
    replaced by those of the file, and each changed procedure gets a new version. Raises
    ImportError_ listing every problem (in Vietnamese) and writes nothing when the file is invalid.
    """
    try:
        data = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise ImportError_(_("Tệp không phải JSON hợp lệ: %(error)s") % {"error": exc}) from exc
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise ImportError_(
            _('Tệp không đúng định dạng danh mục thủ tục (thiếu "format": "%(format)s").') % {"format": EXPORT_FORMAT}
        )
    if data.get("version") != EXPORT_VERSION:
        raise ImportError_(_("Phiên bản định dạng %(version)s không được hỗ trợ.") % {"version": data.get("version")})
    if not isinstance(data.get("procedures"), list) or not isinstance(data.get("fields", []), list):
        raise ImportError_(_('Tệp cần danh sách "procedures" và "fields".'))

    errors: list[str] = []
    with transaction.atomic():
        for item in data.get("fields", []):
            if not isinstance(item, dict) or not item.get("code") or not item.get("name"):
                errors.append(_("Lĩnh vực thiếu mã hoặc tên: %(item)s") % {"item": item})
                continue
            Field.objects.update_or_create(code=item["code"], defaults={"name": item["name"]})
        agencies = {a.identifier: a for a in Agency.objects.all()}
        imported = []
        codes = [item.get("national_code") for item in data["procedures"] if isinstance(item, dict)]
        for code in sorted({c for c in codes if codes.count(c) > 1}, key=str):
            errors.append(_("Mã thủ tục %(code)s xuất hiện nhiều lần trong tệp.") % {"code": code})
        for index, item in enumerate(data["procedures"], start=1):
            where = _("Thủ tục thứ %(n)s") % {"n": index}
            if not isinstance(item, dict):
                errors.append(f"{where}: " + _("phải là một đối tượng JSON."))
                continue
            where = f"{where} ({item.get('national_code', '?')})"
            procedure = _import_one(item, agencies, where, errors)
            if procedure is not None:
                imported.append(procedure)
        if errors:
            transaction.set_rollback(True)
            raise ImportError_(errors)
        for procedure in imported:
            procedure_publish_version(procedure=procedure, user=user)
    return imported


def _import_one(item: dict[str, Any], agencies: dict[str, Agency], where: str, errors: list[str]) -> Procedure | None:
    before = len(errors)
    field = Field.objects.filter(code=item.get("field")).first()
    if field is None:
        errors.append(
            f"{where}: " + _('lĩnh vực "%(code)s" không có trong tệp hoặc hệ thống.') % {"code": item.get("field")}
        )
    agency_ids = item.get("agencies") or []
    missing = [str(code) for code in agency_ids if not isinstance(code, str) or code not in agencies]
    if missing or not agency_ids:
        errors.append(
            f"{where}: " + _("cơ quan thực hiện không tồn tại: %(codes)s") % {"codes": ", ".join(missing) or "—"}
        )
    children = {key: item.get(key) or [] for key in ("documents", "form_fields", "fees", "steps")}
    if any(not isinstance(value, list) for value in children.values()):
        errors.append(f"{where}: " + _("documents, form_fields, fees, steps phải là danh sách."))
        return None

    existing = Procedure.objects.filter(national_code=item.get("national_code")).first()
    # Matched by national code, so the code being "taken" is the procedure this item replaces.
    procedure = _build(
        Procedure,
        {k: v for k, v in item.items() if k in _PROCEDURE_FIELDS},
        _PROCEDURE_FIELDS,
        where,
        errors,
        validate_unique=False,
        field=field,
    )
    if existing is not None:
        procedure.pk, procedure.created_at = existing.pk, existing.created_at

    built = {
        "documents": [
            _build(RequiredDocument, d, _DOCUMENT_FIELDS, f"{where}, {_('giấy tờ')} {i}", errors)
            for i, d in enumerate(children["documents"], 1)
            if _is_dict(d, where, errors)
        ],
        "form_fields": [
            _build(FormField, f, _FORM_FIELD_FIELDS, f"{where}, {_('trường')} {i}", errors)
            for i, f in enumerate(children["form_fields"], 1)
            if _is_dict(f, where, errors)
        ],
        "fees": [
            _build(FeeItem, f, _FEE_FIELDS, f"{where}, {_('phí')} {i}", errors)
            for i, f in enumerate(children["fees"], 1)
            if _is_dict(f, where, errors)
        ],
        "steps": [],
    }
    for i, step_data in enumerate(children["steps"], 1):
        if not _is_dict(step_data, where, errors):
            continue
        agency_code = step_data.get("agency")
        if agency_code and (not isinstance(agency_code, str) or agency_code not in agencies):
            errors.append(f"{where}, {_('bước')} {i}: " + _("cơ quan %(code)s không tồn tại.") % {"code": agency_code})
            agency_code = None
        built["steps"].append(
            _build(
                ProcessingStep,
                step_data,
                _STEP_FIELDS,
                f"{where}, {_('bước')} {i}",
                errors,
                agency=agencies.get(agency_code) if agency_code else None,
            )
        )
    codes = [str(f.code) for f in built["form_fields"]]
    if len(codes) != len(set(codes)):
        errors.append(f"{where}: " + _("mã trường thông tin bị trùng."))
    # A conditional fee must name a field of this procedure and, for a choice, one of its choices:
    # otherwise it would silently never apply.
    by_code = {str(f.code): f for f in built["form_fields"]}
    for i, fee in enumerate(built["fees"], 1):
        if fee.quantity_field and str(fee.quantity_field) not in by_code:
            errors.append(
                f"{where}, {_('phí')} {i}: "
                + _("trường %(code)s không có trong tờ khai.") % {"code": fee.quantity_field}
            )
        if not fee.condition_field:
            continue
        field = by_code.get(str(fee.condition_field))
        if field is None:
            errors.append(
                f"{where}, {_('phí')} {i}: "
                + _("trường %(code)s không có trong tờ khai.") % {"code": fee.condition_field}
            )
        elif field.kind == "choice" and str(fee.condition_value).strip() not in field.choice_list:
            errors.append(
                f"{where}, {_('phí')} {i}: "
                + _("giá trị “%(value)s” không có trong các lựa chọn của trường %(code)s.")
                % {"value": fee.condition_value, "code": fee.condition_field}
            )
    # Values that failed validation are left as given ("2,5"): they are already reported, not summed.
    durations = [s.duration_days for s in built["steps"]]
    total = sum(durations, Decimal(0)) if all(isinstance(d, Decimal) for d in durations) else None
    if isinstance(procedure.processing_days, Decimal) and total is not None and total > procedure.processing_days:
        errors.append(
            f"{where}: "
            + _("tổng thời gian các bước (%(total)s ngày) vượt thời hạn giải quyết (%(days)s ngày).")
            % {"total": total, "days": procedure.processing_days}
        )
    if procedure.is_published and any(s.agency_rule == StepAgencyRule.COMMUNE_POLICE for s in built["steps"]):
        gaps = agencies_without_commune_police(agencies[code] for code in agency_ids if code in agencies)
        if gaps:
            errors.append(
                f"{where}: "
                + _("có bước do công an cấp xã giải quyết nhưng chưa có đơn vị công an cho: %(agencies)s.")
                % {"agencies": ", ".join(agency.name for agency in gaps)}
            )
    if len(errors) > before:
        return None

    procedure.save()
    procedure.agencies.set([agencies[code] for code in agency_ids])
    for relation in ("documents", "form_fields", "fees", "steps"):
        getattr(procedure, relation).all().delete()
        for obj in built[relation]:
            obj.procedure = procedure
            obj.save()
    return procedure


def _is_dict(value: Any, where: str, errors: list[str]) -> bool:
    if isinstance(value, dict):
        return True
    errors.append(f"{where}: " + _("mỗi phần tử phải là một đối tượng JSON."))
    return False
