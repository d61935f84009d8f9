"""Accounts pages: login and logout, citizen registration, password reset, "my account" and the
VNeID-style identity-provider login with its local sandbox.

Authentication results are logged to `portal.accounts` with the account's public_id only: never a
CCCD number, a phone number, an e-mail address or a password (ASVS 7.1.1, 7.1.3).
"""

from __future__ import annotations

import logging
import re
import secrets
from urllib.parse import urlencode

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.forms.forms import NON_FIELD_ERRORS
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.core import is_ratelimited

from .cccd import check_cccd_matches
from .constants import Gender
from .forms import (
    LOGIN_ERROR_ID,
    LoginForm,
    NewPasswordForm,
    PasswordResetRequestForm,
    RegistrationForm,
    SandboxIdentityForm,
)
from .lockout import account_failures_reset
from .models import phone_validator
from .providers import sandbox
from .providers.base import IdentityClaims, IdentityProvider, IdentityProviderError, IdentityProviderUnavailable
from .providers.registry import get_provider
from .providers.sandbox import DEMO_IDENTITIES, SandboxProvider

logger = logging.getLogger("portal.accounts")
User = get_user_model()

# Accounts created here or through the identity provider are logged in with the password backend;
# it is the one that loads them again on later requests.
SESSION_BACKEND = "portal.accounts.backends.IdentifierBackend"
# The identity-provider login in progress: provider name, state, nonce and where to go afterwards.
IDP_SESSION_KEY = "accounts.idp_login"
# Password reset e-mails per address and hour: enough for a person, too few to flood their mailbox.
RESET_EMAIL_RATE = "5/h"


def _safe_next(request: HttpRequest, url: str | None) -> str:
    """The URL if it stays on this site (ASVS 5.1.5), else ""."""
    if not url:
        return ""
    secure = request.is_secure()
    return url if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=secure) else ""


def _configured_provider() -> IdentityProvider | None:
    try:
        return get_provider()
    except ImproperlyConfigured:
        logger.exception("auth.idp.misconfigured")
        return None


# --- login and logout ---------------------------------------------------------------------------


class PortalLoginView(auth_views.LoginView):
    """Django's LoginView (CSRF, never cached, `next` checked against this host) with our form and logs."""

    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        provider = _configured_provider()
        context["idp_label"] = provider.label if provider else None
        next_url = context.get(self.redirect_field_name) or ""
        query = f"?{urlencode({'next': next_url})}" if next_url else ""
        context["idp_login_url"] = reverse("accounts:idp_login") + query
        context["login_error_id"] = LOGIN_ERROR_ID
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        logger.info("auth.login.succeeded method=password public_id=%s", form.get_user().public_id)
        return response

    def form_invalid(self, form):
        if getattr(self.request, "axes_locked_out", False):
            reason = "locked_out"
        elif form.has_error(NON_FIELD_ERRORS, "inactive"):
            reason = "inactive"
        elif form.has_error(NON_FIELD_ERRORS, "invalid_login"):
            reason = "invalid_credentials"
        else:
            reason = "incomplete"
        target = form.target_user
        logger.warning(
            "auth.login.failed method=password reason=%s public_id=%s",
            reason,
            target.public_id if target else "unknown",
        )
        return super().form_invalid(form)


class PortalLogoutView(auth_views.LogoutView):
    """Logout by POST only (Django refuses GET), which flushes the session on the server (ASVS 3.3.1)."""

    def post(self, request, *args, **kwargs):
        public_id = request.user.public_id if request.user.is_authenticated else None
        response = super().post(request, *args, **kwargs)
        if public_id:
            logger.info("auth.logout public_id=%s", public_id)
            messages.success(request, _("Bạn đã đăng xuất."))
        return response


# --- registration and "my account" ------------------------------------------------------------------


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """A citizen creates an account with their CCCD number as username, and is logged in."""
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = RegistrationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = form.save()
                from dossiers.privacy.services import consent_record

                consent_record(user=user, context="registration", choices=form.consent_choices())
        except IntegrityError:
            # Another registration with the same number, phone or e-mail committed in between.
            form.add_error(None, _("Số định danh cá nhân, số điện thoại hoặc email này đã có tài khoản."))
        else:
            login(request, user, backend=SESSION_BACKEND)
            logger.info("auth.register.succeeded public_id=%s", user.public_id)
            messages.success(request, _("Đăng ký tài khoản thành công. Chào mừng bạn đến Cổng dịch vụ công."))
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/register.html", {"form": form})


@never_cache
@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    """The person's own data; never cached, by the browser or anything in between (ASVS 8.2.1)."""
    return render(request, "accounts/profile.html", {"account": request.user})


# --- password reset -----------------------------------------------------------------------------------


class PortalPasswordResetView(auth_views.PasswordResetView):
    """The account is found by its e-mail address; the page never says whether one exists."""

    form_class = PasswordResetRequestForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.html"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        limited = is_ratelimited(
            self.request,
            group="accounts.password_reset",
            key=lambda group, request: email,
            rate=RESET_EMAIL_RATE,
            increment=True,
        )
        if limited:
            # Same answer as a sent e-mail, so the limit reveals nothing about the address.
            logger.warning("auth.password_reset.rate_limited")
            return HttpResponseRedirect(self.get_success_url())
        logger.info("auth.password_reset.requested")
        # E-mails are rendered without the request's context processors.
        self.extra_email_context = {"province_name": settings.PORTAL_PROVINCE_NAME}
        return super().form_valid(form)


class PortalPasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PortalPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = NewPasswordForm
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # Whoever controls the account's mailbox may lift a lockout rather than wait out the hour.
        axes_reset(username=form.user.get_username())
        account_failures_reset(form.user.get_username())
        logger.info("auth.password_reset.completed public_id=%s", form.user.public_id)
        return response


class PortalPasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


# --- identity provider (VNeID-style OpenID Connect) -------------------------------------------------


def _idp_error(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    return render(request, "accounts/idp_error.html", {"message": message}, status=status)


def _log_token(value: str) -> str:
    """A value from the query string made safe for a log line: short and without control characters."""
    return value[:40] if re.fullmatch(r"[A-Za-z0-9_.\-]{1,40}", value or "") else "other"


@never_cache
@require_GET
def idp_login(request: HttpRequest) -> HttpResponse:
    """Start the identity-provider login: remember state and nonce in the session, go to the provider."""
    provider = _configured_provider()
    if provider is None:
        return _idp_error(request, _("Đăng nhập bằng VNeID hiện chưa được cấu hình."), status=503)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    request.session[IDP_SESSION_KEY] = {
        "provider": provider.name,
        "state": state,
        "nonce": nonce,
        "next": _safe_next(request, request.GET.get("next")),
    }
    try:
        url = provider.authorization_url(request, state, nonce)
    except IdentityProviderError as exc:
        logger.warning("auth.idp.unavailable provider=%s reason=%s", provider.name, exc)
        return _idp_error(request, _("Không kết nối được với hệ thống định danh. Vui lòng thử lại sau."), status=502)
    return HttpResponseRedirect(url)


def _citizen_for_claims(claims: IdentityClaims) -> tuple[User | None, bool]:
    """The account with this CCCD number, created if there is none; (None, False) if it cannot be.

    The provider's verified data updates the identity level and fills gaps; it never overwrites
    what the person entered. Safe under concurrent first logins: the unique CCCD decides.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().filter(cccd=claims.cccd).first()
        if user is not None:
            changed = []
            if user.identity_level != claims.identity_level:
                user.identity_level = claims.identity_level
                changed.append("identity_level")
            for field, value in (
                ("full_name", claims.full_name),
                ("date_of_birth", claims.date_of_birth),
                ("gender", claims.gender),
            ):
                if value and not getattr(user, field):
                    setattr(user, field, value)
                    changed.append(field)
            if changed:
                user.save(update_fields=changed)
            return user, False

        user = User(
            username=claims.cccd,
            cccd=claims.cccd,
            full_name=claims.full_name,
            date_of_birth=claims.date_of_birth,
            gender=claims.gender if claims.gender in Gender.values else "",
            identity_level=claims.identity_level,
        )
        # Contact details only when valid and not already another account's.
        try:
            phone_validator(claims.phone)
        except ValidationError:
            pass
        else:
            if not User.objects.filter(phone=claims.phone).exists():
                user.phone = claims.phone
        if claims.email and not User.objects.filter(email__iexact=claims.email).exists():
            user.email = claims.email
        # No password: this account logs in through the identity provider until its owner sets one.
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            existing = User.objects.filter(cccd=claims.cccd).first()
            return existing, False
        return user, True


@never_cache
@require_GET
def idp_callback(request: HttpRequest) -> HttpResponse:
    """The provider sends the browser back here with a code and the state we gave it."""
    pending = request.session.pop(IDP_SESSION_KEY, None) or {}
    state = request.GET.get("state", "")
    if not state or not pending.get("state") or not constant_time_compare(state, pending["state"]):
        logger.warning("auth.idp.state_mismatch")
        return _idp_error(
            request,
            _(
                "Yêu cầu đăng nhập không hợp lệ hoặc đã hết hạn (mã trạng thái không khớp). "
                "Vui lòng đăng nhập lại từ đầu."
            ),
            status=400,
        )
    try:
        provider = get_provider(pending["provider"])
    except ImproperlyConfigured:
        logger.exception("auth.idp.misconfigured")
        return _idp_error(request, _("Đăng nhập bằng VNeID hiện chưa được cấu hình."), status=503)
    if request.GET.get("error"):
        logger.info("auth.idp.denied provider=%s error=%s", provider.name, _log_token(request.GET["error"]))
        messages.info(request, _("Đăng nhập bằng VNeID đã bị hủy."))
        return redirect("accounts:login")
    code = request.GET.get("code", "")
    if not code:
        logger.warning("auth.idp.missing_code provider=%s", provider.name)
        return _idp_error(request, _("Hệ thống định danh không trả về mã xác thực. Vui lòng thử lại."), status=400)
    try:
        claims = provider.exchange_code(request, code, pending["nonce"])
    except IdentityProviderUnavailable as exc:
        # Unreachable, misconfigured or publishing unusable keys: the person can do nothing but wait.
        logger.error("auth.idp.unavailable provider=%s reason=%s", provider.name, exc)
        return _idp_error(
            request,
            _(
                "Không kết nối được với hệ thống định danh hoặc hệ thống đang được cấu hình lại. "
                "Vui lòng thử lại sau hoặc đăng nhập bằng mật khẩu."
            ),
            status=502,
        )
    except IdentityProviderError as exc:
        logger.warning("auth.idp.exchange_failed provider=%s reason=%s", provider.name, exc)
        return _idp_error(
            request,
            _("Không xác thực được kết quả đăng nhập VNeID, có thể do đã hết hạn. Vui lòng thử lại."),
            status=400,
        )
    try:
        check_cccd_matches(
            claims.cccd,
            birth_date=claims.date_of_birth,
            female=(claims.gender == Gender.FEMALE) if claims.gender else None,
        )
    except ValidationError:
        logger.warning("auth.idp.invalid_identity provider=%s", provider.name)
        return _idp_error(
            request, _("Thông tin định danh nhận được không hợp lệ. Vui lòng liên hệ tổng đài hỗ trợ."), status=400
        )
    user, created = _citizen_for_claims(claims)
    if user is None:
        logger.error("auth.idp.account_conflict provider=%s", provider.name)
        return _idp_error(
            request, _("Không thể tạo tài khoản cho số định danh này. Vui lòng liên hệ tổng đài hỗ trợ."), status=409
        )
    if not user.is_active:
        logger.warning("auth.login.failed method=idp reason=inactive public_id=%s", user.public_id)
        return _idp_error(
            request,
            _("Tài khoản này đã bị vô hiệu hóa. Vui lòng liên hệ tổng đài hỗ trợ của Cổng dịch vụ công."),
            status=403,
        )
    # login() gives the session a new key (ASVS 3.2.1).
    login(request, user, backend=SESSION_BACKEND)
    logger.info(
        "auth.login.succeeded method=idp provider=%s created=%s identity_level=%s public_id=%s",
        provider.name,
        created,
        user.identity_level,
        user.public_id,
    )
    messages.success(request, _("Đăng nhập bằng VNeID thành công."))
    return redirect(_safe_next(request, pending.get("next")) or settings.LOGIN_REDIRECT_URL)


@require_GET
def sandbox_idp_jwks(request: HttpRequest) -> HttpResponse:
    """The sandbox provider's public signing keys (its jwks_uri); 404 unless it is the provider."""
    if not isinstance(_configured_provider(), SandboxProvider):
        raise Http404
    return JsonResponse(sandbox.jwks())


@never_cache
@require_http_methods(["GET", "POST"])
def sandbox_idp_authorize(request: HttpRequest) -> HttpResponse:
    """The sandbox provider's consent page, where a tester asserts a demo identity.

    Exists only while the sandbox is the configured provider: elsewhere it would let anyone log in
    as anyone.
    """
    if not isinstance(_configured_provider(), SandboxProvider):
        raise Http404
    source = request.POST if request.method == "POST" else request.GET
    state, nonce = source.get("state", ""), source.get("nonce", "")
    if not state or not nonce or len(state) > 200 or len(nonce) > 200:
        return _idp_error(request, _("Yêu cầu đăng nhập không hợp lệ."), status=400)
    callback = reverse("accounts:idp_callback")
    if request.method == "POST":
        if request.POST.get("decision") == "deny":
            return HttpResponseRedirect(f"{callback}?{urlencode({'error': 'access_denied', 'state': state})}")
        form = SandboxIdentityForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            claims = IdentityClaims(
                cccd=data["cccd"],
                full_name=data["full_name"],
                date_of_birth=data["date_of_birth"],
                gender=data["gender"],
                phone=data["phone"],
                email=data["email"],
                identity_level=data["identity_level"],
            )
            code = SandboxProvider.issue_code(claims, nonce)
            return HttpResponseRedirect(f"{callback}?{urlencode({'code': code, 'state': state})}")
    else:
        try:
            index = int(request.GET.get("preset", "0"))
        except ValueError:
            index = 0
        demo = DEMO_IDENTITIES[index] if 0 <= index < len(DEMO_IDENTITIES) else DEMO_IDENTITIES[0]
        form = SandboxIdentityForm(
            initial={
                "cccd": demo.cccd,
                "full_name": demo.full_name,
                "date_of_birth": demo.date_of_birth,
                "gender": demo.gender,
                "identity_level": demo.identity_level,
                "phone": demo.phone,
                "email": demo.email,
                "state": state,
                "nonce": nonce,
            }
        )
    presets = [
        {
            "label": demo.full_name,
            "level": demo.identity_level,
            "url": f"{request.path}?{urlencode({'state': state, 'nonce': nonce, 'preset': index})}",
        }
        for index, demo in enumerate(DEMO_IDENTITIES)
    ]
    return render(request, "accounts/sandbox_idp.html", {"form": form, "presets": presets})
