"""National public service portal (DVCQG) synchronisation through one adapter.

Outbound: every state change's side effect "national_sync" pushes the dossier (DongBoHoSoMC) and
its progress (CapNhatTienDoHoSoMC) with the payload fields of the integration API (domain doc §4.4),
dates as yyyyMMddHHmmss in Asia/Ho_Chi_Minh. Each message carries a stable id (the side effect's),
so a retried push is recorded once by a portal that deduplicates, as the sandbox does.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from typing import Protocol
from zoneinfo import ZoneInfo

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from dossiers.constants import DossierState as S
from dossiers.side_effects import register

from .models import NationalComparison, NationalInbound, SandboxNationalFiling, SandboxNationalRecord

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# The commonly cited DVCQG status list (domain doc §4.4, unconfirmed): 1 new … 10 result returned.
STATUS_CODE = {
    S.SUBMITTED: "1",
    S.RECEIVED: "2",
    S.REFUSED_AT_RECEPTION: "3",
    S.IN_PROCESSING: "4",
    S.AWAITING_APPROVAL: "4",
    S.SUPPLEMENT_REQUESTED: "5",
    S.AWAITING_PAYMENT: "6",
    S.WITHDRAWN: "7",
    S.STOPPED: "8",
    S.REFUSED_AFTER_APPRAISAL: "8",
    S.RESULT_READY: "9",
    S.RETURNED: "10",
}


def vn_time(value: dt.datetime | None) -> str:
    """yyyyMMddHHmmss in Asia/Ho_Chi_Minh, "" for no date."""
    return value.astimezone(VN).strftime("%Y%m%d%H%M%S") if value else ""


def dossier_payload(dossier) -> dict:
    """The DongBoHoSoMC payload (never more personal data than the fields require)."""
    procedure = dossier.procedure
    is_business = bool(dossier.answers.get("ma_so_doanh_nghiep")) if isinstance(dossier.answers, dict) else False
    return {
        "MaHoSo": dossier.code or "",
        "MaTTHC": procedure.national_code,
        "TenTTHC": procedure.name,
        "MaLinhVuc": getattr(procedure.field, "code", "") if procedure.field_id else "",
        "TenLinhVuc": getattr(procedure.field, "name", "") if procedure.field_id else "",
        "ChuHoSo": dossier.applicant_name,
        "LoaiDoiTuong": "2" if is_business else "1",
        "MaDoiTuong": dossier.applicant_id_number,
        "Email": dossier.applicant_email,
        "SoDienThoai": dossier.applicant_phone,
        "TrichYeuHoSo": dossier.summary or procedure.name,
        "NgayTiepNhan": vn_time(dossier.received_at),
        "NgayHenTra": vn_time(dossier.current_due_at),
        "TrangThaiHoSo": STATUS_CODE.get(dossier.state, ""),
        "NgayTra": vn_time(dossier.returned_at),
        "HinhThuc": {"online": "1", "counter": "0", "postal": "2"}.get(dossier.channel_in, "1"),
        "NgayKetThucXuLy": vn_time(dossier.completed_at),
        "DonViXuLy": dossier.agency.name,
        "GhiChu": "",
        "TaiLieuNop": [
            {"TenTepDinhKem": f.requirement_name or f.original_name}
            for f in dossier.files.filter(kind__in=["submitted", "supplement"], is_current=True)
        ],
        "DanhSachLePhi": [{"TenPhiLePhi": f.name, "MucPhi": f.amount} for f in dossier.fees.all()],
        "DanhSachTepDinhKemKhac": [],
        "DanhSachHoSoBoSung": [],
        "DanhSachGiayToKetQua": [
            {"TenGiayTo": f.original_name} for f in dossier.files.filter(kind="result", is_current=True)
        ],
    }


def progress_payload(dossier, event) -> dict:
    """The CapNhatTienDoHoSoMC payload of one audit event."""
    step = dossier.current_step
    return {
        "MaHoSo": dossier.code or "",
        "NguoiXuLy": event.actor_name if event else "",
        "ChucDanh": "",
        "ThoiDiemXuLy": vn_time(event.created_at if event else timezone.now()),
        "PhongBanXuLy": event.agency.name if event and event.agency_id else dossier.agency.name,
        "NoiDungXuLy": event.get_action_display() if event else "",
        "TrangThai": STATUS_CODE.get(dossier.state, ""),
        "NgayBatDau": vn_time(step.started_at if step else dossier.received_at),
        "NgayKetThucTheoQuyDinh": vn_time(step.due_at if step else dossier.current_due_at),
    }


class NationalPortal(Protocol):
    def push(self, *, service: str, message_id: str, payload: dict) -> None: ...

    def incoming(self, *, limit: int) -> list[dict]:
        """Dossiers citizens filed on the national portal for us, not yet acknowledged."""

    def acknowledge(self, *, national_id: str, code: str) -> None: ...

    def held(self) -> dict[str, str]:
        """MaHoSo → TrangThaiHoSo of every dossier the portal holds from us (for the comparison)."""


class SandboxNationalPortal:
    def push(self, *, service: str, message_id: str, payload: dict) -> None:
        try:
            with transaction.atomic():
                SandboxNationalRecord.objects.create(
                    service=service, ma_ho_so=payload["MaHoSo"], message_id=message_id, payload=payload
                )
        except IntegrityError:
            pass  # the same message again: recorded once

    def incoming(self, *, limit: int) -> list[dict]:
        rows = SandboxNationalFiling.objects.filter(acknowledged_at__isnull=True).order_by("id")[:limit]
        return [row.payload for row in rows]

    def acknowledge(self, *, national_id: str, code: str) -> None:
        SandboxNationalFiling.objects.filter(national_id=national_id, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), our_code=code
        )

    def held(self) -> dict[str, str]:
        latest: dict[str, str] = {}
        rows = SandboxNationalRecord.objects.filter(service="DongBoHoSoMC").order_by("received_at", "id")
        for code, payload in rows.values_list("ma_ho_so", "payload").iterator():
            latest[code] = payload.get("TrangThaiHoSo", "")
        return latest


class HttpNationalPortal:
    """JSON over HTTPS to the integration endpoint: POST {service, message_id, data}."""

    def push(self, *, service: str, message_id: str, payload: dict) -> None:
        body = json.dumps({"service": service, "message_id": message_id, "data": payload}).encode()
        request = urllib.request.Request(  # noqa: S310 - configured endpoint
            settings.NATIONAL_PORTAL_URL,
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {settings.NATIONAL_PORTAL_KEY}"},
        )
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            response.read()

    def held(self) -> dict[str, str]:
        raise NotImplementedError("the comparison endpoint of the national portal is not published")


def national_portal() -> NationalPortal:
    return SandboxNationalPortal() if settings.NATIONAL_PORTAL == "sandbox" else HttpNationalPortal()


@register("national_sync")
def handle_national_sync(effect) -> None:
    """Push the dossier and its latest progress; skipped before the dossier has a code."""
    dossier = effect.dossier
    if not dossier.code:
        return
    portal = national_portal()
    portal.push(service="DongBoHoSoMC", message_id=f"se{effect.pk}:hs", payload=dossier_payload(dossier))
    event = dossier.events.order_by("-created_at", "-id").first()
    portal.push(service="CapNhatTienDoHoSoMC", message_id=f"se{effect.pk}:td", payload=progress_payload(dossier, event))


def _service_account():
    from portal.accounts.models import User

    user, _created = User.objects.get_or_create(
        username="dvcqg", defaults={"full_name": "Cổng Dịch vụ công quốc gia", "is_active": False}
    )
    return user


def national_dossier_receive(*, payload: dict):
    """Take in one dossier filed on the national portal: the same queues as ours, counted as online.

    Idempotent per national dossier id (NationalInbound is unique on it): a repeated delivery
    returns the dossier made the first time. The owner is the account with the applicant's CCCD,
    if there is one; the national portal is recorded as who submitted it.
    """
    import base64

    from django.core.files.uploadedfile import SimpleUploadedFile

    from dossiers import services
    from portal.accounts.models import User
    from procedures.models import Agency, Procedure

    national_id = str(payload["MaHoSoQuocGia"])
    existing = NationalInbound.objects.filter(national_id=national_id).select_related("dossier").first()
    if existing:
        return existing.dossier
    with transaction.atomic():
        procedure = Procedure.objects.get(national_code=payload["MaTTHC"])
        agency = Agency.objects.get(identifier=payload["MaDonVi"])
        cccd = payload.get("MaDoiTuong") or ""
        owner = User.objects.filter(cccd=cccd).first() if cccd else None
        portal_user = _service_account()
        dossier = services.dossier_create_draft(
            procedure=procedure,
            agency=agency,
            owner=owner,
            submitted_by=portal_user,
            applicant={
                "applicant_name": payload.get("ChuHoSo", ""),
                "applicant_id_number": payload.get("MaDoiTuong", ""),
                "applicant_phone": payload.get("SoDienThoai", ""),
                "applicant_email": payload.get("Email", ""),
                "applicant_address": payload.get("DiaChi", ""),
            },
        )
        services.dossier_save_answers(dossier=dossier, user=portal_user, answers=payload.get("DuLieuToKhai", {}))
        for document in payload.get("TaiLieuNop", []):
            upload = SimpleUploadedFile(
                document.get("TenTepDinhKem", "tep.pdf"), base64.b64decode(document["NoiDung"]), "application/pdf"
            )
            services.dossier_attach_file(
                dossier=dossier, user=portal_user, requirement_id=int(document["MaThanhPhan"]), upload=upload
            )
        dossier = services.dossier_submit(dossier=dossier, user=portal_user)
        NationalInbound.objects.create(national_id=national_id, dossier=dossier)
    return dossier


def national_pull(*, limit: int = 200) -> int:
    """Take in what the national portal has for us (bounded), acknowledging each one taken."""
    portal = national_portal()
    count = 0
    for payload in portal.incoming(limit=limit):
        dossier = national_dossier_receive(payload=payload)
        portal.acknowledge(national_id=str(payload["MaHoSoQuocGia"]), code=dossier.code or str(dossier.public_id))
        count += 1
    return count


@shared_task(name="national.pull")
def pull() -> int:
    return national_pull()


def national_compare(*, day: dt.date | None = None) -> NationalComparison:
    """Compare the national portal's dossiers (code → status) with ours; store the differences."""
    from dossiers.models import Dossier

    day = day or timezone.localdate()
    theirs = national_portal().held()
    ours = dict(Dossier.objects.filter(code__in=list(theirs) or [""]).values_list("code", "state"))
    mismatched = [c for c, status in theirs.items() if c in ours and STATUS_CODE.get(ours[c], "") != status]
    missing = [c for c in theirs if c not in ours]
    comparison, _created = NationalComparison.objects.update_or_create(
        day=day,
        defaults={"ours": len(ours), "theirs": len(theirs), "missing": missing[:1000], "mismatched": mismatched[:1000]},
    )
    return comparison


@shared_task(name="national.compare")
def compare() -> int:
    result = national_compare()
    return len(result.missing) + len(result.mismatched)
