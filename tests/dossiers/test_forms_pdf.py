"""The seven forms of Circular 03/2025/TT-VPCP as the services issue them, read back from the PDF.

Each form is produced the way production produces it (01 on reception, 02 on a supplement
request, 03 on a refusal, 04 on an apology, 05 on a stop; 06 and 07 rendered on demand), turned
into text with poppler's `pdftotext -layout` and checked field by field; `pdfinfo` checks the
paper size. Expected dates are formatted here independently of the template filters.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import subprocess
import unicodedata
from zoneinfo import ZoneInfo

import pytest
import time_machine

from dossiers import services
from dossiers.constants import Action, DossierState
from dossiers.models import Dossier
from dossiers.pdf import form_context, qr_data_uri, render_dossier_form, render_register, tracking_url
from dossiers.selectors import dossier_timeline
from dossiers.templatetags.form_tags import gio_phut_ngay, ngay_thang_nam, so_ngay, so_tien, timing_label
from tests.dossiers import builders
from tests.services import unavailable

pytestmark = pytest.mark.django_db

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# A Tuesday with no public holiday within two weeks.
T0 = dt.datetime(2026, 3, 10, 9, 30, tzinfo=VN)
A5 = (419.5, 595.3)
A4_LANDSCAPE = (841.9, 595.3)
MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
PROCEDURE = "Đăng ký kinh doanh hộ cá thể"
APPLICANT = "Lê Văn Công"
ADDRESS = "Số 12 đường Trần Hưng Đạo, phường Hoa Lư, tỉnh Ninh Bình"


@pytest.fixture(autouse=True)
def _poppler():
    if shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None:
        unavailable("poppler-utils (pdftotext, pdfinfo) is not installed")


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock):
    w = builders.make_world(fee=50000)
    w.citizen.address = ADDRESS
    w.citizen.phone = "0912345678"
    w.citizen.save()
    return w


# --- reading PDFs -------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    out = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return unicodedata.normalize("NFC", out.stdout.decode("utf-8"))


def flat(text: str) -> str:
    """The text with every run of white space (line ends of wrapped paragraphs too) made one space."""
    return " ".join(text.split())


def pdf_pages(data: bytes) -> tuple[float, float, int]:
    out = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    width, height = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", out).groups()
    pages = int(re.search(r"Pages:\s+(\d+)", out).group(1))
    return float(width), float(height), pages


def assert_paper(data: bytes, size: tuple[float, float], *, max_pages: int = 1) -> int:
    width, height, pages = pdf_pages(data)
    assert (width, height) == pytest.approx(size, abs=0.5)
    assert 1 <= pages <= max_pages
    return pages


def when(value: dt.datetime) -> str:
    """'09 giờ 30 phút, ngày 10 tháng 3 năm 2026' in Vietnam's time (Decree 30/2020: 0 before days < 10, months 1–2)."""
    local = value.astimezone(VN)
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    return f"{local.hour:02d} giờ {local.minute:02d} phút, ngày {local.day:02d} tháng {month} năm {local.year}"


def stored_form(dossier: Dossier, number: str, action: str) -> bytes:
    """The PDF kept with the dossier for `number`, attached to the event of `action`; checked against its record."""
    form = dossier.files.get(kind="form", form_number=number)
    data = form.file.read()
    assert data.startswith(b"%PDF-")
    assert form.content_type == "application/pdf"
    assert form.size == len(data)
    assert form.sha256 == hashlib.sha256(data).hexdigest()
    assert form.original_name == f"mau-{number}-{dossier.code or dossier.pk}.pdf"
    assert dossier.events.get(action=action).attachments.filter(pk=form.pk).exists()
    return data


def assert_header(
    text: str,
    number: str,
    suffix: str,
    code: str | None,
    *,
    managing: str = "UBND PHƯỜNG HOA LƯ",
    issuer: str = "BỘ PHẬN MỘT CỬA",
    place: str = "Hoa Lư",
):
    """The national motto beside the issuing unit under its managing body (same lines: two columns), the
    form's number, the place line naming the unit's locality, and the reference.

    A commune's one-stop unit is "UBND PHƯỜNG HOA LƯ / BỘ PHẬN MỘT CỬA" (domain.md §2.2), never the
    province above the ward.
    """
    lines = text.splitlines()
    assert any(managing in line and MOTTO[0] in line for line in lines), "managing body beside the motto"
    assert any(issuer in line and MOTTO[1] in line for line in lines), "issuing unit beside the motto"
    assert any(f"Số: {code or '……'}/{suffix}" in line and f"{place}, ngày" in line for line in lines)
    assert f"Mẫu số {number} – Thông tư 03/2025/TT-VPCP" in text


# --- the filters --------------------------------------------------------------------------------


def test_dates_and_labels_are_written_the_vietnamese_administrative_way():
    utc = dt.datetime(2026, 2, 12, 2, 30, tzinfo=dt.UTC)
    assert gio_phut_ngay(utc) == "09 giờ 30 phút, ngày 12 tháng 02 năm 2026"
    assert gio_phut_ngay(dt.datetime(2026, 3, 5, 16, 0, tzinfo=VN)) == "16 giờ 00 phút, ngày 05 tháng 3 năm 2026"
    assert gio_phut_ngay(None) == "… giờ … phút, ngày … tháng … năm …"
    assert ngay_thang_nam(dt.date(2026, 11, 1)) == "ngày 01 tháng 11 năm 2026"
    assert [timing_label(t) for t in ("early", "on_time", "late", "")] == ["Trước hạn", "Đúng hạn", "Quá hạn", ""]
    assert (so_ngay("3"), so_ngay("2.5"), so_ngay("10.0")) == ("03", "2,5", "10")
    assert so_tien(1500000) == "1.500.000 đồng"


# --- Form 01 ------------------------------------------------------------------------------------


def test_form_01_is_issued_on_reception_with_every_field(world):
    dossier = builders.received(world)
    data = stored_form(dossier, "01", Action.RECEIVE)
    assert_paper(data, A5)
    text = pdf_text(data)
    body = flat(text)

    assert_header(text, "01", "TNHS", dossier.code)
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in body
    assert f"Mã hồ sơ: {dossier.code}" in body
    assert "Bộ phận Một cửa UBND phường Hoa Lư tiếp nhận hồ sơ của:" in body
    assert f"Ông (Bà)/Tổ chức: {APPLICANT}" in body
    assert "Số định danh cá nhân/tổ chức: 037090001234" in body
    assert f"Địa chỉ: {ADDRESS}" in body
    assert "Số điện thoại: 0912345678; Email: cong@example.vn" in body
    assert f"Nội dung yêu cầu giải quyết: {PROCEDURE}" in body
    # The documents table: STT | name | original/copy | quantity.
    assert re.search(r"^\s*1\s+Giấy đề nghị đăng ký hộ kinh doanh\s+Bản chính\s+01\s*$", text, re.M)
    assert "Số lượng hồ sơ: 01 (bộ)" in body
    assert "Thời gian giải quyết hồ sơ theo quy định là: 03 ngày làm việc" in body
    assert f"Thời gian nhận hồ sơ: {when(T0)}" in body
    assert dossier.current_due_at.astimezone(VN) == dt.datetime(2026, 3, 13, 17, 0, tzinfo=VN)
    assert f"Thời gian trả kết quả giải quyết hồ sơ: {when(dossier.current_due_at)}" in body
    assert "Đăng ký nhận kết quả tại: Nhận kết quả điện tử trên Cổng" in body
    assert "Phí, lệ phí: Lệ phí đăng ký: 50.000 đồng" in body
    # "Quyển số" is the book's number, not the year (Circular 01/2018 Art 10).
    assert "Vào Sổ theo dõi hồ sơ, Quyển số: 01, Số thứ tự: 01" in body
    # Submitted online: nobody came in to sign as the submitter; the receiving officer signs.
    assert "NGƯỜI TIẾP NHẬN HỒ SƠ" in text and "NGƯỜI NỘP HỒ SƠ" not in text
    assert re.search(r"NGƯỜI TIẾP NHẬN HỒ SƠ(.|\n)*Cán bộ Một Cửa", text)
    assert "(Chữ ký số của người tiếp nhận nếu là biểu mẫu điện tử)" in body
    # Names under the signatures: the applicant and the officer who received the dossier.
    assert re.search(r"NGƯỜI TIẾP NHẬN HỒ SƠ(.|\n)*Cán bộ Một Cửa", text)
    assert tracking_url(dossier.code) in body


def test_form_01_shows_the_postal_address_and_the_qr_code_of_the_tracking_page(world, tmp_path):
    dossier = builders.draft(world)
    services.dossier_set_delivery(
        dossier=dossier, user=world.citizen, channel_out="postal", postal_address="Thôn Đông, xã Gia Viễn, Ninh Bình"
    )
    dossier = services.dossier_receive(
        dossier=services.dossier_submit(dossier=dossier, user=world.citizen), officer=world.reception
    )
    builders.issue_pending_forms(dossier)  # the worker's task, run after the reception commits
    data = stored_form(dossier, "01", Action.RECEIVE)
    body = flat(pdf_text(data))
    assert (
        "Đăng ký nhận kết quả tại: Nhận qua dịch vụ bưu chính công ích, địa chỉ: Thôn Đông, xã Gia Viễn, Ninh Bình"
        in body
    )
    # The QR code encodes the public tracking page of this dossier.
    assert form_context(dossier)["qr"] == qr_data_uri(tracking_url(dossier.code))
    decoder = shutil.which("zbarimg")
    if decoder is None or shutil.which("pdftoppm") is None:
        pytest.skip("no QR decoder (zbarimg) installed: the printed tracking address was checked instead")
    pdf = tmp_path / "mau-01.pdf"
    pdf.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "300", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(tmp_path / "mau-01")],
        capture_output=True,
        check=True,
    )
    decoded = subprocess.run([decoder, "--raw", "-q", str(tmp_path / "mau-01.png")], capture_output=True, check=False)
    assert tracking_url(dossier.code) in decoded.stdout.decode().splitlines()


# --- Form 02 ------------------------------------------------------------------------------------


def test_form_02_is_issued_on_a_supplement_request(world):
    items = ["Bản sao Giấy chứng nhận quyền sử dụng đất", "Tờ khai có chữ ký của chủ hộ"]
    reason = "Thiếu giấy tờ chứng minh quyền sử dụng địa điểm kinh doanh"
    dossier = services.dossier_request_supplement(
        dossier=builders.in_processing(world), officer=world.specialist, items=items, reason=reason
    )
    data = stored_form(dossier, "02", Action.REQUEST_SUPPLEMENT)
    assert_paper(data, A5)
    text = pdf_text(data)
    body = flat(text)
    assert_header(text, "02", "PBS", dossier.code)
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in body
    assert f"Mã hồ sơ: {dossier.code}" in body
    assert f"Hồ sơ của: {APPLICANT}" in body
    assert f"Nội dung yêu cầu giải quyết: {PROCEDURE}" in body
    assert f"Địa chỉ: {ADDRESS}" in body
    assert "Yêu cầu hoàn thiện hồ sơ gồm những nội dung sau:" in body
    for number, item in enumerate(items, start=1):
        assert re.search(rf"^\s*{number}\s+{re.escape(item)}\s*$", text, re.M)
    assert f"Lý do: {reason}" in body
    assert "Trong quá trình hoàn thiện hồ sơ nếu có vướng mắc, Ông/Bà liên hệ với" in body
    assert "đường dây nóng 1900 1234 để được hướng dẫn./." in body
    assert "NGƯỜI HƯỚNG DẪN" in body
    assert tracking_url(dossier.code) in body


def test_form_02_at_reception_has_no_code_yet(world):
    dossier = services.dossier_request_supplement(
        dossier=builders.submitted(world), officer=world.reception, items=["Tờ khai bản chính"], reason="Tờ khai mờ"
    )
    assert dossier.code is None
    data = stored_form(dossier, "02", Action.REQUEST_SUPPLEMENT)
    assert_paper(data, A5)
    text = pdf_text(data)
    body = flat(text)
    assert_header(text, "02", "PBS", None)
    assert f"Hồ sơ của: {APPLICANT}" in body
    assert "Lý do: Tờ khai mờ" in body
    assert "Mã hồ sơ:" not in body
    assert "/tra-cuu/" not in body


# --- Form 03 ------------------------------------------------------------------------------------


def test_form_03_is_issued_on_a_refusal_at_reception(world):
    reason = "Hồ sơ không thuộc thẩm quyền giải quyết của UBND phường"
    dossier = services.dossier_refuse(dossier=builders.submitted(world), officer=world.reception, reason=reason)
    data = stored_form(dossier, "03", Action.REFUSE)
    assert_paper(data, A5)
    text = pdf_text(data)
    body = flat(text)
    assert_header(text, "03", "PTC", None)
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in body
    assert f"Ông (Bà)/Tổ chức: {APPLICANT}" in body
    assert "Số định danh cá nhân/tổ chức: 037090001234" in body
    assert "Mã hồ sơ (nếu có): chưa cấp" in body
    assert f"Nội dung yêu cầu giải quyết: {PROCEDURE}" in body
    assert (
        "Qua xem xét, Bộ phận Một cửa UBND phường Hoa Lư thông báo không tiếp nhận, giải quyết hồ sơ này "
        f"với lý do cụ thể như sau: {reason}" in body
    )
    assert "Xin thông báo cho Ông/Bà được biết và thực hiện./." in body
    # An online dossier: no submitter block, only the receiving officer's.
    assert "NGƯỜI TIẾP NHẬN HỒ SƠ" in text and "NGƯỜI NỘP HỒ SƠ" not in text


def test_form_03_after_appraisal_names_the_resolving_agency_and_the_code(world):
    dossier = services.dossier_refuse(
        dossier=builders.in_processing(world), officer=world.leader, reason="Địa điểm kinh doanh nằm trong quy hoạch"
    )
    assert dossier.state == DossierState.REFUSED_AFTER_APPRAISAL
    body = flat(pdf_text(stored_form(dossier, "03", Action.REFUSE)))
    assert f"Mã hồ sơ (nếu có): {dossier.code}" in body
    assert (
        "Qua xem xét, UBND phường Hoa Lư thông báo không tiếp nhận, giải quyết hồ sơ này với lý do cụ thể như sau: "
        "Địa điểm kinh doanh nằm trong quy hoạch" in body
    )


# --- Form 04 ------------------------------------------------------------------------------------


def test_form_04_is_issued_on_an_apology_with_the_old_and_the_new_date(world):
    dossier = builders.received(world)
    previous = dossier.current_due_at
    new_due = previous + dt.timedelta(days=7)  # same weekday, a working day: Friday 20/3/2026
    reason = "Cần xác minh thực địa địa điểm kinh doanh"
    dossier = services.dossier_apologise(dossier=dossier, officer=world.leader, new_due_at=new_due, reason=reason)
    dossier.refresh_from_db()
    assert dossier.current_due_at == new_due and dossier.original_due_at == previous
    data = stored_form(dossier, "04", Action.APOLOGISE)
    assert_paper(data, A5)
    text = pdf_text(data)
    body = flat(text)
    assert_header(text, "04", "PXL", dossier.code, managing="TỈNH NINH BÌNH", issuer="UBND PHƯỜNG HOA LƯ")
    assert "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT" in body
    assert f"Kính gửi: Ông/Bà {APPLICANT}" in body
    assert (
        f"Ngày 10 tháng 3 năm 2026, UBND phường Hoa Lư tiếp nhận giải quyết hồ sơ {PROCEDURE} của Ông/Bà "
        f"{APPLICANT}; số định danh: 037090001234; mã số hồ sơ: {dossier.code}." in body
    )
    assert f"Thời gian hẹn trả kết quả giải quyết hồ sơ: {when(previous)}." in body
    assert "Tuy nhiên đến nay, UBND phường Hoa Lư chưa trả kết quả giải quyết hồ sơ" in body
    assert "đúng thời hạn quy định ghi trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả." in body
    assert f"Lý do: {reason}" in body
    assert "thành thật xin lỗi Ông/Bà" in body
    assert f"sẽ trả kết quả giải quyết hồ sơ cho Ông/Bà vào lúc {when(new_due)}." in body
    assert when(new_due) == "17 giờ 00 phút, ngày 20 tháng 3 năm 2026"
    assert "THỦ TRƯỞNG CƠ QUAN, ĐƠN VỊ" in body


# --- Form 05 ------------------------------------------------------------------------------------


def test_form_05_is_issued_when_processing_stops(world, clock):
    dossier = builders.received(world)
    clock.shift(dt.timedelta(days=1, hours=2))
    reason = "Người nộp đề nghị dừng để bổ sung giấy tờ sau"
    dossier = services.dossier_stop(dossier=dossier, officer=world.reception, reason=reason)
    data = stored_form(dossier, "05", Action.STOP)
    assert_paper(data, A5)
    text = pdf_text(data)
    body = flat(text)
    assert_header(text, "05", "TBD", dossier.code)
    assert "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ" in body
    assert f"Mã hồ sơ: {dossier.code}" in body
    assert f"Người nộp hồ sơ: {APPLICANT}; số định danh: 037090001234" in body
    assert f"Thủ tục hành chính: {PROCEDURE}" in body
    assert f"Thời gian tiếp nhận hồ sơ: {when(T0)}" in body
    assert f"Thời gian đề nghị dừng giải quyết: {when(dossier.closed_at)}" in body
    assert when(dossier.closed_at) == "11 giờ 30 phút, ngày 11 tháng 3 năm 2026"
    assert f"Lý do dừng giải quyết: {reason}" in body
    assert "BỘ PHẬN MỘT CỬA" in body


# --- Form 06 ------------------------------------------------------------------------------------


def test_form_06_renders_the_audit_trail_with_early_on_time_and_late_steps(world, clock):
    dossier = builders.received(world)  # reception: done the day it is due, "Đúng hạn"
    clock.shift(dt.timedelta(hours=1))
    dossier = services.dossier_assign(dossier=dossier, actor=world.leader, assignee=world.specialist)
    clock.shift(dt.timedelta(days=4))  # Saturday 14/3: appraisal was due on Thursday 12/3, "Quá hạn"
    dossier = services.dossier_submit_for_approval(
        dossier=dossier, officer=world.specialist, result_upload=builders.pdf_upload("ket-qua.pdf")
    )
    clock.shift(dt.timedelta(hours=2))  # approval due on Monday 16/3, signed on Saturday: "Trước hạn"
    dossier = services.dossier_approve(dossier=dossier, officer=world.leader)
    steps = dossier_timeline(dossier)
    assert [s.timing for s in steps] == ["on_time", "late", "early"]
    assert dossier.timing == "late"

    data = render_dossier_form(dossier, "06")
    pages = assert_paper(data, A5, max_pages=3)
    text = pdf_text(data)
    body = flat(text)
    assert_header(text, "06", "PKS", dossier.code)
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in body
    assert f"Mã số hồ sơ: {dossier.code}" in body
    assert f"Kèm theo hồ sơ của: {APPLICANT}" in body
    assert "Cơ quan (bộ phận) giải quyết hồ sơ: UBND phường Hoa Lư" in body
    assert "Cơ quan phối hợp giải quyết hồ sơ: Không" in body
    assert f"Ngày nhận: {when(T0)}" in body
    assert f"Hẹn trả kết quả vào {when(dossier.current_due_at)}" in body
    assert re.search(r"Tên đơn vị\s+Thời gian giao nhận hồ sơ", text)
    for step in steps:
        assert step.name in body
        assert f"{step.started_at.astimezone(VN):%H} giờ {step.started_at.astimezone(VN):%M} phút, ngày " in body
        assert f"{step.started_at.astimezone(VN):%d/%m/%Y}" in body
    assert "1. Giao: Người nộp hồ sơ" in body
    assert "Người nhận: Chuyên Viên" in body and "Người giao: Chuyên Viên" in body
    # One label per row, in order: the three steps, then the result handed back to the one-stop unit.
    # The dossier's timing of record first, then one label per row in order: the three steps, then the
    # result handed back to the one-stop unit.
    assert "Kết quả giải quyết so với ngày hẹn trả: Quá hạn" in body
    assert re.findall(r"Trước hạn|Đúng hạn|Quá hạn", text) == ["Quá hạn", "Đúng hạn", "Quá hạn", "Trước hạn", "Quá hạn"]
    assert (
        "Việc lưu vết được thực hiện tự động theo chức năng của Hệ thống thông tin giải quyết TTHC "
        "và thể hiện trên mẫu phiếu điện tử." in body
    )
    assert f"Trang {pages}/{pages}" in body


# --- Form 07 ------------------------------------------------------------------------------------


def test_form_07_register_lists_the_period_on_a4_landscape_and_repeats_its_header(world):
    waiting = builders.received(world)
    returned = builders.returned(world)
    registered = Dossier.objects.filter(receiving_agency=world.agency).order_by("received_at", "id")
    data = render_register(
        agency=world.agency, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), dossiers=registered
    )
    assert_paper(data, A4_LANDSCAPE)
    text = pdf_text(data)
    body = flat(text)
    assert_header(text, "07", "STD", None)
    assert "SỔ THEO DÕI HỒ SƠ" in body
    assert "Từ ngày 01 tháng 3 năm 2026 đến ngày 31 tháng 3 năm 2026" in body
    for heading in (
        "STT",
        "Mã hồ sơ",
        "Tên TTHC",
        "Tên tổ chức, cá",
        "Địa chỉ, số điện thoại",
        "Cơ quan chủ trì",
        "Nhận và trả kết quả",
        "Nhận hồ sơ",
        "Hẹn trả kết",
        "Trả kết",
        "Phương",
        "Ký nhận",
    ):
        assert heading in text
    # The first line of each row (cells wrap): code, name, agency, reception time, how the result is received.
    for dossier, channel in ((waiting, "Nhận kết"), (returned, "Nhận trực")):
        row = next(line for line in text.splitlines() if dossier.code in line)
        assert APPLICANT in row and "UBND phường Hoa" in row
        assert "09 giờ 30" in row and row.rstrip().endswith(channel)
    # Received twice and returned once on 10/3; both due on 13/3 ("… giờ … phút, ngày dd/mm/yyyy", wrapped).
    assert body.count("10/03/2026") == 3 and body.count("13/03/2026") == 2

    # A long register runs over several pages; every page repeats the column headings.
    rows = [waiting, returned] * 10
    data = render_register(agency=world.agency, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), dossiers=rows)
    pages = assert_paper(data, A4_LANDSCAPE, max_pages=20)
    assert pages > 1
    page_texts = [page for page in pdf_text(data).split("\f") if page.strip()]
    assert len(page_texts) == pages
    for number, page in enumerate(page_texts, start=1):
        assert "Mã hồ sơ" in page and "Hẹn trả kết" in page and "Ký nhận" in page and "(11)" in page
        assert f"Trang {number}/{pages}" in page
    assert sum(page.count(waiting.code) for page in page_texts) == 10
    # The STT column is the register number given at reception, the one printed on the Form 01 slip.
    assert re.search(rf"^\s*{returned.register_number:02d}\s+" + re.escape(returned.code), page_texts[-1], re.M)
