"""The demo data of `make run` (manage.py load_demo): a real-looking province that loads twice unchanged."""

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory

import procedures
from portal.accounts.cccd import check_cccd_matches, parse_cccd
from portal.accounts.constants import Gender, Role
from portal.accounts.models import Membership, User
from procedures.constants import AgencyKind, FieldKind, ServiceLevel
from procedures.management.commands.load_demo import ACCOUNTS, CITIZEN_CCCD, DEMO_PASSWORD
from procedures.models import Agency, FeeItem, Field, Procedure, ProcedureVersion, RequiredDocument
from procedures.services import procedures_export

DEMO_DIR = Path(procedures.__file__).resolve().parent / "demo"

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    # pytest-django runs with DEBUG off, where the command refuses to create accounts with a known password.
    settings.DEBUG = True
    call_command("load_demo", quiet=True)


def _log_in(username: str, password: str = DEMO_PASSWORD):
    return authenticate(RequestFactory().post("/"), username=username, password=password)


def _state() -> dict:
    return {
        "agencies": sorted(
            Agency.objects.values_list(
                "identifier", "name", "kind", "parent__identifier", "locality__identifier", "path"
            )
        ),
        "fields": sorted(Field.objects.values_list("code", "name")),
        "procedures": Procedure.objects.count(),
        "versions": sorted(ProcedureVersion.objects.values_list("procedure__national_code", "number")),
        "users": sorted(User.objects.values_list("username", "password", "is_staff", "is_superuser")),
        "memberships": sorted(Membership.objects.values_list("user__username", "agency__identifier", "role")),
        "documents": RequiredDocument.objects.count(),
        "fees": FeeItem.objects.count(),
    }


def test_loads_published_procedures_at_both_service_levels(demo):
    published = Procedure.objects.published()
    assert published.count() >= 20
    assert set(published.values_list("level", flat=True)) == {ServiceLevel.FULL, ServiceLevel.PARTIAL}
    # procedures_import published version 1 of every procedure.
    assert ProcedureVersion.objects.filter(number=1).count() == published.count()
    assert not ProcedureVersion.objects.filter(number__gt=1).exists()


def test_birth_registration_follows_the_domain_rules(demo):
    procedure = Procedure.objects.get(national_code="1.001193")
    assert procedure.name == "Đăng ký khai sinh"
    assert procedure.level == ServiceLevel.FULL
    assert procedure.processing_days == Decimal("0.5")
    assert procedure.cutoff_time.strftime("%H:%M") == "15:00"
    names = [d.name for d in procedure.documents.all()]
    assert any(name.startswith("Tờ khai đăng ký khai sinh") for name in names)
    assert any("Giấy chứng sinh" in name for name in names)
    assert [fee.amount for fee in procedure.fees.all()] == [0]  # free when registered on time
    communes = Agency.objects.filter(kind=AgencyKind.COMMUNE)
    assert communes.count() >= 4
    assert set(procedure.agencies.all()) == set(communes)


def test_other_procedures_carry_the_rules_of_the_domain_notes(demo):
    def get(code):
        return Procedure.objects.get(national_code=code)

    assert get("1.004222").processing_days == Decimal("7")
    assert "CT01" in get("1.004222").documents.first().name
    assert {p.agencies.first().kind for p in map(get, ["1.004222", "1.004194"])} == {AgencyKind.POLICE}
    assert get("1.001612").processing_days == Decimal("3")  # hộ kinh doanh
    assert 200000 in get("2.001417").fees.values_list("amount", flat=True)  # lý lịch tư pháp
    permit = Procedure.objects.get(name="Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ")
    assert permit.processing_days == Decimal("15")
    assert 75000 in permit.fees.values_list("amount", flat=True)
    licence = Procedure.objects.get(name__startswith="Đổi giấy phép lái xe")
    assert list(licence.fees.values_list("amount", flat=True)) == [135000]


def test_agencies_form_one_province_tree(demo):
    province = Agency.objects.get(parent=None)
    assert province.kind == AgencyKind.PROVINCE
    assert province.identifier == "000.00.00.H40"
    assert set(Agency.objects.values_list("path", flat=True)) == set(province.subtree().values_list("path", flat=True))
    assert all(agency.level1_code == "H40" for agency in Agency.objects.all())
    kinds = set(Agency.objects.values_list("kind", flat=True))
    assert {AgencyKind.SERVICE_CENTRE, AgencyKind.DEPARTMENT, AgencyKind.POLICE, AgencyKind.COMMUNE} <= kinds
    police = Agency.objects.get(identifier="000.00.10.H40")
    commune_police = Agency.objects.filter(name__startswith="Công an ").exclude(pk=police.pk)
    assert commune_police.filter(parent=police).count() >= 4


def test_running_twice_changes_nothing_and_accounts_still_log_in(demo):
    before = _state()
    call_command("load_demo", quiet=True)
    assert _state() == before
    for spec in ACCOUNTS:
        user = _log_in(spec["username"])
        assert user is not None, spec["username"]
        assert user.username == spec["username"]


def test_a_password_changed_after_loading_is_kept(demo):
    user = User.objects.get(username="chuyenvien")
    user.set_password("mat-khau-rieng-cua-toi-2026")
    user.save()
    call_command("load_demo", quiet=True)
    assert _log_in("chuyenvien", "mat-khau-rieng-cua-toi-2026") == user
    assert _log_in("chuyenvien") is None


def test_one_account_per_role_with_its_membership(demo):
    admin = User.objects.get(username="quantri")
    assert admin.is_superuser and admin.is_staff
    assert admin.roles() == {Role.SYSTEM_ADMIN}

    agency_admin = User.objects.get(username="quantri.coquan")
    assert agency_admin.is_staff and not agency_admin.is_superuser
    assert list(agency_admin.memberships.values_list("agency__kind", "role")) == [
        (AgencyKind.SERVICE_CENTRE, Role.AGENCY_ADMIN)
    ]

    commune = Agency.objects.get(name="UBND phường Hoa Lư")
    assert commune.kind == AgencyKind.COMMUNE
    for username, role in (("motcua", Role.RECEPTION), ("chuyenvien", Role.SPECIALIST), ("lanhdao", Role.LEADER)):
        officer = User.objects.get(username=username)
        assert not officer.is_staff
        assert Membership.objects.filter(user=officer, agency=commune, role=role).exists()
        assert officer.roles() == {role}
    reception = User.objects.get(username="motcua")
    assert reception.memberships.filter(agency__kind=AgencyKind.SERVICE_CENTRE, role=Role.RECEPTION).exists()

    citizen = User.objects.get(username=CITIZEN_CCCD)
    assert citizen.roles() == {Role.CITIZEN}
    covered = set().union(*(u.roles() for u in User.objects.all()))
    assert covered == set(Role)


def test_the_citizen_has_a_consistent_cccd_and_logs_in_with_any_identifier(demo):
    citizen = User.objects.get(username=CITIZEN_CCCD)
    info = parse_cccd(citizen.cccd)
    assert info.province_name == "Ninh Bình"
    assert info.birth_year == citizen.date_of_birth.year
    assert info.female == (citizen.gender == Gender.FEMALE)
    check_cccd_matches(citizen.cccd, birth_date=citizen.date_of_birth, female=citizen.gender == Gender.FEMALE)
    for identifier in (citizen.cccd, citizen.phone, citizen.email):
        assert _log_in(identifier) == citizen


def test_fees_steps_documents_and_forms_are_consistent(demo):
    assert not FeeItem.objects.filter(amount__lt=0).exists()
    conditional = 0
    for procedure in Procedure.objects.prefetch_related("documents", "form_fields", "fees", "steps"):
        code = procedure.national_code
        steps = list(procedure.steps.all())
        assert steps, code
        assert sum(s.duration_days for s in steps) <= procedure.processing_days, code
        # The dossier workflow receives, forwards between specialist steps, then submits to one leader.
        assert re.fullmatch(r"(reception )?(specialist )+(leader )?", "".join(f"{s.role} " for s in steps)), code
        documents = list(procedure.documents.all())
        assert 2 <= len(documents) <= 5, code
        assert all(d.allowed_type_list == ["pdf", "jpg", "png"] for d in documents), code
        fields = {f.code: f for f in procedure.form_fields.all()}
        assert 3 <= len(fields) <= 8, code
        assert 2 <= len({f.section for f in fields.values()}) <= 3, code
        assert all(f.section for f in fields.values()), code
        for fee in procedure.fees.all():
            if fee.condition_field:
                conditional += 1
                field = fields.get(fee.condition_field)
                assert field is not None and field.kind == FieldKind.CHOICE, (code, fee.name)
                assert fee.condition_value in field.choice_list, (code, fee.name)
                assert fee.applies_to({fee.condition_field: fee.condition_value})
    assert conditional >= 2


def test_building_permit_fee_depends_on_the_area(demo):
    permit = Procedure.objects.get(name="Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ")

    def total(area):
        return sum(fee.amount for fee in permit.fees.all() if fee.applies_to({"khu_vuc": area}))

    assert total("Đô thị") == 75000
    assert total("Nông thôn") == 50000


def test_the_catalogue_file_round_trips_through_export(demo):
    data = json.loads((DEMO_DIR / "catalogue.json").read_text(encoding="utf-8"))
    exported = procedures_export()
    assert exported["format"] == data["format"]
    assert exported["version"] == data["version"]
    assert exported["fields"] == data["fields"]
    by_code = {item["national_code"]: item for item in exported["procedures"]}
    assert set(by_code) == {item["national_code"] for item in data["procedures"]}
    for item in data["procedures"]:
        # Keys the file leaves out take their defaults; every key it gives must come back unchanged.
        assert {key: by_code[item["national_code"]][key] for key in item} == item


def test_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_demo", quiet=True)
    assert not User.objects.exists()
    call_command("load_demo", quiet=True, force=True)
    assert User.objects.filter(username="quantri", is_superuser=True).exists()


def test_prints_the_demo_accounts_and_the_address(settings, capsys):
    settings.DEBUG = True
    call_command("load_demo")
    out = capsys.readouterr().out
    for spec in ACCOUNTS:
        assert spec["username"] in out
    assert DEMO_PASSWORD in out
    assert "http://127.0.0.1:8000/" in out
