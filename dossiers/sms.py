"""The SMS hook of dossier side effects, until the notifications app's SMS providers take over.

``send_sms`` is the one call the side-effect handler makes (dossiers.tasks._sms). The sandbox keeps
the messages in ``outbox`` (as Django's locmem e-mail backend does) and logs that one was sent,
never the number or the text. Another SMS_PROVIDER raises: the side effect then stays pending and
the sweeper re-drives it once a provider is plugged in here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger("dossiers.sms")


@dataclass(frozen=True)
class Sms:
    phone: str
    text: str


outbox: list[Sms] = []


def send_sms(*, phone: str, text: str) -> None:
    provider = getattr(settings, "SMS_PROVIDER", "sandbox")
    if provider != "sandbox":
        raise NotImplementedError(f"SMS provider {provider!r} is not wired into dossiers.sms yet")
    outbox.append(Sms(phone=phone, text=text))
    logger.info("sms.sent provider=sandbox length=%s", len(text))
