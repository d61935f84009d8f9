"""Masking of CCCD numbers wherever the full number is not needed (lists, logs, notifications)."""

from __future__ import annotations

import logging
import re

# Twelve digits standing alone: a CCCD / personal identification number (Circular 59/2021/TT-BCA).
_CCCD_IN_TEXT = re.compile(r"(?<!\d)(\d{3})\d{6}(\d{3})(?!\d)")


def mask_cccd(value: str | None) -> str:
    """ "037192004517" → "037******517"; anything shorter than 7 characters is masked entirely."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 6) + value[-3:]


def mask_cccd_in_text(text: str) -> str:
    return _CCCD_IN_TEXT.sub(lambda m: f"{m.group(1)}******{m.group(2)}", text)


class MaskCCCDFilter(logging.Filter):
    """A logging filter: no twelve-digit number leaves the process unmasked (ASVS 7.1.1)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_cccd_in_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
