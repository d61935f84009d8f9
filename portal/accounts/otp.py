"""The second factor for staff (issue 10, point 9): TOTP (RFC 6238) with django-otp, recovery codes.

Officers and administrators see citizens' personal data, so everyone who is staff (a membership,
`is_staff` or a superuser) must prove a time-based one-time password once per session before the
admin, the officer pages or the API answer them. Recovery codes are django-otp static tokens: each
works once. Only a system administrator may reset someone's second factor, and the reset is audited.
"""

from __future__ import annotations

import functools
import logging
import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user, user_has_device
from django_otp.middleware import OTPMiddleware
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .memberships import MEMBERSHIPS_ATTRIBUTE, MEMBERSHIPS_COLUMN, keep_read_memberships, memberships_column_sql
from .models import AccountEvent, User
from .services import account_event_record

logger = logging.getLogger("portal.accounts")

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Ứng dụng xác thực"
RECOVERY_DEVICE_NAME = "Mã khôi phục"
# Paths where staff must have passed the second factor.
PROTECTED_PREFIXES = ("/admin/", "/can-bo/", "/api/")
# The API's schema and docs hold no personal data.
EXEMPT_PREFIXES = ("/api/schema/", "/api/docs/")


# Attributes that IdentifierBackend.get_user reads with the session's user (session_user_get).
TOTP_DEVICE_ATTRIBUTE = "session_totp_device_id"
STATIC_DEVICE_ATTRIBUTE = "session_static_device_id"


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


@functools.cache
def session_device_columns_sql() -> str:
    """The lowest ids of the confirmed TOTP and recovery-code devices of the user `u`.

    Shared by session_user_get and the session engine's load (portal.accounts.sessions).
    """
    pk = quote(User._meta.pk.column)
    totp, static = (quote(m._meta.db_table) for m in (TOTPDevice, StaticDevice))
    confirmed = "SELECT MIN(d.id) FROM {} d WHERE d.user_id = u.{} AND d.confirmed"
    return (
        f"({confirmed.format(totp, pk)}) AS {TOTP_DEVICE_ATTRIBUTE}, "
        f"({confirmed.format(static, pk)}) AS {STATIC_DEVICE_ATTRIBUTE}"
    )


@functools.cache
def _session_user_sql() -> str:
    user_table, pk = quote(User._meta.db_table), quote(User._meta.pk.column)
    return (
        f"SELECT u.*, {session_device_columns_sql()}, {memberships_column_sql(DEFAULT_DB_ALIAS)} "  # noqa: S608 - names from the models
        f"FROM {user_table} u WHERE u.{pk} = %s"
    )


def session_user_get(user_id):
    """The session's user, with the ids of its confirmed devices and its memberships read in the same statement.

    The lowest id of its confirmed TOTP and of its recovery-code devices, for SessionOTPMiddleware:
    a device deleted or disabled before this request loaded its user is therefore seen by this
    request. Raw SQL, written once: compiling ORM subqueries on each request cost more than the
    query they save.
    """
    user = next(iter(User._default_manager.raw(_session_user_sql(), [user_id])), None)
    if user is not None:
        keep_read_memberships(user, user.__dict__.pop(MEMBERSHIPS_COLUMN))
    return user


class SecondFactorError(Exception):
    """A refused second-factor step; the message is for the person."""


def is_staff_account(user) -> bool:
    """Whether the account sees other people's data: any staff membership, is_staff or superuser.

    No query when the memberships were already remembered for this request.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    remembered = getattr(user, MEMBERSHIPS_ATTRIBUTE, None)
    if remembered is not None:
        return bool(remembered)
    return user.memberships.exists()


def otp_required() -> bool:
    return bool(getattr(settings, "OTP_REQUIRED", True))


def _new_recovery_codes() -> list[str]:
    # 10 characters of base32 (50 bits each), grouped for reading aloud: "abcde-fghij".
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = []
    for _index in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(alphabet) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


@transaction.atomic
def otp_enrolment_start(*, user) -> TOTPDevice:
    """The person's unconfirmed TOTP device (created on first call, reused until confirmed).

    Refused once a confirmed device exists: a second device would be a way round the reset audit.
    """
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise SecondFactorError(_("Tài khoản đã đăng ký xác thực hai lớp."))
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


@transaction.atomic
def otp_enrolment_confirm(*, user, token: str) -> list[str]:
    """Confirm the pending device with a valid code; return the new recovery codes (shown once).

    Writes an OTP_ENROLLED audit row. Raises SecondFactorError for a wrong code.
    """
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise SecondFactorError(_("Chưa bắt đầu đăng ký xác thực hai lớp. Vui lòng tải lại trang."))
    if not device.verify_token(_clean(token)):
        raise SecondFactorError(_("Mã xác thực không đúng hoặc đã hết hạn. Vui lòng nhập mã đang hiện trên ứng dụng."))
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = recovery_codes_replace(user=user)
    account_event_record(subject=user, actor=user, action=AccountEvent.Action.OTP_ENROLLED)
    logger.info("auth.otp.enrolled public_id=%s", user.public_id)
    return codes


def recovery_codes_replace(*, user) -> list[str]:
    """New recovery codes for the person, invalidating the old ones."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = _new_recovery_codes()
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _clean(token: str) -> str:
    return "".join((token or "").split()).lower()


def otp_verify(*, user, token: str):
    """The confirmed device that accepts this code (a recovery code is used up), or None.

    A recovery code used is audited, so the person and the administrators can see it.
    """
    token = _clean(token)
    if not token:
        return None
    for device in devices_for_user(user, confirmed=True):
        if isinstance(device, StaticDevice):
            if device.verify_token(token):  # deletes the token: each code works once
                account_event_record(subject=user, actor=user, action=AccountEvent.Action.OTP_RECOVERY_USED)
                logger.warning("auth.otp.recovery_code_used public_id=%s", user.public_id)
                return device
        elif device.verify_token(token.replace("-", "")):
            return device
    return None


@transaction.atomic
def otp_reset(*, actor, user) -> None:
    """Remove the person's second factor so they enrol again at their next login.

    Only a system administrator (superuser) may do it, never on their own account (another
    administrator must), and every reset writes an OTP_RESET audit row.
    """
    if not actor.is_superuser:
        raise SecondFactorError(_("Chỉ quản trị hệ thống được đặt lại xác thực hai lớp."))
    if actor.pk == user.pk:
        raise SecondFactorError(_("Không tự đặt lại xác thực hai lớp của chính mình; hãy nhờ quản trị viên khác."))
    removed = 0
    for device in devices_for_user(user, confirmed=None):
        device.delete()
        removed += 1
    account_event_record(subject=user, actor=actor, action=AccountEvent.Action.OTP_RESET, data={"devices": removed})
    logger.warning("auth.otp.reset public_id=%s by=%s", user.public_id, actor.public_id)


class SessionOTPMiddleware(OTPMiddleware):
    """django-otp's OTPMiddleware without its query per request for the session's device.

    The device named in the session counts when the query that loaded the session's user found it
    confirmed and belonging to that user (session_user_get): the same guarantee as
    django-otp's own check (Device.from_persistent_id, then user and confirmed), one round trip
    fewer. request.user.otp_device is then that device, read from the database only if used. Any
    other case (a user loaded elsewhere, a second device, an unknown kind, async requests) takes
    django-otp's path unchanged, which drops a device that no longer verifies from the session.
    """

    _known_devices = ((TOTPDevice, TOTP_DEVICE_ATTRIBUTE), (StaticDevice, STATIC_DEVICE_ATTRIBUTE))

    def _verify_user_sync(self, request, user):
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY) if user.is_authenticated else None
        device = self._device_known_from_user_query(user, persistent_id) if persistent_id else None
        if device is None:
            return super()._verify_user_sync(request, user)
        self._init_user_fields(user)
        user.otp_device = device
        return user

    def _device_known_from_user_query(self, user, persistent_id: str):
        label, _sep, pk = self._normalize_persistent_id(persistent_id).partition("/")
        for model, attribute in self._known_devices:
            if label == model.model_label():
                known = getattr(user, attribute, None)
                if known is not None and str(known) == pk:
                    return SimpleLazyObject(functools.partial(model.objects.get, pk=known, user_id=user.pk))
        return None


class StaffSecondFactorMiddleware:
    """Staff reach the admin, officer pages and API only after the second factor in this session.

    Needs SessionOTPMiddleware (or django-otp's OTPMiddleware) before it (request.user.is_verified()).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        # Verified first: it costs no query (SessionOTPMiddleware). The staff check after it reads the
        # memberships read with the session (portal.accounts.memberships): no EXISTS either.
        if (
            otp_required()
            and request.path.startswith(PROTECTED_PREFIXES)
            and not request.path.startswith(EXEMPT_PREFIXES)
            and not request.user.is_verified()
            and is_staff_account(request.user)
        ):
            return self._refuse(request)
        return self.get_response(request)

    def _refuse(self, request: HttpRequest):
        enrolled = user_has_device(request.user, confirmed=True)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": _("Cần xác thực hai lớp trước khi dùng API."), "code": "second_factor_required"},
                status=403,
            )
        target = reverse("accounts:otp_verify" if enrolled else "accounts:otp_enrol")
        return redirect(
            f"{target}?{urlencode({'next': request.get_full_path()})}" if request.method == "GET" else target
        )
