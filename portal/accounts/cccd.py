"""The 12-digit personal identification number printed on the CCCD / thẻ căn cước.

Structure (Circular 07/2016/TT-BCA, later 59/2021/TT-BCA): PPP G YY RRRRRR, where PPP is the
province of birth registration, G encodes century and gender, YY the last two digits of the birth
year and RRRRRR a random sequence. There is no check digit: only the national population database
can confirm that a number was issued, so this validates the structure and cross-checks it against
what the person declares.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Province codes of the 63-province era; existing numbers did not change with the 2025 merger.
PROVINCE_CODES = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
    "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
    "017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
    "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
    "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
    "046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
    "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng", "070": "Bình Phước",
    "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa - Vũng Tàu",
    "079": "TP Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh",
    "086": "Vĩnh Long", "087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ",
    "093": "Hậu Giang", "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}  # fmt: skip

_CCCD_RE = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class CccdInfo:
    number: str
    province_code: str
    province_name: str | None  # None when the birth was registered abroad
    birth_year: int
    female: bool


def parse_cccd(value: str, *, today: datetime.date | None = None) -> CccdInfo:
    """Return what the number encodes, or raise ValidationError with a message for the citizen."""
    number = (value or "").strip()
    if not _CCCD_RE.match(number):
        raise ValidationError(_("Số định danh cá nhân phải gồm đúng 12 chữ số."), code="cccd_format")
    province = number[:3]
    # A leading zero means a Vietnamese province; a non-zero first digit is a country code.
    if province[0] == "0" and province not in PROVINCE_CODES:
        raise ValidationError(
            _("Ba chữ số đầu (%(code)s) không phải mã tỉnh nơi đăng ký khai sinh."),
            code="cccd_province",
            params={"code": province},
        )
    century_gender = int(number[3])
    birth_year = (century_gender // 2 + 19) * 100 + int(number[4:6])
    today = today or timezone.localdate()
    if birth_year > today.year:
        raise ValidationError(
            _("Số định danh cá nhân cho năm sinh %(year)s, là năm trong tương lai."),
            code="cccd_future",
            params={"year": birth_year},
        )
    return CccdInfo(
        number=number,
        province_code=province,
        province_name=PROVINCE_CODES.get(province),
        birth_year=birth_year,
        female=bool(century_gender % 2),
    )


def validate_cccd(value: str) -> None:
    parse_cccd(value)


def check_cccd_matches(value: str, *, birth_date: datetime.date | None, female: bool | None) -> None:
    """Cross-check the number against the declared birth year and gender."""
    info = parse_cccd(value)
    errors = []
    if birth_date is not None and birth_date.year != info.birth_year:
        errors.append(
            ValidationError(
                _("Năm sinh %(declared)s không khớp với số định danh cá nhân (năm %(encoded)s)."),
                code="cccd_birth_year",
                params={"declared": birth_date.year, "encoded": info.birth_year},
            )
        )
    if female is not None and female != info.female:
        errors.append(ValidationError(_("Giới tính không khớp với số định danh cá nhân."), code="cccd_gender"))
    if errors:
        raise ValidationError(errors)
