"""The payment panel shown on the citizen's and the officer's dossier pages, and the fee breakdown."""

from __future__ import annotations

from django import template

from dossiers.constants import FINAL_STATES
from portal.accounts.constants import Role

from ..selectors import payments_of_dossier, user_sees_dossier_payments
from ..services import refund_allowance

register = template.Library()


@register.inclusion_tag("payments/_breakdown.html")
def fee_breakdown(breakdown) -> dict:
    """A frozen or live quote (procedures.fees.FeeQuote.as_dict()) as a table."""
    return {"breakdown": breakdown or {}}


@register.inclusion_tag("payments/_panel.html", takes_context=True)
def payment_panel(context, dossier, audience: str = "citizen", payments=None) -> dict:
    """`payments`: None reads the dossier's payments; a page that knows it has none passes []."""
    request = context["request"]
    user = request.user
    if not user_sees_dossier_payments(user, dossier):
        return {"visible": False}
    payments = payments_of_dossier(dossier) if payments is None else payments
    if not payments and dossier.fee_total == 0:
        return {"visible": False}
    is_payer = user.pk in (dossier.owner_id, dossier.submitted_by_id)
    agencies = set()
    if audience == "officer":
        agencies = user.agency_ids(Role.RECEPTION) | user.agency_ids(Role.LEADER)
    leader_agencies = user.agency_ids(Role.LEADER) if audience == "officer" else set()
    for payment in payments:
        payment.allowed_refund = refund_allowance(payment)[0] if payment.paid_at else 0
        payment.open_refunds = [r for r in payment.refunds.all() if r.state == "requested"]
    can_pay = (
        audience == "citizen"
        and is_payer
        and dossier.fee_total > 0
        and dossier.fee_paid_at is None
        and dossier.state not in FINAL_STATES
        and dossier.state != "draft"
    )
    return {
        "visible": True,
        "dossier": dossier,
        "payments": payments,
        "audience": audience,
        "can_pay": can_pay,
        "can_refund": audience == "officer" and dossier.agency_id in agencies,
        "can_decide": audience == "officer" and dossier.agency_id in leader_agencies,
        "user": user,
        "csrf_token": context.get("csrf_token"),
    }
