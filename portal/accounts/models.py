"""Accounts: citizens (and organisations) and the staff of agencies.

A citizen is a user without memberships. Staff hold one Membership per (agency, role) and see only
the work of those agencies; system administrators are superusers.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .cccd import validate_cccd
from .constants import Gender, Role

phone_validator = RegexValidator(
    r"^0\d{9,10}$", _("Số điện thoại gồm 10 hoặc 11 chữ số, bắt đầu bằng số 0, ví dụ 0912345678.")
)


def display_name(full_name: str, first_name: str, last_name: str, username: str) -> str:
    """The name a person is shown by: the full name, else first and last name, else the username.

    User.get_full_name, and the queue rows read as values() (no User instance), all go through it.
    """
    return full_name or f"{first_name} {last_name}".strip() or username


class User(AbstractUser):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    full_name = models.CharField(_("họ và tên"), max_length=255, blank=True)
    cccd = models.CharField(
        _("số định danh cá nhân"), max_length=12, unique=True, null=True, blank=True, validators=[validate_cccd]
    )
    phone = models.CharField(
        _("số điện thoại"), max_length=11, unique=True, null=True, blank=True, validators=[phone_validator]
    )
    date_of_birth = models.DateField(_("ngày sinh"), null=True, blank=True)
    gender = models.CharField(_("giới tính"), max_length=10, choices=Gender.choices, blank=True)
    address = models.CharField(_("địa chỉ"), max_length=255, blank=True)
    # Identity assurance level from the identity provider (VNeID level 1 or 2), 0 for local accounts.
    identity_level = models.PositiveSmallIntegerField(_("mức định danh"), default=0)

    objects = UserManager()

    class Meta:
        verbose_name = _("người dùng")
        verbose_name_plural = _("người dùng")
        constraints = [
            # Unique only when set: blank values are stored as NULL.
            models.CheckConstraint(condition=~Q(cccd=""), name="user_cccd_null_not_blank"),
            models.CheckConstraint(condition=~Q(phone=""), name="user_phone_null_not_blank"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    def save(self, *args, **kwargs) -> None:
        self.cccd = self.cccd or None
        self.phone = self.phone or None
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return display_name(self.full_name, self.first_name, self.last_name, self.username)

    def membership_roles(self) -> frozenset[str]:
        """The roles of the user's memberships, looked up once per user object (one request).

        A user read with its session has them already (portal.accounts.memberships keeps them under
        "_officer_memberships", keyed by role), as officer requests do (remember_memberships): then no
        query at all.
        """
        remembered = self.__dict__.get("_officer_memberships")
        if remembered is not None:
            return frozenset(remembered)
        if "_membership_roles" not in self.__dict__:
            self.__dict__["_membership_roles"] = frozenset(self.memberships.values_list("role", flat=True))
        return self.__dict__["_membership_roles"]

    @property
    def is_officer(self) -> bool:
        # A community digital helper's membership at a commune makes nobody an officer of it.
        return bool(self.membership_roles() - {Role.DIGITAL_HELPER})

    @property
    def is_digital_helper(self) -> bool:
        return Role.DIGITAL_HELPER in self.membership_roles()

    def roles(self) -> set[str]:
        roles = set(self.memberships.values_list("role", flat=True))
        if self.is_superuser:
            roles.add(Role.SYSTEM_ADMIN)
        return roles or {Role.CITIZEN}

    def agency_ids(self, role: str | None = None) -> set[int]:
        """Agencies whose work this user sees: those of their memberships and every unit below them.

        A user read with its session, or an officer request, has them already
        (portal.accounts.memberships, dossiers.selectors.remember_memberships): no query then.
        """
        from procedures.models import Agency

        remembered = self.__dict__.get("_officer_memberships")
        if remembered is not None:
            if role:
                return set(remembered.get(role, ()))
            return set().union(*remembered.values())
        memberships = self.memberships.select_related("agency")
        if role:
            memberships = memberships.filter(role=role)
        query = Q(pk__in=[])
        for membership in memberships:
            query |= Q(path__startswith=membership.agency.path)
        return set(Agency.objects.filter(query).values_list("pk", flat=True))


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("cán bộ"))
    agency = models.ForeignKey(
        "procedures.Agency", on_delete=models.PROTECT, related_name="memberships", verbose_name=_("cơ quan")
    )
    role = models.CharField(
        _("vai trò"),
        max_length=20,
        choices=[(r.value, r.label) for r in Role if r not in (Role.CITIZEN, Role.SYSTEM_ADMIN)],
    )
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)

    class Meta:
        verbose_name = _("phân công cán bộ")
        verbose_name_plural = _("phân công cán bộ")
        constraints = [
            models.UniqueConstraint(fields=["user", "agency", "role"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.agency}"


class AccountEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("account events are append-only")

    def delete(self):
        raise PermissionError("account events are append-only")


class AccountEvent(models.Model):
    """The audit trail of accounts: who changed whose account, access, password or second factor, and the
    person's own data exports and erasure.

    Append-only (here and, on PostgreSQL, by a trigger). People are recorded by public id and name
    rather than by foreign key, so that deleting an account never has to touch its history.
    """

    class Action(models.TextChoices):
        USER_CREATED = "user_created", _("Tạo tài khoản")
        USER_CHANGED = "user_changed", _("Sửa tài khoản")
        USER_DELETED = "user_deleted", _("Xóa tài khoản")
        MEMBERSHIP_ADDED = "membership_added", _("Thêm phân công")
        MEMBERSHIP_CHANGED = "membership_changed", _("Sửa phân công")
        MEMBERSHIP_REMOVED = "membership_removed", _("Bỏ phân công")
        PASSWORD_RESET_SENT = "password_reset_sent", _("Gửi liên kết đặt lại mật khẩu")
        PASSWORD_SET = "password_set", _("Quản trị hệ thống đặt mật khẩu")
        OTP_ENROLLED = "otp_enrolled", _("đăng ký xác thực hai lớp")
        OTP_RECOVERY_USED = "otp_recovery_used", _("dùng mã khôi phục")
        OTP_RESET = "otp_reset", _("đặt lại xác thực hai lớp")
        DATA_EXPORTED = "data_exported", _("tải dữ liệu cá nhân")
        DELETION_REQUESTED = "deletion_requested", _("yêu cầu xóa dữ liệu cá nhân")
        ACCOUNT_ERASED = "account_erased", _("xóa dữ liệu tài khoản")

    action = models.CharField(_("thao tác"), max_length=30, choices=Action.choices)
    actor_public_id = models.UUIDField(_("người thực hiện"), null=True, blank=True)
    actor_name = models.CharField(_("tên người thực hiện"), max_length=255, blank=True)
    subject_public_id = models.UUIDField(_("tài khoản"), db_index=True)
    subject_username = models.CharField(_("tên đăng nhập"), max_length=150)
    # Names of the changed fields, agency and role of a membership: never a password or its hash.
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("thời điểm"), auto_now_add=True, db_index=True)

    objects = AccountEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("nhật ký quản trị tài khoản")
        verbose_name_plural = _("nhật ký quản trị tài khoản")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} – {self.subject_username}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("account events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("account events are append-only")


class Session(AbstractBaseSession):
    """A session, with the id of its user in a column of its own (SESSION_ENGINE portal.accounts.sessions).

    django.contrib.sessions keeps the user's id only inside the signed data, so every logged-in
    request read the session and then the user: two statements. With the id in a column, both come
    in one (portal.accounts.sessions.SessionStore.load). A user deleted takes their sessions along.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="+")

    class Meta(AbstractBaseSession.Meta):
        verbose_name = _("phiên đăng nhập")
        verbose_name_plural = _("phiên đăng nhập")

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore

        return SessionStore
