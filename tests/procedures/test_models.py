"""Invariants of agencies and procedures, as full_clean (forms, admin, import) and the database enforce them."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from procedures.constants import AgencyKind, FeeKind, FieldKind
from procedures.models import Agency, FeeItem, FormField, Procedure, RequiredDocument
from procedures.text import normalize_search
from tests.factories import (
    AgencyFactory,
    FeeItemFactory,
    FieldFactory,
    FormFieldFactory,
    ProcedureFactory,
    RequiredDocumentFactory,
)

pytestmark = pytest.mark.django_db


def errors_of(obj, **kwargs) -> dict[str, list[str]]:
    """The messages full_clean raises, by field; fails the test when it raises none."""
    with pytest.raises(ValidationError) as excinfo:
        obj.full_clean(**kwargs)
    return excinfo.value.message_dict


# --- the agency tree ------------------------------------------------------------------------------


@pytest.fixture
def tree():
    """Province › department › commune › one-stop unit, and a second province."""
    province = AgencyFactory(name="UBND tỉnh Thanh Hóa", kind=AgencyKind.PROVINCE, identifier="H56")
    department = AgencyFactory(
        name="Sở Tư pháp", kind=AgencyKind.DEPARTMENT, identifier="000.00.12.H56", parent=province
    )
    commune = AgencyFactory(
        name="UBND xã Quảng Phú", kind=AgencyKind.COMMUNE, identifier="H56.12.01", parent=department
    )
    unit = AgencyFactory(name="Bộ phận một cửa", kind=AgencyKind.OTHER, identifier="H56.12.01.01", parent=commune)
    other = AgencyFactory(name="UBND tỉnh Thái Nguyên", kind=AgencyKind.PROVINCE, identifier="H55")
    return province, department, commune, unit, other


def test_paths_and_depths_follow_the_tree(tree):
    province, department, commune, unit, _other = tree
    assert province.path == f"/{province.pk}/"
    assert province.depth == 0
    assert unit.path == f"/{province.pk}/{department.pk}/{commune.pk}/{unit.pk}/"
    assert unit.depth == 3
    # What was written is what is read back.
    unit.refresh_from_db()
    assert (unit.path, unit.depth) == (f"/{province.pk}/{department.pk}/{commune.pk}/{unit.pk}/", 3)


def test_subtree_holds_the_agency_and_every_unit_below_it(tree):
    province, department, commune, unit, other = tree
    assert set(province.subtree()) == {province, department, commune, unit}
    assert set(department.subtree()) == {department, commune, unit}
    assert set(unit.subtree()) == {unit}
    assert set(other.subtree()) == {other}


def test_subtree_is_not_fooled_by_ids_sharing_leading_digits():
    short = Agency.objects.create(pk=90001, name="Cơ quan A", identifier="H01.1")
    longer = Agency.objects.create(pk=900012, name="Cơ quan B", identifier="H01.2")
    assert list(short.subtree()) == [short]
    assert list(longer.subtree()) == [longer]


def test_ancestors_run_from_the_root_down(tree):
    province, department, commune, unit, _other = tree
    assert unit.ancestors() == [province, department, commune]
    assert province.ancestors() == []


def test_moving_a_subtree_updates_every_descendant(tree):
    province, department, commune, unit, other = tree
    department.parent = other
    department.save()

    commune.refresh_from_db()
    unit.refresh_from_db()
    assert commune.path == f"/{other.pk}/{department.pk}/{commune.pk}/"
    assert unit.path == f"/{other.pk}/{department.pk}/{commune.pk}/{unit.pk}/"
    assert unit.depth == 3
    assert set(other.subtree()) == {other, department, commune, unit}
    assert set(province.subtree()) == {province}
    assert unit.ancestors() == [other, department, commune]


def test_moving_a_subtree_to_the_top_reduces_the_depths(tree):
    _province, department, commune, unit, _other = tree
    commune.parent = None
    commune.save()
    unit.refresh_from_db()
    assert (commune.depth, unit.depth) == (0, 1)
    assert unit.path == f"/{commune.pk}/{unit.pk}/"
    assert set(department.subtree()) == {department}


def test_moving_a_subtree_deeper_increases_the_depths(tree):
    province, department, commune, unit, other = tree
    other.parent = unit
    other.save()
    extra = AgencyFactory(identifier="H55.242", parent=other)
    department.parent = None
    department.save()
    extra.refresh_from_db()
    assert extra.path == f"/{department.pk}/{commune.pk}/{unit.pk}/{other.pk}/{extra.pk}/"
    assert extra.depth == 4
    assert extra.ancestors() == [department, commune, unit, other]
    assert set(province.subtree()) == {province}


def test_an_agency_cannot_be_placed_under_its_own_subunit(tree):
    province, _department, _commune, unit, _other = tree
    province.parent = unit
    errors = errors_of(province)
    assert errors["parent"] == ["Cơ quan cấp trên không thể là chính nó hoặc đơn vị trực thuộc."]


def test_an_agency_cannot_be_its_own_parent(tree):
    _province, department, *_ = tree
    department.parent = department
    assert "parent" in errors_of(department)


def test_moving_an_agency_under_another_branch_is_allowed(tree):
    _province, department, _commune, _unit, other = tree
    department.parent = other
    department.full_clean()


@pytest.mark.parametrize(
    "identifier",
    ["000.00.12.H56", "H55.242", "000.00.04.G14", "000.00.00.H41", "H56", "H56." + "0" * 31],
)
def test_well_formed_agency_identifiers_are_accepted(identifier):
    Agency(name="Cơ quan", identifier=identifier).full_clean()


@pytest.mark.parametrize(
    "identifier",
    [
        "000.00.12.h56",  # lower case
        "h55.242",
        "H56." + "0" * 32,  # 36 characters
        "000.00.12.345",  # no level-1 code
        "000.00.12",
        "Z56.242",  # level-1 letters run from A to Y
        "H5.242",
        "000-00-12-H56",
        "H56 242",
    ],
)
def test_malformed_agency_identifiers_are_refused(identifier):
    errors = errors_of(Agency(name="Cơ quan", identifier=identifier))
    assert "identifier" in errors


def test_a_malformed_identifier_is_explained_in_vietnamese():
    errors = errors_of(Agency(name="Cơ quan", identifier="000.00.12.h56"))
    assert any("Mã định danh" in message for message in errors["identifier"])


@pytest.mark.parametrize(
    ("identifier", "code"), [("000.00.12.H56", "H56"), ("H55.242", "H55"), ("000.00.04.G14", "G14")]
)
def test_the_level_one_code_is_read_from_either_order(identifier, code):
    assert Agency(identifier=identifier).level1_code == code


# --- procedures -----------------------------------------------------------------------------------


@pytest.fixture
def procedure():
    return ProcedureFactory(national_code="1.001193", name="Thủ tục đăng ký khai sinh")


@pytest.mark.parametrize(
    "code", ["1.001193", "2.000986", "1.004222", "1.011442.000.00.00.H38", "2.000815.000.00.00.H55.02"]
)
def test_national_procedure_codes_are_accepted(procedure, code):
    procedure.national_code = code
    procedure.full_clean()


@pytest.mark.parametrize("code", ["1001193", "1.01193", "10.001193", "1.0011934", "1.001193.", "a.001193", "1,001193"])
def test_malformed_national_procedure_codes_are_refused(procedure, code):
    procedure.national_code = code
    errors = errors_of(procedure)
    assert any("1.001193" in message for message in errors["national_code"])


def test_a_national_code_is_unique(procedure):
    duplicate = ProcedureFactory.build(national_code="1.001193", field=procedure.field)
    assert "national_code" in errors_of(duplicate)


@pytest.mark.parametrize("days", [Decimal("0"), Decimal("-1"), Decimal("-0.5")])
def test_a_processing_time_of_zero_or_less_is_refused(procedure, days):
    procedure.processing_days = days
    errors = errors_of(procedure)
    assert "Thời hạn giải quyết phải lớn hơn 0 ngày làm việc." in errors["processing_days"]


def test_a_processing_time_that_is_not_whole_or_half_days_is_refused(procedure):
    procedure.processing_days = Decimal("1.3")
    errors = errors_of(procedure)
    assert errors["processing_days"] == ["Thời hạn giải quyết tính theo ngày hoặc nửa ngày."]


@pytest.mark.parametrize("days", [Decimal("0.5"), Decimal("2.5"), Decimal("15")])
def test_whole_and_half_days_are_accepted(procedure, days):
    procedure.processing_days = days
    procedure.full_clean()


@pytest.mark.parametrize("days", [Decimal("0"), Decimal("-2")])
def test_the_database_refuses_a_processing_time_of_zero_or_less(days):
    with pytest.raises(IntegrityError, match="procedure_processing_days_positive"), transaction.atomic():
        ProcedureFactory(processing_days=days)
    assert not Procedure.objects.exists()


def test_a_procedure_without_any_submission_channel_is_refused(procedure):
    procedure.channel_online = procedure.channel_counter = procedure.channel_postal = False
    errors = errors_of(procedure)
    assert "Thủ tục phải có ít nhất một cách thức nộp hồ sơ." in errors["__all__"]


def test_one_channel_is_enough(procedure):
    procedure.channel_online = procedure.channel_counter = False
    procedure.full_clean()
    assert procedure.channels == ["Bưu chính công ích"]


def test_the_database_refuses_a_procedure_without_any_channel():
    with pytest.raises(IntegrityError, match="procedure_has_a_channel"), transaction.atomic():
        ProcedureFactory(channel_online=False, channel_counter=False, channel_postal=False)


def test_the_search_text_has_no_diacritics_and_follows_edits(procedure):
    assert "dang ky khai sinh" in procedure.search_text
    assert "1.001193" in procedure.search_text
    procedure.name = "Thủ tục đăng ký lại khai sinh"
    procedure.save(update_fields=["name"])
    procedure.refresh_from_db()
    assert "dang ky lai khai sinh" in procedure.search_text


def test_search_needs_every_word_with_or_without_diacritics(procedure):
    ProcedureFactory(national_code="1.000656", name="Thủ tục đăng ký khai tử")
    assert list(Procedure.objects.search("dang ky khai sinh")) == [procedure]
    assert list(Procedure.objects.search("ĐĂNG KÝ KHAI SINH")) == [procedure]
    assert Procedure.objects.search("đăng ký").count() == 2
    assert not Procedure.objects.search("khai sinh kết hôn").exists()


# --- form fields ----------------------------------------------------------------------------------


def test_a_choice_field_needs_two_choices(procedure):
    field = FormField(procedure=procedure, code="gioi_tinh", label="Giới tính", kind=FieldKind.CHOICE, choices="Nam")
    errors = errors_of(field)
    assert errors["choices"] == ["Trường lựa chọn cần ít nhất hai lựa chọn, mỗi dòng một lựa chọn."]


def test_blank_lines_are_not_choices(procedure):
    field = FormField(
        procedure=procedure, code="gioi_tinh", label="Giới tính", kind=FieldKind.CHOICE, choices="Nam\n\n   \n"
    )
    assert "choices" in errors_of(field)


def test_a_choice_field_with_two_choices_is_accepted(procedure):
    field = FormField(
        procedure=procedure, code="gioi_tinh", label="Giới tính", kind=FieldKind.CHOICE, choices=" Nam \nNữ\n"
    )
    field.full_clean()
    assert field.choice_list == ["Nam", "Nữ"]


def test_a_minimum_above_the_maximum_is_refused(procedure):
    field = FormField(
        procedure=procedure, code="so_con", label="Số con", kind=FieldKind.NUMBER, min_value=10, max_value=1
    )
    assert errors_of(field)["max_value"] == ["Giá trị lớn nhất phải không nhỏ hơn giá trị nhỏ nhất."]


def test_an_equal_minimum_and_maximum_are_accepted(procedure):
    FormField(
        procedure=procedure, code="so_con", label="Số con", kind=FieldKind.NUMBER, min_value=1, max_value=1
    ).full_clean()


def test_an_invalid_pattern_is_refused(procedure):
    field = FormField(procedure=procedure, code="ma_so", label="Mã số", pattern="[0-9")
    assert errors_of(field)["pattern"] == ["Biểu thức kiểm tra không hợp lệ."]


def test_a_valid_pattern_is_accepted(procedure):
    FormField(procedure=procedure, code="ma_so", label="Mã số", pattern=r"^\d{12}$").full_clean()


def test_a_field_code_is_unique_within_a_procedure(procedure):
    FormFieldFactory(procedure=procedure, code="ho_ten_tre")
    duplicate = FormField(procedure=procedure, code="ho_ten_tre", label="Họ tên trẻ")
    assert "Mã trường đã dùng trong thủ tục này." in errors_of(duplicate)["__all__"]
    with pytest.raises(IntegrityError, match="formfield_code_unique_per_procedure"), transaction.atomic():
        duplicate.save()


def test_the_same_field_code_may_be_used_by_another_procedure(procedure):
    FormFieldFactory(procedure=procedure, code="ho_ten_tre")
    FormField(procedure=ProcedureFactory(), code="ho_ten_tre", label="Họ tên trẻ").full_clean()


def test_a_field_code_must_be_a_slug(procedure):
    assert "code" in errors_of(FormField(procedure=procedure, code="họ tên", label="Họ tên"))


# --- fees -----------------------------------------------------------------------------------------


def test_a_negative_fee_is_refused(procedure):
    fee = FeeItem(procedure=procedure, kind=FeeKind.CHARGE, name="Lệ phí", amount=-1000)
    assert errors_of(fee)["amount"] == ["Mức thu không được là số âm."]


def test_the_database_refuses_a_negative_fee(procedure):
    with pytest.raises(IntegrityError, match="feeitem_amount_not_negative"), transaction.atomic():
        FeeItemFactory(procedure=procedure, amount=-1)
    assert not procedure.fees.exists()


def test_a_free_procedure_has_a_zero_fee(procedure):
    FeeItem(procedure=procedure, name="Miễn lệ phí đăng ký đúng hạn", amount=0).full_clean()


def test_a_fee_condition_needs_both_the_field_and_the_value(procedure):
    fee = FeeItem(procedure=procedure, name="Lệ phí", amount=1000, condition_field="loai_cong_trinh")
    assert errors_of(fee)["__all__"] == ["Điều kiện áp dụng cần cả mã trường và giá trị."]


def test_an_unconditional_fee_always_applies():
    assert FeeItem(name="Lệ phí", amount=50000).applies_to({})


@pytest.mark.parametrize(
    ("answers", "applies"),
    [
        ({"loai_cong_trinh": "nha_o"}, True),
        ({"loai_cong_trinh": "  nha_o "}, True),
        ({"loai_cong_trinh": "nha_xuong"}, False),
        ({"loai_cong_trinh": ""}, False),
        ({}, False),
        ({"khac": "nha_o"}, False),
    ],
)
def test_a_conditional_fee_applies_only_to_the_matching_answer(answers, applies):
    fee = FeeItem(name="Lệ phí", amount=75000, condition_field="loai_cong_trinh", condition_value="nha_o")
    assert fee.applies_to(answers) is applies


def test_a_conditional_fee_compares_numbers_as_text():
    fee = FeeItem(name="Lệ phí", amount=75000, condition_field="so_tang", condition_value="2")
    assert fee.applies_to({"so_tang": 2})
    assert not fee.applies_to({"so_tang": 3})


# --- required documents ---------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "listed"), [("pdf,jpg,png", ["pdf", "jpg", "png"]), (" PDF , Jpg ", ["pdf", "jpg"])])
def test_supported_document_types_are_accepted(procedure, value, listed):
    document = RequiredDocumentFactory.build(procedure=procedure, allowed_types=value)
    document.full_clean()
    assert document.allowed_type_list == listed


def test_an_unsupported_document_type_is_refused_and_named(procedure):
    document = RequiredDocumentFactory.build(procedure=procedure, allowed_types="pdf,docx,exe")
    [message] = errors_of(document)["allowed_types"]
    assert "docx, exe" in message
    assert "Định dạng không hỗ trợ" in message


@pytest.mark.parametrize("value", ["", ",", " , "])
def test_a_document_must_accept_at_least_one_type(procedure, value):
    document = RequiredDocument(procedure=procedure, name="Giấy chứng sinh", allowed_types=value)
    assert "allowed_types" in errors_of(document)


def test_a_document_size_limit_of_zero_is_refused(procedure):
    document = RequiredDocument(procedure=procedure, name="Giấy chứng sinh", max_size_mb=0)
    assert errors_of(document)["max_size_mb"] == ["Dung lượng tối đa phải từ 1 MB."]


# --- search text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Đăng ký khai sinh", "dang ky khai sinh"),
        ("ĐĂNG KÝ THƯỜNG TRÚ", "dang ky thuong tru"),
        ("đường Điện Biên Phủ", "duong dien bien phu"),
        ("  Cấp   giấy phép\txây dựng\n", "cap giay phep xay dung"),
        ("Lệ phí trước bạ", "le phi truoc ba"),
        ("1.001193", "1.001193"),
        ("", ""),
        (None, ""),
    ],
)
def test_search_text_is_lower_case_without_diacritics(text, expected):
    assert normalize_search(text) == expected


def test_composed_and_decomposed_vietnamese_normalise_alike():
    import unicodedata

    text = "Đăng ký kết hôn"
    assert normalize_search(unicodedata.normalize("NFC", text)) == normalize_search(unicodedata.normalize("NFD", text))


def test_field_names_are_searchable():
    ProcedureFactory(name="Thủ tục A", field=FieldFactory(code="HT", name="Hộ tịch"))
    assert Procedure.objects.search("ho tich").count() == 1


def test_renaming_a_field_makes_its_procedures_findable_by_the_new_name():
    field = FieldFactory(code="CT", name="Cư trú")
    ProcedureFactory(name="Đăng ký thường trú", field=field)
    field.name = "Quản lý cư trú"
    field.save()
    assert Procedure.objects.search("quan ly cu tru").count() == 1
