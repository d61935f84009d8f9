"""End sessions left idle longer than settings.SESSION_IDLE_SECONDS (ASVS 3.3.2: 30 minutes).

SESSION_COOKIE_AGE caps a session's whole life (12 hours); this middleware adds the idle limit.
It must come after SessionMiddleware, AuthenticationMiddleware and MessageMiddleware.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils.translation import gettext as _

logger = logging.getLogger("portal.accounts")

LAST_ACTIVITY_KEY = "accounts.last_activity"
# Refresh the stored time at most once a minute, so that not every request writes the session.
TOUCH_INTERVAL_SECONDS = 60


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
