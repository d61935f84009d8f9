"""Agency administrators configure their own agencies' procedures and staff, nothing else."""

import pytest
from django.urls import reverse

from portal.accounts.constants import Role
from portal.accounts.models import Membership, User
from procedures.models import Procedure
from tests.factories import PASSWORD, AgencyFactory, FieldFactory, OfficerFactory, ProcedureFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scope():
    province = AgencyFactory(name="UBND tỉnh", identifier="000.00.00.H40")
    centre = AgencyFactory(name="Trung tâm Phục vụ hành chính công", parent=province, identifier="000.00.01.H40")
    unit = AgencyFactory(name="Chi nhánh Hoa Lư", parent=centre, identifier="000.01.01.H40")
    other = AgencyFactory(name="Sở Xây dựng", parent=province, identifier="000.00.05.H40")
    admin_user = OfficerFactory(role=Role.AGENCY_ADMIN, membership__agency=centre, username="qtcq", is_staff=True)
    return {
        "admin": admin_user,
        "centre": centre,
        "unit": unit,
        "other": other,
        "own": ProcedureFactory(name="Thủ tục của trung tâm", agencies=[unit]),
        "foreign": ProcedureFactory(name="Thủ tục của Sở Xây dựng", agencies=[other]),
    }


def test_agency_admin_sees_only_procedures_of_their_agencies(client, scope):
    client.force_login(scope["admin"])
    page = client.get(reverse("admin:procedures_procedure_changelist")).content.decode()
    assert "Thủ tục của trung tâm" in page
    assert "Thủ tục của Sở Xây dựng" not in page
    assert client.get(reverse("admin:procedures_procedure_change", args=[scope["own"].pk])).status_code == 200
    foreign = client.get(reverse("admin:procedures_procedure_change", args=[scope["foreign"].pk]))
    assert foreign.status_code == 302  # Django's admin answers "does not exist" by going back to the index


def test_agency_admin_adds_a_procedure_for_their_unit(client, scope):
    client.force_login(scope["admin"])
    field = FieldFactory()
    data = {
        "national_code": "1.234567",
        "name": "Thủ tục mới",
        "field": field.pk,
        "agencies": [scope["unit"].pk],
        "level": "toan_trinh",
        "applicant_type": "individual",
        # Saved as a draft: without documents and steps it may not be published (issue 11, point 12).
        "processing_days": "3",
        "cutoff_time": "16:00",
        "channel_online": "on",
        "result_type": "Giấy xác nhận",
    }
    for prefix in ("documents", "form_fields", "fees", "steps"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = client.post(reverse("admin:procedures_procedure_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Procedure.objects.get(national_code="1.234567").versions.count() == 1


def test_agency_admin_cannot_attach_a_procedure_to_another_agency(client, scope):
    client.force_login(scope["admin"])
    field = FieldFactory()
    data = {
        "national_code": "1.234568",
        "name": "Thủ tục lấn quyền",
        "field": field.pk,
        "agencies": [scope["other"].pk],
        "level": "toan_trinh",
        "applicant_type": "individual",
        "processing_days": "3",
        "cutoff_time": "16:00",
        "channel_online": "on",
        "result_type": "Giấy xác nhận",
    }
    for prefix in ("documents", "form_fields", "fees", "steps"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = client.post(reverse("admin:procedures_procedure_add"), data)
    assert response.status_code == 200
    assert not Procedure.objects.filter(national_code="1.234568").exists()


def test_only_system_administrators_import_a_catalogue(client, scope):
    client.force_login(scope["admin"])
    response = client.get(reverse("admin:procedures_procedure_import"))
    assert response.status_code == 302
    assert "Nhập từ tệp JSON" not in client.get(reverse("admin:procedures_procedure_changelist")).content.decode()


def test_agency_admin_creates_an_officer_of_their_agency_and_never_sees_citizens(client, scope):
    UserFactory(username="037192004517", full_name="Công Dân Riêng Tư")
    client.force_login(scope["admin"])
    listing = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "Công Dân Riêng Tư" not in listing
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "motcua2",
            "full_name": "Cán Bộ Mới",
            "email": "motcua2@example.vn",
            "agency": scope["unit"].pk,
            "role": Role.RECEPTION,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    officer = User.objects.get(username="motcua2")
    assert Membership.objects.filter(user=officer, agency=scope["unit"], role=Role.RECEPTION).exists()
    assert officer.is_staff is False


def test_agency_admin_cannot_assign_staff_outside_their_agencies(client, scope):
    client.force_login(scope["admin"])
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "xaydung1",
            "full_name": "Cán Bộ Sở Khác",
            "email": "xd@example.vn",
            "agency": scope["other"].pk,
            "role": Role.RECEPTION,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="xaydung1").exists()


def test_agency_admin_adds_units_only_below_their_agencies(client, scope):
    client.force_login(scope["admin"])
    url = reverse("admin:procedures_agency_add")
    outside = client.post(
        url,
        {
            "name": "Đơn vị lạc chỗ",
            "kind": "other",
            "parent": scope["other"].pk,
            "identifier": "000.02.05.H40",
            "is_active": "on",
        },
    )
    assert outside.status_code == 200
    assert "Chỉ thêm hoặc chuyển đơn vị" in outside.content.decode()
    inside = client.post(
        url,
        {
            "name": "Quầy số 2",
            "kind": "other",
            "parent": scope["unit"].pk,
            "identifier": "000.02.01.H40",
            "is_active": "on",
        },
    )
    assert inside.status_code == 302


def test_an_officer_without_admin_role_cannot_enter_the_admin(client, scope):
    officer = OfficerFactory(role=Role.RECEPTION, membership__agency=scope["unit"])
    client.force_login(officer)
    assert client.get(reverse("admin:index")).status_code == 302
