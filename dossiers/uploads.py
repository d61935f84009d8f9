"""Checks on uploaded files: size first, then the type read from the content, never from the name."""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass

import filetype
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from procedures.constants import DOCUMENT_TYPES

_EXTENSIONS = {mime: ext for ext, mime in DOCUMENT_TYPES.items()}


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
    return CheckedUpload(
        content=ContentFile(data),
        safe_name=_safe_name(upload.name, extension),
        content_type=mime,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
