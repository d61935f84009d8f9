"""The electronic fee receipt (biên lai thu phí, lệ phí) of a payment, rendered with WeasyPrint.

A receipt belongs to the finance side rather than the one-stop forms (domain.md §6); it shows the
frozen fee lines, who paid, how and when, and is always in Vietnamese like other official papers.
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation


def render_receipt(payment) -> bytes:
    from weasyprint import HTML

    dossier = payment.dossier
    with translation.override("vi"):
        html = render_to_string(
            "payments/receipt.html",
            {
                "payment": payment,
                "dossier": dossier,
                "fees": list(dossier.fees.all()),
                "breakdown": dossier.fee_breakdown or {},
                "province": settings.PORTAL_PROVINCE_NAME,
                "paid_at": timezone.localtime(payment.paid_at) if payment.paid_at else None,
            },
        )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
