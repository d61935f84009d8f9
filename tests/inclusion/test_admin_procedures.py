"""Issue 11, points 12–15: a provincial administrator configures procedures alone."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from procedures.constants import AgencyKind
from procedures.models import Procedure
from tests.factories import AgencyFactory, FieldFactory, ProcedureFactory, RequiredDocumentFactory
from tests.procedures.test_admin import nothing_saved, page_errors, procedure_form

pytestmark = pytest.mark.django_db
ADD_URL = reverse("admin:procedures_procedure_add")


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


def test_a_new_procedure_starts_as_a_draft(admin_client):
    form = admin_client.get(ADD_URL).context["adminform"].form
    assert form.initial["is_published"] is False
    assert form["is_published"].value() is False


def test_a_draft_saves_without_documents_or_steps_and_can_be_previewed(admin_client, field, commune):
    data = procedure_form(field, [commune], documents=[], steps=[], is_published=None)
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 302, page_errors(response)
    procedure = Procedure.objects.get(national_code="1.000894")
    assert procedure.is_published is False
    change = admin_client.get(reverse("admin:procedures_procedure_change", args=[procedure.pk])).content.decode()
    preview_url = reverse("admin:procedures_procedure_preview", args=[procedure.pk])
    assert preview_url in change and "Xem trước trang của công dân" in change
    preview = admin_client.get(preview_url).content.decode()
    assert "Bản xem trước" in preview and "Thủ tục đăng ký kết hôn" in preview
    # Still invisible to citizens.
    assert admin_client.get(reverse("procedures:detail", args=["1.000894"])).status_code == 404


@pytest.mark.parametrize(
    ("missing", "message"),
    [("documents", "chưa có thành phần hồ sơ"), ("steps", "chưa có bước xử lý")],
)
def test_publishing_is_refused_while_a_mandatory_part_is_missing(admin_client, field, commune, missing, message):
    response = admin_client.post(ADD_URL, procedure_form(field, [commune], **{missing: []}))
    assert response.status_code == 200
    assert message in page_errors(response)
    assert nothing_saved()


def test_publishing_is_refused_without_a_processing_time(admin_client, field, commune):
    response = admin_client.post(ADD_URL, procedure_form(field, [commune], processing_days=""))
    assert response.status_code == 200
    assert nothing_saved()


def test_a_complete_procedure_is_published(admin_client, field, commune):
    response = admin_client.post(ADD_URL, procedure_form(field, [commune]))
    assert response.status_code == 302, page_errors(response)
    assert Procedure.objects.get(national_code="1.000894").is_published


def test_a_provincial_procedure_without_a_national_code_is_entered_as_local(admin_client, field, commune):
    response = admin_client.post(ADD_URL, procedure_form(field, [commune], national_code="", is_local="on"))
    assert response.status_code == 302, page_errors(response)
    procedure = Procedure.objects.get(name="Thủ tục đăng ký kết hôn")
    assert procedure.is_local and procedure.national_code == "DP.000001"
    page = admin_client.get(reverse("procedures:detail", args=[procedure.national_code])).content.decode()
    assert "Thủ tục riêng của địa phương (cấp tỉnh)" in page


def test_no_national_code_and_not_local_is_refused_clearly(admin_client, field, commune):
    response = admin_client.post(ADD_URL, procedure_form(field, [commune], national_code=""))
    assert response.status_code == 200
    assert "đánh dấu “thủ tục riêng của địa phương”" in page_errors(response)
    assert nothing_saved()


def test_export_and_import_have_their_own_buttons_and_export_gives_the_catalogue(admin_client, field):
    procedure = ProcedureFactory(field=field, national_code="1.001193")
    RequiredDocumentFactory(procedure=procedure)
    page = admin_client.get(reverse("admin:procedures_procedure_changelist")).content.decode()
    export_url = reverse("admin:procedures_procedure_export")
    assert f'href="{export_url}"' in page and reverse("admin:procedures_procedure_import") in page
    response = admin_client.get(export_url)
    assert response["Content-Disposition"].startswith("attachment")
    assert [p["national_code"] for p in json.loads(response.content)["procedures"]] == ["1.001193"]


def test_the_form_fields_section_and_its_add_button_use_one_name(admin_client):
    page = admin_client.get(ADD_URL).content.decode()
    assert "Trường thông tin tờ khai" in page
    assert "trường thông tin trên tờ khai" not in page.lower()
