"""Postal result delivery: one shipment per result, signed status callbacks, returned mail alerts."""

import json

import pytest

from dossiers import services
from dossiers.models import SideEffect
from dossiers.postal.models import SandboxPostalOrder, Shipment
from dossiers.postal.provider import SandboxPostalOperator, s10_check_digit
from dossiers.tasks import side_effect_run
from notifications.models import Notification
from tests.dossiers import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return builders.make_world()


def _postal_result(world):
    dossier = builders.draft(world)
    services.dossier_set_delivery(
        dossier=dossier, user=world.citizen, channel_out="postal", postal_address="12 Trần Hưng Đạo, phường Hoa Lư"
    )
    dossier = services.dossier_submit(dossier=dossier, user=world.citizen)
    dossier = services.dossier_receive(dossier=dossier, officer=world.reception)
    dossier = services.dossier_assign(dossier=dossier, actor=world.leader, assignee=world.specialist)
    dossier = services.dossier_submit_for_approval(
        dossier=dossier, officer=world.specialist, result_upload=builders.pdf_upload("kq.pdf")
    )
    return services.dossier_approve(dossier=dossier, officer=world.leader)


def _callback(client, tracking, status):
    body, signature = SandboxPostalOperator.status_callback(tracking, status)
    return client.post(
        "/buu-chinh/trang-thai/", body, content_type="application/json", headers={"X-Signature": signature}
    )


def test_tracking_numbers_carry_the_upu_s10_check_digit():
    assert s10_check_digit("47312482") == 9  # RA473124829GB, the usual S10 example


def test_a_postal_result_books_one_shipment_even_when_the_booking_runs_twice(world):
    dossier = _postal_result(world)
    effect = SideEffect.objects.get(dossier=dossier, kind="postal_shipment")
    assert side_effect_run(effect.pk) == "done"
    SideEffect.objects.filter(pk=effect.pk).update(status="pending")  # as if the message came again
    side_effect_run(effect.pk)
    shipment = Shipment.objects.get(dossier=dossier)
    assert SandboxPostalOrder.objects.filter(client_reference=shipment.reference).count() == 1
    assert shipment.status == "accepted" and shipment.tracking_number.endswith("VN")
    assert Notification.objects.filter(dossier=dossier, event="shipment_sent", channel="email").count() == 1


def test_signed_callbacks_follow_the_shipment_to_delivered_and_show_on_the_tracking_page(world, client):
    dossier = _postal_result(world)
    side_effect_run(SideEffect.objects.get(dossier=dossier, kind="postal_shipment").pk)
    tracking = Shipment.objects.get(dossier=dossier).tracking_number
    assert _callback(client, tracking, "in_transit").json()["status"] == "in_transit"
    assert _callback(client, tracking, "delivered").json()["status"] == "delivered"
    # A late "in transit" never undoes "delivered".
    assert _callback(client, tracking, "in_transit").json()["status"] == "delivered"
    assert Notification.objects.filter(dossier=dossier, event="shipment_delivered", channel="email").count() == 1
    page = client.get(f"/tra-cuu/{dossier.code}/").content.decode()
    assert tracking in page and "Đã phát thành công" in page


def test_a_callback_with_a_bad_signature_changes_nothing(world, client):
    dossier = _postal_result(world)
    side_effect_run(SideEffect.objects.get(dossier=dossier, kind="postal_shipment").pk)
    shipment = Shipment.objects.get(dossier=dossier)
    body = json.dumps({"event_id": "x", "tracking_number": shipment.tracking_number, "status": "delivered"})
    response = client.post(
        "/buu-chinh/trang-thai/", body, content_type="application/json", headers={"X-Signature": "0" * 64}
    )
    assert response.status_code == 401
    shipment.refresh_from_db()
    assert shipment.status == "accepted"


def test_returned_mail_alerts_the_reception_officer(world, client):
    dossier = _postal_result(world)
    side_effect_run(SideEffect.objects.get(dossier=dossier, kind="postal_shipment").pk)
    _callback(client, Shipment.objects.get(dossier=dossier).tracking_number, "returned")
    assert Notification.objects.filter(
        dossier=dossier, event="shipment_returned", recipient=world.reception, channel="in_app"
    ).exists()


def test_the_postage_is_shown_before_the_citizen_chooses_delivery(world, client, settings):
    settings.POSTAL_RESULT_FEE = 27000
    from dossiers.forms import DeliveryForm

    labels = dict(DeliveryForm().fields["channel_out"].choices)
    assert "27.000 đồng" in labels["postal"]


def test_a_dossier_sent_by_post_is_received_when_the_hand_over_is_signed(world):
    from dossiers.postal.services import postal_handover_sign

    dossier = builders.submitted(world)
    dossier = postal_handover_sign(dossier=dossier, officer=world.reception, slip_number="EB000000015VN")
    assert dossier.state == "received" and dossier.received_at is not None
    assert dossier.channel_in == "postal"
    assert Shipment.objects.get(dossier=dossier, direction="submission").status == "delivered"


def test_without_a_configured_secret_no_callback_is_accepted(world, client, settings):
    dossier = _postal_result(world)
    side_effect_run(SideEffect.objects.get(dossier=dossier, kind="postal_shipment").pk)
    tracking = Shipment.objects.get(dossier=dossier).tracking_number
    settings.POSTAL_CALLBACK_SECRET = ""
    assert _callback(client, tracking, "delivered").status_code == 401


def test_a_procedure_without_the_postal_channel_refuses_a_postal_hand_over(world):
    from dossiers.postal.services import postal_handover_sign
    from dossiers.services import NotAllowedError

    dossier = builders.submitted(world)
    snapshot = dict(dossier.procedure_version.snapshot, channel_postal=False)
    type(dossier.procedure_version).objects.filter(pk=dossier.procedure_version_id).update(snapshot=snapshot)
    with pytest.raises(NotAllowedError):
        postal_handover_sign(dossier=dossier, officer=world.reception, slip_number="EB000000015VN")


def test_the_demo_command_reports_a_status_as_the_sandbox_operator(world):
    from django.core.management import call_command

    dossier = _postal_result(world)
    side_effect_run(SideEffect.objects.get(dossier=dossier, kind="postal_shipment").pk)
    shipment = Shipment.objects.get(dossier=dossier)
    call_command("postal_sandbox_status", shipment.tracking_number, "returned")
    shipment.refresh_from_db()
    assert shipment.status == "returned"
