"""The same signed IPN ten times in parallel on PostgreSQL: one 00, nine 02, one confirmation
(ASVS 11.1.6; reliability.md fault test 4). Each thread has its own database connection."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from dossiers.models import Dossier
from payments.constants import PaymentState
from payments.models import Payment, PaymentEvent, PaymentMessage
from payments.services import payment_handle_notification
from tests.payments.helpers import awaiting_payment, ipn_params, started_payment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_identical_ipns_in_parallel_confirm_the_payment_once():
    assert connection.vendor == "postgresql"
    world, dossier = awaiting_payment(fee=50000)
    payment = started_payment(world, dossier)
    params = ipn_params(payment)
    barrier = threading.Barrier(10)
    answers: list[dict] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait(timeout=30)
            answers.append(payment_handle_notification(provider_name="vnpay", params=params))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    codes = sorted(answer["RspCode"] for answer in answers)
    assert codes == ["00"] + ["02"] * 9
    payment.refresh_from_db()
    assert payment.state == PaymentState.PAID
    assert PaymentEvent.objects.filter(payment=payment, to_state=PaymentState.PAID).count() == 1
    assert PaymentMessage.objects.filter(payment=payment, kind="notification").count() == 10
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.state == "received"
    assert dossier.events.filter(action="record_payment").count() == 1
    assert Payment.objects.filter(dossier=dossier, state=PaymentState.PAID).count() == 1
