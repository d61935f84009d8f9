"""The "sms" side effect: a text prepared by a service (the assisted submission's confirmation).

Sent through the notifications app's SMS provider (sandbox or the HTTP gateway) with the side
effect's id as the client reference, so that a retried send is the same message to a gateway that
deduplicates. Never logs the number or the text.
"""

from __future__ import annotations

import logging

from .side_effects import register

logger = logging.getLogger("dossiers.sms")


@register("sms")
def handle_sms(effect) -> None:
    from notifications.sms import sms_provider

    phone = effect.dossier.applicant_phone
    text = effect.payload.get("text")
    if phone and text:
        sms_provider().send(to=phone, text=text, client_reference=f"side-effect-{effect.pk}")
        logger.info("sms.sent side_effect=%s length=%s", effect.pk, len(text))
