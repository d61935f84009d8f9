"""A lost IPN settled by reconciliation; refunds allowed or refused by the rules, approved by
another leader, sent through the gateway; all of it in the daily report."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from dossiers import services as dossier_services
from dossiers.models import Dossier
from payments import services
from payments.constants import PaymentState, RefundState
from payments.models import Payment, PaymentMessage, SandboxTransaction
from payments.providers.vnpay import (
    QUERY_HASH_FIELDS,
    QUERY_RESPONSE_HASH_FIELDS,
    REFUND_HASH_FIELDS,
    REFUND_RESPONSE_HASH_FIELDS,
    pipe_checksum,
)
from payments.tasks import build_daily_reports, reconcile_pending
from portal.accounts.constants import Role
from tests.dossiers import builders
from tests.factories import OfficerFactory
from tests.payments.helpers import SECRET, awaiting_payment, ipn_params, started_payment

pytestmark = pytest.mark.django_db


def pay_at_sandbox(client, payment, *, decision="approve", delivery="normal"):
    """The payer on the sandbox gateway's own page, as a browser would do it."""
    url = payment.messages.get(kind="start").response["redirect_url"]
    page = client.get(url)
    assert page.status_code == 200
    params = dict(page.context["params"])
    return client.post(reverse("payments:sandbox-pay"), {**params, "decision": decision, "delivery": delivery})


def test_the_sandbox_gateway_pays_with_a_signed_ipn_and_returns_for_display(client):
    world, dossier = awaiting_payment()
    payment = started_payment(world, dossier, provider="sandbox")
    response = pay_at_sandbox(client, payment)
    assert response.status_code == 302 and "/thanh-toan/cong/sandbox/tro-ve/" in response["Location"]
    payment.refresh_from_db()
    assert payment.state == PaymentState.PAID
    client.force_login(world.citizen)
    shown = client.get(response["Location"], follow=True)
    assert "Đã thanh toán" in shown.content.decode()


def test_duplicated_sandbox_notifications_confirm_once(client):
    world, dossier = awaiting_payment()
    payment = started_payment(world, dossier, provider="sandbox")
    pay_at_sandbox(client, payment, delivery="duplicated")
    outcomes = list(payment.messages.filter(kind="notification").values_list("outcome", flat=True))
    assert outcomes == ["confirmed", "already_confirmed", "already_confirmed"]


def test_a_payment_whose_ipn_was_lost_is_settled_by_reconciliation(client):
    world, dossier = awaiting_payment()
    payment = started_payment(world, dossier, provider="sandbox")
    pay_at_sandbox(client, payment, delivery="lost")
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.PENDING
    assert reconcile_pending() == {}  # not yet "pending longer than N minutes"
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        assert reconcile_pending() == {"paid": 1}
    payment.refresh_from_db()
    assert payment.state == PaymentState.PAID
    assert payment.events.get(to_state="paid").source == "reconciliation"
    assert Dossier.objects.get(pk=dossier.pk).fee_paid_at is not None


def test_an_abandoned_payment_expires_at_reconciliation():
    world, dossier = awaiting_payment()
    payment = started_payment(world, dossier, provider="sandbox")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=30)):
        reconcile_pending()
    payment.refresh_from_db()
    assert payment.state == PaymentState.EXPIRED and payment.state_reason


def _paid_online(client, world, dossier):
    payment = started_payment(world, dossier, provider="sandbox")
    pay_at_sandbox(client, payment)
    return Payment.objects.get(pk=payment.pk)


def test_an_allowed_refund_is_approved_by_another_leader_and_goes_through_the_gateway(client):
    """A dossier refused at reception after paying a refundable charge gets it back."""
    world = builders.make_world(fee=50000)
    world.procedure.fees.update(refundable=True)
    world.procedure.payment_timing = "at_submission"
    world.procedure.save()
    draft = builders.draft(world)
    with pytest.raises(dossier_services.NotAllowedError, match="thanh toán"):
        dossier_services.dossier_submit(dossier=draft, user=world.citizen)
    payment = _paid_online(client, world, draft)
    dossier = Dossier.objects.get(pk=draft.pk)
    assert dossier.state == "submitted"  # paid at submission: it reached the queue only once paid
    dossier_services.dossier_refuse(dossier=dossier, officer=world.reception, reason="Không thuộc thẩm quyền")
    refund = services.refund_request(payment=payment, officer=world.reception, amount=50000, reason="Từ chối")
    assert refund.state == RefundState.REQUESTED
    with pytest.raises(dossier_services.PermissionDeniedError):
        services.refund_approve(refund=refund, leader=world.reception)  # not a leader, and the requester
    refund = services.refund_approve(refund=refund, leader=world.leader)
    assert refund.state == RefundState.COMPLETED
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDED and payment.refunded_amount == 50000
    assert SandboxTransaction.objects.get(reference=payment.reference).refunded == 50000
    assert dossier.events.filter(action="refund").count() == 1
    report = services.payments_daily_report(agency=world.agency, day=timezone.localdate())
    assert report["refunded"] == 50000
    assert report["refunds"][0]["state"] == "completed"


def test_a_leader_cannot_approve_the_refund_they_asked_for(client):
    """An overcharge (the fee taken twice) may be refunded, but not approved by the one who asked."""
    world = builders.make_world(fee=50000)
    dossier = builders.submitted(world)
    _paid_online(client, world, dossier)
    extra = Payment.objects.create(
        dossier=dossier,
        agency=dossier.agency,
        provider="counter",
        method="cash",
        reference="HSDUP0001",
        amount=50000,
    )
    services.payment_confirm(payment=extra, source="counter")
    refund = services.refund_request(payment=extra, officer=world.leader, amount=50000, reason="Thu trùng")
    assert refund.state == RefundState.REQUESTED
    with pytest.raises(dossier_services.PermissionDeniedError):
        services.refund_approve(refund=refund, leader=world.leader)
    other = OfficerFactory(role=Role.LEADER, membership__agency=world.agency)
    assert services.refund_approve(refund=refund, leader=other).state == RefundState.COMPLETED


def test_a_forbidden_refund_is_refused_with_the_reason_and_listed_in_the_report(client):
    """Charges are not refunded once the dossier is being processed (domain.md §6)."""
    world, dossier = awaiting_payment()
    payment = _paid_online(client, world, dossier)
    refund = services.refund_request(payment=payment, officer=world.reception, amount=50000, reason="Đề nghị")
    assert refund.state == RefundState.REJECTED
    assert "Chỉ hoàn trả khi hồ sơ bị từ chối tiếp nhận" in refund.state_reason
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.PAID
    report = services.payments_daily_report(agency=world.agency, day=timezone.localdate())
    assert report["confirmed"] == 50000 and report["gateway_total"] == 50000
    assert [r["state"] for r in report["refunds"]] == ["rejected"]
    assert report["mismatches"] == []


def test_the_daily_report_lists_a_payment_the_gateway_saw_paid_but_we_did_not(client):
    world, dossier = awaiting_payment()
    payment = started_payment(world, dossier, provider="sandbox")
    pay_at_sandbox(client, payment, delivery="lost")
    report = services.payments_daily_report(agency=world.agency, day=timezone.localdate())
    assert [m["reference"] for m in report["mismatches"]] == [payment.reference]
    assert build_daily_reports(day=timezone.localdate().isoformat()) == 1


def test_a_counter_officer_records_a_cash_payment_through_the_payments_app():
    world, dossier = awaiting_payment()
    online = started_payment(world, dossier, provider="sandbox")
    payment = services.payment_record_counter(
        dossier=dossier, officer=world.reception, amount=50000, receipt_number="BL-0001", method="cash"
    )
    assert payment.state == PaymentState.PAID and payment.provider == "counter"
    assert Payment.objects.get(pk=online.pk).state == PaymentState.EXPIRED
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.state == "received" and dossier.files.filter(form_number="01").exists()
    event = dossier.events.get(action="record_payment")
    assert event.data == {"amount": 50000, "receipt_number": "BL-0001", "channel": "counter"}
    assert PaymentMessage.objects.filter(payment=payment, kind="counter").exists()


def test_a_procedure_paid_at_result_hands_over_the_result_only_once_paid():
    world = builders.make_world(fee=20000)
    world.procedure.payment_timing = "at_result"
    world.procedure.save()
    dossier = builders.result_ready(world)
    with pytest.raises(dossier_services.NotAllowedError, match="nộp phí"):
        dossier_services.dossier_return_result(dossier=dossier, actor=world.reception, channel="counter")
    services.payment_record_counter(
        dossier=dossier, officer=world.reception, amount=20000, receipt_number="BL-9", method="card"
    )
    returned = dossier_services.dossier_return_result(dossier=dossier, actor=world.reception, channel="counter")
    assert returned.state == "returned"


def test_a_dossier_submitted_paid_and_returned_online_is_fully_online(client):
    world = builders.make_world(fee=20000)
    dossier = builders.in_processing(world)
    payment = _paid_online(client, world, dossier)
    assert payment.state == PaymentState.PAID
    dossier = dossier_services.dossier_submit_for_approval(
        dossier=Dossier.objects.get(pk=dossier.pk),
        officer=world.specialist,
        result_upload=builders.pdf_upload("ket-qua.pdf"),
    )
    dossier = dossier_services.dossier_approve(dossier=dossier, officer=world.leader)
    dossier = dossier_services.dossier_return_result(dossier=dossier, actor=world.citizen, channel="download")
    assert dossier.is_fully_online


# --- VNPay's merchant API against a local HTTP server ------------------------------------------


class FakeVnpayApi(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeVnpayApi.received.append(body)
        fields = QUERY_HASH_FIELDS if body["vnp_Command"] == "querydr" else REFUND_HASH_FIELDS
        ok = body["vnp_SecureHash"] == pipe_checksum(body, fields, SECRET)
        answer = {
            "vnp_ResponseId": "r1",
            "vnp_Command": body["vnp_Command"],
            "vnp_ResponseCode": "00" if ok else "97",
            "vnp_Message": "ok",
            "vnp_TmnCode": body["vnp_TmnCode"],
            "vnp_TxnRef": body["vnp_TxnRef"],
            "vnp_Amount": body.get("vnp_Amount", "5000000"),
            "vnp_BankCode": "NCB",
            "vnp_PayDate": "20260305103512",
            "vnp_TransactionNo": "14226112",
            "vnp_TransactionType": body.get("vnp_TransactionType", "01"),
            "vnp_TransactionStatus": "00" if body["vnp_Command"] == "querydr" else "05",
            "vnp_OrderInfo": body["vnp_OrderInfo"],
            "vnp_PromotionCode": "",
            "vnp_PromotionAmount": "",
        }
        fields = QUERY_RESPONSE_HASH_FIELDS if body["vnp_Command"] == "querydr" else REFUND_RESPONSE_HASH_FIELDS
        answer["vnp_SecureHash"] = pipe_checksum(answer, fields, SECRET)
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def vnpay_api(settings):
    server = HTTPServer(("127.0.0.1", 0), FakeVnpayApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.VNPAY_API_URL = f"http://127.0.0.1:{server.server_port}/merchant_webapi/api/transaction"
    FakeVnpayApi.received = []
    yield FakeVnpayApi
    server.shutdown()


def test_vnpay_querydr_settles_a_lost_ipn_through_the_merchant_api(vnpay_api):
    world, dossier = awaiting_payment()
    payment = started_payment(world, dossier, provider="vnpay")
    assert services.payment_reconcile(payment=payment) == "paid"
    sent = vnpay_api.received[0]
    assert sent["vnp_Command"] == "querydr" and sent["vnp_TxnRef"] == payment.reference
    assert sent["vnp_TransactionDate"] == payment.messages.get(kind="start").request["vnp_CreateDate"]
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.PAID


def test_vnpay_refund_goes_through_the_merchant_api_with_its_checksum(vnpay_api, client):
    world = builders.make_world(fee=50000)
    dossier = builders.submitted(world)
    payment = started_payment(world, dossier, provider="vnpay")
    client.get(reverse("api-payment-ipn", args=["vnpay"]), ipn_params(payment))
    dossier_services.dossier_refuse(dossier=dossier, officer=world.reception, reason="Sai thẩm quyền")
    Dossier.objects.get(pk=dossier.pk).fees.update(refundable=True)
    refund = services.refund_request(payment=payment, officer=world.reception, amount=20000, reason="Hoàn một phần")
    refund = services.refund_approve(refund=refund, leader=world.leader)
    assert refund.state == RefundState.COMPLETED
    sent = vnpay_api.received[-1]
    assert (sent["vnp_Command"], sent["vnp_TransactionType"], sent["vnp_Amount"]) == ("refund", "03", "2000000")
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.PARTIALLY_REFUNDED
