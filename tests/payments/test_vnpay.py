"""VNPay 2.1.0 signing, checked against the vector of domain.md §8.2, and the IPN protocol."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import reverse

from dossiers.models import Dossier
from payments.constants import PaymentState
from payments.models import Payment, PaymentMessage
from payments.providers.vnpay import hash_data, sign, verify
from tests.payments.helpers import SECRET, awaiting_payment, ipn_params, started_payment

PAY_PARAMS = {
    "vnp_Amount": "5000000",
    "vnp_Command": "pay",
    "vnp_CreateDate": "20260305103000",
    "vnp_CurrCode": "VND",
    "vnp_ExpireDate": "20260305104500",
    "vnp_IpAddr": "127.0.0.1",
    "vnp_Locale": "vn",
    "vnp_OrderInfo": "Thanh toan le phi ho so 000.00.12.H56-260305-0001",
    "vnp_OrderType": "other",
    "vnp_ReturnUrl": "https://dvc.example.vn/payments/vnpay/return",
    "vnp_TmnCode": "DEMO0001",
    "vnp_TxnRef": "HS2603050001",
    "vnp_Version": "2.1.0",
}
PAY_HASH = (
    "aaba8b0a1f9c852c914f0ea77d6e98c85282fd1d354d3ec27e69269fd38920e7"
    "0e2c759060015aae8f782c9a4019ac8d996ed29c0231c8ab3757af23e26c9974"
)
IPN_PARAMS = {
    "vnp_Amount": "5000000",
    "vnp_BankCode": "NCB",
    "vnp_BankTranNo": "VNP14226112",
    "vnp_CardType": "ATM",
    "vnp_OrderInfo": "Thanh toan le phi ho so 000.00.12.H56-260305-0001",
    "vnp_PayDate": "20260305103512",
    "vnp_ResponseCode": "00",
    "vnp_TmnCode": "DEMO0001",
    "vnp_TransactionNo": "14226112",
    "vnp_TransactionStatus": "00",
    "vnp_TxnRef": "HS2603050001",
}
IPN_HASH = (
    "c985d5c189c76196aa9ecd691ff27c5a1923f814ae9a61e5f0621c832a52bfef"
    "6c05f389ed18488b0ccb88d45f1b036ad706949f02d4b824ca41b22002ca276e"
)


def test_payment_signature_matches_the_published_vector():
    assert hash_data(PAY_PARAMS).startswith("vnp_Amount=5000000&vnp_Command=pay&")
    assert "vnp_OrderInfo=Thanh+toan+le+phi+ho+so+000.00.12.H56-260305-0001" in hash_data(PAY_PARAMS)
    assert "vnp_ReturnUrl=https%3A%2F%2Fdvc.example.vn%2Fpayments%2Fvnpay%2Freturn" in hash_data(PAY_PARAMS)
    assert sign(PAY_PARAMS, SECRET) == PAY_HASH


def test_ipn_signature_matches_the_published_vector_and_ignores_the_hash_fields():
    assert sign(IPN_PARAMS, SECRET) == IPN_HASH
    assert verify({**IPN_PARAMS, "vnp_SecureHash": IPN_HASH, "vnp_SecureHashType": "HmacSHA512"}, SECRET)
    assert not verify({**IPN_PARAMS, "vnp_Amount": "5000001", "vnp_SecureHash": IPN_HASH}, SECRET)


@pytest.mark.django_db
def test_payment_url_carries_amount_times_100_and_a_valid_signature(settings):
    world, dossier = awaiting_payment(fee=50000)
    payment = started_payment(world, dossier)
    url = payment.messages.get(kind="start").response["redirect_url"]
    assert url.startswith(settings.VNPAY_URL + "?")
    params = dict(parse_qsl(urlsplit(url).query))
    assert params["vnp_Amount"] == "5000000"
    assert params["vnp_Version"] == "2.1.0" and params["vnp_Command"] == "pay"
    assert params["vnp_TxnRef"] == payment.reference
    assert verify(params, SECRET)
    assert payment.state == PaymentState.PENDING


def _ipn(client, params):
    response = client.get(reverse("api-payment-ipn", args=["vnpay"]), params)
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db
def test_a_valid_ipn_confirms_once_and_starts_the_dossier_clock(client):
    world, dossier = awaiting_payment()
    payment = started_payment(world, dossier)
    params = ipn_params(payment)
    assert _ipn(client, params) == {"RspCode": "00", "Message": "Confirm Success"}
    assert _ipn(client, params) == {"RspCode": "02", "Message": "Order already confirmed"}
    payment.refresh_from_db()
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert payment.state == PaymentState.PAID and payment.gateway_transaction_no == "14226112"
    assert dossier.state == "received" and dossier.fee_paid_at is not None and dossier.current_due_at
    assert dossier.events.filter(action="record_payment", data__channel="online").count() == 1
    assert PaymentMessage.objects.filter(payment=payment, kind="notification").count() == 2


@pytest.mark.django_db
def test_a_changed_amount_answers_04_and_changes_nothing(client):
    world, dossier = awaiting_payment()
    payment = started_payment(world, dossier)
    assert _ipn(client, ipn_params(payment, amount=1000))["RspCode"] == "04"
    payment.refresh_from_db()
    assert payment.state == PaymentState.PENDING


@pytest.mark.django_db
def test_a_bad_checksum_answers_97(client):
    world, dossier = awaiting_payment()
    payment = started_payment(world, dossier)
    params = ipn_params(payment, secret="WRONGSECRET")
    assert _ipn(client, params) == {"RspCode": "97", "Message": "Invalid signature"}
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.PENDING
    assert PaymentMessage.objects.filter(kind="notification", verified=False, outcome="invalid_signature").exists()


@pytest.mark.django_db
def test_an_unknown_order_answers_01(client):
    world, dossier = awaiting_payment()
    payment = started_payment(world, dossier)
    params = ipn_params(payment)
    params["vnp_TxnRef"] = "HS000000UNKNOWN"
    params["vnp_SecureHash"] = sign(params, SECRET)
    assert _ipn(client, params)["RspCode"] == "01"


@pytest.mark.django_db
def test_a_declined_payment_is_failed_and_the_citizen_may_pay_again(client):
    world, dossier = awaiting_payment()
    payment = started_payment(world, dossier)
    assert _ipn(client, ipn_params(payment, code="24"))["RspCode"] == "00"
    payment.refresh_from_db()
    assert payment.state == PaymentState.FAILED and "24" in payment.state_reason
    again = started_payment(world, Dossier.objects.get(pk=dossier.pk))
    assert again.pk != payment.pk and again.state == PaymentState.PENDING


@pytest.mark.django_db
def test_an_unexpected_error_answers_99(client, monkeypatch):
    world, dossier = awaiting_payment()
    payment = started_payment(world, dossier)

    def boom(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr("payments.services.payment_confirm", boom)
    assert _ipn(client, ipn_params(payment))["RspCode"] == "99"
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.PENDING


@pytest.mark.django_db
def test_the_return_url_never_changes_a_payment(client):
    world, dossier = awaiting_payment()
    payment = started_payment(world, dossier)
    client.force_login(world.citizen)
    response = client.get(reverse("payments:return", args=["vnpay"]), ipn_params(payment))
    assert response.status_code == 302
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.PENDING
    assert Dossier.objects.get(pk=dossier.pk).fee_paid_at is None
    assert PaymentMessage.objects.filter(payment=payment, kind="return", verified=True).exists()


@pytest.mark.django_db
def test_creating_a_payment_twice_returns_the_same_open_payment():
    world, dossier = awaiting_payment()
    first = started_payment(world, dossier)
    second = started_payment(world, Dossier.objects.get(pk=dossier.pk))
    assert first.pk == second.pk
    assert Payment.objects.filter(dossier=dossier).count() == 1


@pytest.mark.django_db
def test_the_database_refuses_a_second_open_payment_for_one_obligation():
    from django.db import IntegrityError, transaction

    world, dossier = awaiting_payment()
    first = started_payment(world, dossier)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            dossier=dossier, agency=dossier.agency, provider="vnpay", method="online", reference="HSX", amount=50000
        )
    assert first.state == PaymentState.PENDING


@pytest.mark.django_db
def test_the_ipn_endpoint_is_in_the_openapi_schema(client):
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    assert "/api/payments/{provider}/ipn/" in schema["paths"]
    assert "/api/fees/quote/" in schema["paths"]
