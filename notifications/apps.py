from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Thông báo")

    def ready(self) -> None:
        # Registers the "notify" side-effect handler and the deadline tasks.
        from . import alerts, services, tasks  # noqa: F401
