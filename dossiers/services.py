"""Every change to a dossier, one function per action.

Each function: locks the dossier row (select_for_update) and checks the version the caller saw
(two officers acting at once: exactly one wins, the other gets ConflictError); checks the role and
agency of the actor; lets django-fsm check the transition; writes the DossierEvent; records side
effects in the same transaction. All of it commits together or not at all. Messages of the errors
raised are for the person acting, in Vietnamese.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from portal.accounts.constants import Role
from procedures.calendar import WorkingCalendar, classify
from procedures.constants import StepAgencyRule, StepRole
from procedures.models import Agency, Procedure
from procedures.selectors import commune_police_id, path_ids, police_by_commune
from procedures.services import procedure_publish_version
from procedures.text import normalize_search

from .constants import (
    Action,
    AppointmentKind,
    Channel,
    DossierState,
    FileKind,
    FormNumber,
    FormState,
    PauseReason,
    ResultChannel,
    SupplementStage,
)
from .holdings import holdings_sync
from .models import (
    Dossier,
    DossierAppointment,
    DossierCodeSequence,
    DossierConsultation,
    DossierEvent,
    DossierFee,
    DossierFile,
    DossierPause,
    DossierRating,
    DossierRegisterCounter,
    DossierStep,
    SideEffect,
)
from .quota import quota_check_new_draft, quota_check_upload
from .rules import rule_set, rule_set_on, supplement_window_days
from .uploads import check_upload

logger = logging.getLogger("dossiers")
S = DossierState


class DossierError(Exception):
    """An action that cannot be done; the message says why, for the person acting."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowedError(DossierError):
    pass


class ConflictError(DossierError):
    pass


class PermissionDeniedError(NotAllowedError):
    """The actor may not do this to this dossier (as opposed to: nobody may, in this state)."""


# --- helpers ----------------------------------------------------------------------------------


def _lock(dossier: Dossier | int, expected_version: int | None) -> Dossier:
    pk = dossier.pk if isinstance(dossier, Dossier) else dossier
    # of=("self",): lock the dossier row only, not the procedure and agency rows joined for reading,
    # which every other dossier of the agency shares.
    locked = (
        Dossier.objects.select_for_update(of=("self",))
        .select_related("procedure_version", "procedure", "agency")
        .get(pk=pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            _("Hồ sơ vừa được người khác cập nhật (trạng thái hiện tại: %(state)s). Vui lòng tải lại trang.")
            % {"state": locked.get_state_display()}
        )
    return locked


def _transition(dossier: Dossier, name: str) -> str:
    """Run the django-fsm transition `name`; return the state it left."""
    before = dossier.state
    try:
        getattr(dossier, name)()
    except TransitionNotAllowed as exc:
        raise NotAllowedError(
            _("Không thể thực hiện thao tác này khi hồ sơ đang ở trạng thái “%(state)s”.")
            % {"state": dossier.get_state_display()}
        ) from exc
    return before


def _save(dossier: Dossier) -> None:
    """Save every column and move the version on, so that forms rendered before are now stale.

    Also keeps, in the same transaction, what is derived from the dossier and its steps: the search
    text and the holders (DossierHolding), so every queue reads the state just written. Every
    service that changes a dossier or its steps saves through here, after changing the steps.
    """
    dossier.search_text = normalize_search(dossier.applicant_name)[:255]
    # The version is only ever moved on under the row lock (_lock), so the in-memory value is exact.
    dossier.version = (dossier.version or 0) + 1
    dossier.save()
    holdings_sync(dossier)


def _record(
    dossier: Dossier,
    *,
    action: str,
    actor,
    from_state: str = "",
    note: str = "",
    data: dict | None = None,
    attachments: list[DossierFile] | tuple = (),
    agency: Agency | None = None,
    at: dt.datetime | None = None,
) -> DossierEvent:
    event = DossierEvent.objects.create(
        dossier=dossier,
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=actor.get_full_name() if getattr(actor, "pk", None) else _("Hệ thống"),
        agency=agency,
        from_state=from_state,
        to_state=dossier.state,
        note=note,
        data=data or {},
        created_at=at or timezone.now(),
    )
    if attachments:
        event.attachments.set(attachments)
    if dossier.code:
        # Every recorded step of a received dossier is synchronised to the national portal
        # (Decision 31/2021/QĐ-TTg Art 30(3)); one row per event, carried out by dossiers.national.services.
        _side_effect(dossier, "national_sync", event=event.pk)
    logger.info("dossier.%s dossier=%s actor=%s to=%s", action, dossier.pk, getattr(actor, "pk", None), dossier.state)
    return event


def _side_effect(dossier: Dossier, kind: str, **payload: Any) -> SideEffect:
    """Record work for the workers in this transaction; publish it once the transaction commits."""
    effect = SideEffect.objects.create(dossier=dossier, kind=kind, payload=payload)

    def publish() -> None:
        from .tasks import run_side_effect

        try:
            run_side_effect.delay(effect.pk)
        except Exception:  # noqa: BLE001 - the broker may be down; the sweeper re-publishes pending rows
            logger.warning("side_effect.publish_failed id=%s", effect.pk)

    transaction.on_commit(publish)
    return effect


def _calendar(start: dt.datetime) -> WorkingCalendar:
    return WorkingCalendar.load(timezone.localtime(start).date() - dt.timedelta(days=7))


def _due(start: dt.datetime, days, cutoff: dt.time | None = None) -> dt.datetime:
    return _calendar(start).due_at(start, Decimal(str(days)), cutoff=cutoff)


def officer_agencies(user, *roles: str) -> set[int]:
    """Agencies (with their subunits) in which the user holds one of the roles."""
    if not getattr(user, "is_authenticated", False):
        return set()
    ids: set[int] = set()
    for role in roles:
        ids |= user.agency_ids(role)
    return ids


def _require_role(user, dossier: Dossier, *roles: str, agency: Agency | None = None) -> None:
    agency = agency or dossier.agency
    if agency.pk not in officer_agencies(user, *roles):
        logger.warning("dossier.refused dossier=%s user=%s roles=%s", dossier.pk, getattr(user, "pk", None), roles)
        raise PermissionDeniedError(_("Bạn không có quyền thực hiện thao tác này đối với hồ sơ của cơ quan này."))


def _require_owner(user, dossier: Dossier) -> None:
    """The owner, or whoever submitted the dossier on the applicant's behalf (counter, digital team)."""
    user_id = getattr(user, "pk", None)
    if user_id is None or user_id not in (dossier.owner_id, dossier.submitted_by_id):
        logger.warning("dossier.refused dossier=%s user=%s owner_only", dossier.pk, user_id)
        raise PermissionDeniedError(_("Bạn không có quyền thực hiện thao tác này đối với hồ sơ này."))


def _issue_form(dossier: Dossier, number: str, actor, **context: Any) -> DossierFile:
    from .pdf import render_dossier_form

    # The signer is printed under the signature line (Forms 01–05).
    pdf = render_dossier_form(dossier, number, officer=actor if getattr(actor, "pk", None) else None, **context)
    name = f"mau-{number}-{dossier.code or dossier.pk}.pdf"
    stored = DossierFile(
        dossier=dossier,
        kind=FileKind.FORM,
        form_number=number,
        original_name=name,
        content_type="application/pdf",
        size=len(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(),
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    stored.file.save(name, ContentFile(pdf), save=True)
    return stored


def _snapshot_documents(dossier: Dossier) -> list[dict]:
    return snapshot_documents(dossier.snapshot)


def snapshot_documents(snapshot: dict) -> list[dict]:
    """The required documents of a version, each with its position (from 1) as its stable id."""
    return [{**document, "id": index} for index, document in enumerate(snapshot.get("documents", []), start=1)]


# --- citizen side -----------------------------------------------------------------------------


@transaction.atomic
def dossier_create_draft(
    *,
    procedure: Procedure,
    agency: Agency,
    owner=None,
    submitted_by=None,
    channel_in: str = Channel.ONLINE,
    applicant: dict | None = None,
) -> Dossier:
    """A new draft under the procedure's current version, for an owner (online) or a walk-in (counter)."""
    if not procedure.is_published:
        raise NotAllowedError(_("Thủ tục này hiện không tiếp nhận hồ sơ."))
    if not procedure.agencies.filter(pk=agency.pk).exists():
        raise DossierError(_("Cơ quan đã chọn không giải quyết thủ tục này."), field="agency")
    if channel_in == Channel.ONLINE and not procedure.channel_online:
        raise NotAllowedError(_("Thủ tục này không nhận hồ sơ trực tuyến."))
    if owner is not None:
        quota_check_new_draft(owner=owner, error_class=DossierError)
    version = procedure.current_version or procedure_publish_version(procedure=procedure)
    applicant = applicant or {}
    if owner is not None and not applicant:
        applicant = {
            "applicant_name": owner.get_full_name(),
            "applicant_id_number": owner.cccd or "",
            "applicant_phone": owner.phone or "",
            "applicant_email": owner.email or "",
            "applicant_address": owner.address or "",
        }
    dossier = Dossier.objects.create(
        procedure_version=version,
        procedure=procedure,
        agency=agency,
        owner=owner,
        submitted_by=submitted_by,
        channel_in=channel_in,
        search_text=normalize_search(applicant.get("applicant_name", ""))[:255],
        **applicant,
    )
    _record(dossier, action=Action.CREATE, actor=submitted_by or owner)
    return dossier


def _editable(dossier: Dossier, user) -> None:
    if dossier.state not in (S.DRAFT, S.SUPPLEMENT_REQUESTED):
        raise NotAllowedError(_("Hồ sơ đã nộp, không thể sửa nội dung."))
    _require_owner(user, dossier)


@transaction.atomic
def dossier_save_answers(*, dossier: Dossier, user, answers: dict, applicant: dict | None = None) -> Dossier:
    """Store (already validated) answers of a form page on a draft; merges with earlier pages."""
    dossier = _lock(dossier, None)
    _editable(dossier, user)
    dossier.answers = {**dossier.answers, **answers}
    for key, value in (applicant or {}).items():
        if key.startswith("applicant_"):
            setattr(dossier, key, value)
    _save(dossier)
    return dossier


@transaction.atomic
def dossier_set_delivery(*, dossier: Dossier, user, channel_out: str, postal_address: str = "") -> Dossier:
    dossier = _lock(dossier, None)
    _editable(dossier, user)
    if channel_out not in ResultChannel.values:
        raise DossierError(_("Hình thức nhận kết quả không hợp lệ."), field="channel_out")
    if channel_out == ResultChannel.POSTAL:
        if not dossier.snapshot.get("channel_postal", dossier.procedure.channel_postal):
            raise DossierError(_("Thủ tục này không trả kết quả qua bưu chính."), field="channel_out")
        if len(postal_address.strip()) < 10:
            raise DossierError(_("Vui lòng nhập đầy đủ địa chỉ nhận kết quả qua bưu chính."), field="postal_address")
    dossier.channel_out = channel_out
    dossier.postal_address = postal_address.strip() if channel_out == ResultChannel.POSTAL else ""
    _save(dossier)
    return dossier


@transaction.atomic
def dossier_attach_file(*, dossier: Dossier, user, requirement_id: int | None, upload) -> DossierFile:
    """Store one upload for a required document after checking its type by content and its size."""
    dossier = _lock(dossier, None)
    _require_owner(user, dossier)
    if dossier.state not in (S.DRAFT, S.SUPPLEMENT_REQUESTED):
        raise NotAllowedError(_("Hồ sơ đã nộp, không thể thêm giấy tờ."))
    documents = {d["id"]: d for d in _snapshot_documents(dossier) if "id" in d}
    requirement = documents.get(requirement_id) if requirement_id is not None else None
    if requirement_id is not None and requirement is None:
        raise DossierError(_("Thành phần hồ sơ không thuộc thủ tục này."), field="requirement")
    allowed = (requirement or {}).get("allowed_types", "pdf,jpg,png")
    max_mb = int((requirement or {}).get("max_size_mb", 10))
    existing = dossier.files.filter(
        requirement_id=requirement_id, is_current=True, kind__in=[FileKind.SUBMITTED, FileKind.SUPPLEMENT]
    ).count()
    if existing >= 10:
        raise DossierError(_("Mỗi thành phần hồ sơ có tối đa 10 tệp."), field="file")
    checked = check_upload(upload, allowed_types=allowed, max_bytes=max_mb * 1024 * 1024)
    quota_check_upload(user=user, size=checked.size, error_class=DossierError)
    stored = DossierFile(
        dossier=dossier,
        kind=FileKind.SUPPLEMENT if dossier.state == S.SUPPLEMENT_REQUESTED else FileKind.SUBMITTED,
        requirement_id=requirement_id,
        requirement_name=(requirement or {}).get("name", ""),
        original_name=checked.safe_name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=user,
    )
    stored.file.save(checked.safe_name, checked.content, save=True)
    _save(dossier)
    return stored


@transaction.atomic
def dossier_reuse_file(*, dossier: Dossier, user, requirement_id: int, source: DossierFile) -> DossierFile:
    """Reuse a document the citizen already filed with an earlier dossier instead of uploading it again."""
    dossier = _lock(dossier, None)
    _editable(dossier, user)
    reusable = source.kind in (FileKind.SUBMITTED, FileKind.SUPPLEMENT) or (
        source.kind == FileKind.RESULT and source.dossier.state in (S.RESULT_READY, S.RETURNED)
    )
    if source.dossier.owner_id != user.pk or not source.is_current or not reusable:
        raise NotAllowedError(_("Không tìm thấy giấy tờ này trong kho dữ liệu của bạn."))
    documents = {d["id"]: d for d in _snapshot_documents(dossier) if "id" in d}
    requirement = documents.get(requirement_id)
    if requirement is None:
        raise DossierError(_("Thành phần hồ sơ không thuộc thủ tục này."), field="requirement")
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(source.content_type)
    if extension not in requirement.get("allowed_types", "pdf,jpg,png").split(","):
        raise DossierError(_("Định dạng của giấy tờ này không được chấp nhận cho thành phần hồ sơ đã chọn."))
    reused = DossierFile.objects.create(
        dossier=dossier,
        kind=FileKind.SUPPLEMENT if dossier.state == S.SUPPLEMENT_REQUESTED else FileKind.SUBMITTED,
        requirement_id=requirement_id,
        requirement_name=requirement.get("name", ""),
        file=source.file.name,
        original_name=source.original_name,
        content_type=source.content_type,
        size=source.size,
        sha256=source.sha256,
        uploaded_by=user,
    )
    _save(dossier)
    return reused


@transaction.atomic
def dossier_remove_file(*, dossier: Dossier, user, file: DossierFile) -> None:
    dossier = _lock(dossier, None)
    _editable(dossier, user)
    if file.dossier_id != dossier.pk or file.kind not in (FileKind.SUBMITTED, FileKind.SUPPLEMENT):
        raise NotAllowedError(_("Không tìm thấy tệp này."))
    if dossier.state == S.SUPPLEMENT_REQUESTED and (
        file.kind != FileKind.SUPPLEMENT or file.created_at < _open_pause(dossier).started_at
    ):
        # Files of earlier rounds are part of the record (their events point at them).
        raise NotAllowedError(_("Chỉ xóa được tệp vừa bổ sung."))
    file.delete()
    _save(dossier)


def dossier_missing_items(dossier: Dossier, *, files: Iterable[DossierFile] | None = None) -> list[str]:
    """What still stops the dossier from being submitted, as messages for the applicant.

    `files`: the dossier's files a caller has already read (the API's dossier response lists them),
    a superset of the current submitted ones; then they are not read again.
    """
    from .forms import validate_answers

    problems = list(validate_answers(dossier.snapshot.get("form_fields", []), dossier.answers))
    kinds = (FileKind.SUBMITTED, FileKind.SUPPLEMENT)
    if files is not None:
        provided = {f.requirement_id for f in files if f.is_current and f.kind in kinds}
    else:
        provided = set(dossier.files.filter(is_current=True, kind__in=kinds).values_list("requirement_id", flat=True))
    for document in _snapshot_documents(dossier):
        if document.get("is_mandatory") and document.get("id") not in provided:
            problems.append(_("Thiếu giấy tờ bắt buộc: %(name)s") % {"name": document["name"]})
    if not dossier.applicant_name.strip():
        problems.append(_("Thiếu họ tên người nộp hồ sơ."))
    if dossier.channel_out == ResultChannel.POSTAL and not dossier.postal_address:
        problems.append(_("Thiếu địa chỉ nhận kết quả qua bưu chính."))
    return problems


def dossier_fee_quote(dossier: Dossier, *, exemption_group: str | None = None):
    """The fee breakdown the dossier would get now (procedures.fees), for its channel and answers."""
    from procedures.fees import fee_quote

    return fee_quote(
        snapshot=dossier.snapshot,
        procedure=dossier.procedure,
        agency=dossier.agency,
        channel=dossier.channel_in,
        answers=dossier.answers,
        exemption_group=dossier.fee_exemption_group if exemption_group is None else exemption_group,
    )


def _freeze_fees(dossier: Dossier) -> None:
    """Freeze the quote on the dossier: its lines as DossierFee rows and the breakdown as JSON."""
    quote = dossier_fee_quote(dossier)
    dossier.fees.all().delete()
    DossierFee.objects.bulk_create(
        [
            DossierFee(
                dossier=dossier,
                kind=line.kind,
                name=line.name,
                amount=line.total,
                unit_amount=line.unit_amount,
                quantity=line.quantity,
                base_amount=line.base,
                discount_amount=line.discount,
                exemption_amount=line.exemption,
                legal_basis="; ".join(
                    b
                    for b in [line.legal_basis, *(d["legal_basis"] for d in line.discounts), line.exemption_basis]
                    if b
                ),
                refundable=line.refundable,
            )
            for line in quote.lines
        ]
    )
    dossier.fee_total = quote.total
    dossier.fee_breakdown = quote.as_dict()


def _payment_timing(dossier: Dossier) -> str:
    from procedures.fees import payment_timing

    timing = payment_timing(dossier.snapshot)
    if not timing and dossier.procedure.fee_before_processing:
        timing = "before_processing"
    return timing


@transaction.atomic
def dossier_freeze_fees(*, dossier: Dossier, user) -> Dossier:
    """Freeze the fee quote on a draft about to be paid (procedures paid at submission).

    The owner only; the draft stays editable, and submission keeps this quote once it is paid. The
    exemption claimed is set through dossier_set_exemption, which validates it.
    """
    dossier = _lock(dossier, None)
    _editable(dossier, user)
    if dossier.fee_paid_at is None:
        _freeze_fees(dossier)
    _save(dossier)
    return dossier


@transaction.atomic
def dossier_set_exemption(*, dossier: Dossier, user, group: str) -> Dossier:
    """The applicant claims (or stops claiming) an exemption group; the officer checks the proof."""
    from procedures.constants import ExemptionGroup

    dossier = _lock(dossier, None)
    _editable(dossier, user)
    if group and group not in ExemptionGroup.values:
        raise DossierError(_("Đối tượng miễn, giảm không hợp lệ."), field="exemption_group")
    dossier.fee_exemption_group = group
    _save(dossier)
    return dossier


@transaction.atomic
def dossier_submit(*, dossier: Dossier, user, expected_version: int | None = None) -> Dossier:
    """Submit a complete draft: fees are frozen; the dossier waits for reception. Idempotent per version."""
    dossier = _lock(dossier, expected_version)
    _require_owner(user, dossier)
    problems = dossier_missing_items(dossier)
    if problems:
        raise DossierError("; ".join(problems))
    if dossier.fee_paid_at is None:
        # Paid at submission: the quote frozen when the payment started is the one paid.
        _freeze_fees(dossier)
    if (
        _payment_timing(dossier) == "at_submission"
        and dossier.channel_in == Channel.ONLINE
        and dossier.fee_total > 0
        and dossier.fee_paid_at is None
    ):
        raise NotAllowedError(_("Vui lòng thanh toán phí, lệ phí trước khi nộp hồ sơ."))
    before = _transition(dossier, "submit")
    dossier.submitted_at = timezone.now()
    dossier.reference = dossier.reference or _new_reference(dossier.submitted_at)
    dossier.summary = dossier.summary or dossier.procedure.name
    _save(dossier)
    _record(dossier, action=Action.SUBMIT, actor=user, from_state=before)
    _side_effect(dossier, "notify", event="submitted")
    return dossier


# Letters and digits that cannot be misread over the phone or on a small screen (no 0/O, 1/I/L).
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _new_reference(when: dt.datetime) -> str:
    """A submission reference such as ``N261201-7KQ4XM``: the day, then six random characters.

    Unique in the table (a constraint); a clash, about one in a billion a day, draws again.
    """
    import secrets

    prefix = f"N{timezone.localtime(when):%y%m%d}-"
    for _attempt in range(10):
        reference = prefix + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
        if not Dossier.objects.filter(reference=reference).exists():
            return reference
    raise RuntimeError("no free submission reference")


@transaction.atomic
def dossier_withdraw(*, dossier: Dossier, user, reason: str = "", expected_version: int | None = None) -> Dossier:
    """The applicant withdraws a dossier that has not been received yet."""
    dossier = _lock(dossier, expected_version)
    _require_owner(user, dossier)
    if dossier.state == S.SUPPLEMENT_REQUESTED and dossier.supplement_stage == SupplementStage.APPRAISAL:
        raise NotAllowedError(_("Hồ sơ đã được tiếp nhận: hãy đề nghị dừng giải quyết tại Bộ phận Một cửa."))
    before = _transition(dossier, "withdraw")
    dossier.closed_at = timezone.now()
    _close_pause(dossier, dossier.closed_at)
    _save(dossier)
    _record(dossier, action=Action.WITHDRAW, actor=user, from_state=before, note=reason)
    return dossier


@transaction.atomic
def dossier_supplement(*, dossier: Dossier, user, note: str = "", expected_version: int | None = None) -> Dossier:
    """The applicant sends the requested documents back.

    At reception the dossier returns to the reception queue. After appraisal the time limit
    restarts from zero on the completed dossier (Decree 61/2018 Art 19(4)); the pause is closed.
    """
    dossier = _lock(dossier, expected_version)
    _require_owner(user, dossier)
    if dossier.state != S.SUPPLEMENT_REQUESTED:
        raise NotAllowedError(_("Hồ sơ không ở trạng thái chờ bổ sung."))
    new_files = list(
        dossier.files.filter(kind=FileKind.SUPPLEMENT, is_current=True, created_at__gte=_open_pause(dossier).started_at)
    )
    if not new_files and not note.strip():
        raise DossierError(_("Vui lòng tải lên giấy tờ bổ sung hoặc ghi nội dung giải trình."))
    # A new file for a requirement replaces the earlier ones of that requirement.
    for file in new_files:
        dossier.files.filter(requirement_id=file.requirement_id, is_current=True).exclude(
            kind=FileKind.SUPPLEMENT
        ).update(is_current=False)
    now = timezone.now()
    _close_pause(dossier, now)
    data: dict[str, Any] = {"files": [f.original_name for f in new_files]}
    if dossier.supplement_stage == SupplementStage.APPRAISAL:
        before = _transition(dossier, "supplement_after_appraisal")
        data["previous_due_at"] = dossier.current_due_at.isoformat() if dossier.current_due_at else None
        _restart_clock(dossier, now)
    else:
        before = _transition(dossier, "supplement_at_reception")
        dossier.submitted_at = now
    dossier.supplement_note = ""
    _save(dossier)
    attachments = list(new_files)
    if dossier.supplement_stage == SupplementStage.APPRAISAL:
        # The clock restarted: the applicant gets the new appointment on a new slip (the rule set's
        # notice, Form 01), kept beside the earlier appointment, which is not overwritten.
        notice = _issue_form(dossier, rule_set(dossier.rule_set).restart_notice_form, None, restarted_at=now)
        notice.uploaded_by = None
        _appoint(dossier, AppointmentKind.RESTART, now, notice)
        attachments.append(notice)
        data["new_due_at"] = dossier.current_due_at.isoformat()
    _record(
        dossier, action=Action.SUPPLEMENT, actor=user, from_state=before, note=note, data=data, attachments=attachments
    )
    _side_effect(dossier, "notify", event="supplemented")
    return dossier


def _open_pause(dossier: Dossier) -> DossierPause:
    pause = dossier.pauses.filter(ended_at__isnull=True).first()
    if pause is None:  # created by every supplement request; absent only in data repaired by hand
        pause = DossierPause.objects.create(dossier=dossier, reason=PauseReason.SUPPLEMENT, started_at=timezone.now())
    return pause


def _close_pause(dossier: Dossier, at: dt.datetime) -> None:
    dossier.pauses.filter(ended_at__isnull=True).update(ended_at=at)


def _restart_clock(dossier: Dossier, at: dt.datetime) -> None:
    procedure_days = Decimal(str(dossier.snapshot["processing_days"]))
    due = _due(at, procedure_days, _cutoff(dossier))
    dossier.clock_started_at = at
    dossier.original_due_at = due
    dossier.current_due_at = due
    step = dossier.current_step
    for member in _group(step) if step is not None else []:
        if member.completed_at is None:
            member.started_at = at
            member.due_at = _due(at, member.duration_days)
            member.save(update_fields=["started_at", "due_at"])


def _cutoff(dossier: Dossier) -> dt.time:
    value = dossier.snapshot.get("cutoff_time") or "16:00"
    hour, minute = value.split(":")[:2]
    return dt.time(int(hour), int(minute))


@transaction.atomic
def dossier_rate(*, dossier: Dossier, user, scores: dict[str, int], comment: str = "") -> DossierRating:
    """The applicant rates the service once, after the result was returned."""
    from .constants import RATING_CRITERIA

    dossier = _lock(dossier, None)
    _require_owner(user, dossier)
    if dossier.state != S.RETURNED:
        raise NotAllowedError(_("Chỉ đánh giá được sau khi đã nhận kết quả."))
    if set(scores) != set(RATING_CRITERIA) or any(value not in (0, 1, 2) for value in scores.values()):
        raise DossierError(_("Vui lòng chọn mức đánh giá cho tất cả các tiêu chí."))
    try:
        with transaction.atomic():
            rating = DossierRating.objects.create(dossier=dossier, scores=scores, comment=comment.strip()[:2000])
    except IntegrityError as exc:
        raise ConflictError(_("Hồ sơ này đã được đánh giá.")) from exc
    _save(dossier)
    _record(dossier, action=Action.RATE, actor=user, from_state=dossier.state, data={"scores": scores})
    return rating


# --- one-stop shop ----------------------------------------------------------------------------


def _take_number(model, key: dict[str, Any]) -> int:
    """Move a counter row (created at 1 if absent) on by one and return its new value, in one statement.

    The UPDATE locks the row until the transaction ends: callers take numbers last, just before
    saving, so that concurrent receptions at one agency wait for the number only, never for the
    rest of the reception (the PDF of Form 01 is rendered by a worker after commit).
    """
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [model._meta.get_field(name).column for name in key]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({quoted}, last) VALUES ({', '.join(['%s'] * len(key))}, 1) "  # noqa: S608 - names from the model
            f"ON CONFLICT ({quoted}) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            list(key.values()),
        )
        return cursor.fetchone()[0]


def _next_code(dossier: Dossier, receiving: Agency, at: dt.datetime) -> str:
    """The next code of the day, from the day's sequence row of the agency (locked until commit).

    The general format carries the receiving agency (Circular 01/2018 Art 19); the centralised
    format of Circular 04/2025 carries the resolving agency, so its sequence is the resolving one's.
    """
    day = timezone.localtime(at).date()
    rules = rule_set(dossier.rule_set)
    system_code = dossier.procedure.centralised_system_code
    code_agency = dossier.agency if (system_code and rules.centralised_format) else receiving
    centralised = bool(system_code and rules.centralised_format)
    if centralised and not code_agency.centralised_identifier:
        raise NotAllowedError(
            _(
                "%(agency)s chưa có mã định danh theo Quyết định 20/2020/QĐ-TTg: chưa cấp được mã hồ sơ trên hệ "
                "thống tập trung (Thông tư 04/2025/TT-VPCP). Vui lòng đề nghị quản trị cập nhật."
            )
            % {"agency": code_agency.name}
        )
    last = _take_number(DossierCodeSequence, {"agency": code_agency.pk, "day": day})
    return rules.format_code(
        agency_identifier=code_agency.identifier,
        day=day,
        sequence=last,
        system_code=system_code,
        centralised_identifier=code_agency.centralised_identifier,
    )


def _next_register_number(receiving: Agency, at: dt.datetime) -> int:
    """The dossier's number in the receiving unit's register of the year (Form 01, Form 07).

    Circular 01/2018 Art 10: one book a year, numbered continuously from 01.
    """
    return _take_number(DossierRegisterCounter, {"agency": receiving.pk, "year": timezone.localtime(at).year})


def _record_form(dossier: Dossier, event: DossierEvent, number: str, actor) -> SideEffect:
    """Record that `event` issues form `number`; a worker renders it once the action commits.

    Published on commit like every side effect; the sweeper re-publishes it while it stays pending
    (broker or worker down), so the form is never lost. Everything the form prints (code, register
    number, appointment) is committed with the action: the worker takes no number.
    """
    return _side_effect(dossier, "issue_form", form=number, event=event.pk, actor=getattr(actor, "pk", None))


def run_recorded_form(effect: SideEffect) -> DossierFile:
    """Render a form recorded by _record_form and attach it to its event (the caller locks the row).

    Called by dossiers.tasks.run_side_effect, which marks the row done in the same transaction.
    Idempotent: a form already attached to the event (an earlier delivery that committed) is
    returned as it is, so a retry or a sweeper pass never stores a second file; the file of an
    attempt that fails before its rows are written is deleted with it.
    """
    from django.contrib.auth import get_user_model

    number = effect.payload["form"]
    event = DossierEvent.objects.get(pk=effect.payload["event"])
    existing = event.attachments.filter(kind=FileKind.FORM, form_number=number).first()
    if existing is not None:
        return existing
    dossier = Dossier.objects.select_related("procedure_version", "procedure", "agency", "receiving_agency").get(
        pk=effect.dossier_id
    )
    actor_id = effect.payload.get("actor")
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    form = _issue_form(dossier, number, actor)
    try:
        event.attachments.add(form)
        if form.form_number == FormNumber.RECEIPT:
            # The appointment given at reception is the one this Form 01 prints.
            DossierAppointment.objects.filter(dossier=dossier, kind=AppointmentKind.ORIGINAL, form__isnull=True).update(
                form=form
            )
    except Exception:
        form.file.delete(save=False)
        raise
    return form


@dataclass(frozen=True)
class FormStatus:
    """Where a form owed by an action stands: ready (with its file), pending (being rendered) or failed."""

    state: str
    file: DossierFile | None = None


def dossier_receipt_status(*, dossier: Dossier, files: list[DossierFile] | None = None) -> FormStatus | None:
    """Form 01 of a dossier the caller may already read: ready, pending or failed; None when none is owed.

    `files` are the dossier's files when the caller has loaded them (no query then for a ready
    receipt); otherwise one query. A missing receipt costs one more query, on the dossier's own
    side effects (indexed by dossier), never on the province's.
    """
    if files is None:
        files = list(dossier.files.filter(kind=FileKind.FORM, form_number=FormNumber.RECEIPT).order_by("id"))
    receipt = next(
        (f for f in reversed(files) if f.kind == FileKind.FORM and f.form_number == FormNumber.RECEIPT), None
    )
    if receipt is not None:
        return FormStatus(FormState.READY, receipt)
    if dossier.received_at is None:
        return None
    status = (
        SideEffect.objects.filter(dossier=dossier, kind="issue_form", payload__form=FormNumber.RECEIPT)
        .order_by("-id")
        .values_list("status", flat=True)
        .first()
    )
    if status == SideEffect.Status.PENDING:
        return FormStatus(FormState.PENDING)
    if status == SideEffect.Status.FAILED:
        return FormStatus(FormState.FAILED)
    return None


def _receiving_agency(user, dossier: Dossier) -> Agency:
    """The one-stop unit of the officer that covers this dossier: nearest to the dossier's agency."""
    memberships = user.memberships.filter(role=Role.RECEPTION).select_related("agency")
    covering = [m.agency for m in memberships if dossier.agency.path.startswith(m.agency.path)]
    return max(covering, key=lambda agency: agency.depth) if covering else dossier.agency


def _create_steps(dossier: Dossier) -> None:
    agencies = {
        a.identifier: a
        for a in Agency.objects.filter(
            identifier__in=[s["agency"] for s in dossier.snapshot.get("steps", []) if s.get("agency")]
        )
    }
    steps = dossier.snapshot.get("steps") or [
        # Stored on the record, so in Vietnamese whatever language the officer's screen uses.
        {"order": 1, "name": "Tiếp nhận hồ sơ", "role": StepRole.RECEPTION, "duration_days": "0.5"},
        {"order": 2, "name": "Thẩm định, giải quyết", "role": StepRole.SPECIALIST, "duration_days": "1"},
        {"order": 3, "name": "Phê duyệt kết quả", "role": StepRole.LEADER, "duration_days": "0.5"},
    ]
    # Specialist steps sharing one `order` in the snapshot form a parallel group (liên thông of an
    # electronic dossier, domain.md §1.3 rows 3c/3d): they keep one DossierStep.order and are marked
    # is_parallel. Any other steps are numbered 1..n in snapshot order, as before.
    police = _commune_police(dossier, steps)
    index = 0
    ordered = sorted(steps, key=lambda s: int(s.get("order") or 0))  # stable: snapshot order within a group
    for _order, members in groupby(ordered, key=lambda s: int(s.get("order") or 0)):
        members = list(members)
        parallel = len(members) > 1 and all(m["role"] == StepRole.SPECIALIST for m in members)
        if parallel:
            index += 1
        for step in members:
            if not parallel:
                index += 1
            DossierStep.objects.create(
                dossier=dossier,
                order=index,
                name=step["name"],
                role=step["role"],
                agency=police
                if step.get("agency_rule") == StepAgencyRule.COMMUNE_POLICE
                else agencies.get(step.get("agency") or "", dossier.agency),
                duration_days=Decimal(step["duration_days"]),
                is_parallel=parallel,
            )


def _commune_police(dossier: Dossier, steps: list[dict]) -> Agency | None:
    """The police of the resolving commune, when a step is routed to it; a clear error if it has none.

    Raised inside the reception's transaction, so a dossier that cannot be routed is not received.
    """
    if not any(step.get("agency_rule") == StepAgencyRule.COMMUNE_POLICE for step in steps):
        return None
    ids = path_ids(dossier.agency.path)
    police_id = commune_police_id(dossier.agency.path, police_by_commune(commune_ids=ids))
    if police_id is None:
        raise DossierError(
            _(
                "Chưa xác định được Công an cấp xã phụ trách địa bàn của %(agency)s để giao bước đăng ký cư trú: "
                "quản trị viên cần khai báo địa bàn phụ trách của đơn vị Công an."
            )
            % {"agency": dossier.agency.name}
        )
    return Agency.objects.get(pk=police_id)


def _group(step: DossierStep) -> list[DossierStep]:
    """The steps running together with `step`, the lead agency's first; just [step] for a sequential one."""
    if not step.is_parallel:
        return [step]
    members = DossierStep.objects.filter(dossier_id=step.dossier_id, order=step.order, is_parallel=True)
    return [step if member.pk == step.pk else member for member in members.select_related("agency").order_by("id")]


def _start_step(dossier: Dossier, step: DossierStep | None, at: dt.datetime, assignee=None) -> None:
    """Start `step` (given to `assignee`, if any); for a parallel group, start all its steps at once.

    While a parallel group runs, dossier.current_step is the group's first step: the lead agency's
    (the first of the group in the procedure snapshot). The other agencies' steps are found through
    DossierStep rows (started, not completed); each is assigned and completed on its own.
    """
    if step is None:
        dossier.current_step = None
        return
    members = _group(step)
    dossier.current_step = members[0]
    for member in members:
        member.started_at = at
        member.due_at = _due(at, member.duration_days)
        member.assignee = assignee if member.pk == step.pk else None
        member.save(update_fields=["started_at", "due_at", "assignee"])


def _complete_step(step: DossierStep | None, at: dt.datetime, user) -> None:
    if step is None or step.completed_at is not None:
        return
    step.completed_at = at
    step.assignee = step.assignee or user
    step.timing = classify(at, step.due_at) if step.due_at else ""
    step.save(update_fields=["completed_at", "assignee", "timing"])


def _next_step(dossier: Dossier, after: DossierStep | None, role: str | None = None) -> DossierStep | None:
    steps = dossier.steps.filter(completed_at__isnull=True)
    if after is not None:
        steps = steps.filter(order__gt=after.order)
    if role:
        steps = steps.filter(role=role)
    return steps.order_by("order", "id").first()


def _own_step(dossier: Dossier, step: DossierStep | None) -> DossierStep | None:
    """`step` read again under the dossier lock, if it belongs to the dossier; else the current step."""
    if step is None:
        return dossier.current_step
    fresh = dossier.steps.select_related("agency").filter(pk=step.pk).first()
    if fresh is None:
        raise NotAllowedError(_("Bước xử lý không thuộc hồ sơ này."))
    return fresh


def dossier_receive(*, dossier: Dossier, officer, expected_version: int | None = None, note: str = "") -> Dossier:
    """Accept a complete dossier: code, register number, appointment date, Form 01 (Decree 61/2018 Art 17).

    The rule set in force today is stored on the dossier. A procedure whose fee must be paid
    first waits for payment: its clock starts, and its Form 01 is issued, when the fee is paid.
    The reception commits in one transaction with its code, register number, appointment, event
    and the Form 01 it owes recorded as a side effect; a worker renders the PDF after commit and
    attaches it to the RECEIVE event and the appointment (run_recorded_form). Until then
    dossier_receipt_status says "pending"; the request itself never renders it.
    """
    with transaction.atomic():
        dossier = _receive(dossier=dossier, officer=officer, expected_version=expected_version, note=note)
    return dossier


def _receive(*, dossier: Dossier, officer, expected_version: int | None, note: str) -> Dossier:
    dossier = _lock(dossier, expected_version)
    _require_role(officer, dossier, Role.RECEPTION)
    now = timezone.now()
    before = _transition(dossier, "receive")
    dossier.rule_set = rule_set_on(timezone.localtime(now).date()).key
    dossier.receiving_agency = _receiving_agency(officer, dossier)
    dossier.received_at = now
    _create_steps(dossier)
    # The reception step is done where the dossier was received, which may differ from the
    # resolving agency (a commune centre receiving for a department).
    dossier.steps.filter(role=StepRole.RECEPTION).update(agency=dossier.receiving_agency)
    reception = _next_step(dossier, None, StepRole.RECEPTION)
    _start_step(dossier, reception, now, officer)
    _complete_step(reception, now, officer)
    dossier.current_step = None
    awaiting_fee = _payment_timing(dossier) == "before_processing" and dossier.fee_total > 0 and not dossier.fee_paid_at
    if awaiting_fee:
        _transition(dossier, "wait_for_payment")
        DossierPause.objects.create(dossier=dossier, reason=PauseReason.PAYMENT, started_at=now)
    else:
        _start_clock(dossier, now)
    # Numbers last: their rows stay locked until commit, which now follows within milliseconds.
    dossier.code = _next_code(dossier, dossier.receiving_agency, now)
    _enter_register(dossier, now)
    _save(dossier)
    if not awaiting_fee:
        # Its Form 01 is rendered by a worker after commit and attached to this appointment (run_recorded_form).
        _appoint(dossier, AppointmentKind.ORIGINAL, now)
    event = _record(
        dossier,
        action=Action.RECEIVE,
        actor=officer,
        from_state=before,
        note=note,
        agency=dossier.receiving_agency,
        data={
            "code": dossier.code,
            "register_number": dossier.register_number,
            "due_at": dossier.current_due_at.isoformat() if dossier.current_due_at else None,
            "rule_set": dossier.rule_set,
        },
    )
    if not awaiting_fee:
        _record_form(dossier, event, FormNumber.RECEIPT, officer)
    _side_effect(dossier, "notify", event="received")
    return dossier


def _start_clock(dossier: Dossier, at: dt.datetime) -> None:
    due = _due(at, dossier.snapshot["processing_days"], _cutoff(dossier))
    dossier.clock_started_at = at
    dossier.original_due_at = dossier.current_due_at = due


def _classify_result(dossier: Dossier, at: dt.datetime) -> None:
    """Timing of record against the appointment given to the applicant (original_due_at), and,
    after an apology, separately whether the rescheduled date (current_due_at) was met.

    Circular 01/2018 index 1 scores a dossier late against its appointment even when an apology
    moved the date (domain.md §5): the apology does not turn a late result into an early one.
    """
    of_record = dossier.original_due_at or dossier.current_due_at
    dossier.timing = classify(at, of_record) if of_record else ""
    rescheduled = dossier.apologised and dossier.current_due_at and dossier.current_due_at != of_record
    dossier.rescheduled_timing = classify(at, dossier.current_due_at) if rescheduled else ""


def _appoint(dossier: Dossier, kind: str, at: dt.datetime, form: DossierFile | None = None) -> DossierAppointment:
    """Keep the appointment just given (dossier.current_due_at) as its own row beside the earlier ones."""
    return DossierAppointment.objects.create(
        dossier=dossier, kind=kind, due_at=dossier.current_due_at, issued_at=at, form=form
    )


def _enter_register(dossier: Dossier, at: dt.datetime) -> None:
    """Give the dossier the next number of its receiving unit's register for the year.

    Circular 01/2018 Art 10: one book a year, numbered continuously from 01; a new book continues
    the numbering, so the number alone identifies the entry and Form 01 and Form 07 print the same.
    A dossier keeps its number (a restart's new Form 01 prints the same one).
    """
    if dossier.register_number:
        return
    dossier.register_book = 1
    dossier.register_number = _next_register_number(dossier.receiving_agency or dossier.agency, at)


@transaction.atomic
def dossier_record_payment(
    *, dossier: Dossier, officer, amount: int, receipt_number: str, expected_version: int | None = None
) -> Dossier:
    """Record a fee paid at the counter while the dossier waits for payment.

    payments.services.payment_record_counter calls this (the counter payment is also a Payment row);
    online payments arrive through dossier_mark_fee_paid.
    """
    dossier = _lock(dossier, expected_version)
    _require_role(officer, dossier, Role.RECEPTION)
    if dossier.state != S.AWAITING_PAYMENT:
        raise NotAllowedError(_("Hồ sơ không ở trạng thái chờ nộp phí."))
    if int(amount) != dossier.fee_total:
        raise DossierError(
            _("Số tiền %(amount)s đồng không khớp với tổng phí, lệ phí %(total)s đồng.")
            % {"amount": f"{int(amount):,}".replace(",", "."), "total": f"{dossier.fee_total:,}".replace(",", ".")},
            field="amount",
        )
    if not receipt_number.strip():
        raise DossierError(_("Vui lòng nhập số biên lai."), field="receipt_number")
    _fee_paid(dossier, officer, amount=int(amount), reference=receipt_number.strip(), channel="counter")
    return dossier


def _fee_paid(dossier: Dossier, actor, *, amount: int, reference: str, channel: str) -> None:
    """The fee is paid: a dossier waiting for payment starts its clock (Form 01); any other just records it."""
    now = timezone.now()
    before = dossier.state
    files = []
    dossier.fee_paid_at = now
    if dossier.state == S.AWAITING_PAYMENT:
        _transition(dossier, "payment_received")
        _close_pause(dossier, now)
        _start_clock(dossier, now)
        _save(dossier)
        files = [_issue_form(dossier, FormNumber.RECEIPT, actor)]
        _appoint(dossier, AppointmentKind.ORIGINAL, now, files[0])
    else:
        _save(dossier)
    _record(
        dossier,
        action=Action.RECORD_PAYMENT,
        actor=actor,
        from_state=before,
        attachments=files,
        data={"amount": amount, "receipt_number": reference, "channel": channel},
    )
    _side_effect(dossier, "notify", event="payment_confirmed")


@transaction.atomic
def dossier_mark_fee_paid(*, dossier: Dossier, amount: int, reference: str, channel: str, actor=None) -> Dossier:
    """The fee of the dossier was paid (called by payments.services once a payment is confirmed).

    Idempotent: a dossier already paid is returned unchanged. A draft of a procedure paid at
    submission is submitted by its owner's payment; a dossier waiting for payment starts its clock.
    The caller has verified the payment (gateway checksum and amount, or the counter officer).
    """
    dossier = _lock(dossier, None)
    if dossier.fee_paid_at is not None:
        return dossier
    if int(amount) != dossier.fee_total:
        raise DossierError(_("Số tiền đã thanh toán không khớp với tổng phí, lệ phí của hồ sơ."), field="amount")
    _fee_paid(dossier, actor, amount=int(amount), reference=reference, channel=channel)
    if dossier.state == S.DRAFT and _payment_timing(dossier) == "at_submission" and not dossier_missing_items(dossier):
        owner = dossier.submitted_by or dossier.owner
        dossier_submit(dossier=dossier, user=owner)
    return dossier


@transaction.atomic
def dossier_record_refund(*, dossier: Dossier, amount: int, reference: str, actor=None, reason: str = "") -> Dossier:
    """A fee refund went through: recorded in the dossier's audit trail (its state does not change)."""
    dossier = _lock(dossier, None)
    _record(
        dossier,
        action=Action.REFUND,
        actor=actor,
        from_state=dossier.state,
        note=reason,
        data={"amount": int(amount), "reference": reference},
    )
    _side_effect(dossier, "notify", event="payment_confirmed")
    return dossier


@transaction.atomic
def dossier_request_supplement(
    *, dossier: Dossier, officer, items: list[str], reason: str, expected_version: int | None = None
) -> Dossier:
    """Ask the applicant, once and completely, for what is missing (Form 02).

    At reception by the one-stop officer; after appraisal by the specialist, within 3 working days
    of reception (Decree 61/2018 Art 19(4)); the clock then restarts when the dossier is complete.
    """
    dossier = _lock(dossier, expected_version)
    items = [item.strip() for item in items if item and item.strip()]
    if not items or not reason.strip():
        raise DossierError(_("Vui lòng ghi rõ giấy tờ cần bổ sung và lý do."))
    now = timezone.now()
    if dossier.state == S.SUBMITTED:
        _require_role(officer, dossier, Role.RECEPTION)
        stage = SupplementStage.RECEPTION
    else:
        _require_role(officer, dossier, Role.SPECIALIST, Role.LEADER, agency=_step_agency(dossier))
        stage = SupplementStage.APPRAISAL
    if stage == SupplementStage.APPRAISAL:
        _check_supplement_window(dossier, now)
    before = _transition(dossier, "request_supplement")
    dossier.supplement_stage = stage
    # Printed on Form 02, an official document: Vietnamese whatever the officer's screen language.
    dossier.supplement_note = "\n".join(items) + "\nLý do: " + reason.strip()
    DossierPause.objects.create(dossier=dossier, reason=PauseReason.SUPPLEMENT, started_at=now)
    _save(dossier)
    form = _issue_form(dossier, FormNumber.SUPPLEMENT, officer, items=items, reason=reason.strip())
    _record(
        dossier,
        action=Action.REQUEST_SUPPLEMENT,
        actor=officer,
        from_state=before,
        note=reason.strip(),
        attachments=[form],
        data={"items": items, "stage": stage},
    )
    _side_effect(dossier, "notify", event="supplement_requested")
    return dossier


def _check_supplement_window(dossier: Dossier, now: dt.datetime) -> None:
    """Once, and within the window after reception (Decree 61/2018 Art 19(4)); refused otherwise.

    The agency must list everything missing in one notice; a second request, or a first one after
    the window, would restart the clock at the applicant's expense, so it is refused and nothing
    changes. The window is the procedure version's own where sector law sets one, else the rule set's.
    """
    rules = rule_set(dossier.rule_set) if dossier.rule_set else rule_set_on(timezone.localtime(now).date())
    earlier = dossier.events.filter(action=Action.REQUEST_SUPPLEMENT, data__stage=SupplementStage.APPRAISAL).count()
    if earlier >= rules.supplement_rounds_after_appraisal:
        raise NotAllowedError(
            _(
                "Hồ sơ đã được yêu cầu bổ sung sau thẩm định một lần; cơ quan giải quyết chỉ được yêu cầu "
                "bổ sung một lần, nêu đầy đủ nội dung cần bổ sung (Nghị định 61/2018/NĐ-CP Điều 19 khoản 4)."
            )
        )
    days = supplement_window_days(rules, dossier.snapshot)
    if dossier.received_at is not None:
        limit = _due(dossier.received_at, days)
        if now > limit:
            raise NotAllowedError(
                _(
                    "Đã quá thời hạn yêu cầu bổ sung hồ sơ: chậm nhất %(days)s ngày làm việc kể từ ngày tiếp nhận, "
                    "tức %(limit)s. Hồ sơ phải được giải quyết hoặc từ chối giải quyết theo quy định."
                )
                % {"days": f"{days:02d}", "limit": timezone.localtime(limit).strftime("%H:%M %d/%m/%Y")}
            )


def _step_agency(dossier: Dossier) -> Agency:
    return dossier.current_step.agency if dossier.current_step_id else dossier.agency


@transaction.atomic
def dossier_refuse(
    *, dossier: Dossier, officer, reason: str, expected_version: int | None = None, lateness_reason: str = ""
) -> Dossier:
    """Refuse with reasons (Form 03): at reception by the one-stop officer, after appraisal by a leader.

    A refusal after appraisal must come within the time limit (Decree 61/2018 Art 19(8)). Past the
    appointment it is accepted only with the lateness stated (`lateness_reason`), recorded on the
    event and counted late; the apology path (Form 04, before the due date) is the lawful way to
    gain time.
    """
    dossier = _lock(dossier, expected_version)
    if not reason.strip():
        raise DossierError(_("Vui lòng ghi rõ lý do từ chối."), field="reason")
    now = timezone.now()
    data: dict[str, Any] = {}
    if dossier.state == S.SUBMITTED:
        _require_role(officer, dossier, Role.RECEPTION)
        before = _transition(dossier, "refuse_at_reception")
    else:
        _require_role(officer, dossier, Role.LEADER)
        if dossier.current_due_at and now > dossier.current_due_at:
            if not lateness_reason.strip():
                raise NotAllowedError(
                    _(
                        "Đã quá thời hạn giải quyết (hẹn trả %(due)s): việc từ chối giải quyết phải thực hiện "
                        "trong thời hạn (Nghị định 61/2018/NĐ-CP Điều 19 khoản 8). Vui lòng ghi rõ lý do chậm "
                        "trễ; hồ sơ được ghi nhận quá hạn."
                    )
                    % {"due": timezone.localtime(dossier.current_due_at).strftime("%H:%M %d/%m/%Y")},
                    field="lateness_reason",
                )
            data = {"late": True, "lateness_reason": lateness_reason.strip()}
        before = _transition(dossier, "refuse_after_appraisal")
        _complete_step(dossier.current_step, now, officer)
        dossier.current_step = None
        dossier.completed_at = now
        _classify_result(dossier, now)
        data["timing"] = dossier.timing
    dossier.decision_note = reason.strip()
    dossier.closed_at = now
    _save(dossier)
    form = _issue_form(dossier, FormNumber.REFUSAL, officer, reason=reason.strip())
    _record(
        dossier,
        action=Action.REFUSE,
        actor=officer,
        from_state=before,
        note=reason.strip(),
        attachments=[form],
        data=data,
    )
    _side_effect(dossier, "notify", event="refused")
    return dossier


@transaction.atomic
def dossier_assign(
    *,
    dossier: Dossier,
    actor,
    assignee,
    expected_version: int | None = None,
    note: str = "",
    step: DossierStep | None = None,
) -> Dossier:
    """Give the dossier's current processing step to a specialist (assignment or reassignment).

    `step`: one started, unfinished step of the dossier, e.g. another agency's step of a parallel
    group; by default the current step (or the first specialist step, when processing begins).
    """
    dossier = _lock(dossier, expected_version)
    if dossier.state not in (S.RECEIVED, S.IN_PROCESSING):
        raise NotAllowedError(
            _("Không thể phân công khi hồ sơ đang ở trạng thái “%(state)s”.") % {"state": dossier.get_state_display()}
        )
    if step is not None:
        step = _own_step(dossier, step)
        if step.role != StepRole.SPECIALIST or step.started_at is None or step.completed_at is not None:
            raise NotAllowedError(_("Chỉ phân công được bước xử lý chuyên môn đang thực hiện."))
    else:
        step = dossier.current_step
        if step is None or step.role == StepRole.RECEPTION:
            step = _next_step(dossier, None, StepRole.SPECIALIST)
        elif step.completed_at is not None:
            raise NotAllowedError(_("Bước xử lý này đã hoàn thành; hãy chọn bước cần phân công."))
    if step is None:
        raise NotAllowedError(_("Quy trình của thủ tục không có bước xử lý chuyên môn."))
    if actor.pk != assignee.pk:
        _require_role(actor, dossier, Role.LEADER, Role.RECEPTION, Role.SPECIALIST, agency=step.agency)
    if step.agency.pk not in officer_agencies(assignee, Role.SPECIALIST):
        raise DossierError(
            _("Cán bộ được chọn không phải chuyên viên của %(agency)s.") % {"agency": step.agency}, field="assignee"
        )
    now = timezone.now()
    before = _transition(dossier, "assign")
    if step.started_at is None:
        _start_step(dossier, step, now, assignee)
    else:
        step.assignee = assignee
        step.save(update_fields=["assignee"])
    if dossier.current_step_id == step.pk:
        # dossier.assignee follows the current step (the lead agency's, in a parallel group).
        dossier.assignee = assignee
    _save(dossier)
    _record(
        dossier,
        action=Action.ASSIGN,
        actor=actor,
        from_state=before,
        note=note,
        agency=step.agency,
        data={"assignee": assignee.get_full_name(), "step": step.name},
    )
    return dossier


@transaction.atomic
def dossier_forward(
    *,
    dossier: Dossier,
    officer,
    note: str = "",
    expected_version: int | None = None,
    step: DossierStep | None = None,
) -> Dossier:
    """Finish this specialist step and hand the dossier to the next one (another department or agency).

    `step` (default: the current step) may be another agency's step of a parallel group: only that
    step completes. The next step starts when the last step of the group completes. When the group is
    followed by the leader's approval, the lead agency's step completes with dossier_submit_for_approval
    instead, once the other agencies are done.
    """
    dossier = _lock(dossier, expected_version)
    step = _own_step(dossier, step)
    if step is None:
        raise NotAllowedError(_("Hồ sơ chưa được phân công xử lý."))
    _require_role(officer, dossier, Role.SPECIALIST, agency=step.agency)
    if step.role != StepRole.SPECIALIST or step.started_at is None or step.completed_at is not None:
        raise NotAllowedError(_("Bước xử lý này không còn đang thực hiện."))
    group = _group(step)
    remaining = [member for member in group if member.pk != step.pk and member.completed_at is None]
    following = _next_step(dossier, step)
    if (following is None or following.role != StepRole.SPECIALIST) and (step.pk == group[0].pk or not remaining):
        raise NotAllowedError(_("Không còn bước xử lý chuyên môn tiếp theo: hãy trình phê duyệt."))
    now = timezone.now()
    before = _transition(dossier, "forward")
    _complete_step(step, now, officer)
    if remaining:
        # Other agencies of the parallel group are still at work: the dossier waits for them.
        _save(dossier)
        _record(
            dossier,
            action=Action.FORWARD,
            actor=officer,
            from_state=before,
            note=note,
            agency=step.agency,
            data={"from_step": step.name, "parallel_remaining": len(remaining)},
        )
        return dossier
    _start_step(dossier, following, now)
    dossier.assignee = None
    _save(dossier)
    data = {"from_step": step.name, "to_step": following.name, "to_agency": str(following.agency)}
    if step.is_parallel:
        data["parallel_remaining"] = 0
    _record(dossier, action=Action.FORWARD, actor=officer, from_state=before, note=note, agency=step.agency, data=data)
    return dossier


@transaction.atomic
def dossier_consult(
    *,
    dossier: Dossier,
    officer,
    agency: Agency,
    question: str,
    deadline: dt.datetime,
    expected_version: int | None = None,
) -> Dossier:
    """Record a request for another unit's opinion, with its content and deadline (Art 19(5))."""
    dossier = _lock(dossier, expected_version)
    _require_role(officer, dossier, Role.SPECIALIST, agency=_step_agency(dossier))
    if dossier.state != S.IN_PROCESSING:
        raise NotAllowedError(_("Chỉ lấy ý kiến phối hợp khi hồ sơ đang xử lý."))
    if not question.strip():
        raise DossierError(_("Vui lòng ghi nội dung cần lấy ý kiến."), field="question")
    now = timezone.now()
    if deadline <= now:
        raise DossierError(_("Hạn trả lời phải sau thời điểm hiện tại."), field="deadline")
    consultation = DossierConsultation.objects.create(
        dossier=dossier,
        agency=agency,
        question=question.strip(),
        deadline=deadline,
        requested_by=officer,
        requested_at=now,
    )
    _save(dossier)
    _record(
        dossier,
        action=Action.CONSULT,
        actor=officer,
        from_state=dossier.state,
        note=question.strip(),
        data={"agency": agency.name, "deadline": deadline.isoformat(), "consultation": consultation.pk},
    )
    return dossier


@transaction.atomic
def dossier_answer_consultation(
    *, consultation: DossierConsultation, officer, answer: str, expected_version: int | None = None
) -> DossierConsultation:
    """The consulted unit answers in the system (Decree 61/2018 Art 19(5)); once; a late answer is
    accepted and marked late. Only a specialist or leader of the consulted unit may answer."""
    dossier = _lock(consultation.dossier_id, expected_version)
    consultation = DossierConsultation.objects.select_for_update().get(pk=consultation.pk)
    if consultation.agency_id not in officer_agencies(officer, Role.SPECIALIST, Role.LEADER):
        raise PermissionDeniedError(_("Bạn không thuộc đơn vị được lấy ý kiến."))
    if consultation.answered_at is not None:
        raise ConflictError(_("Đơn vị đã trả lời ý kiến này."))
    if not answer.strip():
        raise DossierError(_("Vui lòng ghi nội dung ý kiến trả lời."), field="answer")
    now = timezone.now()
    consultation.answer = answer.strip()
    consultation.answered_by = officer
    consultation.answered_at = now
    consultation.save(update_fields=["answer", "answered_by", "answered_at"])
    _save(dossier)
    _record(
        dossier,
        action=Action.ANSWER_CONSULTATION,
        actor=officer,
        from_state=dossier.state,
        note=answer.strip(),
        agency=consultation.agency,
        data={"consultation": consultation.pk, "late": now > consultation.deadline},
    )
    return consultation


def consultations_report_late(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Tell the head of the one-stop unit about consultations past their deadline without an answer
    (Decree 61/2018 Art 19(5)). Each is reported once (late_reported_at); safe to run again."""
    now = now or timezone.now()
    reported = 0
    pending = DossierConsultation.objects.filter(
        answered_at__isnull=True, late_reported_at__isnull=True, deadline__lt=now
    ).order_by("deadline")[:limit]
    for pk in list(pending.values_list("pk", flat=True)):
        with transaction.atomic():
            consultation = (
                DossierConsultation.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, answered_at__isnull=True, late_reported_at__isnull=True)
                .select_related("dossier", "agency")
                .first()
            )
            if consultation is None:
                continue
            consultation.late_reported_at = now
            consultation.save(update_fields=["late_reported_at"])
            dossier = consultation.dossier
            # Addressed to staff, not to the applicant: its own kind, for the notifications handler.
            _side_effect(
                dossier,
                "alert_one_stop_head",
                event="consultation_late",
                consultation=consultation.pk,
                recipient_role=Role.LEADER,
                recipient_agency=(dossier.receiving_agency_id or dossier.agency_id),
            )
            _record(
                dossier,
                action=Action.CONSULT,
                actor=None,
                from_state=dossier.state,
                note=_("Đơn vị %(agency)s chưa trả lời ý kiến phối hợp đúng hạn %(deadline)s.")
                % {
                    "agency": consultation.agency.name,
                    "deadline": timezone.localtime(consultation.deadline).strftime("%H:%M %d/%m/%Y"),
                },
                data={"consultation": consultation.pk, "late_reported": True},
            )
            reported += 1
    return reported


@transaction.atomic
def dossier_submit_for_approval(
    *, dossier: Dossier, officer, result_upload=None, note: str = "", expected_version: int | None = None
) -> Dossier:
    """The specialist proposes the result (a signed PDF or a scan) and sends it to the leader."""
    dossier = _lock(dossier, expected_version)
    step = dossier.current_step
    if step is None:
        raise NotAllowedError(_("Hồ sơ chưa được phân công xử lý."))
    _require_role(officer, dossier, Role.SPECIALIST, agency=step.agency)
    waiting = [member for member in _group(step) if member.pk != step.pk and member.completed_at is None]
    if waiting:
        raise NotAllowedError(
            _("Còn cơ quan phối hợp chưa hoàn thành phần việc: %(agencies)s.")
            % {"agencies": ", ".join(f"{member.agency.name} ({member.name})" for member in waiting)}
        )
    now = timezone.now()
    before = _transition(dossier, "submit_for_approval")
    files = []
    if result_upload is not None:
        files.append(_store_result(dossier, officer, result_upload))
    if not dossier.files.filter(kind=FileKind.RESULT, is_current=True).exists() and not files:
        raise DossierError(_("Vui lòng đính kèm dự thảo kết quả giải quyết."), field="result")
    _complete_step(step, now, officer)
    leader_step = _next_step(dossier, step, StepRole.LEADER)
    _start_step(dossier, leader_step, now)
    _save(dossier)
    _record(
        dossier,
        action=Action.SUBMIT_FOR_APPROVAL,
        actor=officer,
        from_state=before,
        note=note,
        agency=step.agency,
        attachments=files,
    )
    return dossier


def _store_result(dossier: Dossier, user, upload) -> DossierFile:
    checked = check_upload(upload, allowed_types="pdf,jpg,png", max_bytes=20 * 1024 * 1024)
    dossier.files.filter(kind=FileKind.RESULT, is_current=True).update(is_current=False)
    stored = DossierFile(
        dossier=dossier,
        kind=FileKind.RESULT,
        original_name=checked.safe_name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=user,
    )
    stored.file.save(checked.safe_name, checked.content, save=True)
    return stored


@transaction.atomic
def dossier_send_back(*, dossier: Dossier, officer, reason: str, expected_version: int | None = None) -> Dossier:
    """The leader returns the proposal to the specialist with reasons; the specialist step reopens."""
    dossier = _lock(dossier, expected_version)
    _require_role(officer, dossier, Role.LEADER, agency=_step_agency(dossier))
    if not reason.strip():
        raise DossierError(_("Vui lòng ghi rõ lý do trả lại."), field="reason")
    now = timezone.now()
    before = _transition(dossier, "send_back")
    leader_step = dossier.current_step
    last_specialist = (
        dossier.steps.filter(role=StepRole.SPECIALIST, completed_at__isnull=False).order_by("-order", "-id").first()
    )
    if last_specialist is not None and last_specialist.is_parallel:
        # A parallel group: the lead agency's step reopens (it proposed the result).
        last_specialist = _group(last_specialist)[0]
    if leader_step is not None:
        leader_step.started_at = None
        leader_step.due_at = None
        leader_step.save(update_fields=["started_at", "due_at"])
    reopened = None
    if last_specialist is not None:
        reopened = DossierStep.objects.create(
            dossier=dossier,
            order=last_specialist.order,
            name=last_specialist.name,
            role=last_specialist.role,
            agency=last_specialist.agency,
            duration_days=last_specialist.duration_days,
        )
        _start_step(dossier, reopened, now, last_specialist.assignee)
    _save(dossier)
    _record(dossier, action=Action.SEND_BACK, actor=officer, from_state=before, note=reason.strip())
    return dossier


@transaction.atomic
def dossier_approve(
    *, dossier: Dossier, officer, note: str = "", result_upload=None, expected_version: int | None = None
) -> Dossier:
    """The leader approves (signs) the result; the dossier is resolved and classified against its deadline."""
    dossier = _lock(dossier, expected_version)
    _require_role(officer, dossier, Role.LEADER, agency=_step_agency(dossier))
    now = timezone.now()
    before = _transition(dossier, "approve")
    files = [_store_result(dossier, officer, result_upload)] if result_upload is not None else []
    if not dossier.files.filter(kind=FileKind.RESULT, is_current=True).exists():
        raise DossierError(_("Chưa có tệp kết quả giải quyết."), field="result")
    _complete_step(dossier.current_step, now, officer)
    dossier.current_step = None
    dossier.completed_at = now
    _classify_result(dossier, now)
    _save(dossier)
    _record(
        dossier,
        action=Action.APPROVE,
        actor=officer,
        from_state=before,
        note=note,
        attachments=files,
        data={"timing": dossier.timing, "rescheduled_timing": dossier.rescheduled_timing},
    )
    _side_effect(dossier, "notify", event="result_ready")
    if dossier.channel_out == ResultChannel.POSTAL:
        _side_effect(dossier, "postal_shipment", address=dossier.postal_address)
    return dossier


@transaction.atomic
def dossier_return_result(
    *, dossier: Dossier, actor, channel: str | None = None, expected_version: int | None = None
) -> Dossier:
    """Hand the result over: at the counter, by download (the citizen's first download), or by post."""
    dossier = _lock(dossier, expected_version)
    channel = channel or dossier.channel_out
    if channel not in ResultChannel.values:
        raise DossierError(_("Hình thức trả kết quả không hợp lệ."), field="channel")
    owner_downloading = dossier.owner_id is not None and dossier.owner_id == getattr(actor, "pk", None)
    if owner_downloading:
        # The applicant's first download returns the result only if that is how they chose to get it.
        if channel != ResultChannel.DOWNLOAD or dossier.channel_out != ResultChannel.DOWNLOAD:
            raise PermissionDeniedError(_("Kết quả của hồ sơ này được trả theo hình thức đã đăng ký."))
    else:
        _require_role(actor, dossier, Role.RECEPTION, agency=dossier.receiving_agency or dossier.agency)
    if channel == ResultChannel.POSTAL and not dossier.postal_address:
        raise DossierError(_("Hồ sơ chưa có địa chỉ nhận kết quả qua bưu chính."), field="channel")
    if _payment_timing(dossier) == "at_result" and dossier.fee_total > 0 and dossier.fee_paid_at is None:
        raise NotAllowedError(_("Người nộp cần nộp phí, lệ phí trước khi nhận kết quả."))
    before = _transition(dossier, "return_result")
    now = timezone.now()
    dossier.returned_at = dossier.closed_at = now
    dossier.channel_out = channel
    # Decision 766 counts a dossier as fully online when submitted, paid and returned online.
    paid_online = (
        dossier.fee_total == 0 or dossier.events.filter(action=Action.RECORD_PAYMENT, data__channel="online").exists()
    )
    dossier.is_fully_online = dossier.channel_in == Channel.ONLINE and channel == ResultChannel.DOWNLOAD and paid_online
    _save(dossier)
    _record(dossier, action=Action.RETURN_RESULT, actor=actor, from_state=before, data={"channel": channel})
    _side_effect(dossier, "notify", event="returned")
    return dossier


@transaction.atomic
def dossier_apologise(
    *, dossier: Dossier, officer, new_due_at: dt.datetime, reason: str, expected_version: int | None = None
) -> Dossier:
    """Apologise and reschedule once (Form 04), no later than one working day before the due date.

    Decree 61/2018 Art 19(9): the return date may be rescheduled only once. The original due date
    stays recorded: the dossier is still late against it.
    """
    dossier = _lock(dossier, expected_version)
    _require_role(officer, dossier, Role.LEADER)
    if dossier.state not in (S.RECEIVED, S.IN_PROCESSING, S.AWAITING_APPROVAL):
        raise NotAllowedError(_("Chỉ xin lỗi, hẹn lại đối với hồ sơ đang giải quyết."))
    if dossier.apologised:
        raise NotAllowedError(_("Hồ sơ đã được hẹn lại một lần; không được hẹn lại lần thứ hai."))
    if not reason.strip():
        raise DossierError(_("Vui lòng ghi rõ lý do chậm trễ."), field="reason")
    now = timezone.now()
    calendar = _calendar(now)
    due_day = timezone.localtime(dossier.current_due_at).date()
    latest_day = due_day
    for _i in range(rule_set(dossier.rule_set).apology_lead_days):
        latest_day = _previous_working_day(calendar, latest_day)
    if timezone.localtime(now).date() > latest_day:
        raise NotAllowedError(
            _("Văn bản xin lỗi phải được gửi chậm nhất 01 ngày làm việc trước ngày hẹn trả (%(day)s).")
            % {"day": latest_day.strftime("%d/%m/%Y")}
        )
    if new_due_at <= dossier.current_due_at:
        raise DossierError(_("Ngày hẹn mới phải sau ngày hẹn trả hiện tại."), field="new_due_at")
    if not calendar.is_working_day(timezone.localtime(new_due_at).date()):
        raise DossierError(_("Ngày hẹn mới phải là ngày làm việc."), field="new_due_at")
    previous = dossier.current_due_at
    dossier.current_due_at = new_due_at
    dossier.apologised = True
    _save(dossier)
    form = _issue_form(dossier, FormNumber.APOLOGY, officer, reason=reason.strip(), previous_due_at=previous)
    _appoint(dossier, AppointmentKind.APOLOGY, now, form)
    _record(
        dossier,
        action=Action.APOLOGISE,
        actor=officer,
        from_state=dossier.state,
        note=reason.strip(),
        attachments=[form],
        data={"previous_due_at": previous.isoformat(), "new_due_at": new_due_at.isoformat()},
    )
    _side_effect(dossier, "notify", event="apologised")
    return dossier


def _previous_working_day(calendar: WorkingCalendar, day: dt.date) -> dt.date:
    day -= dt.timedelta(days=1)
    while not calendar.is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def _stoppable(dossier: Dossier, *, check_state: bool = True) -> None:
    if dossier.state == S.SUPPLEMENT_REQUESTED and dossier.supplement_stage == SupplementStage.RECEPTION:
        # Never received: the applicant withdraws it instead (there is nothing to stop).
        raise NotAllowedError(_("Hồ sơ chưa được tiếp nhận: người nộp có thể rút hồ sơ thay vì đề nghị dừng."))
    if check_state and dossier.state not in _STOPPABLE:
        # Stop only before a decision or result exists (Decree 118/2025 Art 21(1)).
        raise NotAllowedError(
            _("Không thể đề nghị dừng khi hồ sơ đang ở trạng thái “%(state)s”.")
            % {"state": dossier.get_state_display()}
        )


_STOPPABLE = (S.RECEIVED, S.AWAITING_PAYMENT, S.IN_PROCESSING, S.AWAITING_APPROVAL, S.SUPPLEMENT_REQUESTED)


@transaction.atomic
def dossier_request_stop(
    *, dossier: Dossier, user, reason: str, channel: str = Channel.ONLINE, expected_version: int | None = None
) -> Dossier:
    """The applicant asks to stop processing (Decree 118/2025 Art 21), online from the dossier page or API.

    Only records the request, with its time and channel; the one-stop unit decides with
    dossier_stop, and Form 05 prints when and how the request arrived. A second request while one
    is pending changes nothing.
    """
    dossier = _lock(dossier, expected_version)
    _require_owner(user, dossier)
    _stoppable(dossier)
    if not reason.strip():
        raise DossierError(_("Vui lòng ghi lý do đề nghị dừng giải quyết."), field="reason")
    if channel not in Channel.values:
        raise DossierError(_("Hình thức đề nghị không hợp lệ."), field="channel")
    if dossier.stop_requested_at is not None:
        raise ConflictError(_("Đề nghị dừng giải quyết của bạn đã được gửi và đang chờ Bộ phận Một cửa xem xét."))
    now = timezone.now()
    dossier.stop_requested_at = now
    dossier.stop_request_channel = channel
    dossier.stop_request_reason = reason.strip()
    _save(dossier)
    _record(
        dossier,
        action=Action.REQUEST_STOP,
        actor=user,
        from_state=dossier.state,
        note=reason.strip(),
        data={"channel": channel, "requested_at": now.isoformat()},
    )
    _side_effect(dossier, "notify", event="stop_requested")
    return dossier


@transaction.atomic
def dossier_stop(
    *,
    dossier: Dossier,
    officer,
    reason: str = "",
    expected_version: int | None = None,
    requested_at: dt.datetime | None = None,
    request_channel: str = "",
) -> Dossier:
    """Stop processing at the applicant's request before a result exists (Decree 118/2025 Art 21; Form 05).

    The request is the one the applicant sent online (dossier_request_stop), or, for one that came
    at the counter or by post, the time and channel the officer enters (`requested_at`,
    `request_channel`; by default at the counter, now). Form 05 prints that time, not the decision's.
    """
    dossier = _lock(dossier, expected_version)
    _require_role(officer, dossier, Role.RECEPTION, agency=dossier.receiving_agency or dossier.agency)
    _stoppable(dossier, check_state=False)
    reason = reason.strip() or dossier.stop_request_reason
    if not reason.strip():
        raise DossierError(_("Vui lòng ghi nội dung đề nghị dừng của người nộp."), field="reason")
    now = timezone.now()
    if dossier.stop_requested_at is None:
        if request_channel and request_channel not in Channel.values:
            raise DossierError(_("Hình thức đề nghị không hợp lệ."), field="request_channel")
        too_early = requested_at is not None and dossier.received_at and requested_at < dossier.received_at
        if requested_at is not None and (requested_at > now or too_early):
            raise DossierError(
                _("Thời điểm đề nghị dừng phải sau khi tiếp nhận hồ sơ và không muộn hơn hiện tại."),
                field="requested_at",
            )
        dossier.stop_requested_at = requested_at or now
        dossier.stop_request_channel = request_channel or Channel.COUNTER
        dossier.stop_request_reason = reason.strip()
    before = _transition(dossier, "stop")
    _close_pause(dossier, now)
    dossier.current_step = None
    dossier.decision_note = reason.strip()
    dossier.closed_at = now
    _save(dossier)
    form = _issue_form(dossier, FormNumber.STOP, officer, reason=reason.strip())
    _record(
        dossier,
        action=Action.STOP,
        actor=officer,
        from_state=before,
        note=reason.strip(),
        attachments=[form],
        data={
            "requested_at": dossier.stop_requested_at.isoformat(),
            "request_channel": dossier.stop_request_channel,
        },
    )
    _side_effect(dossier, "notify", event="stopped")
    return dossier


# --- counter submission -----------------------------------------------------------------------


@transaction.atomic
def dossier_create_at_counter(*, procedure: Procedure, agency: Agency, officer, applicant: dict, owner=None) -> Dossier:
    """A reception officer (or a community digital team member) enters a dossier for a walk-in citizen.

    It shares the queue and statistics of online dossiers; the officer then uploads the scans and
    submits it like the citizen would.
    """
    if agency.pk not in officer_agencies(officer, Role.RECEPTION):
        raise PermissionDeniedError(_("Bạn không phải cán bộ một cửa của cơ quan này."))
    if not procedure.channel_counter:
        raise NotAllowedError(_("Thủ tục này không nhận hồ sơ trực tiếp."))
    if not applicant.get("applicant_name", "").strip():
        raise DossierError(_("Vui lòng nhập họ tên người nộp hồ sơ."), field="applicant_name")
    return dossier_create_draft(
        procedure=procedure,
        agency=agency,
        owner=owner,
        submitted_by=officer,
        channel_in=Channel.COUNTER,
        applicant=applicant,
    )
