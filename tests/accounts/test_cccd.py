import datetime

import pytest
from django.core.exceptions import ValidationError

from portal.accounts.cccd import check_cccd_matches, parse_cccd

TODAY = datetime.date(2026, 3, 2)


def error_codes(excinfo) -> set[str]:
    return {error.code for error in excinfo.value.error_list}


@pytest.mark.parametrize(
    ("number", "province", "year", "female"),
    [
        ("037090001234", "Ninh Bình", 1990, False),
        ("001195004321", "Hà Nội", 1995, True),
        ("079303006789", "TP Hồ Chí Minh", 2003, True),
        ("096200123456", "Cà Mau", 2000, False),
    ],
)
def test_valid_numbers_decode_province_birth_year_and_gender(number, province, year, female):
    info = parse_cccd(number, today=TODAY)
    assert (info.number, info.province_name, info.birth_year, info.female) == (number, province, year, female)


def test_surrounding_spaces_are_ignored():
    assert parse_cccd(" 037090001234 ", today=TODAY).number == "037090001234"


def test_non_zero_first_digit_is_a_country_of_birth_registration_abroad():
    info = parse_cccd("704090001234", today=TODAY)
    assert info.province_code == "704"
    assert info.province_name is None


@pytest.mark.parametrize("number", ["03709000123", "0370900012345", "", "037 09000123"])
def test_numbers_of_the_wrong_length_are_refused(number):
    with pytest.raises(ValidationError) as excinfo:
        parse_cccd(number, today=TODAY)
    assert error_codes(excinfo) == {"cccd_format"}
    assert "12 chữ số" in excinfo.value.messages[0]


@pytest.mark.parametrize("number", ["03709000123A", "O37090001234", "037-90001234"])
def test_numbers_with_letters_or_signs_are_refused(number):
    with pytest.raises(ValidationError) as excinfo:
        parse_cccd(number, today=TODAY)
    assert error_codes(excinfo) == {"cccd_format"}


def test_unknown_province_code_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        parse_cccd("003090001234", today=TODAY)
    assert error_codes(excinfo) == {"cccd_province"}
    assert "003" in excinfo.value.messages[0]


def test_a_birth_year_in_the_future_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        parse_cccd("037227001234", today=TODAY)  # 2 = 2000s male, 27 → 2027
    assert error_codes(excinfo) == {"cccd_future"}
    assert "2027" in excinfo.value.messages[0]


def test_the_current_year_is_not_in_the_future():
    assert parse_cccd("037226001234", today=TODAY).birth_year == 2026


@pytest.mark.parametrize(
    ("digit", "year", "female"),
    [
        ("0", 1985, False),  # 1900s male
        ("1", 1985, True),  # 1900s female
        ("2", 2085, False),  # 2000s male
        ("3", 2085, True),  # 2000s female
        ("4", 2185, False),  # 2100s male
        ("5", 2185, True),
        ("6", 2285, False),
        ("7", 2285, True),
        ("8", 2385, False),
        ("9", 2385, True),
    ],
)
def test_fourth_digit_encodes_century_and_gender(digit, year, female):
    info = parse_cccd(f"001{digit}85000001", today=datetime.date(2400, 1, 1))
    assert (info.birth_year, info.female) == (year, female)


def test_cross_check_accepts_matching_birth_year_and_gender():
    check_cccd_matches("079303006789", birth_date=datetime.date(2003, 2, 20), female=True)


def test_cross_check_refuses_another_birth_year():
    with pytest.raises(ValidationError) as excinfo:
        check_cccd_matches("037090001234", birth_date=datetime.date(1991, 5, 12), female=False)
    assert error_codes(excinfo) == {"cccd_birth_year"}
    assert "1991" in excinfo.value.messages[0] and "1990" in excinfo.value.messages[0]


def test_cross_check_refuses_another_gender():
    with pytest.raises(ValidationError) as excinfo:
        check_cccd_matches("037090001234", birth_date=datetime.date(1990, 5, 12), female=True)
    assert error_codes(excinfo) == {"cccd_gender"}


def test_cross_check_reports_both_mismatches_at_once():
    with pytest.raises(ValidationError) as excinfo:
        check_cccd_matches("037090001234", birth_date=datetime.date(2000, 1, 1), female=True)
    assert error_codes(excinfo) == {"cccd_birth_year", "cccd_gender"}
