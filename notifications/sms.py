"""SMS behind a narrow provider interface; the sandbox records what it would send.

Vietnamese SMS gateways (brandname SMS) take a message, a number and the sender's own request id
and answer with theirs; a repeated request id is answered with the first answer and not sent again.
The sandbox behaves that way, so the guarantees we rely on are tested against it.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction


class SmsError(Exception):
    pass


class SmsProvider(Protocol):
    def send(self, *, to: str, text: str, client_reference: str) -> str:
        """Send `text` to `to`; return the provider's message id. Same reference → same message."""


class SandboxSmsProvider:
    """Records messages in SandboxSms; deduplicates by client reference like a real gateway."""

    def send(self, *, to: str, text: str, client_reference: str) -> str:
        from .models import SandboxSms

        existing = SandboxSms.objects.filter(client_reference=client_reference).first()
        if existing:
            return existing.provider_id
        try:
            with transaction.atomic():
                row = SandboxSms.objects.create(
                    to=to, text=text, client_reference=client_reference, provider_id=f"SBX-{uuid.uuid4().hex[:12]}"
                )
        except IntegrityError:
            row = SandboxSms.objects.get(client_reference=client_reference)
        return row.provider_id


class HttpSmsProvider:
    """A JSON-over-HTTPS gateway: POST {to, text, request_id} with a bearer key, answer {message_id}."""

    def __init__(self, url: str, key: str):
        self.url, self.key = url, key

    def send(self, *, to: str, text: str, client_reference: str) -> str:
        body = json.dumps({"to": to, "text": text, "request_id": client_reference}).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's configured endpoint
            self.url,
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"},
        )
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            answer = json.loads(response.read() or b"{}")
        if not answer.get("message_id"):
            raise SmsError(f"gateway answered without a message id: {answer}")
        return str(answer["message_id"])


def sms_provider() -> SmsProvider:
    if settings.SMS_PROVIDER == "sandbox":
        return SandboxSmsProvider()
    if settings.SMS_PROVIDER == "http":
        return HttpSmsProvider(settings.SMS_API_URL, settings.SMS_API_KEY)
    raise SmsError(f"unknown SMS_PROVIDER {settings.SMS_PROVIDER!r}")
