"""A local stand-in for VNeID, for development, tests and demonstrations.

Its "authorization page" is our own view `accounts:sandbox_idp_authorize`, where a tester picks or
types a demo identity and approves. The code handed back to the callback is the approved claims
and the nonce, signed with a TimestampSigner and valid for five minutes, so the exchange needs no
server-side store. The code is signed, not encrypted: it carries the demo identity in the callback
URL, which is acceptable only because this provider serves fictional people and never production.

Like a real provider, the exchange yields an OpenID Connect ID token signed (ES256) with the
sandbox's own key, published as a JWKS at `accounts:sandbox_idp_jwks`; the identity is read from
that token only after the same verification a real provider's token gets (oidc.verify_id_token),
so the demo and the tests exercise signature, issuer, audience, expiry and nonce checks.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import time
from urllib.parse import urlencode

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _
from joserfc import jwt
from joserfc.jwk import ECKey

from ..constants import Gender
from .base import IdentityClaims, IdentityProvider, IdentityProviderError
from .oidc import map_claims, verify_id_token
from .registry import register

CODE_MAX_AGE_SECONDS = 300
ID_TOKEN_SECONDS = 300
CLIENT_ID = "portal-sandbox"
_SALT = "portal.accounts.providers.sandbox.code"
# P-256 group order: the private scalar must lie in [1, n-1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def issuer() -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + "/accounts/sandbox-idp"


@functools.cache
def _signing_key(secret: str) -> ECKey:
    """The sandbox's ES256 key, derived from SECRET_KEY so every web process signs with the same key."""
    digest = hmac.new(secret.encode(), b"portal.accounts.providers.sandbox.es256", hashlib.sha512).digest()
    scalar = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
    private = ec.derive_private_key(scalar, ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    kid = hashlib.sha256(pem).hexdigest()[:16]
    return ECKey.import_key(pem, parameters={"kid": kid, "use": "sig", "alg": "ES256"})


def signing_key() -> ECKey:
    return _signing_key(settings.SECRET_KEY)


def jwks() -> dict:
    """The public key set this sandbox publishes (what a real provider serves at its jwks_uri)."""
    return {"keys": [signing_key().as_dict(private=False)]}


def issue_id_token(claims: IdentityClaims, nonce: str, **overrides) -> str:
    """An ID token for these claims, signed with the sandbox key (overrides: for tests of refusals)."""
    now = int(time.time())
    payload = {
        "iss": issuer(),
        "aud": CLIENT_ID,
        "sub": claims.cccd,
        "cccd": claims.cccd,
        "name": claims.full_name,
        "birthdate": claims.date_of_birth.isoformat() if claims.date_of_birth else "",
        "gender": claims.gender,
        "phone_number": claims.phone,
        "email": claims.email,
        "acr": f"urn:vneid:loa:{int(claims.identity_level)}",
        "nonce": nonce,
        "iat": now,
        "exp": now + ID_TOKEN_SECONDS,
        **overrides,
    }
    key = signing_key()
    return jwt.encode({"alg": "ES256", "kid": key.kid}, payload, key, algorithms=["ES256"])


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
            approved = _claims_from_dict(payload["claims"])
        except (KeyError, TypeError, ValueError) as exc:
            raise IdentityProviderError("sandbox code carries malformed claims") from exc
        # The sandbox's token endpoint: a signed ID token, then the verification every token gets.
        return self.claims_from_id_token(issue_id_token(approved, nonce), nonce)

    @staticmethod
    def claims_from_id_token(id_token: str, nonce: str) -> IdentityClaims:
        """The identity asserted by a verified sandbox ID token (IdentityProviderError if refused)."""
        verified = verify_id_token(
            id_token, jwks=lambda refresh: jwks(), issuer=issuer(), audience=CLIENT_ID, nonce=nonce
        )
        return map_claims(verified)
