from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PostalConfig(AppConfig):
    name = "dossiers.postal"
    verbose_name = _("Bưu chính công ích")

    def ready(self) -> None:
        from . import services  # noqa: F401 - registers the "postal_shipment" handler
