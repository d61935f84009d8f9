from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Cổng dịch vụ công")

    def ready(self):
        # The production checks; psycopg's C timestamp parser on PostgreSQL connections.
        from . import checks, db  # noqa: F401
