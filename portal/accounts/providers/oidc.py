"""A generic OpenID Connect authorization-code client, the shape integrators describe for VNeID SSO.

The real VNeID integration specification (endpoints, claim names) was not found, so everything
comes from the issuer's `/.well-known/openid-configuration` and the claim mapping below follows
OIDC Core with a `cccd` claim preferred over `sub`. Only the standard library talks to the network.

The ID token's signature is verified with joserfc (the JOSE library of the Authlib project)
against the issuer's published JWKS (cached, fetched again once when a token names an unknown key,
so key rotation works), with an algorithm allow-list (RS256 and ES256 by default: never `none`,
never an HMAC algorithm keyed with a public key); iss, aud (and azp), exp and nonce are checked
too. The identity (sub, cccd) and the assurance level (acr) are read from the verified token only:
userinfo may add contact details, never raise the level. PKCE (RFC 7636) is added with a verifier
derived from the nonce and the secret key, so no extra state is needed in the session.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
from collections.abc import Callable, Collection
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urlsplit
from urllib.request import Request, urlopen

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ..constants import Gender
from .base import IdentityClaims, IdentityProvider, IdentityProviderError, IdentityProviderUnavailable
from .registry import register

TIMEOUT_SECONDS = 10
MAX_RESPONSE_BYTES = 1024 * 1024
DISCOVERY_CACHE_SECONDS = 3600
JWKS_CACHE_SECONDS = 3600
# Asymmetric algorithms only: a symmetric (HS*) algorithm would let anyone holding the public key
# forge tokens, and "none" would need no key at all.
DEFAULT_ALGORITHMS = ("RS256", "ES256")
_ASYMMETRIC_KEY_TYPES = {"RSA", "EC"}
# Claims that decide who the person is and how sure we are: from the signed token, never userinfo.
_TOKEN_ONLY_CLAIMS = ("sub", "cccd", "acr")
CLOCK_SKEW_SECONDS = 60
DEFAULT_SCOPES = "openid profile email phone"

_GENDERS = {
    "male": Gender.MALE,
    "m": Gender.MALE,
    "nam": Gender.MALE,
    "female": Gender.FEMALE,
    "f": Gender.FEMALE,
    "nữ": Gender.FEMALE,
}
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def _b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _b64url_encode(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode("ascii")


def code_verifier_for(nonce: str) -> str:
    """The PKCE verifier of one login: 64 characters only this server can compute from the nonce."""
    return salted_hmac("portal.accounts.oidc.pkce", nonce, algorithm="sha256").hexdigest()


def _identity_level(acr) -> int:
    """VNeID level from the `acr` claim ("2", "level2", "urn:...:loa:2"); a VNeID account is at least level 1."""
    match = re.search(r"(\d+)\s*$", str(acr or ""))
    return 2 if match and int(match.group(1)) >= 2 else 1


def _phone(value) -> str:
    digits = re.sub(r"[\s.\-()]", "", str(value or ""))
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    return digits


def _birthdate(value) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _key_set(jwks: dict) -> KeySet:
    """The JWKS's public RSA and EC keys; any other key (oct, private parts) is left out."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list):
        raise IdentityProviderUnavailable("JWKS has no keys list")
    public = [
        {name: value for name, value in key.items() if name not in {"d", "p", "q", "dp", "dq", "qi"}}
        for key in keys
        if isinstance(key, dict) and key.get("kty") in _ASYMMETRIC_KEY_TYPES and key.get("use", "sig") == "sig"
    ]
    if not public:
        raise IdentityProviderUnavailable("JWKS has no usable signing key")
    try:
        return KeySet.import_key_set({"keys": public})
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise IdentityProviderUnavailable(f"JWKS is malformed: {exc.__class__.__name__}") from exc


def _token_header(id_token: str) -> dict:
    try:
        header = json.loads(_b64url_decode(id_token.split(".", 1)[0]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise IdentityProviderError("id_token header is not JSON") from exc
    if not isinstance(header, dict):
        raise IdentityProviderError("id_token header is not an object")
    return header


def verify_id_token(
    id_token: str,
    *,
    jwks: Callable[[bool], dict],
    issuer: str,
    audience: str,
    nonce: str,
    algorithms: Collection[str] = DEFAULT_ALGORITHMS,
    leeway: int = CLOCK_SKEW_SECONDS,
) -> dict:
    """The ID token's claims once its signature, algorithm, iss, aud/azp, exp and nonce are verified.

    `jwks(refresh)` returns the issuer's key set; it is asked again with refresh=True once when the
    token names a key the cached set lacks. Raises IdentityProviderError for any token it refuses.
    """
    if id_token.count(".") != 2:
        raise IdentityProviderError("id_token is not a JWS compact serialization")
    header = _token_header(id_token)
    algorithm = header.get("alg")
    if algorithm not in algorithms:
        raise IdentityProviderError(f"id_token algorithm not allowed: {str(algorithm)[:10]}")
    keys = _key_set(jwks(False))
    kid = header.get("kid")
    if kid and not any(key.kid == kid for key in keys.keys):
        keys = _key_set(jwks(True))
    try:
        token = jwt.decode(id_token, keys, algorithms=list(algorithms))
    except JoseError as exc:
        raise IdentityProviderError(f"id_token signature invalid: {exc.__class__.__name__}") from exc
    except (ValueError, TypeError) as exc:
        raise IdentityProviderError("id_token is malformed") from exc
    claims = token.claims
    if str(claims.get("iss", "")).rstrip("/") != issuer.rstrip("/"):
        raise IdentityProviderError("id_token issued by another issuer")
    audience_claim = claims.get("aud")
    audiences = audience_claim if isinstance(audience_claim, list) else [audience_claim]
    if audience not in audiences or (len(audiences) > 1 and claims.get("azp") != audience):
        raise IdentityProviderError("id_token issued for another client")
    registry = jwt.JWTClaimsRegistry(leeway=leeway, exp={"essential": True}, sub={"essential": True})
    try:
        registry.validate(claims)
    except JoseError as exc:
        reason = "expired" if exc.__class__.__name__ == "ExpiredTokenError" else exc.__class__.__name__
        raise IdentityProviderError(f"id_token refused: {reason}") from exc
    if not constant_time_compare(str(claims.get("nonce", "")), nonce):
        raise IdentityProviderError("id_token issued for another nonce")
    return claims


def map_claims(claims: dict) -> IdentityClaims:
    """IdentityClaims from the merged ID token and userinfo claims."""
    name = claims.get("name") or " ".join(
        str(claims[key]) for key in ("family_name", "middle_name", "given_name") if claims.get(key)
    )
    email = "" if claims.get("email_verified") is False else str(claims.get("email") or "").strip().lower()
    return IdentityClaims(
        cccd=str(claims.get("cccd") or claims.get("sub") or "").strip(),
        full_name=str(name or "").strip(),
        date_of_birth=_birthdate(claims.get("birthdate")),
        gender=_GENDERS.get(str(claims.get("gender") or "").strip().lower(), ""),
        phone=_phone(claims.get("phone_number")),
        email=email,
        identity_level=_identity_level(claims.get("acr")),
    )


@register
class OidcProvider(IdentityProvider):
    name = "oidc"
    label = _("Tài khoản định danh điện tử VNeID")

    def __init__(self, issuer: str | None = None, client_id: str | None = None, client_secret: str | None = None):
        self.issuer = (issuer or settings.OIDC_ISSUER or "").rstrip("/")
        self.client_id = client_id or settings.OIDC_CLIENT_ID or ""
        self.client_secret = client_secret or settings.OIDC_CLIENT_SECRET or ""

    # --- the interface ----------------------------------------------------------------------------

    def authorization_url(self, request: HttpRequest, state: str, nonce: str) -> str:
        config = self._configuration()
        challenge = _b64url_encode(hashlib.sha256(code_verifier_for(nonce).encode("ascii")).digest())
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self._redirect_uri(request),
            "scope": getattr(settings, "OIDC_SCOPES", "") or DEFAULT_SCOPES,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        endpoint = config["authorization_endpoint"]
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"

    def exchange_code(self, request: HttpRequest, code: str, nonce: str) -> IdentityClaims:
        config = self._configuration()
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self._redirect_uri(request),
            "code_verifier": code_verifier_for(nonce),
        }
        headers = {}
        methods = config.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if "client_secret_basic" in methods:
            pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        else:
            data.update(client_id=self.client_id, client_secret=self.client_secret)
        tokens = self._request_json(config["token_endpoint"], "token", data=data, headers=headers)
        id_token, access_token = tokens.get("id_token"), tokens.get("access_token")
        if not id_token:
            raise IdentityProviderError("token endpoint returned no id_token")
        claims = self._validated_id_token_claims(str(id_token), nonce)
        userinfo_endpoint = config.get("userinfo_endpoint")
        if userinfo_endpoint and access_token:
            userinfo = self._request_json(
                userinfo_endpoint, "userinfo", headers={"Authorization": f"Bearer {access_token}"}
            )
            # OIDC Core 5.3.2: userinfo of another subject must not be used.
            if str(userinfo.get("sub", "")) != str(claims.get("sub", "")):
                raise IdentityProviderError("userinfo sub differs from the id_token sub")
            verified = {name: claims[name] for name in _TOKEN_ONLY_CLAIMS if name in claims}
            claims = {
                **claims,
                **{k: v for k, v in userinfo.items() if k not in _TOKEN_ONLY_CLAIMS},
                **verified,
            }
        return map_claims(claims)

    # --- helpers ----------------------------------------------------------------------------------

    def _require_settings(self) -> None:
        if not (self.issuer and self.client_id and self.client_secret):
            raise IdentityProviderUnavailable(
                "IDENTITY_PROVIDER=oidc needs OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET."
            )

    def _redirect_uri(self, request: HttpRequest) -> str:
        configured = getattr(settings, "OIDC_REDIRECT_URI", "")
        return configured or request.build_absolute_uri(reverse("accounts:idp_callback"))

    def _configuration(self) -> dict:
        self._require_settings()
        key = "accounts.oidc.discovery." + hashlib.sha256(self.issuer.encode()).hexdigest()
        config = cache.get(key)
        if config is None:
            config = self._request_json(f"{self.issuer}/.well-known/openid-configuration", "discovery")
            # OIDC Discovery 4.3: the document must name the issuer it was fetched from.
            if str(config.get("issuer", "")).rstrip("/") != self.issuer:
                raise IdentityProviderUnavailable("discovery document names another issuer")
            if not config.get("authorization_endpoint") or not config.get("token_endpoint"):
                raise IdentityProviderUnavailable("discovery document lacks authorization or token endpoint")
            cache.set(key, config, DISCOVERY_CACHE_SECONDS)
        return config

    def _jwks(self, refresh: bool) -> dict:
        """The issuer's key set, cached; refresh=True fetches it again (a rotated key)."""
        uri = self._configuration().get("jwks_uri")
        if not uri:
            raise IdentityProviderUnavailable("discovery document lacks jwks_uri")
        key = "accounts.oidc.jwks." + hashlib.sha256(uri.encode()).hexdigest()
        jwks = None if refresh else cache.get(key)
        if jwks is None:
            jwks = self._request_json(uri, "jwks")
            _key_set(jwks)  # refuse to cache a key set that cannot be used
            cache.set(key, jwks, JWKS_CACHE_SECONDS)
        return jwks

    def _validated_id_token_claims(self, id_token: str, nonce: str) -> dict:
        algorithms = getattr(settings, "OIDC_ALGORITHMS", None) or DEFAULT_ALGORITHMS
        return verify_id_token(
            id_token,
            jwks=self._jwks,
            issuer=self.issuer,
            audience=self.client_id,
            nonce=nonce,
            algorithms=[alg for alg in algorithms if alg in {"RS256", "RS384", "RS512", "ES256", "ES384", "PS256"}],
        )

    def _request_json(self, url: str, what: str, *, data: dict | None = None, headers: dict | None = None) -> dict:
        parts = urlsplit(url)
        # Credentials and tokens travel only over TLS; plain HTTP only to a provider on this machine.
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS):
            raise IdentityProviderUnavailable(f"{what} endpoint is not https")
        body = urlencode(data).encode("ascii") if data is not None else None
        request = Request(url, data=body, headers={"Accept": "application/json", **(headers or {})})  # noqa: S310
        try:
            with urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - scheme checked above
                payload = response.read(MAX_RESPONSE_BYTES + 1)
        except HTTPError as exc:
            raise IdentityProviderUnavailable(f"{what} endpoint answered HTTP {exc.code}") from exc
        except (URLError, OSError) as exc:
            raise IdentityProviderUnavailable(f"{what} endpoint unreachable: {exc.__class__.__name__}") from exc
        if len(payload) > MAX_RESPONSE_BYTES:
            raise IdentityProviderError(f"{what} response too large")
        try:
            value = json.loads(payload)
        except ValueError as exc:
            raise IdentityProviderError(f"{what} response is not JSON") from exc
        if not isinstance(value, dict):
            raise IdentityProviderError(f"{what} response is not a JSON object")
        return value
