"""Authentication from the session, and the end of sessions left idle (ASVS 3.3.2: 30 minutes).

SESSION_COOKIE_AGE caps a session's whole life (12 hours); IdleSessionTimeoutMiddleware adds the
idle limit. It must come after SessionMiddleware, AuthenticationMiddleware and MessageMiddleware.
"""

from __future__ import annotations

import logging
import time
from functools import partial

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import AuthenticationMiddleware, auser
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from .sessions import authenticating_session

logger = logging.getLogger("portal.accounts")

LAST_ACTIVITY_KEY = "accounts.last_activity"
# Refresh the stored time at most once a minute, so that not every request writes the session.
TOUCH_INTERVAL_SECONDS = 60


def _session_user(request):
    """django.contrib.auth.get_user, offered the user that the session engine read with the session."""
    if not hasattr(request, "_cached_user"):
        offered = authenticating_session.set(request.session)
        try:
            request._cached_user = auth.get_user(request)
        finally:
            authenticating_session.reset(offered)
    return request._cached_user


class SessionUserAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's AuthenticationMiddleware, without a query of its own for the session's user.

    request.user is still django.contrib.auth.get_user(request), with all of its checks (backend,
    session hash, inactive accounts); only IdentifierBackend.get_user may take the user read in the
    session's own statement (portal.accounts.sessions) instead of reading it again.
    """

    def process_request(self, request):
        if not hasattr(request, "session"):
            raise ImproperlyConfigured("SessionUserAuthenticationMiddleware needs SessionMiddleware before it.")
        request.user = SimpleLazyObject(lambda: _session_user(request))
        request.auser = partial(auser, request)


class IdleSessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        now = int(time.time())
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            last = request.session.get(LAST_ACTIVITY_KEY)
            if last is not None and now - int(last) > settings.SESSION_IDLE_SECONDS:
                logger.info("auth.session.idle_timeout public_id=%s", user.public_id)
                logout(request)
                messages.info(
                    request,
                    _("Phiên làm việc đã kết thúc vì quá lâu không thao tác. Vui lòng đăng nhập lại."),
                    fail_silently=True,
                )
        response = self.get_response(request)
        # After the view, so that the request that logs a person in also starts the idle clock.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            last = request.session.get(LAST_ACTIVITY_KEY)
            if last is None or now - int(last) >= TOUCH_INTERVAL_SECONDS:
                request.session[LAST_ACTIVITY_KEY] = now
        return response
