"""A gateway inside the project that behaves like VNPay 2.1.0, for the demo and the tests.

Its payment page (payments.views.sandbox_pay) checks the signed URL, lets the payer approve or
decline, and sends a signed IPN and a signed browser return, as VNPay does. On request it delays,
loses or duplicates the notification, so reconciliation and idempotency can be seen at work. Its
merchant API (querydr, refund) answers from its own books (SandboxTransaction), signed the same way.
"""

from __future__ import annotations

import random

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .registry import register
from .vnpay import (
    QUERY_HASH_FIELDS,
    QUERY_RESPONSE_HASH_FIELDS,
    REFUND_HASH_FIELDS,
    REFUND_RESPONSE_HASH_FIELDS,
    VnpayProvider,
    hmac_sha512,
    pipe_checksum,
    sign,
    vn_time,
)


@register
class SandboxProvider(VnpayProvider):
    name = "sandbox"
    verbose_name = "Cổng thanh toán thử nghiệm"

    def __init__(self) -> None:
        self.tmn_code = settings.SANDBOX_TMN_CODE
        self.secret = settings.SANDBOX_HASH_SECRET
        self.pay_url = reverse("payments:sandbox-pay")
        self.api_url = ""

    def _post_json(self, body: dict) -> dict:
        return sandbox_api(body)


def result_params(transaction_row, *, approved: bool) -> dict:
    """The signed vnp_* parameters VNPay sends to the IPN and the return URL after the payer's choice."""
    params = {
        "vnp_Amount": str(transaction_row.amount * 100),
        "vnp_BankCode": "NCB",
        "vnp_BankTranNo": f"VNP{transaction_row.transaction_no}",
        "vnp_CardType": "ATM",
        "vnp_OrderInfo": transaction_row.params.get("vnp_OrderInfo", ""),
        "vnp_PayDate": vn_time(timezone.now()),
        "vnp_ResponseCode": "00" if approved else "24",
        "vnp_TmnCode": settings.SANDBOX_TMN_CODE,
        "vnp_TransactionNo": transaction_row.transaction_no,
        "vnp_TransactionStatus": "00" if approved else "02",
        "vnp_TxnRef": transaction_row.reference,
    }
    params["vnp_SecureHash"] = sign(params, settings.SANDBOX_HASH_SECRET)
    return params


def new_transaction_no() -> str:
    return str(random.randint(10_000_000, 99_999_999))  # noqa: S311 - a display number, not a secret


def _signed(answer: dict, fields: list[str]) -> dict:
    answer["vnp_SecureHash"] = pipe_checksum(answer, fields, settings.SANDBOX_HASH_SECRET)
    return answer


def sandbox_api(body: dict) -> dict:
    """The sandbox merchant API: querydr and refund, checksum verified, answers signed."""
    from ..models import SandboxTransaction

    command = body.get("vnp_Command")
    fields = QUERY_HASH_FIELDS if command == "querydr" else REFUND_HASH_FIELDS
    expected = pipe_checksum(body, fields, settings.SANDBOX_HASH_SECRET)
    base = {
        "vnp_ResponseId": body.get("vnp_RequestId", ""),
        "vnp_Command": command,
        "vnp_TmnCode": settings.SANDBOX_TMN_CODE,
        "vnp_TxnRef": body.get("vnp_TxnRef", ""),
        "vnp_OrderInfo": body.get("vnp_OrderInfo", ""),
    }
    response_fields = QUERY_RESPONSE_HASH_FIELDS if command == "querydr" else REFUND_RESPONSE_HASH_FIELDS
    if str(body.get("vnp_SecureHash", "")).lower() != expected:
        return _signed({**base, "vnp_ResponseCode": "97", "vnp_Message": "Invalid checksum"}, response_fields)
    with transaction.atomic():
        row = SandboxTransaction.objects.select_for_update().filter(reference=body.get("vnp_TxnRef")).first()
        if row is None:
            return _signed({**base, "vnp_ResponseCode": "91", "vnp_Message": "Transaction not found"}, response_fields)
        status = {"pending": "01", "success": "00", "declined": "02", "refunded": "06"}[row.status]
        if command == "refund":
            amount = int(body.get("vnp_Amount", 0)) // 100
            if row.status not in ("success", "refunded") or amount > row.amount - row.refunded:
                return _signed(
                    {**base, "vnp_ResponseCode": "02", "vnp_Message": "Refund amount invalid"}, response_fields
                )
            row.refunded += amount
            row.status = "refunded" if row.refunded == row.amount else row.status
            row.save(update_fields=["refunded", "status", "updated_at"])
            status = "05"
        answer = {
            **base,
            "vnp_ResponseCode": "00",
            "vnp_Message": "Success",
            "vnp_Amount": str(row.amount * 100),
            "vnp_BankCode": "NCB",
            "vnp_PayDate": vn_time(row.updated_at),
            "vnp_TransactionNo": row.transaction_no,
            "vnp_TransactionType": body.get("vnp_TransactionType", "01"),
            "vnp_TransactionStatus": status,
            "vnp_PromotionCode": "",
            "vnp_PromotionAmount": "",
        }
    return _signed(answer, response_fields)


__all__ = ["SandboxProvider", "hmac_sha512", "result_params", "sandbox_api"]
