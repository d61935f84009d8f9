"""Payments taken at the one-stop counter (cash, or a card terminal with its receipt number).

Nothing is sent anywhere: the officer's entry is the confirmation; a refund is cash handed back.
"""

from __future__ import annotations

from .base import GatewayResult, GatewayStatus, PaymentProvider, RefundResult, StartResult
from .registry import register


@register
class CounterProvider(PaymentProvider):
    name = "counter"
    verbose_name = "Thu tại Bộ phận Một cửa"
    is_online = False

    def start(self, payment, *, return_url: str, client_ip: str, locale: str = "vn") -> StartResult:
        raise NotImplementedError("counter payments are recorded by an officer")

    def handle_return(self, params: dict) -> GatewayResult:
        return GatewayResult(reference="", verified=False)

    def handle_notification(self, params: dict) -> GatewayResult:
        return GatewayResult(reference="", verified=False)

    def notification_response(self, outcome: str) -> dict:
        return {"outcome": outcome}

    def query(self, payment) -> GatewayResult:
        status = GatewayStatus.PAID if payment.paid_at else GatewayStatus.UNKNOWN
        return GatewayResult(reference=payment.reference, verified=True, status=status, amount=payment.amount)

    def refund(self, payment, *, amount: int, reason: str, requested_by: str) -> RefundResult:
        return RefundResult(ok=True, reason="Hoàn trả tiền mặt tại quầy")
