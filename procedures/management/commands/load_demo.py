"""`manage.py load_demo`: a demo province, its catalogue and one account per role, for `make run`.

The data is the new Ninh Bình province after the 2025 reorganisation (procedures/demo/). Running
the command again changes nothing: agencies are matched by identifier and accounts by username,
and both are written only when they differ from the files; the catalogue goes through
procedures_import, which publishes a new version of a procedure only when its content changed.
Passwords are set only when an account is created, so a password changed later is kept.

The accounts share a published password, so the command refuses to run with DEBUG off unless
--force is given.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction

from portal.accounts.cccd import check_cccd_matches
from portal.accounts.constants import Gender, Role
from portal.accounts.models import Membership, User
from procedures.models import Agency, ProcedureVersion
from procedures.services import ImportError_, procedures_import
from procedures.working_days import working_days_load

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
DEMO_PASSWORD = "Demo@2026-dichvucong"  # noqa: S105 - published on purpose, for the demo accounts only
# The demo staff's second factor (TOTP, RFC 6238), published like the password: add it to any
# authenticator app, or `oathtool --totp -b <secret>`. Never used outside the demo data.
DEMO_TOTP_SECRET = "DICHVUCONGDEMOTOTPNINHBINHQUANTR"  # noqa: S105 - published on purpose


def demo_url() -> str:
    """Where `make run` serves the portal: the port is WEB_PORT's (the Procfile binds it)."""
    return f"http://127.0.0.1:{settings.WEB_PORT}/"


PROVINCE_CENTRE = "000.00.01.H40"  # Trung tâm Phục vụ hành chính công tỉnh Ninh Bình
DEMO_COMMUNE = "000.00.41.H40"  # UBND phường Hoa Lư
DEMO_COMMUNE_POLICE = "000.41.10.H40"  # Công an phường Hoa Lư: residence steps of the ward's dossiers

# 037 = birth registered in Ninh Bình, 1 = born in the 1900s and female, 92 = 1992, then a sequence.
CITIZEN_CCCD = "037192004517"

ACCOUNTS: list[dict[str, Any]] = [
    {
        "role": Role.SYSTEM_ADMIN,
        "username": "quantri",
        "fields": {
            "full_name": "Quản trị hệ thống",
            "email": "quantri@example.com",
            "is_staff": True,
            "is_superuser": True,
        },
        "memberships": [],
    },
    {
        "role": Role.AGENCY_ADMIN,
        "username": "quantri.coquan",
        "fields": {"full_name": "Hoàng Thị Ngọc", "email": "quantri.coquan@example.com", "is_staff": True},
        "memberships": [(PROVINCE_CENTRE, Role.AGENCY_ADMIN)],
    },
    {
        "role": Role.RECEPTION,
        "username": "motcua",
        "fields": {"full_name": "Lê Thu Hà", "email": "motcua@example.com"},
        "memberships": [(DEMO_COMMUNE, Role.RECEPTION), (PROVINCE_CENTRE, Role.RECEPTION)],
    },
    {
        "role": Role.SPECIALIST,
        "username": "chuyenvien",
        "fields": {"full_name": "Đỗ Minh Tuấn", "email": "chuyenvien@example.com"},
        "memberships": [(DEMO_COMMUNE, Role.SPECIALIST)],
    },
    {
        # The police officer of the ward: the residence step of its liên thông dossiers (2.000986,
        # 2.002623) runs at the commune police, in parallel with the ward's civil-status step.
        "role": Role.SPECIALIST,
        "username": "congan",
        "fields": {"full_name": "Trịnh Văn Cường", "email": "congan@example.com"},
        "memberships": [(DEMO_COMMUNE_POLICE, Role.SPECIALIST)],
    },
    {
        "role": Role.LEADER,
        "username": "lanhdao",
        "fields": {"full_name": "Vũ Quang Huy", "email": "lanhdao@example.com"},
        "memberships": [(DEMO_COMMUNE, Role.LEADER)],
    },
    {
        "role": Role.DIGITAL_HELPER,
        "username": "hotro",
        "fields": {"full_name": "Phạm Văn Hỗ Trợ", "email": "hotro@example.com"},
        "memberships": [(DEMO_COMMUNE, Role.DIGITAL_HELPER)],
    },
    {
        "role": Role.CITIZEN,
        "username": CITIZEN_CCCD,
        "fields": {
            "full_name": "Nguyễn Thị Mai",
            "cccd": CITIZEN_CCCD,
            "phone": "0915000123",
            "email": "congdan@example.com",
            "date_of_birth": datetime.date(1992, 5, 14),
            "gender": Gender.FEMALE,
            "address": "Phường Hoa Lư, tỉnh Ninh Bình",
        },
        "memberships": [],
    },
]


class Command(BaseCommand):
    help = (
        "Nạp dữ liệu mẫu: cơ quan của tỉnh Ninh Bình, danh mục thủ tục hành chính và một tài khoản cho mỗi "
        "vai trò. Chạy lại nhiều lần không thay đổi gì."
    )

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Không in bảng tài khoản mẫu.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Nạp cả khi DEBUG tắt (các tài khoản mẫu dùng chung một mật khẩu công khai).",
        )

    def handle(self, *args, quiet: bool = False, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Dữ liệu mẫu tạo tài khoản quản trị với mật khẩu công khai nên chỉ nạp khi DEBUG=true. "
                "Thêm --force nếu thật sự muốn nạp vào cơ sở dữ liệu này."
            )
        try:
            password_validation.validate_password(DEMO_PASSWORD)
            with transaction.atomic():
                agencies, agencies_written = load_agencies(DEMO_DIR / "agencies.json")
                users = load_accounts(agencies)
                versions_before = ProcedureVersion.objects.count()
                procedures = procedures_import(
                    (DEMO_DIR / "catalogue.json").read_text(encoding="utf-8"), user=users["quantri"]
                )
                new_versions = ProcedureVersion.objects.count() - versions_before
                load_fee_policies()
                # The Government's working-day changes the holidays library lacks (New Year 2026 bridge).
                working_days_load()
        except ImportError_ as exc:
            raise CommandError("Danh mục thủ tục mẫu không hợp lệ:\n" + "\n".join(exc.messages)) from exc
        except ValidationError as exc:
            raise CommandError("Dữ liệu mẫu không hợp lệ:\n" + "\n".join(exc.messages)) from exc
        if quiet:
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Dữ liệu mẫu tỉnh Ninh Bình: {len(agencies)} cơ quan ({agencies_written} thêm mới hoặc cập nhật), "
                f"{len(procedures)} thủ tục ({new_versions} phiên bản mới), {len(users)} tài khoản."
            )
        )
        self._print_accounts(users)

    def _print_accounts(self, users: dict[str, User]) -> None:
        rows = [("Vai trò", "Tên đăng nhập", "Mật khẩu", "Cơ quan")]
        for spec in ACCOUNTS:
            user = users[spec["username"]]
            agencies = ", ".join(sorted({m.agency.name for m in user.memberships.select_related("agency")}, key=str))
            rows.append((str(spec["role"].label), user.username, DEMO_PASSWORD, agencies or "—"))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        self.stdout.write("")
        for index, row in enumerate(rows):
            line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1]
            self.stdout.write(self.style.MIGRATE_HEADING(line) if index == 0 else line)
        self.stdout.write("")
        self.stdout.write(
            "Công dân cũng đăng nhập được bằng số điện thoại hoặc thư điện tử. Mật khẩu chỉ được đặt khi tạo "
            "tài khoản lần đầu."
        )
        self.stdout.write(
            f"Cán bộ và quản trị cần thêm mã xác thực hai lớp (TOTP): khóa bí mật mẫu {DEMO_TOTP_SECRET} "
            f"(thêm vào ứng dụng xác thực, hoặc `oathtool --totp -b {DEMO_TOTP_SECRET}`)."
        )
        self.stdout.write(self.style.SUCCESS(f"Mở {demo_url()} để dùng thử."))


def _assign(obj: models.Model, values: dict[str, Any]) -> bool:
    """Set the values on obj; whether it is new or any value differs (so that it must be saved)."""
    changed = obj._state.adding
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def load_agencies(path: Path) -> tuple[dict[str, Agency], int]:
    """Create or update the agencies of the file, parents first; returns them by identifier."""
    items = json.loads(path.read_text(encoding="utf-8"))["agencies"]
    identifiers = [item["identifier"] for item in items]
    duplicates = sorted({i for i in identifiers if identifiers.count(i) > 1})
    if duplicates:
        raise CommandError(f"Mã định danh cơ quan trùng trong {path.name}: {', '.join(duplicates)}")
    in_file = set(identifiers)
    loaded: dict[str, Agency] = {}
    written = 0
    pending = list(items)
    while pending:
        # Parents first: an agency is ready once its parent is loaded or lives outside the file.
        # A unit's locality (the commune a police unit serves) is loaded before the unit too.
        ready = [
            i
            for i in pending
            if all(not i.get(key) or i[key] in loaded or i[key] not in in_file for key in ("parent", "locality"))
        ]
        if not ready:
            raise CommandError("Cây cơ quan có vòng lặp: " + ", ".join(i["identifier"] for i in pending))
        for item in ready:
            parent = None
            if item.get("parent"):
                parent = loaded.get(item["parent"]) or Agency.objects.filter(identifier=item["parent"]).first()
                if parent is None:
                    raise CommandError(
                        f"Cơ quan {item['identifier']}: cơ quan cấp trên {item['parent']} không tồn tại."
                    )
            locality = None
            if item.get("locality"):
                locality = loaded.get(item["locality"]) or Agency.objects.filter(identifier=item["locality"]).first()
                if locality is None:
                    raise CommandError(f"Cơ quan {item['identifier']}: địa bàn {item['locality']} không tồn tại.")
            agency = Agency.objects.filter(identifier=item["identifier"]).first() or Agency(
                identifier=item["identifier"]
            )
            values = {
                "name": item["name"],
                "kind": item["kind"],
                "parent_id": parent.pk if parent else None,
                "locality_id": locality.pk if locality else None,
                "address": item.get("address", ""),
                "phone": item.get("phone", ""),
                "email": item.get("email", ""),
                "is_active": item.get("is_active", True),
            }
            if _assign(agency, values):
                agency.parent = parent
                agency.full_clean()
                agency.save()
                written += 1
            loaded[agency.identifier] = agency
        pending = [i for i in pending if i["identifier"] not in loaded]
    return loaded, written


def load_accounts(agencies: dict[str, Agency]) -> dict[str, User]:
    """One account per role; the password is set only when the account is created."""
    users = {}
    for spec in ACCOUNTS:
        fields = spec["fields"]
        if fields.get("cccd"):
            check_cccd_matches(
                fields["cccd"], birth_date=fields.get("date_of_birth"), female=fields.get("gender") == Gender.FEMALE
            )
        user = User.objects.filter(username=spec["username"]).first()
        if user is None:
            user = User(username=spec["username"])
            user.set_password(DEMO_PASSWORD)
        if _assign(user, fields):
            user.full_clean()
            user.save()
        for identifier, role in spec["memberships"]:
            Membership.objects.get_or_create(user=user, agency=agencies[identifier], role=role)
        if user.is_staff or user.is_superuser or spec["memberships"]:
            _enrol_demo_totp(user)
        users[user.username] = user
    return users


def load_fee_policies() -> None:
    """One online discount and the exemptions the law names, as an administrator would set them.

    Illustrative: the rate mirrors Thái Nguyên's 50% cut for online dossiers (domain.md §6); a real
    province enters its council's resolution. Idempotent (matched by name or group).
    """
    import datetime as dt

    from procedures.models import DiscountPolicy, FeeExemption

    DiscountPolicy.objects.get_or_create(
        name="Giảm 50% lệ phí đối với hồ sơ nộp trực tuyến",
        defaults={
            "kind": "percent",
            "value": 50,
            "channel": "online",
            "fee_kind": "le_phi",
            "valid_from": dt.date(2026, 1, 1),
            # Fees with their own online rate in law (residence, Circular 75/2022) keep that rate.
            "skip_channel_rates": True,
            "legal_basis": "Nghị quyết của HĐND tỉnh về mức thu lệ phí đối với hồ sơ trực tuyến (dữ liệu minh họa)",
        },
    )
    for group, proof in [
        ("poor_household", "Giấy chứng nhận hộ nghèo còn hiệu lực"),
        ("disabled", "Giấy xác nhận khuyết tật"),
        ("merit", "Giấy chứng nhận người có công với cách mạng"),
    ]:
        FeeExemption.objects.get_or_create(
            group=group,
            procedure=None,
            field=None,
            defaults={"percent": 100, "proof_required": proof, "legal_basis": "Luật Phí và lệ phí 2015, Điều 10"},
        )


def _enrol_demo_totp(user: User) -> None:
    """Give a demo staff account the published TOTP secret, unless it already has a second factor."""
    import base64

    from django_otp.plugins.otp_totp.models import TOTPDevice

    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return
    key = base64.b32decode(DEMO_TOTP_SECRET).hex()
    TOTPDevice.objects.create(user=user, name="Ứng dụng xác thực (dữ liệu mẫu)", key=key, confirmed=True)
