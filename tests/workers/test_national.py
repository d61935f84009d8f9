"""National public service portal sync: payloads of the integration API, both ways, once each."""

import base64
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from dossiers.models import SideEffect
from dossiers.national.models import SandboxNationalFiling, SandboxNationalRecord
from dossiers.national.services import national_compare, national_pull, vn_time
from dossiers.tasks import side_effect_run
from tests.dossiers import builders

pytestmark = pytest.mark.django_db
VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def world():
    return builders.make_world()


def test_dates_are_yyyymmddhhmmss_in_ho_chi_minh_time():
    assert vn_time(dt.datetime(2026, 3, 5, 2, 30, 15, tzinfo=dt.UTC)) == "20260305093015"
    assert vn_time(None) == ""


def test_each_recorded_step_of_a_received_dossier_is_pushed_once_with_the_dossier_payload(world):
    with time_machine.travel(dt.datetime(2026, 3, 5, 9, 0, tzinfo=VN), tick=False):
        dossier = builders.received(world)
    effects = SideEffect.objects.filter(dossier=dossier, kind="national_sync")
    assert effects.exists()
    for effect in effects:
        side_effect_run(effect.pk)
        SideEffect.objects.filter(pk=effect.pk).update(status="pending")
        side_effect_run(effect.pk)  # delivered again: the portal records it once
    record = SandboxNationalRecord.objects.filter(service="DongBoHoSoMC", ma_ho_so=dossier.code).first()
    assert record.payload["MaTTHC"] == world.procedure.national_code
    assert record.payload["NgayTiepNhan"] == "20260305090000"
    assert record.payload["TrangThaiHoSo"] == "2"
    assert len(record.payload["NgayHenTra"]) == 14
    assert SandboxNationalRecord.objects.filter(service="DongBoHoSoMC").count() == effects.count()
    progress = SandboxNationalRecord.objects.filter(service="CapNhatTienDoHoSoMC").last()
    assert set(progress.payload) == {
        "MaHoSo",
        "NguoiXuLy",
        "ChucDanh",
        "ThoiDiemXuLy",
        "PhongBanXuLy",
        "NoiDungXuLy",
        "TrangThai",
        "NgayBatDau",
        "NgayKetThucTheoQuyDinh",
    }


def test_a_dossier_filed_on_the_national_portal_arrives_once_in_our_reception_queue(world):
    SandboxNationalFiling.objects.create(
        national_id="G22.123-260305-0001",
        payload={
            "MaHoSoQuocGia": "G22.123-260305-0001",
            "MaTTHC": world.procedure.national_code,
            "MaDonVi": world.agency.identifier,
            "ChuHoSo": "Lê Văn Công",
            "MaDoiTuong": world.citizen.cccd,
            "Email": "cong@example.vn",
            "DuLieuToKhai": {"ten_ho_kinh_doanh": "Tạp hóa An"},
            "TaiLieuNop": [
                {"MaThanhPhan": 1, "TenTepDinhKem": "don.pdf", "NoiDung": base64.b64encode(builders.PDF_BYTES).decode()}
            ],
        },
    )
    assert national_pull() == 1
    assert national_pull() == 0
    filing = SandboxNationalFiling.objects.get()
    assert filing.acknowledged_at is not None
    dossier = world.citizen.dossiers.get()
    assert dossier.state == "submitted" and dossier.channel_in == "online"
    assert dossier.national_inbound.national_id == "G22.123-260305-0001"


def test_the_daily_comparison_lists_dossiers_whose_status_differs(world):
    from dossiers import services

    dossier = builders.received(world)
    for effect in SideEffect.objects.filter(dossier=dossier, kind="national_sync"):
        side_effect_run(effect.pk)
    assert national_compare().mismatched == []
    # A change whose sync has not run yet (or was lost) shows up in the comparison.
    services.dossier_assign(dossier=dossier, actor=world.leader, assignee=world.specialist)
    result = national_compare(day=dt.date(2026, 3, 6))
    assert result.mismatched == [dossier.code]
