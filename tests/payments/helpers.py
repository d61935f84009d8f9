"""Dossiers with fees and payments, built through the services."""

from __future__ import annotations

from dossiers.models import Dossier
from payments import services
from payments.models import Payment
from payments.providers.vnpay import sign
from tests.dossiers import builders

SECRET = "TESTSECRETKEY0123456789ABCDEFGHI"
TMN = "DEMO0001"


def awaiting_payment(fee: int = 50000) -> tuple[builders.World, Dossier]:
    world = builders.make_world(fee=fee, fee_first=True)
    dossier = builders.received(world)
    assert dossier.state == "awaiting_payment"
    return world, dossier


def started_payment(world, dossier, *, provider: str = "vnpay") -> Payment:
    payment = services.payment_create(dossier=dossier, actor=world.citizen, provider=provider)
    # The sandbox sends the browser back only to the portal it runs in (the test client's host).
    host = "http://testserver" if provider == "sandbox" else "https://dvc.example.vn"
    services.payment_start(
        payment=payment, return_url=f"{host}/thanh-toan/cong/{provider}/tro-ve/", client_ip="127.0.0.1"
    )
    return Payment.objects.get(pk=payment.pk)


def ipn_params(payment: Payment, *, amount: int | None = None, code: str = "00", secret: str = SECRET) -> dict:
    params = {
        "vnp_Amount": str((payment.amount if amount is None else amount) * 100),
        "vnp_BankCode": "NCB",
        "vnp_BankTranNo": "VNP14226112",
        "vnp_CardType": "ATM",
        "vnp_OrderInfo": "Thanh toan le phi ho so",
        "vnp_PayDate": "20260305103512",
        "vnp_ResponseCode": code,
        "vnp_TmnCode": TMN,
        "vnp_TransactionNo": "14226112",
        "vnp_TransactionStatus": code,
        "vnp_TxnRef": payment.reference,
    }
    params["vnp_SecureHash"] = sign(params, secret)
    return params
