"""The registry of side-effect handlers, and the retry policy shared by every kind.

Each app registers the kinds it carries out (notifications: "notify"; postal: "postal_shipment";
national: "national_sync") from its AppConfig.ready(). A kind nobody registered is marked failed
with that reason the first time a worker sees it, so no row is left pending for ever.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings

HANDLERS: dict[str, Callable] = {}


def register(kind: str) -> Callable[[Callable], Callable]:
    """Decorator: `handler(effect)` carries out side effects of this kind. It must be idempotent."""

    def decorator(handler: Callable) -> Callable:
        HANDLERS[kind] = handler
        return handler

    return decorator


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: growing, the last step repeated."""
    steps = settings.SIDE_EFFECT_BACKOFF_SECONDS or [60]
    return dt.timedelta(seconds=steps[min(max(attempts, 1), len(steps)) - 1])


class PermanentError(Exception):
    """A failure that no retry will fix (bad address, rejected by the provider): fail at once."""
