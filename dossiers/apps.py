from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DossiersConfig(AppConfig):
    name = "dossiers"
    verbose_name = _("Hồ sơ")

    def ready(self) -> None:
        # Registers the side-effect handlers of this app ("sms", "issue_form").
        from . import sms, tasks  # noqa: F401
