"""Administrators configure the catalogue in the Django admin, in Vietnamese, without writing code."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from procedures.constants import AgencyKind, CalendarDayKind, FieldKind, StepRole
from procedures.models import (
    CalendarDay,
    FeeItem,
    FormField,
    Procedure,
    ProcedureVersion,
    ProcessingStep,
    RequiredDocument,
)
from procedures.services import procedure_publish_version
from tests.factories import (
    AgencyFactory,
    FeeItemFactory,
    FieldFactory,
    ProcedureFactory,
    ProcessingStepFactory,
    RequiredDocumentFactory,
)

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:procedures_procedure_add")
INLINES = ("documents", "form_fields", "fees", "steps")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def commune():
    province = AgencyFactory(name="UBND tỉnh Ninh Bình", kind=AgencyKind.PROVINCE, identifier="H37")
    return AgencyFactory(name="UBND xã Gia Viễn", identifier="000.00.21.H37", parent=province)


@pytest.fixture
def field():
    return FieldFactory(code="HT", name="Hộ tịch")


def inline_rows(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    """POST data of one inline formset: its management form and its rows."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"{prefix}-{index}-{name}"] = value
    return data


def procedure_form(field, agencies, **overrides) -> dict:
    """What an administrator fills in on the add form for "Đăng ký kết hôn", with every inline."""
    inlines = {
        "documents": [
            {
                "order": "1",
                "name": "Tờ khai đăng ký kết hôn",
                "is_mandatory": "on",
                "original_count": "1",
                "copy_count": "0",
                "allowed_types": "pdf,jpg",
                "max_size_mb": "10",
                "note": "",
            },
        ],
        "form_fields": [
            {
                "order": "1",
                "code": "ho_ten_chong",
                "label": "Họ tên bên chồng",
                "kind": FieldKind.TEXT,
                "section": "",
                "required": "on",
                "help_text": "",
                "choices": "",
                "min_value": "",
                "max_value": "",
                "max_length": "100",
                "pattern": "",
                "pattern_message": "",
            },
            {
                "order": "2",
                "code": "noi_cu_tru",
                "label": "Nơi cư trú",
                "kind": FieldKind.CHOICE,
                "section": "",
                "required": "on",
                "help_text": "",
                "choices": "Trong tỉnh\nNgoài tỉnh",
                "min_value": "",
                "max_value": "",
                "max_length": "",
                "pattern": "",
                "pattern_message": "",
            },
        ],
        "fees": [
            {
                "kind": "le_phi",
                "name": "Lệ phí đăng ký kết hôn",
                "amount": "30000",
                "condition_field": "",
                "condition_value": "",
                "note": "",
            },
        ],
        "steps": [
            {
                "order": "1",
                "name": "Tiếp nhận",
                "role": StepRole.RECEPTION,
                "agency": str(agencies[0].pk),
                "duration_days": "0.5",
            },
            {
                "order": "2",
                "name": "Thẩm định, trình ký",
                "role": StepRole.SPECIALIST,
                "agency": "",
                "duration_days": "2.5",
            },
        ],
    }
    inlines.update({name: overrides.pop(name) for name in INLINES if name in overrides})
    data = {
        "national_code": "1.000894",
        "name": "Thủ tục đăng ký kết hôn",
        "field": str(field.pk),
        "agencies": [str(a.pk) for a in agencies],
        "level": "toan_trinh",
        "applicant_type": "individual",
        "is_published": "on",
        "processing_days": "3",
        "cutoff_time": "16:00",
        "channel_online": "on",
        "channel_counter": "on",
        "result_type": "Giấy chứng nhận kết hôn",
        "legal_basis": "Luật Hộ tịch 2014, Điều 18",
        "description": "",
        "conditions": "",
        **overrides,
    }
    for prefix, rows in inlines.items():
        data.update(inline_rows(prefix, rows))
    return {key: value for key, value in data.items() if value is not None}


def page_errors(response) -> str:
    """Every error message on a re-displayed admin form, joined."""
    messages = []
    adminform = response.context["adminform"]
    messages += [str(e) for errors in adminform.form.errors.values() for e in errors]
    for inline in response.context["inline_admin_formsets"]:
        messages += [str(e) for e in inline.formset.non_form_errors()]
        messages += [str(e) for form_errors in inline.formset.errors for errors in form_errors.values() for e in errors]
    return " | ".join(messages)


def nothing_saved() -> bool:
    return not any(
        model.objects.exists()
        for model in (Procedure, RequiredDocument, FormField, FeeItem, ProcessingStep, ProcedureVersion)
    )


# --- creating a procedure -------------------------------------------------------------------------


def test_the_add_form_offers_the_four_inlines(admin_client):
    response = admin_client.get(ADD_URL)
    assert response.status_code == 200
    assert [inline.formset.prefix for inline in response.context["inline_admin_formsets"]] == list(INLINES)


def test_an_administrator_creates_a_procedure_that_citizens_then_find(admin_client, admin_user, field, commune):
    response = admin_client.post(ADD_URL, procedure_form(field, [commune]))

    assert response.status_code == 302, page_errors(response)
    procedure = Procedure.objects.get(national_code="1.000894")
    assert procedure.processing_days == 3
    assert list(procedure.agencies.all()) == [commune]
    assert procedure.documents.get().name == "Tờ khai đăng ký kết hôn"
    assert procedure.form_fields.get(code="noi_cu_tru").choice_list == ["Trong tỉnh", "Ngoài tỉnh"]
    assert procedure.fees.get().amount == 30000
    assert [(s.name, s.agency) for s in procedure.steps.all()] == [
        ("Tiếp nhận", commune),
        ("Thẩm định, trình ký", None),
    ]
    version = procedure.current_version
    assert (version.number, version.created_by) == (1, admin_user)
    assert version.snapshot["fees"][0]["amount"] == 30000

    catalogue = admin_client.get("/procedures/", {"q": "dang ky ket hon"})
    assert "Thủ tục đăng ký kết hôn" in catalogue.text
    detail = admin_client.get(reverse("procedures:detail", args=["1.000894"]))
    assert "30.000" in detail.text


def test_the_administrator_is_told_the_version_number(admin_client, field, commune):
    response = admin_client.post(ADD_URL, procedure_form(field, [commune]), follow=True)
    assert "Thủ tục đang ở phiên bản 1." in response.text


def test_a_negative_fee_is_refused_and_nothing_is_created(admin_client, field, commune):
    fees = [
        {
            "kind": "le_phi",
            "name": "Lệ phí",
            "amount": "-30000",
            "condition_field": "",
            "condition_value": "",
            "note": "",
        }
    ]
    response = admin_client.post(ADD_URL, procedure_form(field, [commune], fees=fees))
    assert response.status_code == 200
    assert "Mức thu không được là số âm." in page_errors(response)
    assert "Mức thu không được là số âm." in response.text
    assert nothing_saved()


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("0", "Thời hạn giải quyết phải lớn hơn 0 ngày làm việc."),
        ("-1", "Thời hạn giải quyết phải lớn hơn 0 ngày làm việc."),
        ("1.3", "Thời hạn giải quyết tính theo ngày hoặc nửa ngày."),
    ],
)
def test_an_invalid_processing_time_is_refused_and_nothing_is_created(admin_client, field, commune, days, message):
    response = admin_client.post(ADD_URL, procedure_form(field, [commune], processing_days=days, steps=[]))
    assert response.status_code == 200
    assert message in page_errors(response)
    assert message in response.text
    assert nothing_saved()


def test_a_procedure_without_any_channel_is_refused(admin_client, field, commune):
    data = procedure_form(field, [commune], channel_online=None, channel_counter=None)
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert "Thủ tục phải có ít nhất một cách thức nộp hồ sơ." in response.text
    assert nothing_saved()


def test_steps_longer_than_the_processing_time_are_refused(admin_client, field, commune):
    steps = [
        {"order": "1", "name": "Tiếp nhận", "role": StepRole.RECEPTION, "agency": "", "duration_days": "1"},
        {"order": "2", "name": "Thẩm định", "role": StepRole.SPECIALIST, "agency": "", "duration_days": "2.5"},
    ]
    response = admin_client.post(ADD_URL, procedure_form(field, [commune], steps=steps))
    assert response.status_code == 200
    errors = page_errors(response)
    assert "Tổng thời gian các bước (3.5 ngày) vượt thời hạn giải quyết của thủ tục (3 ngày)" in errors
    assert nothing_saved()


def test_steps_filling_the_whole_processing_time_are_accepted(admin_client, field, commune):
    steps = [{"order": "1", "name": "Xử lý", "role": StepRole.SPECIALIST, "agency": "", "duration_days": "3"}]
    response = admin_client.post(ADD_URL, procedure_form(field, [commune], steps=steps))
    assert response.status_code == 302, page_errors(response)


def test_a_step_routed_to_the_commune_police_is_saved_and_cannot_also_name_an_agency(admin_client, field, commune):
    routed = {"order": "1", "name": "Đăng ký thường trú", "role": StepRole.SPECIALIST, "duration_days": "3"}
    response = admin_client.post(
        ADD_URL,
        procedure_form(
            field, [commune], steps=[{**routed, "agency": str(commune.pk), "agency_rule": "commune_police"}]
        ),
    )
    assert response.status_code == 200
    assert "không chọn cơ quan thực hiện cố định" in page_errors(response)
    assert nothing_saved()
    AgencyFactory(name="Công an xã Gia Viễn", kind=AgencyKind.POLICE, parent=commune.parent, locality=commune)
    response = admin_client.post(
        ADD_URL, procedure_form(field, [commune], steps=[{**routed, "agency": "", "agency_rule": "commune_police"}])
    )
    assert response.status_code == 302, page_errors(response)
    assert list(ProcessingStep.objects.values_list("agency_rule", "agency")) == [("commune_police", None)]


def test_a_commune_police_step_cannot_be_published_for_a_commune_without_a_police_unit(admin_client, field, commune):
    """Its dossiers would be refused at reception after the citizen submitted them (issue 7, point 16)."""
    other = AgencyFactory(name="UBND xã Gia Hưng", parent=commune.parent)
    AgencyFactory(name="Công an xã Gia Hưng", kind=AgencyKind.POLICE, parent=commune.parent, locality=other)
    routed = {"order": "1", "name": "Đăng ký thường trú", "role": StepRole.SPECIALIST, "duration_days": "3"}
    steps = [{**routed, "agency": "", "agency_rule": "commune_police"}]
    response = admin_client.post(ADD_URL, procedure_form(field, [commune, other], steps=steps))
    assert response.status_code == 200
    errors = page_errors(response)
    assert "chưa có đơn vị công an nào có địa bàn là UBND xã Gia Viễn." in errors
    assert "Gia Hưng" not in errors
    assert nothing_saved()
    # As a draft it may be saved; the police unit can be added before publishing.
    response = admin_client.post(ADD_URL, procedure_form(field, [commune], steps=steps, is_published=None))
    assert response.status_code == 302, page_errors(response)


def test_a_step_marked_for_deletion_does_not_count_towards_the_processing_time(admin_client, field, commune):
    steps = [
        {"order": "1", "name": "Xử lý", "role": StepRole.SPECIALIST, "agency": "", "duration_days": "2"},
        {"order": "2", "name": "Bỏ", "role": StepRole.LEADER, "agency": "", "duration_days": "2", "DELETE": "on"},
    ]
    response = admin_client.post(ADD_URL, procedure_form(field, [commune], steps=steps))
    assert response.status_code == 302, page_errors(response)
    assert list(ProcessingStep.objects.values_list("name", flat=True)) == ["Xử lý"]


def test_duplicate_form_field_codes_are_refused(admin_client, field, commune):
    row = {
        "order": "1",
        "code": "ho_ten",
        "label": "Họ tên",
        "kind": FieldKind.TEXT,
        "section": "",
        "required": "on",
        "help_text": "",
        "choices": "",
        "min_value": "",
        "max_value": "",
        "max_length": "",
        "pattern": "",
        "pattern_message": "",
    }
    response = admin_client.post(ADD_URL, procedure_form(field, [commune], form_fields=[row, {**row, "order": "2"}]))
    assert response.status_code == 200
    assert nothing_saved()


def test_a_choice_field_with_one_choice_is_refused(admin_client, field, commune):
    row = {
        "order": "1",
        "code": "gioi_tinh",
        "label": "Giới tính",
        "kind": FieldKind.CHOICE,
        "section": "",
        "required": "on",
        "help_text": "",
        "choices": "Nam",
        "min_value": "",
        "max_value": "",
        "max_length": "",
        "pattern": "",
        "pattern_message": "",
    }
    response = admin_client.post(ADD_URL, procedure_form(field, [commune], form_fields=[row]))
    assert "Trường lựa chọn cần ít nhất hai lựa chọn" in page_errors(response)
    assert nothing_saved()


# --- editing a procedure --------------------------------------------------------------------------


@pytest.fixture
def existing(field, commune):
    procedure = ProcedureFactory(
        national_code="1.001193",
        name="Thủ tục đăng ký khai sinh",
        field=field,
        agencies=[commune],
        processing_days=Decimal("5"),
    )
    FeeItemFactory(procedure=procedure, amount=8000, name="Lệ phí đăng ký quá hạn")
    # Complete, as a published procedure must be (issue 11, point 12): documents, time limit, steps.
    RequiredDocumentFactory(procedure=procedure, name="Tờ khai đăng ký khai sinh")
    ProcessingStepFactory(procedure=procedure, duration_days=Decimal("2"), name="Thẩm định")
    ProcessingStepFactory(procedure=procedure, duration_days=Decimal("2"), name="Phê duyệt", role=StepRole.LEADER)
    procedure_publish_version(procedure=procedure)
    return procedure


def change_form(procedure, **overrides) -> dict:
    """The change form as the admin shows it, with the existing inline rows."""
    fee_rows = [
        {
            "id": str(f.pk),
            "procedure": str(procedure.pk),
            "kind": f.kind,
            "name": f.name,
            "amount": str(f.amount),
            "condition_field": f.condition_field,
            "condition_value": f.condition_value,
            "note": f.note,
        }
        for f in procedure.fees.all()
    ]
    step_rows = [
        {
            "id": str(s.pk),
            "procedure": str(procedure.pk),
            "order": str(s.order),
            "name": s.name,
            "role": s.role,
            "agency": str(s.agency_id or ""),
            "duration_days": str(s.duration_days),
        }
        for s in procedure.steps.all()
    ]
    document_rows = [
        {
            "id": str(d.pk),
            "procedure": str(procedure.pk),
            "order": str(d.order),
            "name": d.name,
            "is_mandatory": "on" if d.is_mandatory else "",
            "original_count": str(d.original_count),
            "copy_count": str(d.copy_count),
            "allowed_types": d.allowed_types,
            "max_size_mb": str(d.max_size_mb),
            "note": d.note,
        }
        for d in procedure.documents.all()
    ]
    fee_rows = overrides.pop("fee_rows", fee_rows)
    data = {
        "national_code": procedure.national_code,
        "name": procedure.name,
        "field": str(procedure.field_id),
        "agencies": [str(pk) for pk in procedure.agencies.values_list("pk", flat=True)],
        "level": procedure.level,
        "applicant_type": procedure.applicant_type,
        "is_published": "on",
        "processing_days": str(procedure.processing_days),
        "cutoff_time": "16:00",
        "channel_online": "on",
        "channel_counter": "on",
        "channel_postal": "on",
        "result_type": procedure.result_type,
        "legal_basis": procedure.legal_basis,
        "description": "",
        "conditions": "",
        **inline_rows("documents", document_rows, initial=len(document_rows)),
        **inline_rows("form_fields", []),
        **inline_rows("fees", fee_rows, initial=len(fee_rows)),
        **inline_rows("steps", step_rows, initial=len(step_rows)),
        **overrides,
    }
    return data


def test_saving_an_unchanged_procedure_keeps_its_version(admin_client, existing):
    url = reverse("admin:procedures_procedure_change", args=[existing.pk])
    response = admin_client.post(url, change_form(existing))
    assert response.status_code == 302, page_errors(response)
    assert list(existing.versions.values_list("number", flat=True)) == [1]


def test_changing_a_fee_in_the_admin_makes_a_new_version(admin_client, existing):
    fee = existing.fees.get()
    rows = [
        {
            "id": str(fee.pk),
            "procedure": str(existing.pk),
            "kind": fee.kind,
            "name": fee.name,
            "amount": "10000",
            "condition_field": "",
            "condition_value": "",
            "note": "",
        }
    ]
    url = reverse("admin:procedures_procedure_change", args=[existing.pk])
    response = admin_client.post(url, change_form(existing, fee_rows=rows))
    assert response.status_code == 302, page_errors(response)
    assert sorted(existing.versions.values_list("number", flat=True)) == [1, 2]
    assert existing.versions.get(number=1).snapshot["fees"][0]["amount"] == 8000
    assert existing.versions.get(number=2).snapshot["fees"][0]["amount"] == 10000


def test_shortening_the_processing_time_below_the_steps_is_refused(admin_client, existing):
    url = reverse("admin:procedures_procedure_change", args=[existing.pk])
    response = admin_client.post(url, change_form(existing, processing_days="3"))
    assert response.status_code == 200
    assert "vượt thời hạn giải quyết" in page_errors(response)
    existing.refresh_from_db()
    assert existing.processing_days == 5
    assert existing.versions.count() == 1


# --- every page answers, in Vietnamese ------------------------------------------------------------


@pytest.fixture
def one_of_each(admin_user, existing):
    return {
        "procedures_agency": existing.agencies.get(),
        "procedures_field": existing.field,
        "procedures_procedure": existing,
        "procedures_calendarday": CalendarDay.objects.create(
            date=dt.date(2026, 8, 22), kind=CalendarDayKind.WORKING_DAY, name="Làm bù cho ngày 31/8/2026"
        ),
        "procedures_procedureversion": existing.current_version,
        "accounts_user": admin_user,
    }


@pytest.mark.parametrize(
    "model",
    [
        "procedures_agency",
        "procedures_field",
        "procedures_procedure",
        "procedures_calendarday",
        "procedures_procedureversion",
        "accounts_user",
    ],
)
def test_admin_list_and_change_pages_answer(admin_client, one_of_each, model):
    obj = one_of_each[model]
    changelist = admin_client.get(reverse(f"admin:{model}_changelist"))
    change = admin_client.get(reverse(f"admin:{model}_change", args=[obj.pk]))
    assert changelist.status_code == 200
    assert change.status_code == 200
    assert reverse(f"admin:{model}_change", args=[obj.pk]) in changelist.text


@pytest.mark.parametrize(
    "model",
    ["procedures_agency", "procedures_field", "procedures_procedure", "procedures_calendarday", "accounts_user"],
)
def test_admin_add_pages_answer(admin_client, model):
    assert admin_client.get(reverse(f"admin:{model}_add")).status_code == 200


def test_versions_cannot_be_added_or_edited_in_the_admin(admin_client, existing):
    version = existing.current_version
    assert admin_client.get(reverse("admin:procedures_procedureversion_add")).status_code == 403
    page = admin_client.get(reverse("admin:procedures_procedureversion_change", args=[version.pk]))
    assert 'name="_save"' not in page.text
    response = admin_client.post(
        reverse("admin:procedures_procedureversion_delete", args=[version.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert ProcedureVersion.objects.filter(pk=version.pk).exists()


def test_the_admin_speaks_vietnamese(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert '<html lang="vi"' in response.text
    assert "Thủ tục hành chính" in response.text
    assert "Quản trị Cổng dịch vụ công" in response.text
    assert "Thêm vào" in response.text  # Django's own "Add"


def test_the_agency_list_shows_the_tree_indented(admin_client, commune):
    response = admin_client.get(reverse("admin:procedures_agency_changelist"))
    assert "\u2003UBND xã Gia Viễn" in response.text
    assert "\u2003UBND tỉnh Ninh Bình" not in response.text


def test_the_procedure_list_shows_the_version_and_links_to_the_import(admin_client, existing):
    response = admin_client.get(reverse("admin:procedures_procedure_changelist"))
    assert reverse("admin:procedures_procedure_import") in response.text
    assert response.context["cl"].result_list[0] == existing


def test_the_admin_requires_staff(client):
    response = client.get(ADD_URL)
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_moving_an_agency_under_its_own_subunit_is_refused_in_the_admin(admin_client, commune):
    province = commune.parent
    url = reverse("admin:procedures_agency_change", args=[province.pk])
    data = {
        "name": province.name,
        "kind": province.kind,
        "parent": str(commune.pk),
        "identifier": province.identifier,
        "address": "",
        "phone": "",
        "email": "",
        "is_active": "on",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "Cơ quan cấp trên không thể là chính nó hoặc đơn vị trực thuộc." in response.text
    province.refresh_from_db()
    assert province.parent is None


def test_moving_an_agency_in_the_admin_moves_its_subunits(admin_client, commune):
    other = AgencyFactory(name="UBND tỉnh Thanh Hóa", kind=AgencyKind.PROVINCE, identifier="H56")
    unit = AgencyFactory(name="Bộ phận một cửa", identifier="000.01.21.H37", parent=commune)
    url = reverse("admin:procedures_agency_change", args=[commune.pk])
    data = {
        "name": commune.name,
        "kind": commune.kind,
        "parent": str(other.pk),
        "identifier": commune.identifier,
        "address": "",
        "phone": "",
        "email": "",
        "is_active": "on",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.ancestors() == [other, commune]
