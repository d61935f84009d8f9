"""The sandbox provider signs real ID tokens and publishes its JWKS; its tokens get full verification."""

import time

import pytest
from django.urls import reverse
from joserfc import jwt
from joserfc.jwk import ECKey

from portal.accounts.providers import sandbox
from portal.accounts.providers.base import IdentityProviderError
from portal.accounts.providers.sandbox import DEMO_IDENTITIES, SandboxProvider

DEMO = DEMO_IDENTITIES[0]


@pytest.mark.django_db
def test_the_sandbox_publishes_its_public_key_only(client):
    response = client.get(reverse("accounts:sandbox_idp_jwks"))

    assert response.status_code == 200
    (key,) = response.json()["keys"]
    assert key["kty"] == "EC" and key["crv"] == "P-256" and "d" not in key


@pytest.mark.django_db
def test_the_jwks_does_not_exist_when_another_provider_is_configured(client, settings):
    settings.IDENTITY_PROVIDER = "oidc"
    assert client.get(reverse("accounts:sandbox_idp_jwks")).status_code == 404


def test_a_good_sandbox_token_yields_the_identity_and_level():
    claims = SandboxProvider.claims_from_id_token(sandbox.issue_id_token(DEMO, "n-1"), "n-1")

    assert claims.cccd == DEMO.cccd and claims.identity_level == DEMO.identity_level == 2


@pytest.mark.parametrize(
    ("overrides", "nonce", "reason"),
    [
        ({"aud": "another-client"}, "n-1", "another client"),
        ({"exp": int(time.time()) - 3600}, "n-1", "expired"),
        ({}, "another-nonce", "nonce"),
        ({"iss": "https://evil.example"}, "n-1", "issuer"),
    ],
    ids=["wrong-audience", "expired", "wrong-nonce", "wrong-issuer"],
)
def test_sandbox_tokens_for_another_client_time_or_login_are_refused(overrides, nonce, reason):
    token = sandbox.issue_id_token(DEMO, "n-1", **overrides)

    with pytest.raises(IdentityProviderError, match=reason):
        SandboxProvider.claims_from_id_token(token, nonce)


def test_a_sandbox_token_signed_by_another_key_is_refused():
    other = ECKey.generate_key("P-256", parameters={"kid": sandbox.signing_key().kid})
    payload = {"iss": sandbox.issuer(), "aud": sandbox.CLIENT_ID, "sub": DEMO.cccd, "exp": int(time.time()) + 60}
    forged = jwt.encode({"alg": "ES256", "kid": other.kid}, {**payload, "nonce": "n-1"}, other)

    with pytest.raises(IdentityProviderError, match="signature"):
        SandboxProvider.claims_from_id_token(forged, "n-1")


def test_an_unsigned_sandbox_token_is_refused():
    import base64
    import json

    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    payload = {"iss": sandbox.issuer(), "aud": sandbox.CLIENT_ID, "sub": DEMO.cccd, "exp": int(time.time()) + 60}
    unsigned = f"{part({'alg': 'none'})}.{part({**payload, 'nonce': 'n-1'})}."

    with pytest.raises(IdentityProviderError, match="algorithm"):
        SandboxProvider.claims_from_id_token(unsigned, "n-1")
