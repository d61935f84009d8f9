"""Every change to a payment or refund, one function per change.

Each locks the payment row (select_for_update), lets django-fsm check the transition, writes an
append-only PaymentEvent, stores the gateway messages it exchanged (PaymentMessage) and tells the
dossier through dossiers.services (which saves it through its `_save()`), all in one transaction.
Errors carry messages for the person acting, in Vietnamese.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from dossiers import services as dossier_services
from dossiers.constants import DossierState
from dossiers.models import Dossier
from dossiers.services import DossierError, NotAllowedError, PermissionDeniedError
from portal.accounts.constants import Role

from .constants import (
    OPEN_STATES,
    SETTLED_STATES,
    IpnOutcome,
    MessageKind,
    Obligation,
    PaymentMethod,
    PaymentState,
    RefundState,
)
from .models import Payment, PaymentEvent, PaymentMessage, Refund
from .providers.base import GatewayError, GatewayResult, GatewayStatus
from .providers.registry import get_provider

logger = logging.getLogger("payments")
P = PaymentState


class PaymentError(DossierError):
    """A payment action that cannot be done; the message says why."""


# --- helpers ----------------------------------------------------------------------------------


def _lock(payment: Payment | int) -> Payment:
    pk = payment.pk if isinstance(payment, Payment) else payment
    return Payment.objects.select_for_update(of=("self",)).select_related("dossier").get(pk=pk)


def _lock_with_dossier(payment: Payment) -> Payment:
    """Lock the dossier row, then the payment's: the order every path uses, so none deadlocks another."""
    Dossier.objects.select_for_update(of=("self",)).filter(pk=payment.dossier_id).first()
    return _lock(payment)


def _move(payment: Payment, name: str, *, source: str, actor=None, note: str = "") -> None:
    before = payment.state
    try:
        getattr(payment, name)()
    except TransitionNotAllowed as exc:
        raise NotAllowedError(
            _("Không thể thực hiện khi giao dịch đang ở trạng thái “%(state)s”.")
            % {"state": payment.get_state_display()}
        ) from exc
    payment.state_reason = note[:500]
    payment.save()
    PaymentEvent.objects.create(
        payment=payment,
        from_state=before,
        to_state=payment.state,
        actor=actor if getattr(actor, "pk", None) else None,
        source=source,
        note=note[:500],
    )
    logger.info("payment.%s payment=%s source=%s to=%s", name, payment.pk, source, payment.state)


def _message(
    *,
    provider: str,
    kind: str,
    payment: Payment | None = None,
    reference: str = "",
    request: dict | None = None,
    response: dict | None = None,
    verified: bool | None = None,
    outcome: str = "",
) -> PaymentMessage:
    return PaymentMessage.objects.create(
        payment=payment,
        provider=provider,
        kind=kind,
        reference=(reference or (payment.reference if payment else ""))[:64],
        request=request or {},
        response=response or {},
        verified=verified,
        outcome=outcome,
    )


def _new_reference(dossier: Dossier) -> str:
    # ASCII, unique, no personal data; VNPay wants vnp_TxnRef unique per day (this is unique forever).
    return f"HS{timezone.localtime():%y%m%d}{dossier.pk:07d}{secrets.token_hex(3).upper()}"


def _is_officer(user, dossier: Dossier, *roles: str) -> bool:
    agencies = dossier_services.officer_agencies(user, *roles)
    return dossier.agency_id in agencies or (dossier.receiving_agency_id or 0) in agencies


def _may_pay(user, dossier: Dossier) -> bool:
    user_id = getattr(user, "pk", None)
    return user_id is not None and user_id in (dossier.owner_id, dossier.submitted_by_id)


# --- creation and the gateway round trip ------------------------------------------------------


@transaction.atomic
def payment_create(
    *,
    dossier: Dossier,
    actor,
    provider: str | None = None,
    idempotency_key: str = "",
    expected_amount: int | None = None,
) -> Payment:
    """The open online payment of the dossier's fee, created if there is none.

    Idempotent: the dossier row is locked, an open payment for the same obligation and amount is
    returned as it is (retrying never makes a second charge), and a partial unique constraint keeps
    one open payment per obligation even against code that forgets the lock. An open payment of an
    older amount (the quote changed before anything was paid) is expired first.
    """
    dossier = Dossier.objects.select_for_update(of=("self",)).get(pk=dossier.pk)
    if not _may_pay(actor, dossier):
        raise PermissionDeniedError(_("Bạn không có quyền thanh toán cho hồ sơ này."))
    if dossier.state == DossierState.DRAFT:
        if dossier_services._payment_timing(dossier) != "at_submission":
            raise NotAllowedError(_("Phí, lệ phí của thủ tục này được nộp sau khi hồ sơ được nộp."))
        if dossier.fee_paid_at is None:
            dossier = dossier_services.dossier_freeze_fees(dossier=dossier, user=actor)
    if dossier.fee_paid_at is not None:
        raise NotAllowedError(_("Phí, lệ phí của hồ sơ này đã được thanh toán."))
    if dossier.fee_total <= 0:
        raise NotAllowedError(_("Hồ sơ này không phải nộp phí, lệ phí."))
    if expected_amount is not None and int(expected_amount) != dossier.fee_total:
        raise PaymentError(_("Số tiền phải nộp đã thay đổi. Vui lòng xem lại trước khi thanh toán."), field="amount")
    if idempotency_key:
        earlier = Payment.objects.filter(dossier=dossier, idempotency_key=idempotency_key).first()
        if earlier is not None:
            return earlier
    provider_name = provider or settings.PAYMENT_PROVIDER
    open_payment = (
        Payment.objects.select_for_update(of=("self",))
        .filter(dossier=dossier, obligation=Obligation.FEE, state__in=OPEN_STATES)
        .first()
    )
    if open_payment is not None:
        if open_payment.amount == dossier.fee_total and open_payment.provider == provider_name:
            return open_payment
        _move(open_payment, "expire", source="payment_create", actor=actor, note=_("Thay bằng yêu cầu thanh toán mới."))
    try:
        with transaction.atomic():
            return Payment.objects.create(
                dossier=dossier,
                agency_id=dossier.agency_id,
                provider=provider_name,
                method=PaymentMethod.ONLINE,
                reference=_new_reference(dossier),
                amount=dossier.fee_total,
                created_by=actor if getattr(actor, "pk", None) else None,
                idempotency_key=idempotency_key[:100],
                expires_at=timezone.now() + dt.timedelta(minutes=settings.PAYMENT_EXPIRE_MINUTES),
            )
    except IntegrityError:
        # Another request made it between our read and our write: that one is the payment.
        return Payment.objects.get(dossier=dossier, obligation=Obligation.FEE, state__in=OPEN_STATES)


@transaction.atomic
def payment_start(*, payment: Payment, return_url: str, client_ip: str, locale: str = "vn") -> str:
    """Where to send the payer's browser; the payment is then pending at the gateway.

    Starting again (a reload, a second tab) sends the same signed request while it has not expired.
    """
    payment = _lock(payment)
    if payment.state not in OPEN_STATES:
        raise NotAllowedError(_("Giao dịch này đã kết thúc (%(state)s).") % {"state": payment.get_state_display()})
    earlier = payment.messages.filter(kind=MessageKind.START).order_by("-id").first()
    if payment.state == P.PENDING and earlier is not None and earlier.response.get("redirect_url"):
        return earlier.response["redirect_url"]
    provider = get_provider(payment.provider)
    started = provider.start(payment, return_url=return_url, client_ip=client_ip, locale=locale)
    _message(
        provider=payment.provider,
        kind=MessageKind.START,
        payment=payment,
        request=started.request,
        response={"redirect_url": started.redirect_url},
    )
    payment.started_at = timezone.now()
    _move(payment, "start", source="payment_start", note=_("Đã chuyển người nộp sang cổng thanh toán."))
    return started.redirect_url


def _settle(payment: Payment, result: GatewayResult, *, source: str) -> None:
    """Apply a verified gateway result to a locked, open payment."""
    if result.status == GatewayStatus.PAID:
        payment_confirm(
            payment=payment,
            source=source,
            transaction_no=result.transaction_no,
            bank_code=result.bank_code,
            note=result.reason,
        )
    elif result.status == GatewayStatus.FAILED:
        payment_fail(payment=payment, source=source, reason=result.reason)


@transaction.atomic
def payment_confirm(
    *, payment: Payment, source: str, transaction_no: str = "", bank_code: str = "", note: str = "", actor=None
) -> bool:
    """Mark the payment paid and tell the dossier; False (nothing done) when it was no longer open.

    Callers have verified the payment (gateway checksum and amount, or the counter officer). The
    row lock makes concurrent confirmations of one payment take effect exactly once.
    """
    payment = _lock(payment)
    if payment.state not in OPEN_STATES:
        return False
    payment.paid_at = timezone.now()
    payment.gateway_transaction_no = transaction_no[:64]
    payment.bank_code = bank_code[:20]
    _move(payment, "confirm", source=source, actor=actor, note=note or _("Thanh toán thành công."))
    dossier = payment.dossier
    if dossier.fee_paid_at is None and payment.amount == dossier.fee_total:
        dossier_services.dossier_mark_fee_paid(
            dossier=dossier,
            amount=payment.amount,
            reference=payment.reference,
            channel="online" if payment.method == PaymentMethod.ONLINE else "counter",
            actor=actor,
        )
    else:
        # Paid twice (a late IPN of a replaced payment) or a different amount: money was taken, so it
        # is recorded as paid and listed as a mismatch in the daily report for a refund.
        logger.warning("payment.duplicate_or_mismatch payment=%s dossier=%s", payment.pk, dossier.pk)
    return True


@transaction.atomic
def payment_fail(*, payment: Payment, source: str, reason: str, actor=None) -> bool:
    """The gateway says the payment did not go through (declined, cancelled); the payer may try again."""
    payment = _lock(payment)
    if payment.state not in OPEN_STATES:
        return False
    _move(payment, "fail", source=source, actor=actor, note=reason)
    return True


@transaction.atomic
def payment_expire(*, payment: Payment, source: str, reason: str = "") -> bool:
    """An open payment left unpaid past its expiry (the gateway confirms it was not paid)."""
    payment = _lock(payment)
    if payment.state not in OPEN_STATES:
        return False
    _move(payment, "expire", source=source, note=reason or _("Hết thời gian chờ thanh toán."))
    return True


def payment_handle_return(*, provider_name: str, params: dict) -> Payment | None:
    """The payer's browser is back from the gateway: store the message, change nothing.

    The return URL only shows the result; the state changes through the IPN or reconciliation.
    """
    provider = get_provider(provider_name)
    result = provider.handle_return(params)
    payment = Payment.objects.filter(reference=result.reference, provider=provider_name).first()
    _message(
        provider=provider_name,
        kind=MessageKind.RETURN,
        payment=payment if result.verified else None,
        reference=result.reference,
        request=result.request,
        verified=result.verified,
        outcome=result.status,
    )
    return payment if result.verified else None


def payment_handle_notification(*, provider_name: str, params: dict) -> dict:
    """A gateway's server-to-server notification (IPN): the only way a payment becomes paid online.

    In the protocol's order: checksum (constant time), order, amount, still open, then paid or
    failed. Repeated or concurrent notifications confirm once. Every message is stored with its
    outcome; the reply is the provider's (VNPay: {"RspCode": ..., "Message": ...}).
    """
    provider = get_provider(provider_name)
    result = None
    payment = None
    try:
        result = provider.handle_notification(params)
        with transaction.atomic():
            outcome, payment = _apply_notification(provider_name, result)
            _message(
                provider=provider_name,
                kind=MessageKind.NOTIFICATION,
                payment=payment,
                reference=result.reference,
                request=result.request,
                response=provider.notification_response(outcome),
                verified=result.verified,
                outcome=outcome,
            )
    except Exception:
        logger.exception("payment.ipn_error provider=%s", provider_name)
        outcome = IpnOutcome.ERROR
        _message(
            provider=provider_name,
            kind=MessageKind.NOTIFICATION,
            reference=str(params.get("vnp_TxnRef", ""))[:64],
            request={k: str(v) for k, v in params.items()},
            response=provider.notification_response(outcome),
            verified=result.verified if result else None,
            outcome=outcome,
        )
    return provider.notification_response(outcome)


def _apply_notification(provider_name: str, result: GatewayResult) -> tuple[str, Payment | None]:
    if not result.verified:
        return IpnOutcome.INVALID_SIGNATURE, None
    found = Payment.objects.filter(reference=result.reference, provider=provider_name).first()
    if found is None:
        return IpnOutcome.NOT_FOUND, None
    payment = _lock_with_dossier(found)
    if result.amount != payment.amount:
        return IpnOutcome.INVALID_AMOUNT, payment
    if payment.state not in OPEN_STATES:
        return IpnOutcome.ALREADY_CONFIRMED, payment
    _settle(payment, result, source="ipn")
    return IpnOutcome.CONFIRMED, payment


# --- counter ----------------------------------------------------------------------------------


@transaction.atomic
def payment_record_counter(
    *,
    dossier: Dossier,
    officer,
    amount: int,
    receipt_number: str,
    method: str = PaymentMethod.CASH,
    expected_version: int | None = None,
) -> Payment:
    """A fee paid at the one-stop counter, in cash or by card terminal with its receipt number.

    Keeps dossier_record_payment's behaviour for a dossier waiting for payment (it is called, and
    checks role, amount and receipt); other dossiers just record the fee as paid. An online payment
    left open is expired, so the citizen cannot pay twice.
    """
    if method not in (PaymentMethod.CASH, PaymentMethod.CARD):
        raise PaymentError(_("Hình thức thu không hợp lệ."), field="method")
    dossier = Dossier.objects.select_for_update(of=("self",)).get(pk=dossier.pk)
    if not _is_officer(officer, dossier, Role.RECEPTION):
        raise PermissionDeniedError(_("Bạn không có quyền thực hiện thao tác này đối với hồ sơ của cơ quan này."))
    if dossier.fee_paid_at is not None:
        raise NotAllowedError(_("Phí, lệ phí của hồ sơ này đã được thanh toán."))
    if not str(receipt_number).strip():
        raise DossierError(_("Vui lòng nhập số biên lai."), field="receipt_number")
    if int(amount) != dossier.fee_total or dossier.fee_total <= 0:
        raise DossierError(
            _("Số tiền %(amount)s đồng không khớp với tổng phí, lệ phí %(total)s đồng.")
            % {"amount": f"{int(amount):,}".replace(",", "."), "total": f"{dossier.fee_total:,}".replace(",", ".")},
            field="amount",
        )
    for open_payment in Payment.objects.filter(dossier=dossier, obligation=Obligation.FEE, state__in=OPEN_STATES):
        payment_expire(payment=open_payment, source="counter", reason=_("Người nộp đã nộp phí tại quầy."))
    payment = Payment.objects.create(
        dossier=dossier,
        agency_id=dossier.agency_id,
        provider="counter",
        method=method,
        reference=_new_reference(dossier),
        amount=int(amount),
        receipt_number=str(receipt_number).strip()[:50],
        created_by=officer,
    )
    _message(
        provider="counter",
        kind=MessageKind.COUNTER,
        payment=payment,
        request={"amount": int(amount), "receipt_number": payment.receipt_number, "method": method},
        verified=True,
    )
    if dossier.state == DossierState.AWAITING_PAYMENT:
        dossier_services.dossier_record_payment(
            dossier=dossier,
            officer=officer,
            amount=int(amount),
            receipt_number=payment.receipt_number,
            expected_version=expected_version,
        )
    else:
        dossier_services.dossier_mark_fee_paid(
            dossier=dossier, amount=int(amount), reference=payment.receipt_number, channel="counter", actor=officer
        )
    payment.paid_at = timezone.now()
    _move(
        payment,
        "confirm",
        source="counter",
        actor=officer,
        note=_("Thu tại quầy (%(method)s), biên lai số %(number)s.")
        % {"method": payment.get_method_display(), "number": payment.receipt_number},
    )
    return payment


# --- reconciliation ---------------------------------------------------------------------------


def payment_reconcile(*, payment: Payment) -> str:
    """Ask the gateway what became of one open payment and settle it; returns the gateway status.

    A paid one is confirmed (a lost IPN never leaves a payer unpaid), a failed one failed, one
    still unknown to the gateway past its expiry expired. Safe to run any number of times.
    """
    provider = get_provider(payment.provider)
    if not provider.is_online or payment.state not in OPEN_STATES:
        return GatewayStatus.UNKNOWN
    try:
        result = provider.query(payment)
    except GatewayError as exc:
        _message(provider=payment.provider, kind=MessageKind.QUERY, payment=payment, response={"error": str(exc)})
        logger.warning("payment.query_failed payment=%s", payment.pk)
        return GatewayStatus.UNKNOWN
    with transaction.atomic():
        locked = _lock_with_dossier(payment)
        _message(
            provider=payment.provider,
            kind=MessageKind.QUERY,
            payment=locked,
            request=result.request,
            response=result.response,
            verified=result.verified,
            outcome=result.status,
        )
        if locked.state not in OPEN_STATES:
            return result.status
        if result.status == GatewayStatus.PAID and result.amount != locked.amount:
            locked.state_reason = _("Cổng báo số tiền %(amount)s khác số phải nộp: cần kiểm tra.") % {
                "amount": result.amount
            }
            locked.save(update_fields=["state_reason", "updated_at"])
            return result.status
        if result.status in (GatewayStatus.PAID, GatewayStatus.FAILED):
            _settle(locked, result, source="reconciliation")
        elif locked.expires_at and timezone.now() > locked.expires_at + dt.timedelta(minutes=5):
            payment_expire(
                payment=locked, source="reconciliation", reason=_("Cổng không ghi nhận thanh toán trước khi hết hạn.")
            )
    return result.status


def payments_reconcile_pending(*, older_than_minutes: int | None = None, limit: int = 500) -> dict[str, int]:
    """Reconcile payments pending at the gateway for longer than N minutes (the beat task's work)."""
    minutes = settings.PAYMENT_RECONCILE_AFTER_MINUTES if older_than_minutes is None else older_than_minutes
    cutoff = timezone.now() - dt.timedelta(minutes=minutes)
    counts: dict[str, int] = {}
    pending = Payment.objects.filter(state=P.PENDING, started_at__lte=cutoff).order_by("started_at")[:limit]
    for payment in pending:
        status = payment_reconcile(payment=payment)
        counts[status] = counts.get(status, 0) + 1
    return counts


# --- refunds ----------------------------------------------------------------------------------


def refund_allowance(payment: Payment) -> tuple[int, str]:
    """How much of the payment the rules allow to refund, and why (or why not).

    Per fee item (DossierFee.refundable): a dossier refused at reception after paying gets its
    refundable lines back; an overcharge (paid twice, or more than the frozen total) always may be.
    Nothing else, in particular not after appraisal (domain.md §6: charges are not refunded).
    """
    dossier = payment.dossier
    paid_for_obligation = (
        Payment.objects.filter(dossier=dossier, obligation=payment.obligation, state__in=SETTLED_STATES)
        .exclude(pk=payment.pk)
        .filter(paid_at__lt=payment.paid_at or timezone.now())
        .aggregate(total=Sum("amount"))["total"]
        or 0
    )
    overcharge = max(0, min(payment.amount, paid_for_obligation + payment.amount - dossier.fee_total))
    refundable_lines = 0
    if dossier.state in (DossierState.REFUSED_AT_RECEPTION, DossierState.WITHDRAWN):
        refundable_lines = sum(fee.amount for fee in dossier.fees.all() if fee.refundable)
    allowed = min(payment.refundable_amount, overcharge + refundable_lines)
    if allowed > 0:
        return allowed, ""
    if dossier.state in (DossierState.REFUSED_AT_RECEPTION, DossierState.WITHDRAWN):
        return 0, _("Các khoản phí, lệ phí của thủ tục này không được hoàn trả theo quy định.")
    return 0, _(
        "Chỉ hoàn trả khi hồ sơ bị từ chối tiếp nhận sau khi đã nộp (với khoản được hoàn) hoặc khi thu thừa; "
        "hồ sơ đang ở trạng thái “%(state)s”."
    ) % {"state": dossier.get_state_display()}


@transaction.atomic
def refund_request(*, payment: Payment, officer, amount: int, reason: str) -> Refund:
    """An officer asks to refund (fully or partly) a settled payment.

    Returns the Refund: REQUESTED when the rules allow it, REJECTED with the reason when they do not
    (kept, so that the daily report lists refused refunds too).
    """
    payment = _lock(payment)
    if not _is_officer(officer, payment.dossier, Role.RECEPTION, Role.LEADER):
        raise PermissionDeniedError(_("Bạn không có quyền thực hiện thao tác này đối với hồ sơ của cơ quan này."))
    if not reason.strip():
        raise DossierError(_("Vui lòng ghi lý do hoàn trả."), field="reason")
    if int(amount) <= 0:
        raise DossierError(_("Số tiền hoàn phải lớn hơn 0."), field="amount")
    if payment.state not in SETTLED_STATES or payment.refundable_amount <= 0:
        raise NotAllowedError(_("Giao dịch này chưa thanh toán hoặc đã hoàn trả hết."))
    if payment.refunds.filter(state__in=[RefundState.REQUESTED, RefundState.APPROVED]).exists():
        raise NotAllowedError(_("Giao dịch này đang có một đề nghị hoàn trả chờ xử lý."))
    allowed, why_not = refund_allowance(payment)
    refund = Refund(payment=payment, amount=int(amount), reason=reason.strip()[:500], requested_by=officer)
    if int(amount) > allowed:
        refund.state = RefundState.REJECTED
        refund.state_reason = (
            why_not
            or _("Số tiền hoàn tối đa được phép là %(allowed)s đồng.") % {"allowed": f"{allowed:,}".replace(",", ".")}
        )[:500]
        refund.decided_at = timezone.now()
    refund.save()
    logger.info("refund.request refund=%s payment=%s state=%s", refund.pk, payment.pk, refund.state)
    return refund


def _lock_refund(refund: Refund) -> Refund:
    return Refund.objects.select_for_update().select_related("payment", "payment__dossier").get(pk=refund.pk)


def refund_approve(*, refund: Refund, leader) -> Refund:
    """A leader other than the requesting officer approves; the refund is then sent to the gateway.

    Segregation of duties (ASVS 4.3.3) is checked here and by a database constraint.
    """
    with transaction.atomic():
        refund = _lock_refund(refund)
        if not _is_officer(leader, refund.payment.dossier, Role.LEADER):
            raise PermissionDeniedError(_("Chỉ lãnh đạo cơ quan mới duyệt hoàn trả."))
        if leader.pk == refund.requested_by_id:
            raise PermissionDeniedError(_("Người đề nghị hoàn trả không được tự duyệt đề nghị của mình."))
        if refund.state != RefundState.REQUESTED:
            raise NotAllowedError(_("Đề nghị hoàn trả này đã được xử lý."))
        refund.state = RefundState.APPROVED
        refund.approved_by = leader
        refund.decided_at = timezone.now()
        refund.save()
    payment = refund.payment
    provider = get_provider(payment.provider)
    try:
        result = provider.refund(
            payment, amount=refund.amount, reason=refund.reason, requested_by=refund.requested_by.username
        )
    except GatewayError as exc:
        _message(provider=payment.provider, kind=MessageKind.REFUND, payment=payment, response={"error": str(exc)})
        with transaction.atomic():
            refund = _lock_refund(refund)
            refund.state_reason = _("Chưa kết nối được cổng thanh toán; sẽ thử lại.")
            refund.save(update_fields=["state_reason"])
        return refund
    _message(
        provider=payment.provider,
        kind=MessageKind.REFUND,
        payment=payment,
        request=result.request,
        response=result.response,
        verified=result.ok,
        outcome="ok" if result.ok else "refused",
    )
    if result.ok:
        return refund_complete(refund=refund, gateway_reference=result.gateway_reference, actor=leader)
    with transaction.atomic():
        refund = _lock_refund(refund)
        refund.state = RefundState.FAILED
        refund.state_reason = result.reason[:500]
        refund.save(update_fields=["state", "state_reason"])
    return refund


@transaction.atomic
def refund_reject(*, refund: Refund, leader, reason: str) -> Refund:
    refund = _lock_refund(refund)
    if not _is_officer(leader, refund.payment.dossier, Role.LEADER):
        raise PermissionDeniedError(_("Chỉ lãnh đạo cơ quan mới duyệt hoàn trả."))
    if refund.state != RefundState.REQUESTED:
        raise NotAllowedError(_("Đề nghị hoàn trả này đã được xử lý."))
    refund.state = RefundState.REJECTED
    refund.approved_by = leader if leader.pk != refund.requested_by_id else None
    refund.state_reason = reason.strip()[:500] or _("Lãnh đạo không duyệt.")
    refund.decided_at = timezone.now()
    refund.save()
    return refund


@transaction.atomic
def refund_complete(*, refund: Refund, gateway_reference: str = "", actor=None) -> Refund:
    """The gateway returned the money: the payment is (partly) refunded, the dossier's trail says so."""
    refund = _lock_refund(refund)
    if refund.state == RefundState.COMPLETED:
        return refund
    payment = _lock(refund.payment)
    payment.refunded_amount += refund.amount
    name = "refund_fully" if payment.refunded_amount >= payment.amount else "refund_partly"
    _move(
        payment,
        name,
        source="refund",
        actor=actor,
        note=_("Hoàn trả %(amount)s đồng: %(reason)s")
        % {"amount": f"{refund.amount:,}".replace(",", "."), "reason": refund.reason},
    )
    refund.state = RefundState.COMPLETED
    refund.gateway_reference = gateway_reference[:64]
    refund.completed_at = timezone.now()
    refund.save()
    dossier_services.dossier_record_refund(
        dossier=payment.dossier, amount=refund.amount, reference=payment.reference, actor=actor, reason=refund.reason
    )
    return refund


# --- daily report -----------------------------------------------------------------------------


def payments_daily_report(*, agency, day: dt.date, ask_gateway: bool = True) -> dict:
    """Expected, confirmed and refunded amounts of one agency for one day, with the gateway's own
    figures for the same transactions beside ours, and every mismatch listed.
    """
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    end = start + dt.timedelta(days=1)
    payments = list(
        Payment.objects.filter(agency=agency)
        .filter(Q(created_at__gte=start, created_at__lt=end) | Q(paid_at__gte=start, paid_at__lt=end))
        .select_related("dossier")
        .order_by("created_at")
    )
    refunds = list(
        Refund.objects.filter(payment__agency=agency)
        .filter(Q(created_at__gte=start, created_at__lt=end) | Q(completed_at__gte=start, completed_at__lt=end))
        .select_related("payment")
    )
    expected = sum(p.amount for p in payments if p.created_at >= start and p.state != P.EXPIRED)
    confirmed = [p for p in payments if p.paid_at and start <= p.paid_at < end]
    mismatches: list[dict] = []
    gateway_total = 0
    for payment in payments:
        provider = get_provider(payment.provider)
        # Counter payments are in the cash book, not at a gateway; a payment never started is nowhere.
        if not ask_gateway or not provider.is_online or payment.state == P.CREATED:
            continue
        try:
            result = provider.query(payment)
        except GatewayError:
            mismatches.append({"reference": payment.reference, "problem": _("Không tra cứu được tại cổng.")})
            continue
        ours_paid = payment.state in SETTLED_STATES
        if result.status == GatewayStatus.PAID:
            gateway_total += result.amount or 0
        if ours_paid != (result.status == GatewayStatus.PAID) or (ours_paid and result.amount != payment.amount):
            mismatches.append(
                {
                    "reference": payment.reference,
                    "problem": _("Cổng: %(gateway)s; Cổng dịch vụ công: %(ours)s.")
                    % {"gateway": result.status, "ours": payment.get_state_display()},
                }
            )
    by_dossier: dict[int, int] = {}
    for payment in Payment.objects.filter(
        dossier_id__in={p.dossier_id for p in confirmed}, state__in=SETTLED_STATES
    ).values_list("dossier_id", flat=True):
        by_dossier[payment] = by_dossier.get(payment, 0) + 1
    for payment in confirmed:
        if by_dossier.get(payment.dossier_id, 0) > 1:
            mismatches.append({"reference": payment.reference, "problem": _("Hồ sơ đã được thanh toán nhiều lần.")})
    return {
        "agency": agency.name,
        "day": day.isoformat(),
        "expected": expected,
        "confirmed": sum(p.amount for p in confirmed),
        "confirmed_count": len(confirmed),
        "gateway_total": gateway_total if ask_gateway else None,
        "refunded": sum(r.amount for r in refunds if r.state == RefundState.COMPLETED),
        "refunds": [
            {
                "reference": r.payment.reference,
                "amount": r.amount,
                "state": r.state,
                "state_display": r.get_state_display(),
                "reason": r.reason,
                "state_reason": r.state_reason,
            }
            for r in refunds
        ],
        "mismatches": mismatches,
    }
