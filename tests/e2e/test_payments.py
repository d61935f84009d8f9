"""Paying a fee in Debian's Chromium: a citizen on a 360 px phone sees the discounted fee, pays
through the sandbox gateway and gets the receipt; a counter officer records a cash payment."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from dossiers.models import Dossier
from payments.models import Payment
from tests.dossiers import builders
from tests.factories import DiscountPolicyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_citizen_on_a_phone_pays_the_discounted_fee_and_gets_the_receipt(
    phone_page, live_server, axe_audit, settings
):
    settings.PAYMENT_PROVIDER = "sandbox"
    world = builders.make_world(fee=10000, fee_first=True)
    DiscountPolicyFactory(value=50)
    dossier = builders.received(world)
    page = phone_page
    log_in(page, live_server, world.citizen)

    page.goto(f"{live_server.url}/ho-so/{dossier.public_id}/")
    fees = page.get_by_role("region", name="Phí, lệ phí", exact=True).inner_text()
    assert "Giảm 50% lệ phí khi nộp hồ sơ trực tuyến" in fees and "5.000 đồng" in fees
    assert fits_the_phone(page) and axe_audit(page) == []
    page.get_by_role("button", name="Thanh toán trực tuyến").click()

    page.wait_for_url(re.compile(r"/thanh-toan/thu-nghiem/"))
    assert page.get_by_test_id("sandbox-amount").inner_text() == "5.000 đồng"
    assert fits_the_phone(page) and axe_audit(page) == []
    page.get_by_role("button", name="Xác nhận thanh toán").click()

    page.wait_for_url(re.compile(r"/thanh-toan/[0-9a-f-]{36}/$"))
    assert page.get_by_test_id("payment-state").inner_text() == "Đã thanh toán"
    assert fits_the_phone(page) and axe_audit(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải biên lai điện tử (PDF)").click()
    assert download.value.suggested_filename.startswith("bien-lai-HS")
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.state == "received" and dossier.fee_paid_at is not None


def test_a_counter_officer_records_a_cash_payment(page, live_server):
    world = builders.make_world(fee=50000, fee_first=True)
    dossier = builders.received(world)
    log_in(page, live_server, world.reception)
    page.goto(f"{live_server.url}/can-bo/ho-so/{dossier.pk}/")
    page.get_by_label("Số tiền đã nộp (đồng)").fill("50000")
    page.get_by_label("Hình thức thu").select_option("cash")
    page.get_by_label("Số biên lai").fill("BL-2026-001")
    page.get_by_role("button", name="Ghi nhận đã nộp phí, lệ phí").click()
    assert "Đã ghi nhận nộp phí" in page.get_by_role("status").inner_text()
    payment = Payment.objects.get(dossier=dossier)
    assert (payment.method, payment.receipt_number, payment.state) == ("cash", "BL-2026-001", "paid")
    history = page.get_by_role("region", name="Thanh toán", exact=True).inner_text()
    assert payment.reference in history and "Tiền mặt tại quầy" in history
