"""The narrow interface every payment gateway implements (VNPay, the sandbox, later the national platform).

Five operations: start a payment (where to send the browser), read the browser's return (display
only, never a state change), read a server-to-server notification, query a transaction, refund.
Providers speak their protocol; payments.services decides what a result means for a payment.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models import Payment


class GatewayStatus:
    PAID = "paid"
    FAILED = "failed"
    PENDING = "pending"
    UNKNOWN = "unknown"


@dataclass
class StartResult:
    redirect_url: str
    request: dict = field(default_factory=dict)


@dataclass
class GatewayResult:
    """What a gateway said about one transaction (return, notification or query)."""

    reference: str
    verified: bool
    status: str = GatewayStatus.UNKNOWN
    amount: int | None = None
    transaction_no: str = ""
    bank_code: str = ""
    reason: str = ""
    request: dict = field(default_factory=dict)
    response: dict = field(default_factory=dict)


@dataclass
class RefundResult:
    ok: bool
    gateway_reference: str = ""
    reason: str = ""
    request: dict = field(default_factory=dict)
    response: dict = field(default_factory=dict)


class GatewayError(Exception):
    """The gateway could not be reached or answered something unreadable (transient: try later)."""


class PaymentProvider(ABC):
    name: str = ""
    verbose_name: str = ""
    # False for counter payments: nothing is sent anywhere.
    is_online: bool = True

    @abstractmethod
    def start(self, payment: Payment, *, return_url: str, client_ip: str, locale: str = "vn") -> StartResult:
        """Where to send the applicant's browser to pay `payment`."""

    @abstractmethod
    def handle_return(self, params: dict) -> GatewayResult:
        """Read the browser's return; for display only."""

    @abstractmethod
    def handle_notification(self, params: dict) -> GatewayResult:
        """Read and verify a server-to-server notification."""

    @abstractmethod
    def notification_response(self, outcome: str) -> dict:
        """The reply the gateway expects for an outcome (payments.constants.IpnOutcome)."""

    @abstractmethod
    def query(self, payment: Payment) -> GatewayResult:
        """Ask the gateway what became of `payment` (reconciliation). Raises GatewayError."""

    @abstractmethod
    def refund(self, payment: Payment, *, amount: int, reason: str, requested_by: str) -> RefundResult:
        """Return `amount` of `payment` to the payer. Raises GatewayError when unreachable."""
