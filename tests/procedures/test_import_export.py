"""A province's catalogue moves between installations as one JSON file: all or nothing, versioned."""

import copy
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from procedures.constants import AgencyKind, FieldKind, StepRole
from procedures.models import (
    Agency,
    FeeItem,
    Field,
    FormField,
    Procedure,
    ProcedureVersion,
    ProcessingStep,
    RequiredDocument,
)
from procedures.services import (
    ImportError_,
    procedure_publish_version,
    procedures_export,
    procedures_import,
)
from tests.factories import (
    AgencyFactory,
    FeeItemFactory,
    FieldFactory,
    FormFieldFactory,
    ProcedureFactory,
    ProcessingStepFactory,
    RequiredDocumentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MODELS = [Agency, Field, Procedure, RequiredDocument, FormField, FeeItem, ProcessingStep, ProcedureVersion]


def _document(order, name, **extra):
    return {
        "order": order,
        "name": name,
        "is_mandatory": True,
        "original_count": 1,
        "copy_count": 0,
        "allowed_types": "pdf,jpg,png",
        "max_size_mb": 10,
        "note": "",
        **extra,
    }


def _form_field(order, code, label, **extra):
    return {
        "order": order,
        "code": code,
        "label": label,
        "kind": FieldKind.TEXT,
        "section": "",
        "required": True,
        "help_text": "",
        "choices": "",
        "min_value": None,
        "max_value": None,
        "max_length": None,
        "pattern": "",
        "pattern_message": "",
        **extra,
    }


def _fee(name, amount, **extra):
    return {
        "kind": "le_phi",
        "name": name,
        "amount": amount,
        "amount_counter": None,
        "amount_online": None,
        "amount_postal": None,
        "unit": "dossier",
        "quantity_field": "",
        "quantity_from": 1,
        "quantity_to": None,
        "max_amount": None,
        "condition_field": "",
        "condition_value": "",
        "effective_from": None,
        "effective_to": None,
        "legal_basis": "",
        "refundable": False,
        "note": "",
        **extra,
    }


def _procedure(code, name, **extra):
    return {
        "national_code": code,
        "name": name,
        "level": "toan_trinh",
        "applicant_type": "individual",
        "processing_days": "3",
        "cutoff_time": "16:00",
        "legal_basis": "",
        "result_type": "Giấy chứng nhận",
        "description": "",
        "conditions": "",
        "channel_online": True,
        "channel_counter": True,
        "channel_postal": True,
        "fee_before_processing": False,
        "payment_timing": "",
        "centralised_system_code": "",
        "is_published": True,
        "field": "HT",
        "agencies": ["000.00.12.H56"],
        "documents": [],
        "form_fields": [],
        "fees": [],
        "steps": [],
        **extra,
    }


def catalogue() -> dict:
    """A hand-written export file, every value in the form the format writes it."""
    building_fee = _fee("Lệ phí cấp phép – đô thị", 75000)
    building_fee.update(condition_field="khu_vuc", condition_value="Đô thị", note="Nghị quyết HĐND tỉnh")
    return {
        "format": "cong-dich-vu-cong/procedures",
        "version": 1,
        "fields": [{"code": "HT", "name": "Hộ tịch"}, {"code": "XD", "name": "Xây dựng"}],
        "procedures": [
            _procedure(
                "1.000656",
                "Thủ tục đăng ký khai tử",
                processing_days="1",
                is_published=False,
            ),
            _procedure(
                "1.001193",
                "Thủ tục đăng ký khai sinh",
                processing_days="0.5",
                cutoff_time="15:00",
                legal_basis="Luật Hộ tịch 2014, Điều 16",
                result_type="Giấy khai sinh",
                description="Nộp tờ khai và giấy chứng sinh.",
                channel_postal=False,
                documents=[
                    _document(1, "Tờ khai đăng ký khai sinh"),
                    _document(2, "Giấy chứng sinh", allowed_types="pdf", note="Bản chính"),
                ],
                form_fields=[
                    _form_field(1, "ho_ten_tre", "Họ, chữ đệm, tên của trẻ", section="Thông tin trẻ", max_length=100),
                    _form_field(2, "gioi_tinh", "Giới tính", kind=FieldKind.CHOICE, choices="Nam\nNữ"),
                ],
                fees=[_fee("Lệ phí đăng ký khai sinh đúng hạn", 0)],
                steps=[
                    {
                        "order": 1,
                        "name": "Tiếp nhận và trả kết quả",
                        "role": "reception",
                        "duration_days": "0.5",
                        "agency": None,
                    }
                ],
            ),
            _procedure(
                "2.000815.000.00.00.H55",
                "Cấp giấy phép xây dựng nhà ở riêng lẻ",
                field="XD",
                level="mot_phan",
                applicant_type="both",
                processing_days="20",
                agencies=["000.00.12.H56", "H55.242"],
                fee_before_processing=True,
                documents=[_document(1, "Bản vẽ thiết kế", copy_count=2, max_size_mb=20)],
                form_fields=[
                    _form_field(1, "so_tang", "Số tầng", kind=FieldKind.NUMBER, min_value="1", max_value="10"),
                    _form_field(2, "khu_vuc", "Khu vực", kind=FieldKind.CHOICE, choices="Đô thị\nNông thôn"),
                    _form_field(
                        3, "cccd", "Số định danh", kind=FieldKind.CCCD, pattern=r"^\d{12}$", pattern_message="12 chữ số"
                    ),
                ],
                fees=[building_fee, {**_fee("Phí thẩm định", 50000), "kind": "phi"}],
                steps=[
                    {"order": 1, "name": "Tiếp nhận", "role": "reception", "duration_days": "0.5", "agency": "H55.242"},
                    {"order": 2, "name": "Thẩm định", "role": "specialist", "duration_days": "10", "agency": None},
                    {
                        "order": 3,
                        "name": "Phê duyệt",
                        "role": "leader",
                        "duration_days": "2.5",
                        "agency": "000.00.12.H56",
                    },
                ],
            ),
        ],
    }


@pytest.fixture
def agencies():
    province = AgencyFactory(identifier="H56", kind=AgencyKind.PROVINCE, name="UBND tỉnh Thanh Hóa")
    AgencyFactory(identifier="000.00.12.H56", parent=province, name="UBND xã Quảng Phú")
    AgencyFactory(identifier="H55.242", name="UBND xã Tân Cương")


def as_file(data) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def state() -> tuple:
    """Everything an import could change."""
    return (
        counts(),
        procedures_export(),
        sorted(Field.objects.values_list("code", "name")),
        sorted(ProcedureVersion.objects.values_list("procedure__national_code", "number", "snapshot")),
    )


# --- export and round trip ------------------------------------------------------------------------


def assert_same_catalogue(exported: dict, expected: dict) -> None:
    """Equal files, compared procedure by procedure so that a failure names the difference."""
    assert [p["national_code"] for p in exported["procedures"]] == [p["national_code"] for p in expected["procedures"]]
    for exported_procedure, expected_procedure in zip(exported["procedures"], expected["procedures"], strict=True):
        assert exported_procedure == expected_procedure
    assert exported == expected


def test_a_hand_written_catalogue_is_exported_exactly_as_it_was_imported(agencies):
    data = catalogue()
    procedures_import(as_file(data))
    assert_same_catalogue(procedures_export(), data)


def test_numbers_are_written_as_plain_decimals(agencies):
    procedures_import(as_file(catalogue()))
    exported = json.dumps(procedures_export())
    building = Procedure.objects.get(national_code="2.000815.000.00.00.H55")
    assert building.processing_days == 20
    assert '"processing_days": "20"' in exported
    assert '"max_value": "10"' in exported
    assert "E+" not in exported


def test_an_export_imported_into_an_empty_database_recreates_the_same_catalogue():
    """Content created by hand in the admin (factories), exported, wiped and imported again."""
    commune = AgencyFactory(identifier="000.00.12.H56")
    ward = AgencyFactory(identifier="H55.242")
    birth = ProcedureFactory(
        national_code="1.001193",
        name="Thủ tục đăng ký khai sinh",
        field=FieldFactory(code="HT", name="Hộ tịch"),
        processing_days=Decimal("2.5"),
        cutoff_time="15:30",
        legal_basis="Luật Hộ tịch 2014",
        agencies=[commune, ward],
    )
    RequiredDocumentFactory(procedure=birth, name="Giấy chứng sinh", order=2)
    RequiredDocumentFactory(procedure=birth, name="Tờ khai", order=1, copy_count=1, allowed_types="pdf")
    FormFieldFactory(procedure=birth, code="gioi_tinh", kind=FieldKind.CHOICE, choices="Nam\nNữ", label="Giới tính")
    FormFieldFactory(procedure=birth, code="so_con", kind=FieldKind.NUMBER, min_value=Decimal("1.5"), max_value=30)
    FeeItemFactory(procedure=birth, amount=8000, condition_field="gioi_tinh", condition_value="Nam")
    ProcessingStepFactory(procedure=birth, role=StepRole.RECEPTION, duration_days=Decimal("0.5"), agency=ward)
    ProcessingStepFactory(procedure=birth, role=StepRole.LEADER, duration_days=Decimal("2"))
    ProcedureFactory(national_code="1.004222", name="Đăng ký thường trú", processing_days=7, agencies=[commune])
    procedure_publish_version(procedure=birth)

    exported = json.dumps(procedures_export())
    ProcedureVersion.objects.all().delete()
    Procedure.objects.all().delete()
    Field.objects.all().delete()
    assert counts()["RequiredDocument"] == 0

    imported = procedures_import(exported)

    assert_same_catalogue(procedures_export(), json.loads(exported))
    assert sorted(p.national_code for p in imported) == ["1.001193", "1.004222"]
    birth = Procedure.objects.get(national_code="1.001193")
    assert birth.processing_days == Decimal("2.5")
    assert birth.cutoff_time.strftime("%H:%M") == "15:30"
    assert set(birth.agencies.values_list("identifier", flat=True)) == {"000.00.12.H56", "H55.242"}
    assert list(birth.documents.values_list("name", flat=True)) == ["Tờ khai", "Giấy chứng sinh"]
    assert birth.fees.get().applies_to({"gioi_tinh": "Nam"})
    assert [s.agency for s in birth.steps.all()] == [ward, None]
    assert birth.form_fields.get(code="so_con").min_value == Decimal("1.5")
    assert Field.objects.get(code="HT").name == "Hộ tịch"
    assert ProcedureVersion.objects.filter(number=1).count() == 2


def test_the_export_names_its_format_and_only_the_fields_it_uses(agencies):
    procedures_import(as_file(catalogue()))
    FieldFactory(code="UNUSED", name="Không dùng")
    data = procedures_export(Procedure.objects.filter(national_code="1.001193"))
    assert (data["format"], data["version"]) == ("cong-dich-vu-cong/procedures", 1)
    assert data["fields"] == [{"code": "HT", "name": "Hộ tịch"}]
    assert [p["national_code"] for p in data["procedures"]] == ["1.001193"]


# --- versions -------------------------------------------------------------------------------------


def test_importing_the_same_file_twice_makes_one_version_per_procedure(agencies):
    procedures_import(as_file(catalogue()))
    procedures_import(as_file(catalogue()))
    assert sorted(ProcedureVersion.objects.values_list("procedure__national_code", "number")) == [
        ("1.000656", 1),
        ("1.001193", 1),
        ("2.000815.000.00.00.H55", 1),
    ]


def test_a_changed_fee_makes_a_new_version_of_that_procedure_only(agencies):
    procedures_import(as_file(catalogue()))
    data = catalogue()
    data["procedures"][2]["fees"][0]["amount"] = 80000
    procedures_import(as_file(data))
    versions = dict(ProcedureVersion.objects.filter(number__gt=1).values_list("procedure__national_code", "number"))
    assert versions == {"2.000815.000.00.00.H55": 2}
    latest = Procedure.objects.get(national_code="2.000815.000.00.00.H55").current_version
    assert latest.snapshot["fees"][0]["amount"] == 80000


def test_an_imported_version_records_who_imported_it(agencies):
    user = UserFactory()
    procedures_import(as_file(catalogue()), user=user)
    assert set(ProcedureVersion.objects.values_list("created_by", flat=True)) == {user.pk}


def test_the_snapshot_of_an_old_version_is_unchanged_by_later_edits(agencies):
    procedures_import(as_file(catalogue()))
    procedure = Procedure.objects.get(national_code="1.001193")
    first = procedure.current_version
    frozen = copy.deepcopy(first.snapshot)

    procedure.name = "Thủ tục đăng ký khai sinh (sửa đổi)"
    procedure.save()
    procedure.fees.update(amount=5000)
    procedure.documents.first().delete()
    second = procedure_publish_version(procedure=procedure)

    first.refresh_from_db()
    assert second.number == 2
    assert first.snapshot == frozen
    assert first.snapshot["fees"][0]["amount"] == 0
    assert len(first.snapshot["documents"]) == 2
    assert second.snapshot["fees"][0]["amount"] == 5000
    assert second.snapshot["name"] == "Thủ tục đăng ký khai sinh (sửa đổi)"


def test_republishing_an_unchanged_procedure_keeps_its_version(agencies):
    procedures_import(as_file(catalogue()))
    procedure = Procedure.objects.get(national_code="2.000815.000.00.00.H55")
    assert procedure_publish_version(procedure=procedure).number == 1
    assert procedure.versions.count() == 1


def test_an_import_replaces_the_children_of_an_existing_procedure(agencies):
    procedures_import(as_file(catalogue()))
    data = catalogue()
    data["procedures"][1]["documents"] = [_document(1, "Tờ khai điện tử")]
    data["procedures"][1]["fees"] = []
    procedures_import(as_file(data))
    procedure = Procedure.objects.get(national_code="1.001193")
    assert list(procedure.documents.values_list("name", flat=True)) == ["Tờ khai điện tử"]
    assert not procedure.fees.exists()
    assert Procedure.objects.count() == 3


# --- malformed files: a clear message and no change -----------------------------------------------


def _edit(change):
    """A malformed variant of the good catalogue."""

    def make():
        data = catalogue()
        change(data)
        return as_file(data)

    return make


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return _edit(change)


def _append_procedure(**fields):
    return _edit(lambda data: data["procedures"].append(_procedure("1.004222", "Đăng ký thường trú", **fields)))


MALFORMED = {
    "not JSON": (lambda: b'{"format": "cong-dich-vu-cong/procedures", ', "không phải JSON hợp lệ"),
    "not UTF-8": (lambda: b"\xff\xfe\x00", "không phải JSON hợp lệ"),
    "empty file": (lambda: b"", "không phải JSON hợp lệ"),
    "a list at the top": (lambda: as_file(catalogue()["procedures"]), "không đúng định dạng"),
    "wrong format": (_set(["format"], "other/format"), "không đúng định dạng"),
    "no format": (_edit(lambda d: d.pop("format")), "không đúng định dạng"),
    "wrong version": (_set(["version"], 2), "Phiên bản định dạng 2 không được hỗ trợ"),
    "procedures not a list": (_set(["procedures"], {"1.001193": {}}), 'danh sách "procedures"'),
    "negative fee": (_set(["procedures", 1, "fees", 0, "amount"], -1000), "Mức thu không được là số âm"),
    "zero processing days": (_set(["procedures", 1, "processing_days"], 0), "phải lớn hơn 0 ngày làm việc"),
    "negative processing days": (_set(["procedures", 1, "processing_days"], "-2"), "phải lớn hơn 0 ngày làm việc"),
    "processing days 1.3": (_set(["procedures", 1, "processing_days"], "1.3"), "ngày hoặc nửa ngày"),
    "decimal comma": (_set(["procedures", 1, "processing_days"], "2,5"), "processing_days"),
    "no channel": (
        _edit(lambda d: d["procedures"][1].update(channel_online=False, channel_counter=False, channel_postal=False)),
        "ít nhất một cách thức nộp",
    ),
    "unknown field code": (_set(["procedures", 1, "field"], "KHONG_CO"), 'lĩnh vực "KHONG_CO"'),
    "unknown key in a document": (
        _set(["procedures", 1, "documents", 0, "colour"], "đỏ"),
        "trường không hợp lệ: colour",
    ),
    "unknown agency": (_set(["procedures", 1, "agencies"], ["H99.999"]), "cơ quan thực hiện không tồn tại: H99.999"),
    "no agency": (_set(["procedures", 1, "agencies"], []), "cơ quan thực hiện không tồn tại"),
    "agency given as an object": (
        _set(["procedures", 1, "agencies"], [{"identifier": "H55.242"}]),
        "cơ quan thực hiện không tồn tại",
    ),
    "step agency given as an object": (
        _set(["procedures", 2, "steps", 0, "agency"], {"identifier": "H55.242"}),
        "không tồn tại",
    ),
    "field given as a list": (_set(["procedures", 1, "field"], ["HT"]), "lĩnh vực"),
    "form field code given as a list": (_set(["procedures", 1, "form_fields", 0, "code"], ["ho_ten"]), "code"),
    "unknown step agency": (_set(["procedures", 2, "steps", 0, "agency"], "H99.1"), "cơ quan H99.1 không tồn tại"),
    "duplicate national code": (
        _edit(lambda d: d["procedures"].append(copy.deepcopy(d["procedures"][1]))),
        "Mã thủ tục 1.001193 xuất hiện nhiều lần",
    ),
    "malformed national code": (_set(["procedures", 1, "national_code"], "1.01193"), "1.001193"),
    "steps exceed the processing time": (
        _set(["procedures", 2, "steps", 1, "duration_days"], "18"),
        "vượt thời hạn giải quyết",
    ),
    "unreadable step duration": (_set(["procedures", 2, "steps", 1, "duration_days"], "mười"), "duration_days"),
    "duplicate form field code": (
        _set(["procedures", 2, "form_fields", 1, "code"], "so_tang"),
        "mã trường thông tin bị trùng",
    ),
    "choice with one choice": (_set(["procedures", 1, "form_fields", 1, "choices"], "Nam"), "ít nhất hai lựa chọn"),
    "bad pattern": (_set(["procedures", 2, "form_fields", 2, "pattern"], "[0-9"), "Biểu thức kiểm tra không hợp lệ"),
    "unreadable minimum": (_set(["procedures", 2, "form_fields", 0, "min_value"], "1,5"), "min_value"),
    "minimum above maximum": (_set(["procedures", 2, "form_fields", 0, "min_value"], "50"), "Giá trị lớn nhất"),
    "unsupported document type": (_set(["procedures", 1, "documents", 0, "allowed_types"], "docx"), "docx"),
    "a list where a procedure is expected": (
        _edit(lambda d: d["procedures"].append(["1.004222", "Đăng ký thường trú"])),
        "phải là một đối tượng JSON",
    ),
    "a list where a document is expected": (
        _set(["procedures", 1, "documents", 0], ["Tờ khai", True]),
        "mỗi phần tử phải là một đối tượng JSON",
    ),
    "an object where the documents list is expected": (
        _set(["procedures", 1, "documents"], {"name": "Tờ khai"}),
        "phải là danh sách",
    ),
    "a field without a name": (_set(["fields", 0], {"code": "HT"}), "Lĩnh vực thiếu mã hoặc tên"),
    "a bad new procedure among good ones": (
        _append_procedure(fees=[_fee("Lệ phí", -5)]),
        "Thủ tục thứ 4 (1.004222), phí 1: amount: Mức thu không được là số âm.",
    ),
}


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_file_is_refused_with_a_clear_message_and_changes_nothing(agencies, case):
    make_file, expected = case
    procedures_import(as_file(catalogue()))
    # Field names the malformed file would rename, were it saved.
    Field.objects.filter(code="HT").update(name="Hộ tịch (tên cũ)")
    before = state()

    with pytest.raises(ImportError_) as excinfo:
        procedures_import(make_file())

    assert any(expected in message for message in excinfo.value.messages), excinfo.value.messages
    assert state() == before


def test_every_problem_of_a_file_is_reported_at_once(agencies):
    data = catalogue()
    data["procedures"][1]["fees"][0]["amount"] = -1
    data["procedures"][2]["processing_days"] = 0
    data["procedures"][2]["agencies"] = ["H99.999"]
    with pytest.raises(ImportError_) as excinfo:
        procedures_import(as_file(data))
    messages = " | ".join(excinfo.value.messages)
    assert "Thủ tục thứ 2 (1.001193)" in messages
    assert "Mức thu không được là số âm" in messages
    assert "Thủ tục thứ 3 (2.000815.000.00.00.H55)" in messages
    assert "H99.999" in messages
    assert "phải lớn hơn 0 ngày làm việc" in messages


def test_a_file_with_one_bad_procedure_imports_nothing_into_an_empty_catalogue(agencies):
    data = catalogue()
    data["procedures"][2]["steps"][1]["duration_days"] = "30"
    before = counts()
    with pytest.raises(ImportError_):
        procedures_import(as_file(data))
    assert counts() == before
    assert not Procedure.objects.exists()
    assert not Field.objects.exists()


# --- the admin import page and export action ------------------------------------------------------


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _upload(client, content: bytes, name="thu-tuc.json"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("admin:procedures_procedure_import"),
        {"file": SimpleUploadedFile(name, content, content_type="application/json")},
    )


def test_the_import_page_shows_the_upload_form(admin_client):
    response = admin_client.get(reverse("admin:procedures_procedure_import"))
    assert response.status_code == 200
    assert "Nhập danh mục thủ tục từ tệp JSON" in response.text
    assert 'type="file"' in response.text


def test_an_administrator_imports_a_good_file_through_the_admin(admin_client, admin_user, agencies):
    response = _upload(admin_client, as_file(catalogue()))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:procedures_procedure_changelist")
    assert Procedure.objects.count() == 3
    assert set(ProcedureVersion.objects.values_list("created_by", flat=True)) == {admin_user.pk}
    page = admin_client.get(response["Location"])
    assert "Đã nhập 3 thủ tục." in page.text


def test_a_bad_file_uploaded_through_the_admin_shows_its_errors_and_saves_nothing(admin_client, agencies):
    data = catalogue()
    data["procedures"][1]["fees"][0]["amount"] = -1000
    data["procedures"][2]["processing_days"] = 0
    before = counts()

    response = _upload(admin_client, as_file(data))

    assert response.status_code == 200
    assert "Tệp có lỗi, không có thay đổi nào được lưu." in response.text
    assert "Mức thu không được là số âm." in response.text
    assert "Thời hạn giải quyết phải lớn hơn 0 ngày làm việc." in response.text
    assert counts() == before


def test_a_file_that_is_not_json_uploaded_through_the_admin_is_explained(admin_client, agencies):
    response = _upload(admin_client, b"\x89PNG\r\n\x1a\n", name="anh.png")
    assert response.status_code == 200
    assert "Tệp không phải JSON hợp lệ" in response.text
    assert not Procedure.objects.exists()


def test_staff_without_permission_cannot_import(client, agencies):
    clerk = UserFactory(is_staff=True)
    client.force_login(clerk)
    response = _upload(client, as_file(catalogue()))
    assert response.status_code == 302
    assert not Procedure.objects.exists()


def test_the_admin_export_action_returns_the_selected_procedures_as_json(admin_client, agencies):
    procedures_import(as_file(catalogue()))
    selected = Procedure.objects.filter(national_code__in=["1.001193", "1.000656"])

    response = admin_client.post(
        reverse("admin:procedures_procedure_changelist"),
        {"action": "export_json", "_selected_action": [p.pk for p in selected]},
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert "Thủ tục đăng ký khai sinh" in response.content.decode()  # readable Vietnamese, not \\u escapes
    data = json.loads(response.content)
    assert [p["national_code"] for p in data["procedures"]] == ["1.000656", "1.001193"]
    assert data["procedures"] == [
        p for p in catalogue()["procedures"] if p["national_code"] in {"1.000656", "1.001193"}
    ]


def test_the_exported_file_can_be_imported_through_the_admin(admin_client, agencies):
    procedures_import(as_file(catalogue()))
    response = admin_client.post(
        reverse("admin:procedures_procedure_changelist"),
        {"action": "export_json", "_selected_action": list(Procedure.objects.values_list("pk", flat=True))},
    )
    ProcedureVersion.objects.all().delete()
    Procedure.objects.all().delete()

    assert _upload(admin_client, response.content).status_code == 302
    assert_same_catalogue(procedures_export(), catalogue())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("condition_field", "condition_value", "message"),
    [
        ("khong_co", "Đô thị", "không có trong tờ khai"),
        ("khu_vuc", "Miền núi", "không có trong các lựa chọn"),
    ],
)
def test_a_conditional_fee_must_name_a_real_field_and_choice(condition_field, condition_value, message):
    """A fee that could never apply is an error in the file, not a silent no-op."""
    from procedures.models import Agency, Field, Procedure
    from procedures.services import ImportError_, procedures_import

    Agency.objects.create(name="UBND phường Hoa Lư", identifier="000.00.41.H40")
    payload = {
        "format": "cong-dich-vu-cong/procedures",
        "version": 1,
        "fields": [{"code": "XD", "name": "Xây dựng"}],
        "procedures": [
            {
                "national_code": "1.009972",
                "name": "Cấp giấy phép xây dựng nhà ở riêng lẻ",
                "field": "XD",
                "agencies": ["000.00.41.H40"],
                "level": "mot_phan",
                "processing_days": "15",
                "result_type": "Giấy phép xây dựng",
                "form_fields": [
                    {"code": "khu_vuc", "label": "Khu vực", "kind": "choice", "choices": "Đô thị\nNông thôn"}
                ],
                "fees": [
                    {
                        "kind": "le_phi",
                        "name": "Lệ phí",
                        "amount": 75000,
                        "condition_field": condition_field,
                        "condition_value": condition_value,
                    }
                ],
            }
        ],
    }
    with pytest.raises(ImportError_) as excinfo:
        procedures_import(json.dumps(payload))
    assert any(message in m for m in excinfo.value.messages)
    assert Procedure.objects.count() == 0
    assert Field.objects.filter(code="XD").count() == 0


def test_a_published_commune_police_step_needs_a_police_unit_for_every_agency(agencies):
    """Reception would refuse every dossier of a commune without one; the import says so and writes nothing."""
    data = catalogue()
    police_step = {
        "order": 4,
        "name": "Xác nhận của công an xã",
        "role": "specialist",
        "duration_days": "1",
        "agency": None,
        "agency_rule": "commune_police",
    }
    data["procedures"][2]["steps"].append(police_step)
    quang_phu = Agency.objects.get(identifier="000.00.12.H56")
    AgencyFactory(name="Công an xã Quảng Phú", kind=AgencyKind.POLICE, parent=quang_phu.parent, locality=quang_phu)
    before = state()
    with pytest.raises(ImportError_) as refused:
        procedures_import(as_file(data))
    (message,) = [m for m in refused.value.messages if "công an" in m]
    assert message.endswith("chưa có đơn vị công an cho: UBND xã Tân Cương.")
    assert state() == before
    tan_cuong = Agency.objects.get(identifier="H55.242")
    AgencyFactory(name="Công an xã Tân Cương", kind=AgencyKind.POLICE, locality=tan_cuong)
    procedures_import(as_file(data))
    steps = Procedure.objects.get(national_code="2.000815.000.00.00.H55").steps.order_by("order")
    assert [s.agency_rule for s in steps] == ["fixed", "fixed", "fixed", "commune_police"]
