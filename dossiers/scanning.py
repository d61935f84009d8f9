"""Antivirus scanning of uploads (ASVS 12.4.2) behind a narrow provider interface.

Two providers, chosen from the environment:
- `clamd`: ClamAV's daemon over TCP with its INSTREAM command (CLAMAV_URL=tcp://host:3310). The
  protocol is a handful of bytes (length-prefixed chunks, a zero-length chunk to end, one reply
  line), so a small client here is simpler than a dependency.
- `none`: no scanning, for development machines without clamd. Refused when UPLOAD_SCAN_REQUIRED
  is on, so production cannot silently run without a scanner.

A scanner that cannot be reached raises ScannerUnavailable: the caller refuses the upload ("try
again later") rather than accept an unscanned file whenever scanning is required (fail closed).
"""

from __future__ import annotations

import logging
import socket
import struct
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("dossiers.scanning")

CHUNK_BYTES = 64 * 1024
TIMEOUT_SECONDS = 30


class ScannerUnavailable(Exception):
    """The scanner could not give a verdict (down, timed out, size limit, protocol error)."""


@dataclass(frozen=True)
class ScanResult:
    clean: bool
    signature: str = ""  # the name of what was found; never the file's content


class Scanner:
    name = ""

    def scan(self, data: bytes) -> ScanResult:  # pragma: no cover - interface
        raise NotImplementedError


class NoScanner(Scanner):
    """Accepts everything unscanned: development only."""

    name = "none"

    def scan(self, data: bytes) -> ScanResult:
        return ScanResult(clean=True)


class ClamdScanner(Scanner):
    """clamd's INSTREAM command over TCP (clamd.conf: TCPSocket, StreamMaxLength)."""

    name = "clamd"

    def __init__(self, url: str, timeout: float = TIMEOUT_SECONDS):
        parts = urlsplit(url)
        if parts.scheme != "tcp" or not parts.hostname:
            raise ImproperlyConfigured("CLAMAV_URL must look like tcp://host:3310.")
        self.host, self.port, self.timeout = parts.hostname, parts.port or 3310, timeout

    def scan(self, data: bytes) -> ScanResult:
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
                sock.sendall(b"zINSTREAM\0")
                for start in range(0, len(data), CHUNK_BYTES):
                    chunk = data[start : start + CHUNK_BYTES]
                    sock.sendall(struct.pack("!L", len(chunk)) + chunk)
                sock.sendall(struct.pack("!L", 0))
                reply = b""
                while not reply.endswith(b"\0"):
                    part = sock.recv(4096)
                    if not part:
                        break
                    reply += part
        except OSError as exc:
            raise ScannerUnavailable(f"clamd unreachable: {exc.__class__.__name__}") from exc
        text = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
        # Replies: "stream: OK", "stream: <Signature> FOUND", "INSTREAM size limit exceeded. ERROR".
        if text.endswith(" FOUND"):
            signature = text.removeprefix("stream:").removesuffix(" FOUND").strip()
            return ScanResult(clean=False, signature=signature)
        if text.endswith(": OK"):
            return ScanResult(clean=True)
        raise ScannerUnavailable(f"clamd gave no verdict: {text[:80]!r}")


def get_scanner() -> Scanner:
    """The scanner the settings select: clamd when CLAMAV_URL is set, otherwise none (if allowed)."""
    url = getattr(settings, "CLAMAV_URL", "")
    if url:
        return ClamdScanner(url)
    if getattr(settings, "UPLOAD_SCAN_REQUIRED", True):
        # Required but not configured behaves as a scanner that is down: uploads are refused.
        raise ScannerUnavailable("UPLOAD_SCAN_REQUIRED is on but CLAMAV_URL is not set")
    return NoScanner()


def scan_bytes(data: bytes) -> ScanResult:
    """Scan one upload. Raises ScannerUnavailable when no verdict can be had and scanning is required."""
    try:
        return get_scanner().scan(data)
    except ScannerUnavailable as exc:
        if getattr(settings, "UPLOAD_SCAN_REQUIRED", True):
            logger.error("upload.scan.unavailable reason=%s", exc)
            raise
        logger.warning("upload.scan.skipped reason=%s", exc)
        return ScanResult(clean=True)
