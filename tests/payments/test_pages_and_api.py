"""Fee breakdown on the procedure page, the review step and the dossier; payment history, the
receipt PDF, access control; the fee quote and payment API."""

from __future__ import annotations

import subprocess

import pytest
from django.urls import reverse

from dossiers.models import Dossier
from payments.models import Payment
from tests.dossiers import builders
from tests.factories import DiscountPolicyFactory, UserFactory
from tests.payments.helpers import awaiting_payment, ipn_params, started_payment

pytestmark = pytest.mark.django_db


def test_the_procedure_page_shows_the_online_discount_and_its_legal_basis(client):
    world = builders.make_world(fee=10000)
    DiscountPolicyFactory(value=50)
    page = client.get(reverse("procedures:detail", args=[world.procedure.national_code])).content.decode()
    assert "5.000 đồng" in page and "10.000 đồng" in page
    assert "Nghị quyết số 09/2025/NQ-HĐND của HĐND tỉnh" in page


def test_the_review_step_shows_the_breakdown_before_submission(client):
    world = builders.make_world(fee=10000)
    DiscountPolicyFactory(value=50)
    dossier = builders.draft(world)
    client.force_login(world.citizen)
    page = client.get(reverse("dossiers:review", args=[dossier.public_id])).content.decode()
    assert "Giảm 50% lệ phí khi nộp hồ sơ trực tuyến" in page
    assert 'data-testid="fee-total">5.000 đồng' in page


def test_the_citizen_pays_from_the_dossier_page_and_sees_the_history_and_receipt(client):
    world, dossier = awaiting_payment(fee=50000)
    client.force_login(world.citizen)
    page = client.get(reverse("dossiers:detail", args=[dossier.public_id])).content.decode()
    assert "Thanh toán trực tuyến" in page
    response = client.post(reverse("payments:pay", args=[dossier.public_id]), {"amount": "50000"})
    assert response.status_code == 302 and response["Location"].startswith("/thanh-toan/thu-nghiem/?")
    payment = Payment.objects.get(dossier=dossier)
    client.get(
        reverse("api-payment-ipn", args=["sandbox"]), ipn_params(payment, secret="SANDBOXSECRET0123456789ABCDEFGHIJ")
    )
    page = client.get(reverse("dossiers:detail", args=[dossier.public_id])).content.decode()
    assert payment.reference in page and "Đã thanh toán" in page and "Biên lai" in page
    receipt = client.get(reverse("payments:receipt", args=[payment.public_id]))
    assert receipt["Content-Type"] == "application/pdf" and receipt["Content-Disposition"].startswith("attachment")
    text = subprocess.run(["pdftotext", "-", "-"], input=receipt.content, capture_output=True, check=True).stdout
    assert "BIÊN LAI THU PHÍ, LỆ PHÍ" in text.decode().upper() and "50.000 đồng" in text.decode()


def test_another_citizen_gets_404_for_a_payment_and_its_receipt(client):
    world, dossier = awaiting_payment()
    payment = started_payment(world, dossier, provider="sandbox")
    client.force_login(UserFactory())
    assert client.get(reverse("payments:detail", args=[payment.public_id])).status_code == 404
    assert client.get(reverse("payments:receipt", args=[payment.public_id])).status_code == 404
    assert client.post(reverse("payments:pay", args=[dossier.public_id])).status_code == 404


def test_the_officer_page_shows_why_a_payment_is_in_its_state(client):
    world, dossier = awaiting_payment()
    payment = started_payment(world, dossier, provider="sandbox")
    client.get(
        reverse("api-payment-ipn", args=["sandbox"]),
        ipn_params(payment, code="24", secret="SANDBOXSECRET0123456789ABCDEFGHIJ"),
    )
    client.force_login(world.reception)
    page = client.get(reverse("dossiers:officer_dossier", args=[dossier.pk])).content.decode()
    assert "Không thành công" in page and "Khách hàng hủy giao dịch" in page


def test_the_counter_officer_records_a_cash_payment_from_the_dossier_page(client):
    world, dossier = awaiting_payment()
    client.force_login(world.reception)
    url = reverse("dossiers:officer_dossier_action", args=[dossier.pk, "record_payment"])
    response = client.post(
        url, {"version": dossier.version, "amount": "50000", "method": "cash", "receipt_number": "BL-77"}
    )
    assert response.status_code == 302
    payment = Payment.objects.get(dossier=dossier)
    assert (payment.method, payment.receipt_number, payment.state) == ("cash", "BL-77", "paid")
    assert Dossier.objects.get(pk=dossier.pk).state == "received"


def test_the_quote_api_prices_a_procedure_for_a_channel_and_answers(client):
    world = builders.make_world(fee=10000)
    DiscountPolicyFactory(value=50)
    body = {"procedure": world.procedure.national_code, "channel": "online", "answers": {}}
    quote = client.post(reverse("api-fee-quote"), body, content_type="application/json").json()
    assert (quote["base"], quote["discount"], quote["total"]) == (10000, 5000, 5000)
    body["channel"] = "counter"
    assert client.post(reverse("api-fee-quote"), body, content_type="application/json").json()["total"] == 10000


def test_the_payment_api_starts_once_per_idempotency_key_and_reports_the_status(client):
    world, dossier = awaiting_payment()
    client.force_login(world.citizen)
    url = reverse("api-payment-start")
    first = client.post(
        url, {"dossier": str(dossier.public_id)}, content_type="application/json", headers={"Idempotency-Key": "k1"}
    )
    again = client.post(
        url, {"dossier": str(dossier.public_id)}, content_type="application/json", headers={"Idempotency-Key": "k1"}
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["public_id"] == again.json()["public_id"]
    assert first.json()["redirect_url"].startswith("/thanh-toan/thu-nghiem/?")
    status = client.get(reverse("api-payment-status", args=[first.json()["public_id"]])).json()
    assert status["state"] == "pending" and status["amount"] == 50000
    wrong = client.post(url, {"dossier": str(dossier.public_id), "amount": 1}, content_type="application/json")
    assert wrong.status_code == 409
