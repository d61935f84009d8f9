"""Payment pages: pay online, follow a payment, the receipt, the gateway's return, the sandbox
gateway's own payment page, refunds and the daily report for officers.

Reads go through payments.selectors or dossiers.selectors (404 for "not found" and "forbidden");
every change goes through payments.services. The pages work without JavaScript.
"""

from __future__ import annotations

import datetime as dt
import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from dossiers.selectors import dossier_get_for_citizen, officer_agency_ids
from dossiers.services import DossierError
from portal.accounts.constants import Role
from procedures.models import Agency

from . import services
from .constants import PaymentMethod
from .models import PaymentReport, SandboxTransaction
from .pdf import render_receipt
from .providers import sandbox as sandbox_gateway
from .providers.vnpay import verify
from .selectors import payment_get_for_officer, payment_get_for_user, refund_get_for_officer

logger = logging.getLogger("payments")


def _client_ip(request: HttpRequest) -> str:
    return request.META.get(settings.RATELIMIT_IP_META_KEY) or request.META.get("REMOTE_ADDR") or "127.0.0.1"


def _dossier_page(dossier) -> str:
    if dossier.state == "draft":
        return reverse("dossiers:review", args=[dossier.public_id])
    return reverse("dossiers:detail", args=[dossier.public_id])


# --- citizen ----------------------------------------------------------------------------------


@never_cache
@login_required
@require_POST
def pay(request: HttpRequest, public_id) -> HttpResponse:
    """Start (or resume) the online payment of a dossier's fee and send the browser to the gateway."""
    dossier = dossier_get_for_citizen(user=request.user, public_id=public_id)
    expected = request.POST.get("amount")
    try:
        payment = services.payment_create(
            dossier=dossier,
            actor=request.user,
            idempotency_key=request.POST.get("idempotency_key", "")[:100],
            expected_amount=int(expected) if expected and expected.isdigit() else None,
        )
        url = services.payment_start(
            payment=payment,
            return_url=request.build_absolute_uri(reverse("payments:return", args=[payment.provider])),
            client_ip=_client_ip(request),
            locale="en" if getattr(request, "LANGUAGE_CODE", "vi") == "en" else "vn",
        )
    except DossierError as exc:
        messages.error(request, exc.message)
        return redirect(_dossier_page(dossier))
    return redirect(url)


@never_cache
@login_required
def payment_detail(request: HttpRequest, public_id) -> HttpResponse:
    """Where a payment stands; refreshes itself (without JavaScript) while the gateway has not answered."""
    payment = payment_get_for_user(user=request.user, public_id=public_id)
    return render(
        request,
        "payments/payment_detail.html",
        {
            "payment": payment,
            "dossier": payment.dossier,
            "dossier_url": _dossier_page(payment.dossier)
            if request.user.pk in (payment.dossier.owner_id, payment.dossier.submitted_by_id)
            else reverse("dossiers:officer_dossier", args=[payment.dossier_id]),
            "waiting": payment.state in ("created", "pending"),
        },
    )


@never_cache
@login_required
def receipt(request: HttpRequest, public_id) -> HttpResponse:
    """The electronic fee receipt (biên lai) of a paid payment, as a PDF attachment."""
    payment = payment_get_for_user(user=request.user, public_id=public_id)
    if payment.paid_at is None:
        raise Http404("not paid")
    response = HttpResponse(render_receipt(payment), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="bien-lai-{payment.reference}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
def gateway_return(request: HttpRequest, provider: str) -> HttpResponse:
    """The browser back from the gateway: display only, the state changes through the IPN."""
    try:
        payment = services.payment_handle_return(provider_name=provider, params=request.GET.dict())
    except KeyError as exc:
        raise Http404("unknown provider") from exc
    if payment is None:
        return render(request, "payments/return_invalid.html", status=400)
    if request.user.is_authenticated:
        return redirect("payments:detail", public_id=payment.public_id)
    return render(request, "payments/return_anonymous.html", {"payment": payment})


# --- the sandbox gateway's own page -----------------------------------------------------------


class SandboxChoiceForm(forms.Form):
    DELIVERY = [
        ("normal", gettext_lazy("Gửi thông báo (IPN) ngay")),
        ("delayed", gettext_lazy("Gửi thông báo chậm")),
        ("duplicated", gettext_lazy("Gửi thông báo ba lần")),
        ("lost", gettext_lazy("Làm mất thông báo")),
    ]
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("decline", "decline")])
    delivery = forms.ChoiceField(label=gettext_lazy("Thông báo kết quả"), choices=DELIVERY, initial="normal")


@never_cache
def sandbox_pay(request: HttpRequest) -> HttpResponse:
    """The sandbox gateway's payment page: checks the signed request as VNPay would, then the payer
    approves or declines; a signed IPN goes to the portal (delayed, lost or duplicated on request)
    and the browser returns with signed parameters.
    """
    params = request.GET.dict() if request.method == "GET" else request.POST.dict()
    vnp = {k: v for k, v in params.items() if k.startswith("vnp_")}
    if not verify(vnp, settings.SANDBOX_HASH_SECRET) or vnp.get("vnp_TmnCode") != settings.SANDBOX_TMN_CODE:
        return HttpResponseBadRequest(_("Yêu cầu thanh toán không hợp lệ (sai chữ ký)."))
    return_url = vnp.get("vnp_ReturnUrl", "")
    # ASVS 5.1.5: send the browser back only to this portal.
    if not url_has_allowed_host_and_scheme(return_url, allowed_hosts={request.get_host()}):
        return HttpResponseBadRequest(_("Địa chỉ trả về không được phép."))
    row, _created = SandboxTransaction.objects.get_or_create(
        reference=vnp["vnp_TxnRef"],
        defaults={
            "amount": int(vnp["vnp_Amount"]) // 100,
            "params": vnp,
            "transaction_no": sandbox_gateway.new_transaction_no(),
        },
    )
    form = SandboxChoiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and row.status == SandboxTransaction.Status.PENDING:
        approved = form.cleaned_data["decision"] == "approve"
        row.status = SandboxTransaction.Status.SUCCESS if approved else SandboxTransaction.Status.DECLINED
        row.save(update_fields=["status", "updated_at"])
        result = sandbox_gateway.result_params(row, approved=approved)
        delivery = form.cleaned_data["delivery"]
        if delivery in ("normal", "duplicated"):
            for _i in range(3 if delivery == "duplicated" else 1):
                services.payment_handle_notification(provider_name="sandbox", params=result)
        elif delivery == "delayed":
            from .tasks import sandbox_deliver_ipn

            try:
                sandbox_deliver_ipn.apply_async(args=[result], countdown=settings.SANDBOX_IPN_DELAY_SECONDS)
            except Exception:  # noqa: BLE001 - broker down: like a lost IPN, reconciliation settles it
                logger.warning("sandbox.ipn_delay_failed reference=%s", row.reference)
        query = "&".join(f"{k}={v}" for k, v in _quoted(result).items())
        return redirect(f"{return_url}?{query}")
    return render(
        request,
        "payments/sandbox_pay.html",
        {"row": row, "params": vnp, "form": form, "done": row.status != SandboxTransaction.Status.PENDING},
    )


def _quoted(params: dict) -> dict:
    from urllib.parse import quote_plus

    return {k: quote_plus(str(v)) for k, v in params.items()}


# --- officers ---------------------------------------------------------------------------------


class RefundRequestForm(forms.Form):
    amount = forms.IntegerField(label=gettext_lazy("Số tiền hoàn (đồng)"), min_value=1)
    reason = forms.CharField(label=gettext_lazy("Lý do hoàn trả"), max_length=500)


class RefundDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    reason = forms.CharField(label=gettext_lazy("Ghi chú"), max_length=500, required=False)


@never_cache
@login_required
@require_POST
def refund_request(request: HttpRequest, public_id) -> HttpResponse:
    payment = payment_get_for_officer(user=request.user, public_id=public_id)
    form = RefundRequestForm(request.POST)
    back = reverse("dossiers:officer_dossier", args=[payment.dossier_id]) + "#h-payments"
    if not form.is_valid():
        messages.error(request, _("Vui lòng nhập số tiền và lý do hoàn trả."))
        return redirect(back)
    try:
        refund = services.refund_request(
            payment=payment,
            officer=request.user,
            amount=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
        )
    except DossierError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if refund.state == "rejected":
        messages.error(request, _("Không được hoàn trả: %(reason)s") % {"reason": refund.state_reason})
    else:
        messages.success(request, _("Đã gửi đề nghị hoàn trả; chờ lãnh đạo khác duyệt."))
    return redirect(back)


@never_cache
@login_required
@require_POST
def refund_decide(request: HttpRequest, public_id) -> HttpResponse:
    refund = refund_get_for_officer(user=request.user, public_id=public_id)
    form = RefundDecisionForm(request.POST)
    back = reverse("dossiers:officer_dossier", args=[refund.payment.dossier_id]) + "#h-payments"
    if not form.is_valid():
        return redirect(back)
    try:
        if form.cleaned_data["decision"] == "approve":
            refund = services.refund_approve(refund=refund, leader=request.user)
        else:
            refund = services.refund_reject(refund=refund, leader=request.user, reason=form.cleaned_data["reason"])
    except DossierError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.info(request, _("Đề nghị hoàn trả: %(state)s.") % {"state": refund.get_state_display()})
    return redirect(back)


@never_cache
@login_required
def daily_report(request: HttpRequest) -> HttpResponse:
    """The daily reconciliation report of the officer's agencies (as built by the beat task, or now)."""
    ids = officer_agency_ids(request.user, roles=(Role.RECEPTION, Role.LEADER))
    if not ids:
        raise Http404("not an officer")
    agencies = list(Agency.objects.filter(pk__in=ids).order_by("name"))
    try:
        day = dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = timezone.localdate() - dt.timedelta(days=1)
    reports = []
    for agency in agencies:
        stored = PaymentReport.objects.filter(agency=agency, day=day).first()
        data = stored.data if stored else services.payments_daily_report(agency=agency, day=day)
        reports.append(data)
    return render(request, "payments/daily_report.html", {"reports": reports, "day": day})


def counter_methods() -> list[tuple[str, str]]:
    return [(PaymentMethod.CASH, PaymentMethod.CASH.label), (PaymentMethod.CARD, PaymentMethod.CARD.label)]


@never_cache
@login_required
@require_POST
def claim_exemption(request: HttpRequest, public_id) -> HttpResponse:
    """The applicant claims an exemption group on the review step (the officer checks the proof)."""
    from dossiers.services import dossier_set_exemption

    dossier = dossier_get_for_citizen(user=request.user, public_id=public_id)
    try:
        dossier_set_exemption(dossier=dossier, user=request.user, group=request.POST.get("group", ""))
    except DossierError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("dossiers:review", args=[dossier.public_id]) + "#h-fees")
