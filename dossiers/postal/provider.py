"""The postal operator behind a narrow interface, and a sandbox operator that keeps its own books.

The interface follows what public-postal operators offer integrators: a price quote, booking an
order under the sender's order code (booking the same code again returns the same item), tracking
numbers in the UPU S10 format (two letters, eight digits, a check digit, the country: EB123456785VN),
and status callbacks signed with HMAC-SHA256 over the raw body in the X-Signature header.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
import uuid
from typing import Protocol

from django.conf import settings
from django.db import connections
from django.utils import timezone


class PostalProvider(Protocol):
    def quote(self, *, address: str) -> int:
        """Postage in đồng for one result to `address` (shown to the citizen before choosing)."""

    def book(self, *, reference: str, address: str, recipient: str) -> str:
        """Book a pick-up under our order code; return the tracking number. Idempotent per code."""


def s10_check_digit(serial: str) -> int:
    """UPU S10 check digit of the 8-digit serial number."""
    total = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    digit = 11 - total % 11
    return {10: 0, 11: 5}.get(digit, digit)


def s10(serial: str, prefix: str = "EB", country: str = "VN") -> str:
    return f"{prefix}{serial}{s10_check_digit(serial)}{country}"


def sign(body: bytes) -> str:
    return hmac.new(settings.POSTAL_CALLBACK_SECRET.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(body: bytes, signature: str) -> bool:
    """Constant-time check; with no secret configured nothing is accepted (an empty key is no key)."""
    if not settings.POSTAL_CALLBACK_SECRET:
        return False
    return hmac.compare_digest(sign(body), signature or "")


class SandboxPostalOperator:
    """Keeps its orders in SandboxPostalOrder; `status_callback` builds the signed status message."""

    def quote(self, *, address: str) -> int:
        return settings.POSTAL_RESULT_FEE

    def book(self, *, reference: str, address: str, recipient: str) -> str:
        from .models import SandboxPostalOrder

        # The operator's books are not ours: they are written on a connection of their own and
        # committed at once, so that rolling our transaction back (a killed worker) keeps the order,
        # as it would at the real operator.
        table = SandboxPostalOrder._meta.db_table
        tracking = s10(f"{random.randrange(10**8):08d}")  # noqa: S311 - not a secret
        connection = connections.create_connection("default")
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} (client_reference, tracking_number, address, recipient, created_at) "  # noqa: S608
                    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (client_reference) DO NOTHING",
                    [reference, tracking, address, recipient, timezone.now()],
                )
                cursor.execute(f"SELECT tracking_number FROM {table} WHERE client_reference = %s", [reference])  # noqa: S608
                tracking = cursor.fetchone()[0]
            connection.commit()
        finally:
            connection.close()
        if settings.POSTAL_SANDBOX_DELAY_SECONDS:
            # The operator's answer takes this long (fault tests kill the worker meanwhile).
            time.sleep(settings.POSTAL_SANDBOX_DELAY_SECONDS)
        return tracking

    @staticmethod
    def status_callback(tracking_number: str, status: str, note: str = "") -> tuple[bytes, str]:
        body = json.dumps(
            {
                "event_id": uuid.uuid4().hex,
                "tracking_number": tracking_number,
                "status": status,
                "note": note,
                "at": timezone.now().isoformat(),
            }
        ).encode()
        return body, sign(body)


def postal_provider() -> PostalProvider:
    if settings.POSTAL_PROVIDER == "sandbox":
        return SandboxPostalOperator()
    raise ValueError(f"unknown POSTAL_PROVIDER {settings.POSTAL_PROVIDER!r}")
