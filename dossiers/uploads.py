"""Checks on uploaded files: size first, then the type read from the content, never from the name."""

from __future__ import annotations

import hashlib
import logging
import math
import re
import unicodedata
import zlib
from dataclasses import dataclass

import filetype
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from procedures.constants import DOCUMENT_TYPES

from .scanning import ScannerUnavailable, scan_bytes

logger = logging.getLogger("dossiers.uploads")
_EXTENSIONS = {mime: ext for ext, mime in DOCUMENT_TYPES.items()}

# PDF names that run code or carry other files when the document is opened (ASVS 12.2.1):
# JavaScript (also as an /OpenAction's action), launching programs, embedded files, additional
# actions triggered by viewing. A citizen's scanned paper never needs any of them.
_PDF_ACTIVE_NAMES = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|AA)(?![A-Za-z0-9])")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
# Markup that makes a file also valid HTML or SVG to a browser sniffing it (polyglot files).
_HTML_MARKERS = (b"<html", b"<script", b"<svg", b"<!doctype html", b"<iframe", b"<body")
_MAX_INFLATED_BYTES = 50 * 1024 * 1024


@dataclass
class CheckedUpload:
    content: ContentFile
    safe_name: str
    content_type: str
    size: int
    sha256: str


def _safe_name(name: str, extension: str) -> str:
    """A display name without path parts or control characters, ending in the real extension."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", base).strip(" .") or "tep"
    return f"{stem[:120]}.{extension}"


def _megabytes(size: int) -> str:
    """Sizes as Vietnamese write them ("1,01"), with enough digits that a file just over the limit shows it."""
    value = math.ceil(size / 1048576 * 100) / 100  # rounded up: never shows an oversized file as "1"
    text = f"{value:.2f}".rstrip("0").rstrip(".") if value < 100 else f"{value:.0f}"
    return text.replace(".", ",")


def _pdf_texts(data: bytes):
    """The PDF's bytes and its inflated streams (object streams can hide names), with name escapes undone."""
    yield data
    budget = _MAX_INFLATED_BYTES
    for match in _PDF_STREAM.finditer(data):
        if budget <= 0:
            break
        try:
            inflater = zlib.decompressobj()
            inflated = inflater.decompress(match.group(1), budget)
        except zlib.error:
            continue
        budget -= len(inflated)
        yield inflated


def active_content_reason(data: bytes, mime: str) -> str:
    """Why the file carries active content ("" if it does not): HTML markup, or PDF actions/attachments."""
    lowered = data.lower()
    for marker in _HTML_MARKERS:
        if marker in lowered:
            return "html"
    if mime == "application/pdf":
        for text in _pdf_texts(data):
            # "/J#61vaScript" is "/JavaScript" to a PDF reader (PDF 32000-1, 7.3.5).
            text = _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), text)
            if _PDF_ACTIVE_NAMES.search(text):
                return "pdf-active"
            if any(marker in text.lower() for marker in _HTML_MARKERS):
                return "html"
    return ""


def check_upload(upload, *, allowed_types: str, max_bytes: int) -> CheckedUpload:
    """Return the upload's bytes and facts, or raise DossierError with a message for the citizen."""
    from .services import DossierError

    allowed = [t.strip().lower() for t in allowed_types.split(",") if t.strip()]
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise DossierError(
            _("Tệp “%(name)s” quá lớn (%(size)s MB); tối đa %(max)s MB.")
            % {"name": upload.name, "size": _megabytes(size), "max": _megabytes(max_bytes)},
            field="file",
        )
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise DossierError(_("Tệp quá lớn; tối đa %(max)s MB.") % {"max": _megabytes(max_bytes)}, field="file")
    if not data:
        raise DossierError(_("Tệp “%(name)s” rỗng.") % {"name": upload.name}, field="file")
    kind = filetype.guess(data)
    mime = kind.mime if kind else None
    if mime == "application/pdf" and not data.startswith(b"%PDF-"):
        mime = None
    extension = _EXTENSIONS.get(mime or "")
    if extension not in allowed:
        raise DossierError(
            _(
                "Tệp “%(name)s” không phải định dạng được chấp nhận (%(types)s), dù tên tệp có thể "
                "cho thấy như vậy. Vui lòng chọn tệp khác."
            )
            % {"name": upload.name, "types": ", ".join(t.upper() for t in allowed)},
            field="file",
        )
    reason = active_content_reason(data, mime)
    if reason:
        logger.warning("upload.refused reason=%s type=%s", reason, mime)
        raise DossierError(
            _(
                "Tệp “%(name)s” chứa nội dung thực thi (mã lệnh, tệp đính kèm hoặc mã HTML) nên không được "
                "chấp nhận. Vui lòng in hoặc quét lại giấy tờ thành tệp PDF hoặc ảnh thông thường."
            )
            % {"name": upload.name},
            field="file",
        )
    try:
        verdict = scan_bytes(data)
    except ScannerUnavailable:
        raise DossierError(
            _(
                "Hệ thống kiểm tra mã độc tạm thời không hoạt động nên chưa thể nhận tệp “%(name)s”. "
                "Vui lòng thử lại sau ít phút."
            )
            % {"name": upload.name},
            field="file",
        ) from None
    if not verdict.clean:
        logger.warning("upload.refused reason=malware signature=%s", verdict.signature[:80])
        raise DossierError(
            _("Tệp “%(name)s” bị phát hiện chứa mã độc nên không được chấp nhận.") % {"name": upload.name},
            field="file",
        )
    return CheckedUpload(
        content=ContentFile(data),
        safe_name=_safe_name(upload.name, extension),
        content_type=mime,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
