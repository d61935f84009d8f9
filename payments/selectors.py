"""Reads of payments with access control: fetch and authorise together, 404 for both failures."""

from __future__ import annotations

import logging

from django.http import Http404

from dossiers.selectors import officer_agency_ids

from .models import Payment, Refund

logger = logging.getLogger("payments")


def _is_payer(user, dossier) -> bool:
    user_id = getattr(user, "pk", None)
    return user_id is not None and user_id in (dossier.owner_id, dossier.submitted_by_id)


def user_sees_dossier_payments(user, dossier) -> bool:
    """The payer, or an officer of the dossier's agencies (as for the dossier itself)."""
    if _is_payer(user, dossier):
        return True
    ids = officer_agency_ids(user)
    return bool(ids) and (dossier.agency_id in ids or dossier.receiving_agency_id in ids)


def payment_get_for_user(*, user, public_id) -> Payment:
    payment = (
        Payment.objects.select_related("dossier", "dossier__agency", "dossier__procedure")
        .filter(public_id=public_id)
        .first()
    )
    if payment is None or not user_sees_dossier_payments(user, payment.dossier):
        logger.warning("access.refused what=payment id=%s user=%s", public_id, getattr(user, "pk", None))
        raise Http404("not found")
    return payment


def payment_get_for_officer(*, user, public_id) -> Payment:
    """A payment of the officer's agencies, else 404: the payer may see it, not act on it as staff."""
    payment = payment_get_for_user(user=user, public_id=public_id)
    ids = officer_agency_ids(user)
    if payment.dossier.agency_id not in ids and payment.dossier.receiving_agency_id not in ids:
        logger.warning("access.refused what=payment_staff id=%s user=%s", public_id, getattr(user, "pk", None))
        raise Http404("not found")
    return payment


def refund_get_for_officer(*, user, public_id) -> Refund:
    refund = Refund.objects.select_related("payment", "payment__dossier").filter(public_id=public_id).first()
    ids = officer_agency_ids(user)
    if refund is None or refund.payment.agency_id not in ids:
        logger.warning("access.refused what=refund id=%s user=%s", public_id, getattr(user, "pk", None))
        raise Http404("not found")
    return refund


def payments_of_dossier(dossier) -> list[Payment]:
    return list(dossier.payments.prefetch_related("events", "refunds").order_by("created_at"))
