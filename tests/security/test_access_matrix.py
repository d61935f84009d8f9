"""The role × endpoint × verb matrix over pages, API and file downloads (ASVS 4.1.1, 4.2.1, 13.1.4).

Every URL pattern of the portal is a row of ENDPOINTS with its access class; a pattern missing from
the table fails `test_every_url_pattern_is_in_the_matrix`, so a new endpoint cannot ship unlisted.
For each row, each role and each verb: the roles the class forbids are refused (a login redirect,
401/403, or 404 for someone else's object: "does not exist"), the others get no server error.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from dossiers.assistance import dossier_start_assisted
from dossiers.models import DossierAssistance
from dossiers.views.officer import ACTIONS
from payments import services as payment_services
from payments.models import Payment, Refund
from portal.accounts.constants import Role
from tests.dossiers import builders
from tests.factories import AgencyFactory, OfficerFactory, UserFactory

pytestmark = pytest.mark.django_db

# Access classes: who may reach the endpoint.
PUBLIC = "public"  # anyone
LOGGED_IN = "logged_in"  # any account
OWNER = "owner"  # the citizen who owns the dossier or file, nobody else
OFFICER = "officer"  # staff of the dossier's agency
OFFICER_ANY = "officer_any"  # any staff member (lists scoped to their agencies)
STAFF_ADMIN = "staff_admin"  # the Django admin: system and agency administrators
PAYER_OR_OFFICER = "payer_or_officer"  # a payment: the dossier's payer, or staff of its agency
HELPER = "helper"  # the community digital helper of the dossier (or any helper, for their pages)
# Server-to-server callbacks and gateway redirects: no login, but an unsigned request is refused
# for everyone (a 4xx, or the IPN protocol's HTTP 200 with RspCode 97 "invalid signature").
SIGNED = "signed"

ROLES = ["anonymous", "stranger", "outsider_officer", "owner", "officer", "helper"]
ALLOWED = {
    PUBLIC: set(ROLES),
    LOGGED_IN: {"stranger", "outsider_officer", "owner", "officer", "helper"},
    OWNER: {"owner"},
    OFFICER: {"officer"},
    OFFICER_ANY: {"outsider_officer", "officer"},
    STAFF_ADMIN: set(),
    PAYER_OR_OFFICER: {"owner", "officer"},
    HELPER: {"helper"},
    SIGNED: set(),
}


def _action(ctx):
    return next(iter(ACTIONS))


# pattern → (access class, path builder)
ENDPOINTS = {
    "": (PUBLIC, lambda c: "/"),
    "healthz": (PUBLIC, lambda c: "/healthz"),
    "i18n/setlang/": (PUBLIC, lambda c: "/i18n/setlang/"),
    "accounts/login/": (PUBLIC, lambda c: "/accounts/login/"),
    "accounts/logout/": (PUBLIC, lambda c: "/accounts/logout/"),
    "accounts/register/": (PUBLIC, lambda c: "/accounts/register/"),
    "accounts/me/": (LOGGED_IN, lambda c: "/accounts/me/"),
    "accounts/password-reset/": (PUBLIC, lambda c: "/accounts/password-reset/"),
    "accounts/password-reset/sent/": (PUBLIC, lambda c: "/accounts/password-reset/sent/"),
    "accounts/password-reset/<uidb64>/<token>/": (PUBLIC, lambda c: "/accounts/password-reset/MQ/set-password/"),
    "accounts/password-reset/done/": (PUBLIC, lambda c: "/accounts/password-reset/done/"),
    "accounts/idp/login/": (PUBLIC, lambda c: "/accounts/idp/login/"),
    "accounts/idp/callback/": (PUBLIC, lambda c: "/accounts/idp/callback/"),
    "accounts/sandbox-idp/authorize/": (PUBLIC, lambda c: "/accounts/sandbox-idp/authorize/"),
    "procedures/": (PUBLIC, lambda c: "/procedures/"),
    "procedures/<str:code>/": (PUBLIC, lambda c: f"/procedures/{c['procedure'].national_code}/"),
    "tra-cuu/": (PUBLIC, lambda c: "/tra-cuu/"),
    "tra-cuu/<str:code>/": (PUBLIC, lambda c: f"/tra-cuu/{c['submitted'].code}/"),
    "ho-so/": (LOGGED_IN, lambda c: "/ho-so/"),
    "nop-ho-so/<str:code>/": (LOGGED_IN, lambda c: f"/nop-ho-so/{c['procedure'].national_code}/"),
    "ho-so/<uuid:public_id>/": (OWNER, lambda c: f"/ho-so/{c['draft'].public_id}/"),
    "ho-so/<uuid:public_id>/nguoi-nop/": (OWNER, lambda c: f"/ho-so/{c['draft'].public_id}/nguoi-nop/"),
    "ho-so/<uuid:public_id>/to-khai/<int:index>/": (OWNER, lambda c: f"/ho-so/{c['draft'].public_id}/to-khai/1/"),
    "ho-so/<uuid:public_id>/giay-to/": (OWNER, lambda c: f"/ho-so/{c['draft'].public_id}/giay-to/"),
    "ho-so/<uuid:public_id>/giay-to/tai-len/": (OWNER, lambda c: f"/ho-so/{c['draft'].public_id}/giay-to/tai-len/"),
    "ho-so/<uuid:public_id>/giay-to/dung-lai/": (OWNER, lambda c: f"/ho-so/{c['draft'].public_id}/giay-to/dung-lai/"),
    "ho-so/<uuid:public_id>/giay-to/<uuid:file_id>/xoa/": (
        OWNER,
        lambda c: f"/ho-so/{c['draft'].public_id}/giay-to/{c['file'].public_id}/xoa/",
    ),
    "ho-so/<uuid:public_id>/nhan-ket-qua/": (OWNER, lambda c: f"/ho-so/{c['draft'].public_id}/nhan-ket-qua/"),
    "ho-so/<uuid:public_id>/kiem-tra/": (OWNER, lambda c: f"/ho-so/{c['draft'].public_id}/kiem-tra/"),
    "ho-so/<uuid:public_id>/nop/": (OWNER, lambda c: f"/ho-so/{c['draft'].public_id}/nop/"),
    "ho-so/<uuid:public_id>/da-nop/": (OWNER, lambda c: f"/ho-so/{c['submitted'].public_id}/da-nop/"),
    "ho-so/<uuid:public_id>/rut/": (OWNER, lambda c: f"/ho-so/{c['submitted'].public_id}/rut/"),
    "ho-so/<uuid:public_id>/bo-sung/": (OWNER, lambda c: f"/ho-so/{c['submitted'].public_id}/bo-sung/"),
    "ho-so/<uuid:public_id>/danh-gia/": (OWNER, lambda c: f"/ho-so/{c['submitted'].public_id}/danh-gia/"),
    "tep/<uuid:public_id>/": (OWNER, lambda c: f"/tep/{c['file'].public_id}/"),
    "can-bo/ho-so/": (OFFICER_ANY, lambda c: "/can-bo/ho-so/"),
    "can-bo/ho-so/phan-cong/": (OFFICER_ANY, lambda c: "/can-bo/ho-so/phan-cong/"),
    "can-bo/ho-so/<int:pk>/": (OFFICER, lambda c: f"/can-bo/ho-so/{c['submitted'].pk}/"),
    "can-bo/ho-so/<int:pk>/thao-tac/<slug:action>/": (
        OFFICER,
        lambda c: f"/can-bo/ho-so/{c['submitted'].pk}/thao-tac/{_action(c)}/",
    ),
    "can-bo/tiep-nhan-truc-tiep/": (OFFICER_ANY, lambda c: "/can-bo/tiep-nhan-truc-tiep/"),
    "can-bo/tiep-nhan-truc-tiep/<uuid:public_id>/": (
        OFFICER,
        lambda c: f"/can-bo/tiep-nhan-truc-tiep/{c['draft'].public_id}/",
    ),
    "can-bo/so-theo-doi/": (OFFICER_ANY, lambda c: "/can-bo/so-theo-doi/"),
    "admin/": (STAFF_ADMIN, lambda c: "/admin/"),
    "api/^procedures/$": (PUBLIC, lambda c: "/api/procedures/"),
    "api/^procedures\\.(?P<format>[a-z0-9]+)/?$": (PUBLIC, lambda c: "/api/procedures.json"),
    "api/^procedures/(?P<national_code>[0-9A-Z.]+)/$": (
        PUBLIC,
        lambda c: f"/api/procedures/{c['procedure'].national_code}/",
    ),
    "api/^procedures/(?P<national_code>[0-9A-Z.]+)\\.(?P<format>[a-z0-9]+)/?$": (
        PUBLIC,
        lambda c: f"/api/procedures/{c['procedure'].national_code}.json",
    ),
    "api/": (PUBLIC, lambda c: "/api/"),
    "api/<drf_format_suffix:format>": (PUBLIC, lambda c: "/api/.json"),
    "api/dossiers/": (LOGGED_IN, lambda c: "/api/dossiers/"),
    "api/dossiers/submissions/": (LOGGED_IN, lambda c: "/api/dossiers/submissions/"),
    "api/dossiers/<uuid:public_id>/": (OWNER, lambda c: f"/api/dossiers/{c['draft'].public_id}/"),
    "api/dossiers/<uuid:public_id>/answers/": (OWNER, lambda c: f"/api/dossiers/{c['draft'].public_id}/answers/"),
    "api/dossiers/<uuid:public_id>/files/": (OWNER, lambda c: f"/api/dossiers/{c['draft'].public_id}/files/"),
    "api/dossiers/<uuid:public_id>/files/<uuid:file_id>/": (
        OWNER,
        lambda c: f"/api/dossiers/{c['draft'].public_id}/files/{c['file'].public_id}/",
    ),
    "api/dossiers/<uuid:public_id>/delivery/": (OWNER, lambda c: f"/api/dossiers/{c['draft'].public_id}/delivery/"),
    "api/dossiers/<uuid:public_id>/submit/": (OWNER, lambda c: f"/api/dossiers/{c['draft'].public_id}/submit/"),
    "api/dossiers/<uuid:public_id>/withdraw/": (
        OWNER,
        lambda c: f"/api/dossiers/{c['submitted'].public_id}/withdraw/",
    ),
    "api/dossiers/<uuid:public_id>/supplement/": (
        OWNER,
        lambda c: f"/api/dossiers/{c['submitted'].public_id}/supplement/",
    ),
    "api/dossiers/<uuid:public_id>/rating/": (OWNER, lambda c: f"/api/dossiers/{c['submitted'].public_id}/rating/"),
    "api/files/<uuid:public_id>/": (OWNER, lambda c: f"/api/files/{c['file'].public_id}/"),
    "api/track/<str:code>/": (PUBLIC, lambda c: f"/api/track/{c['submitted'].code}/"),
    "api/officer/queue/": (OFFICER_ANY, lambda c: "/api/officer/queue/"),
    "api/officer/dossiers/<int:pk>/": (OFFICER, lambda c: f"/api/officer/dossiers/{c['submitted'].pk}/"),
    "api/schema/": (PUBLIC, lambda c: "/api/schema/"),
    "api/docs/": (PUBLIC, lambda c: "/api/docs/"),
    "favicon.ico": (PUBLIC, lambda c: "/favicon.ico"),
    # Second factor: the signed-in person's own enrolment, verification and recovery codes.
    "accounts/2fa/": (LOGGED_IN, lambda c: "/accounts/2fa/"),
    "accounts/2fa/enrol/": (LOGGED_IN, lambda c: "/accounts/2fa/enrol/"),
    "accounts/2fa/recovery-codes/": (LOGGED_IN, lambda c: "/accounts/2fa/recovery-codes/"),
    "accounts/sandbox-idp/jwks.json": (PUBLIC, lambda c: "/accounts/sandbox-idp/jwks.json"),
    "accounts/me/notifications/": (LOGGED_IN, lambda c: "/accounts/me/notifications/"),
    # Personal data: always the signed-in person's own (no identifier in the path).
    "tai-khoan/du-lieu-ca-nhan/": (LOGGED_IN, lambda c: "/tai-khoan/du-lieu-ca-nhan/"),
    "tai-khoan/du-lieu-ca-nhan/tai-ve.json": (LOGGED_IN, lambda c: "/tai-khoan/du-lieu-ca-nhan/tai-ve.json"),
    "tai-khoan/du-lieu-ca-nhan/tai-ve.pdf": (LOGGED_IN, lambda c: "/tai-khoan/du-lieu-ca-nhan/tai-ve.pdf"),
    "tai-khoan/du-lieu-ca-nhan/xoa/": (LOGGED_IN, lambda c: "/tai-khoan/du-lieu-ca-nhan/xoa/"),
    "api/me/data/": (LOGGED_IN, lambda c: "/api/me/data/"),
    "api/me/erasure/": (LOGGED_IN, lambda c: "/api/me/erasure/"),
    # Stop requests (Decree 118/2025 Art 21).
    "ho-so/<uuid:public_id>/de-nghi-dung/": (OWNER, lambda c: f"/ho-so/{c['submitted'].public_id}/de-nghi-dung/"),
    "api/dossiers/<uuid:public_id>/stop-request/": (
        OWNER,
        lambda c: f"/api/dossiers/{c['submitted'].public_id}/stop-request/",
    ),
    # Community digital helper.
    "ho-tro/": (HELPER, lambda c: "/ho-tro/"),
    "ho-tro/nop/<str:code>/": (HELPER, lambda c: f"/ho-tro/nop/{c['procedure'].national_code}/"),
    "ho-tro/ho-so/<uuid:public_id>/xac-nhan/": (
        HELPER,
        lambda c: f"/ho-tro/ho-so/{c['assisted'].public_id}/xac-nhan/",
    ),
    "ho-tro/ho-so/<uuid:public_id>/gui-sms/": (HELPER, lambda c: f"/ho-tro/ho-so/{c['assisted'].public_id}/gui-sms/"),
    # Payments.
    "thanh-toan/ho-so/<uuid:public_id>/": (OWNER, lambda c: f"/thanh-toan/ho-so/{c['submitted'].public_id}/"),
    "thanh-toan/ho-so/<uuid:public_id>/mien-giam/": (
        OWNER,
        lambda c: f"/thanh-toan/ho-so/{c['draft'].public_id}/mien-giam/",
    ),
    "thanh-toan/<uuid:public_id>/": (PAYER_OR_OFFICER, lambda c: f"/thanh-toan/{c['payment'].public_id}/"),
    "thanh-toan/<uuid:public_id>/bien-lai.pdf": (
        PAYER_OR_OFFICER,
        lambda c: f"/thanh-toan/{c['payment'].public_id}/bien-lai.pdf",
    ),
    "thanh-toan/thu-nghiem/": (SIGNED, lambda c: "/thanh-toan/thu-nghiem/"),
    "thanh-toan/cong/<slug:provider>/tro-ve/": (SIGNED, lambda c: "/thanh-toan/cong/sandbox/tro-ve/"),
    "can-bo/thanh-toan/<uuid:public_id>/hoan-tra/": (
        OFFICER,
        lambda c: f"/can-bo/thanh-toan/{c['payment'].public_id}/hoan-tra/",
    ),
    "can-bo/hoan-tra/<uuid:public_id>/": (OFFICER, lambda c: f"/can-bo/hoan-tra/{c['refund'].public_id}/"),
    "can-bo/doi-soat/": (OFFICER_ANY, lambda c: "/can-bo/doi-soat/"),
    "api/fees/quote/": (PUBLIC, lambda c: "/api/fees/quote/"),
    "api/payments/": (LOGGED_IN, lambda c: "/api/payments/"),
    "api/payments/<uuid:public_id>/": (PAYER_OR_OFFICER, lambda c: f"/api/payments/{c['payment'].public_id}/"),
    "api/payments/<slug:provider>/ipn/": (SIGNED, lambda c: "/api/payments/sandbox/ipn/"),
    # The postal operator's status callback (HMAC-signed body).
    "buu-chinh/trang-thai/": (SIGNED, lambda c: "/buu-chinh/trang-thai/"),
}
OFFICER_API_ACTIONS = [
    "receive",
    "request-supplement",
    "refuse",
    "record-payment",
    "assign",
    "forward",
    "consult",
    "submit-for-approval",
    "send-back",
    "approve",
    "return-result",
    "apologise",
    "stop",
]
for _name in OFFICER_API_ACTIONS:
    ENDPOINTS[f"api/officer/dossiers/<int:pk>/{_name}/"] = (
        OFFICER,
        lambda c, _name=_name: f"/api/officer/dossiers/{c['submitted'].pk}/{_name}/",
    )


def url_patterns() -> set[str]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern) == "admin/":
                    yield "admin/"
                    continue
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    return set(walk(get_resolver().url_patterns))


def test_every_url_pattern_is_in_the_matrix():
    """A new endpoint must be added to ENDPOINTS (with its access class) before it ships."""
    patterns = url_patterns()
    assert patterns - set(ENDPOINTS) == set(), "endpoints missing from the access matrix"
    assert set(ENDPOINTS) - patterns == set(), "rows of the matrix that no longer exist"


@pytest.fixture
def ctx():
    world = builders.make_world()
    draft = builders.draft(world)
    submitted = builders.submitted(world)
    elsewhere = AgencyFactory(name="UBND xã Khác")
    helper = OfficerFactory(role=Role.DIGITAL_HELPER, membership__agency=world.agency, full_name="Phạm Hỗ Trợ")
    assisted = dossier_start_assisted(
        procedure=world.procedure,
        agency=world.agency,
        helper=helper,
        citizen_name="Lê Văn Công",
        citizen_id_number="001195004321",
        citizen_phone="0912345678",
        consent=True,
        confirmation=DossierAssistance.Confirmation.SMS,
    )
    payment = Payment.objects.create(
        dossier=submitted,
        agency=submitted.agency,
        provider="counter",
        method="cash",
        reference="HSMATRIX0001",
        amount=50000,
    )
    payment_services.payment_confirm(payment=payment, source="counter")
    refund = Refund.objects.create(payment=payment, amount=1000, reason="Thu trùng", requested_by=world.reception)
    return {
        "procedure": world.procedure,
        "draft": draft,
        "submitted": submitted,
        "file": draft.files.get(),
        "assisted": assisted,
        "payment": payment,
        "refund": refund,
        "users": {
            "anonymous": None,
            "stranger": UserFactory(username="037190000002", full_name="Người Lạ"),
            "outsider_officer": OfficerFactory(role=Role.RECEPTION, membership__agency=elsewhere),
            "owner": world.citizen,
            "officer": world.reception,
            "helper": helper,
        },
    }


def _refused(response, path: str) -> bool:
    # 405: the endpoint has no such verb, for anyone and any object, so it reveals nothing.
    if response.status_code in (401, 403, 404, 405):
        return True
    if response.status_code == 302:
        return "/login/" in response["Location"]
    return False


def _unsigned_refused(response) -> bool:
    if response.status_code in (400, 401, 403, 404, 405):
        return True
    # The IPN protocol answers HTTP 200 with its own code: 97 is "invalid signature".
    if response.status_code == 200 and response.get("Content-Type", "").startswith("application/json"):
        return response.json().get("RspCode") == "97"
    return False


@pytest.mark.parametrize("pattern", sorted(ENDPOINTS))
def test_each_role_reaches_exactly_what_its_access_class_allows(pattern, ctx, settings):
    settings.TRACKING_RATE_LIMIT = "1000/m"
    access, build = ENDPOINTS[pattern]
    path = build(ctx)
    # Forbidden roles first, so that a permitted POST changing state cannot hide a refusal.
    order = sorted(ROLES, key=lambda role: role in ALLOWED[access])
    for role in order:
        for verb in ("get", "post"):
            cache.clear()
            client = Client()
            user = ctx["users"][role]
            if user is not None:
                client.force_login(get_user_model().objects.get(pk=user.pk))
            response = getattr(client, verb)(path)
            label = f"{verb.upper()} {path} as {role}"
            assert response.status_code < 500, label
            if access == SIGNED:
                assert _unsigned_refused(response), f"{label}: {response.status_code} unsigned should be refused"
            elif role not in ALLOWED[access]:
                assert _refused(response, path), f"{label}: {response.status_code} should be refused"
