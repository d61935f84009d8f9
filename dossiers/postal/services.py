"""Booking result shipments, taking in the operator's signed status callbacks, postal submissions.

Booking is idempotent three times over: the side effect's row lock (one run at a time), the unique
(dossier, direction) of Shipment, and the operator's own idempotency per order code, which is
derived from the dossier so that a run killed after the operator booked books nothing new.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from dossiers.side_effects import PermanentError, register

from .models import RANK, TERMINAL, Direction, Shipment, ShipmentEvent, ShipmentStatus
from .provider import postal_provider, signature_ok

logger = logging.getLogger("postal")


class CallbackError(Exception):
    def __init__(self, message: str, code: int = 400):
        super().__init__(message)
        self.code = code


def shipment_reference(dossier, direction: str) -> str:
    return f"{'KQ' if direction == Direction.RESULT else 'HS'}-{dossier.public_id.hex[:24].upper()}"


def postal_fee_quote(*, address: str = "") -> int:
    """The postage the citizen will pay the operator for the result (shown before choosing)."""
    return postal_provider().quote(address=address)


def shipment_book(*, dossier, address: str) -> Shipment:
    """Book the result's shipment once; calling it again returns the same shipment."""
    shipment, _created = Shipment.objects.get_or_create(
        dossier=dossier,
        direction=Direction.RESULT,
        defaults={
            "reference": shipment_reference(dossier, Direction.RESULT),
            "address": address,
            "fee": postal_fee_quote(address=address),
        },
    )
    if shipment.tracking_number:
        return shipment
    tracking = postal_provider().book(
        reference=shipment.reference, address=shipment.address, recipient=dossier.applicant_name
    )
    shipment.tracking_number = tracking
    shipment.status = ShipmentStatus.ACCEPTED
    shipment.save(update_fields=["tracking_number", "status", "updated_at"])
    ShipmentEvent.objects.get_or_create(
        shipment=shipment,
        event_id=f"booked:{tracking}",
        defaults={"status": ShipmentStatus.ACCEPTED, "at": timezone.now()},
    )
    from notifications.constants import Event
    from notifications.services import notifications_queue

    notifications_queue(
        dossier=dossier, event=Event.SHIPMENT_SENT, key=f"ship{shipment.pk}:sent", extra={"tracking_number": tracking}
    )
    return shipment


@register("postal_shipment")
def handle_postal_shipment(effect) -> None:
    address = effect.payload.get("address") or effect.dossier.postal_address
    if not address:
        raise PermanentError("the dossier has no postal address")
    shipment_book(dossier=effect.dossier, address=address)


def shipment_callback(*, body: bytes, signature: str) -> Shipment:
    """Apply one signed status callback; a replay or an older status changes nothing.

    Raises CallbackError (401 bad signature, 400 bad body, 404 unknown item).
    """
    if not signature_ok(body, signature):
        raise CallbackError("invalid signature", 401)
    try:
        data = json.loads(body)
        status = ShipmentStatus(data["status"])
        event_id = str(data["event_id"])[:64]
        at = parse_datetime(data.get("at") or "") or timezone.now()
    except (ValueError, KeyError, TypeError) as exc:
        raise CallbackError(f"bad callback: {exc}") from exc
    with transaction.atomic():
        shipment = (
            Shipment.objects.select_for_update()
            .select_related("dossier", "dossier__procedure", "dossier__agency")
            .filter(tracking_number=data.get("tracking_number", ""))
            .first()
        )
        if shipment is None:
            raise CallbackError("unknown tracking number", 404)
        _event, new = ShipmentEvent.objects.get_or_create(
            shipment=shipment,
            event_id=event_id,
            defaults={"status": status, "note": str(data.get("note", ""))[:500], "at": at},
        )
        current = ShipmentStatus(shipment.status)
        if not new or status == current or current in TERMINAL or RANK[status] < RANK[current]:
            return shipment
        shipment.status = status
        shipment.save(update_fields=["status", "updated_at"])
        _notify_status(shipment)
    return shipment


def _notify_status(shipment: Shipment) -> None:
    from notifications.constants import Event
    from notifications.services import _officers_of, notifications_queue
    from portal.accounts.constants import Role

    dossier = shipment.dossier
    extra = {"tracking_number": shipment.tracking_number}
    if shipment.status == ShipmentStatus.DELIVERED:
        notifications_queue(
            dossier=dossier, event=Event.SHIPMENT_DELIVERED, key=f"ship{shipment.pk}:delivered", extra=extra
        )
    elif shipment.status in (ShipmentStatus.RETURNED, ShipmentStatus.FAILED):
        agency = dossier.receiving_agency_id or dossier.agency_id
        notifications_queue(
            dossier=dossier,
            event=Event.SHIPMENT_RETURNED,
            key=f"ship{shipment.pk}:returned",
            recipients=_officers_of(agency, Role.RECEPTION),
            extra=extra,
        )


def shipments_for(dossier) -> list[dict]:
    """What the dossier and tracking pages show: status and dates, no address."""
    # By id: public tracking passes its PublicDossier, not a model instance.
    rows = Shipment.objects.filter(dossier_id=dossier.pk).prefetch_related("events")
    return [
        {
            "direction": s.get_direction_display(),
            "tracking_number": s.tracking_number,
            "status": s.get_status_display(),
            "events": list(s.events.all()),
        }
        for s in rows
    ]


def postal_handover_sign(*, dossier, officer, slip_number: str, at: dt.datetime | None = None):
    """Reception signs the hand-over record (Biên bản giao nhận) of a dossier sent by post.

    QĐ 45/2016 Art 7: the dossier counts as submitted when this record is signed, so it is received
    then: the officer's reception runs now, with the slip number recorded on the shipment.
    """
    from dossiers.constants import Channel
    from dossiers.models import Dossier
    from dossiers.services import NotAllowedError, _save, dossier_receive

    with transaction.atomic():
        dossier = Dossier.objects.select_for_update(of=("self",)).select_related("procedure").get(pk=dossier.pk)
        if not dossier.snapshot.get("channel_postal", dossier.procedure.channel_postal):
            raise NotAllowedError(_("Thủ tục này không nhận hồ sơ qua dịch vụ bưu chính công ích."))
        if dossier.channel_in != Channel.POSTAL:
            dossier.channel_in = Channel.POSTAL
            _save(dossier)
        shipment, _created = Shipment.objects.get_or_create(
            dossier=dossier,
            direction=Direction.SUBMISSION,
            defaults={
                "reference": shipment_reference(dossier, Direction.SUBMISSION),
                "address": dossier.applicant_address or "-",
                "tracking_number": slip_number[:20],
            },
        )
        ShipmentEvent.objects.get_or_create(
            shipment=shipment,
            event_id=f"handover:{slip_number}",
            defaults={
                "status": ShipmentStatus.DELIVERED,
                "at": at or timezone.now(),
                "note": f"Biên bản giao nhận, phiếu gửi {slip_number}",
            },
        )
        Shipment.objects.filter(pk=shipment.pk).update(status=ShipmentStatus.DELIVERED)
        return dossier_receive(dossier=dossier, officer=officer, note=f"Nhận qua bưu chính, phiếu gửi {slip_number}")
