"""The official forms of Circular 03/2025/TT-VPCP rendered to PDF with WeasyPrint.

Forms 01–06 are A5, the register (07) is A4 (Circular 01/2018 Art 9(2), kept by Circular
03/2025). Each carries a QR code of the public tracking page of its dossier.
"""

from __future__ import annotations

import base64
import datetime as dt

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from .constants import FormNumber


def tracking_url(code: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("dossiers:track_code", args=[code])


def qr_data_uri(url: str) -> str:
    svg = segno.make(url, error="m").svg_inline(scale=3, border=1)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def form_context(dossier, **extra) -> dict:
    from .selectors import dossier_timeline

    rules = None
    if dossier.rule_set:
        from .rules import rule_set

        rules = rule_set(dossier.rule_set)
    url = tracking_url(dossier.code) if dossier.code else ""
    return {
        "dossier": dossier,
        "procedure": dossier.snapshot,
        "agency": dossier.receiving_agency or dossier.agency,
        "resolving_agency": dossier.agency,
        "managing_agency": (dossier.receiving_agency or dossier.agency).parent,
        "rules": rules,
        "today": timezone.localtime(),
        "qr": qr_data_uri(url) if url else "",
        "tracking_url": url,
        "files": list(dossier.files.filter(is_current=True, kind__in=["submitted", "supplement"])),
        "fees": list(dossier.fees.all()),
        "steps": dossier_timeline(dossier) if dossier.pk else [],
        "province": settings.PORTAL_PROVINCE_NAME,
        "hotline": settings.PORTAL_HOTLINE,
        **extra,
    }


def render_dossier_form(dossier, number: str, **extra) -> bytes:
    """Forms 01–06 of one dossier, always in Vietnamese (they are official documents)."""
    if number not in FormNumber.values or number == FormNumber.REGISTER:
        raise ValueError(f"not a per-dossier form: {number}")
    with translation.override("vi"):
        html = render_to_string(f"dossiers/forms/mau_{number}.html", form_context(dossier, **extra))
    return _html_to_pdf(html)


def render_register(*, agency, start: dt.date, end: dt.date, dossiers) -> bytes:
    """Form 07: the register of dossiers received by an agency over a period (A4)."""
    with translation.override("vi"):
        html = render_to_string(
            "dossiers/forms/mau_07.html",
            {
                "agency": agency,
                "managing_agency": agency.parent,
                "start": start,
                "end": end,
                "dossiers": dossiers,
                "today": timezone.localtime(),
                "province": settings.PORTAL_PROVINCE_NAME,
            },
        )
    return _html_to_pdf(html)
