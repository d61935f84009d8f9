"""Filters for the official forms: dates and times written the way Vietnamese administrative documents write them.

Dates follow Decree 30/2020/NĐ-CP (Appendix I, thể thức văn bản): a day below 10 and the months
1 and 2 take a leading zero ("ngày 05 tháng 02 năm 2026", "ngày 12 tháng 3 năm 2026"). Times are
always shown in Asia/Ho_Chi_Minh, whatever the server's zone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django import template
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from procedures.calendar import Timing

register = template.Library()

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
BLANK_TIME = "… giờ … phút, ngày … tháng … năm …"
BLANK_DATE = "ngày … tháng … năm …"


def _local(value):
    """A datetime in Vietnam's time zone; a date as it is; anything else None."""
    if isinstance(value, dt.datetime):
        return value.astimezone(VIETNAM) if timezone.is_aware(value) else value
    if isinstance(value, dt.date):
        return value
    return None


def _day(value: dt.date) -> str:
    return f"{value.day:02d}"


def _month(value: dt.date) -> str:
    return f"{value.month:02d}" if value.month < 3 else str(value.month)


@register.filter
def ngay_thang_nam(value, blank: str = BLANK_DATE) -> str:
    """ "ngày 12 tháng 02 năm 2026" (a date, or a datetime in Vietnam's time zone)."""
    local = _local(value)
    if local is None:
        return blank
    return f"ngày {_day(local)} tháng {_month(local)} năm {local.year}"


@register.filter
def gio_phut_ngay(value, blank: str = BLANK_TIME) -> str:
    """ "09 giờ 30 phút, ngày 12 tháng 02 năm 2026" in Asia/Ho_Chi_Minh (Form 01's appointment)."""
    local = _local(value)
    if not isinstance(local, dt.datetime):
        return blank
    return f"{local.hour:02d} giờ {local.minute:02d} phút, {ngay_thang_nam(local)}"


@register.filter
def gio_phut_ngay_so(value, blank: str = "…giờ…phút, ngày…/…/…") -> str:
    """ "09 giờ 30 phút, ngày 12/02/2026": the short form of the control slip and the register."""
    local = _local(value)
    if not isinstance(local, dt.datetime):
        return blank
    return f"{local.hour:02d} giờ {local.minute:02d} phút, ngày {local:%d/%m/%Y}"


@register.filter
def ngay_so(value, blank: str = "…/…/…") -> str:
    """ "12/02/2026"."""
    local = _local(value)
    return f"{local:%d/%m/%Y}" if local is not None else blank


@register.filter
def timing_label(value) -> str:
    """early / on_time / late → Trước hạn / Đúng hạn / Quá hạn (empty for anything else)."""
    return Timing.LABELS.get(str(value or ""), "")


@register.filter
def so_ngay(value) -> str:
    """A number of working days as forms write it: 3 → "03", 2.5 → "2,5"."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value or "…")
    if number == number.to_integral_value():
        return f"{int(number):02d}"
    return format(number.normalize(), "f").replace(".", ",")


@register.filter
def so_tien(value) -> str:
    """An amount in đồng with dots between thousands: 1500000 → "1.500.000 đồng"."""
    try:
        amount = int(value)
    except (TypeError, ValueError):
        return ""
    return f"{amount:,}".replace(",", ".") + " đồng"


@register.filter
def dia_danh(value) -> str:
    """The place name of the date line: "Tỉnh Ninh Bình" → "Ninh Bình"."""
    text = str(value or "").strip()
    for prefix in ("Thành phố ", "Tỉnh ", "TP. ", "TP "):
        if text.lower().startswith(prefix.lower()):
            return text[len(prefix) :]
    return text


@register.filter
def gio_ngay_so(value, blank: str = "") -> str:
    """ "09:30 12/02/2026": the compact form for notes."""
    local = _local(value)
    if not isinstance(local, dt.datetime):
        return blank
    return f"{local:%H:%M} {local:%d/%m/%Y}"


@register.filter
def ngat_ma(value) -> str:
    """A dossier code that may wrap after its hyphens in a narrow column (Unicode forbids a break before a digit)."""
    return mark_safe(conditional_escape(str(value or "")).replace("-", "-<wbr>"))  # noqa: S308 - escaped just before
