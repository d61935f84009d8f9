"""The slower, per-account half of the login lockout (ASVS 2.2.1).

django-axes locks an account *from one address* after settings.AXES_FAILURE_LIMIT failures, so a
stranger guessing someone's CCCD or phone number (which are not secret) locks out only themselves.
This module adds the limit ASVS asks for whatever the source: settings.LOGIN_ACCOUNT_FAILURE_LIMIT
failures an hour on one account lock its password login from everywhere. The owner still gets in
by VNeID or by a reset link to their e-mail, which lifts both locks.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver

logger = logging.getLogger("portal.accounts")

WINDOW_SECONDS = 3600


def _key(account: str) -> str:
    return f"accounts.login.failures:{account}"


def account_key(username: str | None) -> str | None:
    """The one name of an account however it was typed (see forms.login_key)."""
    if not username:
        return None
    from .forms import login_key

    return login_key(username)


def account_failures(username: str | None) -> int:
    key = account_key(username)
    return int(cache.get(_key(key), 0)) if key else 0


def account_locked(username: str | None) -> bool:
    return account_failures(username) >= settings.LOGIN_ACCOUNT_FAILURE_LIMIT


def account_failures_reset(username: str) -> None:
    """Lift the per-account lock (its owner proved control of the account's e-mail)."""
    key = account_key(username)
    if key:
        cache.delete(_key(key))


@receiver(user_login_failed)
def _count_failure(sender, credentials, request=None, **kwargs):
    key = account_key((credentials or {}).get("username"))
    if not key:
        return
    # The window starts with the first failure; add() keeps an existing count and its expiry.
    cache.add(_key(key), 0, timeout=WINDOW_SECONDS)
    try:
        cache.incr(_key(key))
    except ValueError:  # expired between add() and incr()
        cache.set(_key(key), 1, timeout=WINDOW_SECONDS)


class AccountLockoutBackend:
    """Refuses, before any password check, an account over its hourly failure limit.

    Placed after django-axes' backend and before the password backends. Raising PermissionDenied
    stops authenticate() for every backend; the request is marked so that axes' middleware answers
    with the lockout page (429). No get_user(): it never holds a session.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username and account_locked(username):
            if request is not None:
                request.axes_locked_out = True
            logger.warning("auth.login.account_locked")
            raise PermissionDenied
        return None
