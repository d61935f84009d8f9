"""The generic OpenID Connect client, against a stubbed urlopen (no network) serving signed tokens."""

import base64
import datetime
import io
import json
import time
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from portal.accounts.constants import Gender
from portal.accounts.providers import oidc
from portal.accounts.providers.base import IdentityClaims, IdentityProviderError
from portal.accounts.providers.oidc import OidcProvider, code_verifier_for, map_claims

User = get_user_model()

ISSUER = "https://id.example.vn"
CLIENT_ID = "cong-dvc-ninh-binh"
CLIENT_SECRET = "client-secret-for-tests"
CCCD = "037090001234"
DISCOVERY = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{ISSUER}/authorize",
    "token_endpoint": f"{ISSUER}/token",
    "userinfo_endpoint": f"{ISSUER}/userinfo",
    "jwks_uri": f"{ISSUER}/jwks",
}
# The provider's signing key, and another one nobody published.
PROVIDER_KEY = RSAKey.generate_key(2048, parameters={"kid": "provider-1"})
FORGER_KEY = RSAKey.generate_key(2048, parameters={"kid": "provider-1"})
USERINFO = {
    "sub": CCCD,
    "name": "Nguyễn Văn An",
    "birthdate": "1990-05-12",
    "gender": "male",
    "phone_number": "+84912000001",
    "email": "An.Nguyen@Example.vn",
    "acr": "urn:vneid:loa:2",
}


def b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def id_token(key=PROVIDER_KEY, **overrides) -> str:
    claims = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": CCCD,
        "exp": int(time.time()) + 300,
        "nonce": "nonce-1",
        "acr": "urn:vneid:loa:2",
    }
    claims.update(overrides)
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FakeIdP:
    """Answers the discovery, token and userinfo requests; records what it was sent."""

    def __init__(self, *, token=None, userinfo=None, discovery=None, fail=None):
        self.token = token if token is not None else {"access_token": "at-1", "id_token": id_token()}
        self.jwks = {"keys": [PROVIDER_KEY.as_dict(private=False)]}
        self.userinfo = userinfo if userinfo is not None else USERINFO
        self.discovery = discovery if discovery is not None else DISCOVERY
        self.fail = fail
        self.requests = []

    def __call__(self, request, timeout):
        assert timeout
        self.requests.append(request)
        path = urlsplit(request.full_url).path
        if path == self.fail:
            raise HTTPError(request.full_url, 500, "Server Error", {}, None)
        body = {
            "/.well-known/openid-configuration": self.discovery,
            "/token": self.token,
            "/userinfo": self.userinfo,
            "/jwks": self.jwks,
        }[path]
        return FakeResponse(json.dumps(body).encode())

    def request_to(self, path):
        return next(r for r in self.requests if urlsplit(r.full_url).path == path)


@pytest.fixture
def oidc_settings(settings):
    settings.IDENTITY_PROVIDER = "oidc"
    settings.OIDC_ISSUER = ISSUER
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    return settings


@pytest.fixture
def fake_idp(monkeypatch):
    idp = FakeIdP()
    monkeypatch.setattr(oidc, "urlopen", idp)
    return idp


def exchange(nonce="nonce-1"):
    request = RequestFactory().get("/accounts/idp/callback/")
    return OidcProvider().exchange_code(request, "code-1", nonce)


def test_claims_are_mapped_from_id_token_and_userinfo(oidc_settings, fake_idp):
    claims = exchange()

    assert claims == IdentityClaims(
        cccd=CCCD,
        full_name="Nguyễn Văn An",
        date_of_birth=datetime.date(1990, 5, 12),
        gender=Gender.MALE,
        phone="0912000001",
        email="an.nguyen@example.vn",
        identity_level=2,
    )


def test_token_request_carries_the_code_client_credentials_and_pkce_verifier(oidc_settings, fake_idp):
    exchange()

    token_request = fake_idp.request_to("/token")
    assert token_request.get_method() == "POST"
    form = {key: values[0] for key, values in parse_qs(token_request.data.decode()).items()}
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "code-1"
    assert form["redirect_uri"] == "http://testserver/accounts/idp/callback/"
    assert form["code_verifier"] == code_verifier_for("nonce-1")
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token_request.get_header("Authorization") == f"Basic {expected}"
    assert fake_idp.request_to("/userinfo").get_header("Authorization") == "Bearer at-1"


def test_client_secret_post_is_used_when_basic_is_not_offered(oidc_settings, fake_idp):
    fake_idp.discovery = {**DISCOVERY, "token_endpoint_auth_methods_supported": ["client_secret_post"]}

    exchange()

    token_request = fake_idp.request_to("/token")
    form = parse_qs(token_request.data.decode())
    assert form["client_id"] == [CLIENT_ID] and form["client_secret"] == [CLIENT_SECRET]
    assert token_request.get_header("Authorization") is None


def test_authorization_url_points_at_the_discovered_endpoint(oidc_settings, fake_idp):
    request = RequestFactory().get("/accounts/idp/login/")

    url = OidcProvider().authorization_url(request, "state-1", "nonce-1")

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{ISSUER}/authorize"
    params = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["state"] == "state-1"
    assert params["nonce"] == "nonce-1"
    assert params["code_challenge_method"] == "S256"
    assert "openid" in params["scope"].split()
    assert CLIENT_SECRET not in url


@pytest.mark.parametrize(
    ("token_claims", "reason"),
    [
        ({"nonce": "another-nonce"}, "nonce"),
        ({"aud": "another-client"}, "another client"),
        ({"iss": "https://evil.example"}, "another issuer"),
        ({"exp": time.time() - 3600}, "expired"),
    ],
)
def test_id_token_for_another_login_is_refused(oidc_settings, fake_idp, token_claims, reason):
    fake_idp.token = {"access_token": "at-1", "id_token": id_token(**token_claims)}

    with pytest.raises(IdentityProviderError, match=reason):
        exchange()


def test_userinfo_of_another_subject_is_refused(oidc_settings, fake_idp):
    fake_idp.userinfo = {**USERINFO, "sub": "001195004321"}

    with pytest.raises(IdentityProviderError, match="sub"):
        exchange()


def test_discovery_naming_another_issuer_is_refused(oidc_settings, fake_idp):
    fake_idp.discovery = {**DISCOVERY, "issuer": "https://evil.example"}

    with pytest.raises(IdentityProviderError, match="issuer"):
        exchange()


def test_provider_http_errors_become_identity_provider_errors(oidc_settings, fake_idp):
    fake_idp.fail = "/token"

    with pytest.raises(IdentityProviderError, match="HTTP 500"):
        exchange()


def test_plain_http_issuer_is_refused(oidc_settings, fake_idp):
    oidc_settings.OIDC_ISSUER = "http://id.example.vn"

    with pytest.raises(IdentityProviderError, match="https"):
        exchange()


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"sub": "x", "cccd": CCCD}, {"cccd": CCCD}),
        ({"sub": CCCD, "acr": "1"}, {"identity_level": 1}),
        ({"sub": CCCD}, {"identity_level": 1}),
        ({"sub": CCCD, "gender": "female"}, {"gender": Gender.FEMALE}),
        ({"sub": CCCD, "gender": "other"}, {"gender": ""}),
        ({"sub": CCCD, "birthdate": "not-a-date"}, {"date_of_birth": None}),
        ({"sub": CCCD, "email": "a@b.vn", "email_verified": False}, {"email": ""}),
        (
            {"sub": CCCD, "family_name": "Nguyễn", "middle_name": "Văn", "given_name": "An"},
            {"full_name": "Nguyễn Văn An"},
        ),
        ({"sub": CCCD, "phone_number": "0912 000 001"}, {"phone": "0912000001"}),
    ],
)
def test_claim_mapping_edge_cases(claims, expected):
    mapped = map_claims(claims)
    for field, value in expected.items():
        assert getattr(mapped, field) == value


@pytest.mark.django_db
def test_oidc_login_end_to_end_through_the_views(client, oidc_settings, fake_idp):
    response = client.get(reverse("accounts:idp_login"))
    assert response.status_code == 302
    authorize = {key: values[0] for key, values in parse_qs(urlsplit(response["Location"]).query).items()}
    # The provider authenticates the person and returns the browser with a code and the state.
    fake_idp.token = {"access_token": "at-1", "id_token": id_token(nonce=authorize["nonce"])}

    callback = client.get(f"{reverse('accounts:idp_callback')}?{urlencode({'code': 'c', 'state': authorize['state']})}")

    assert callback.status_code == 302
    user = User.objects.get(cccd=CCCD)
    assert user.identity_level == 2
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_unreachable_provider_shows_an_error_page(client, oidc_settings, fake_idp):
    fake_idp.fail = "/.well-known/openid-configuration"

    response = client.get(reverse("accounts:idp_login"))

    assert response.status_code == 502
    assert "Không kết nối được với hệ thống định danh" in response.content.decode()


# --- signature verification (issue 10, point 6) ----------------------------------------------------


def _unsigned(header: dict, claims: dict) -> str:
    return f"{b64url(header)}.{b64url(claims)}."


def _valid_claims(**overrides) -> dict:
    return {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": CCCD,
        "exp": int(time.time()) + 300,
        "nonce": "nonce-1",
        **overrides,
    }


def test_a_token_signed_with_another_key_is_refused(oidc_settings, fake_idp):
    fake_idp.token = {"access_token": "at-1", "id_token": id_token(key=FORGER_KEY)}

    with pytest.raises(IdentityProviderError, match="signature"):
        exchange()


def test_a_token_whose_payload_was_changed_after_signing_is_refused(oidc_settings, fake_idp):
    header, _payload, signature = id_token().split(".")
    forged = b64url(_valid_claims(sub="001195004321", acr="urn:vneid:loa:2"))
    fake_idp.token = {"access_token": "at-1", "id_token": f"{header}.{forged}.{signature}"}

    with pytest.raises(IdentityProviderError, match="signature"):
        exchange()


def test_an_unsigned_token_with_alg_none_is_refused(oidc_settings, fake_idp):
    fake_idp.token = {"access_token": "at-1", "id_token": _unsigned({"alg": "none"}, _valid_claims())}

    with pytest.raises(IdentityProviderError, match="algorithm not allowed"):
        exchange()


def test_an_hmac_token_keyed_with_the_public_key_is_refused(oidc_settings, fake_idp):
    import hashlib
    import hmac

    signing_input = f"{b64url({'alg': 'HS256', 'kid': 'provider-1'})}.{b64url(_valid_claims())}"
    mac = hmac.new(PROVIDER_KEY.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    fake_idp.token = {"access_token": "at-1", "id_token": forged}

    with pytest.raises(IdentityProviderError, match="algorithm not allowed"):
        exchange()


def test_a_symmetric_key_in_the_jwks_is_never_used(oidc_settings, fake_idp):
    secret = OctKey.generate_key(256, parameters={"kid": "oct-1"})
    fake_idp.jwks = {"keys": [secret.as_dict(private=True)]}
    oidc_settings.OIDC_ALGORITHMS = ["HS256", "RS256"]
    fake_idp.token = {
        "access_token": "at-1",
        "id_token": jwt.encode({"alg": "HS256", "kid": "oct-1"}, _valid_claims(), secret, algorithms=["HS256"]),
    }

    with pytest.raises(IdentityProviderError):
        exchange()


def test_a_rotated_key_is_fetched_again_once(oidc_settings, fake_idp):
    exchange()  # caches the JWKS with provider-1
    rotated = RSAKey.generate_key(2048, parameters={"kid": "provider-2"})
    fake_idp.jwks = {"keys": [rotated.as_dict(private=False)]}
    fake_idp.token = {"access_token": "at-1", "id_token": id_token(key=rotated)}

    assert exchange().cccd == CCCD
    assert sum(urlsplit(r.full_url).path == "/jwks" for r in fake_idp.requests) == 2


def test_the_identity_level_comes_from_the_signed_token_not_from_userinfo(oidc_settings, fake_idp):
    fake_idp.token = {"access_token": "at-1", "id_token": id_token(acr="urn:vneid:loa:1")}
    fake_idp.userinfo = {**USERINFO, "acr": "urn:vneid:loa:2", "cccd": "001195004321"}

    claims = exchange()

    assert claims.identity_level == 1
    assert claims.cccd == CCCD


def test_a_token_without_expiry_is_refused(oidc_settings, fake_idp):
    claims = _valid_claims()
    del claims["exp"]
    fake_idp.token = {"access_token": "at-1", "id_token": jwt.encode({"alg": "RS256"}, claims, PROVIDER_KEY)}

    with pytest.raises(IdentityProviderError):
        exchange()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "breakage",
    ["jwks-unreachable", "jwks-garbage", "no-jwks-uri"],
)
def test_a_misconfigured_provider_shows_a_clear_message_not_a_server_error(client, oidc_settings, fake_idp, breakage):
    if breakage == "jwks-unreachable":
        fake_idp.fail = "/jwks"
    elif breakage == "jwks-garbage":
        fake_idp.jwks = {"keys": [{"kty": "RSA", "n": "not-base64!", "e": "AQAB"}]}
    else:
        fake_idp.discovery = {k: v for k, v in DISCOVERY.items() if k != "jwks_uri"}
    response = client.get(reverse("accounts:idp_login"))
    authorize = {key: values[0] for key, values in parse_qs(urlsplit(response["Location"]).query).items()}
    fake_idp.token = {"access_token": "at-1", "id_token": id_token(nonce=authorize["nonce"])}

    callback = client.get(f"{reverse('accounts:idp_callback')}?{urlencode({'code': 'c', 'state': authorize['state']})}")

    assert callback.status_code == 502
    assert "Vui lòng thử lại sau" in callback.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_missing_oidc_settings_show_a_clear_message(client, oidc_settings, fake_idp):
    oidc_settings.OIDC_CLIENT_SECRET = ""

    response = client.get(reverse("accounts:idp_login"))

    assert response.status_code == 502
    assert "Không kết nối được với hệ thống định danh" in response.content.decode()
