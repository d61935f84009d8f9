"""The sandbox operator reports a status: `manage.py postal_sandbox_status EB123456785VN delivered`.

It signs the callback as the operator does and applies it through the same service the callback URL
uses, so the demo can follow a result to "delivered" or "returned to sender".
"""

from django.core.management.base import BaseCommand, CommandError

from dossiers.postal.models import ShipmentStatus
from dossiers.postal.provider import SandboxPostalOperator
from dossiers.postal.services import CallbackError, shipment_callback


class Command(BaseCommand):
    help = "Send a signed status callback from the sandbox postal operator."

    def add_arguments(self, parser):
        parser.add_argument("tracking_number")
        parser.add_argument("status", choices=ShipmentStatus.values)

    def handle(self, *args, tracking_number, status, **options):
        body, signature = SandboxPostalOperator.status_callback(tracking_number, status)
        try:
            shipment = shipment_callback(body=body, signature=signature)
        except CallbackError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{shipment.tracking_number}: {shipment.get_status_display()}")
