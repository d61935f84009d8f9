"""A local stand-in for VNeID, for development, tests and demonstrations.

Its "authorization page" is our own view `accounts:sandbox_idp_authorize`, where a tester picks or
types a demo identity and approves. The code handed back to the callback is the approved claims
and the nonce, signed with a TimestampSigner and valid for five minutes, so the exchange needs no
server-side store. The code is signed, not encrypted: it carries the demo identity in the callback
URL, which is acceptable only because this provider serves fictional people and never production.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.core import signing
from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _

from ..constants import Gender
from .base import IdentityClaims, IdentityProvider, IdentityProviderError
from .registry import register

CODE_MAX_AGE_SECONDS = 300
_SALT = "portal.accounts.providers.sandbox.code"

# Fictional citizens whose numbers pass the structural check (province, century/gender, birth year).
DEMO_IDENTITIES = [
    IdentityClaims(
        cccd="037090001234",  # 037 Ninh Bình, 0 = 1900s male, 90 = 1990
        full_name="Nguyễn Văn An",
        date_of_birth=datetime.date(1990, 5, 12),
        gender=Gender.MALE,
        phone="0912000001",
        email="nguyen.van.an@example.vn",
        identity_level=2,
    ),
    IdentityClaims(
        cccd="001195004321",  # 001 Hà Nội, 1 = 1900s female, 95 = 1995
        full_name="Trần Thị Bình",
        date_of_birth=datetime.date(1995, 11, 3),
        gender=Gender.FEMALE,
        identity_level=2,
    ),
    IdentityClaims(
        cccd="079303006789",  # 079 TP Hồ Chí Minh, 3 = 2000s female, 03 = 2003
        full_name="Lê Thị Cúc",
        date_of_birth=datetime.date(2003, 2, 20),
        gender=Gender.FEMALE,
        identity_level=1,
    ),
]


def _claims_to_dict(claims: IdentityClaims) -> dict:
    return {
        "cccd": claims.cccd,
        "name": claims.full_name,
        "birthdate": claims.date_of_birth.isoformat() if claims.date_of_birth else "",
        "gender": claims.gender,
        "phone": claims.phone,
        "email": claims.email,
        "level": claims.identity_level,
    }


def _claims_from_dict(data: dict) -> IdentityClaims:
    birthdate = data.get("birthdate") or ""
    return IdentityClaims(
        cccd=str(data["cccd"]),
        full_name=str(data.get("name", "")),
        date_of_birth=datetime.date.fromisoformat(birthdate) if birthdate else None,
        gender=str(data.get("gender", "")),
        phone=str(data.get("phone", "")),
        email=str(data.get("email", "")),
        identity_level=int(data.get("level", 1)),
    )


@register
class SandboxProvider(IdentityProvider):
    name = "sandbox"
    label = _("VNeID (môi trường thử nghiệm)")

    def authorization_url(self, request: HttpRequest, state: str, nonce: str) -> str:
        return f"{reverse('accounts:sandbox_idp_authorize')}?{urlencode({'state': state, 'nonce': nonce})}"

    @staticmethod
    def issue_code(claims: IdentityClaims, nonce: str) -> str:
        """The code the sandbox authorization page hands to the callback once the tester approves."""
        payload = {"claims": _claims_to_dict(claims), "nonce": nonce}
        return signing.TimestampSigner(salt=_SALT).sign_object(payload, compress=True)

    def exchange_code(self, request: HttpRequest, code: str, nonce: str) -> IdentityClaims:
        try:
            payload = signing.TimestampSigner(salt=_SALT).unsign_object(code, max_age=CODE_MAX_AGE_SECONDS)
        except signing.SignatureExpired as exc:
            raise IdentityProviderError("sandbox code expired") from exc
        except signing.BadSignature as exc:
            raise IdentityProviderError("sandbox code signature invalid") from exc
        if not isinstance(payload, dict) or not constant_time_compare(str(payload.get("nonce", "")), nonce):
            raise IdentityProviderError("sandbox code issued for another nonce")
        try:
            return _claims_from_dict(payload["claims"])
        except (KeyError, TypeError, ValueError) as exc:
            raise IdentityProviderError("sandbox code carries malformed claims") from exc
