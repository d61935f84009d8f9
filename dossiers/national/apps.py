from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NationalConfig(AppConfig):
    name = "dossiers.national"
    verbose_name = _("Đồng bộ Cổng Dịch vụ công quốc gia")

    def ready(self) -> None:
        from . import services  # noqa: F401 - registers the "national_sync" handler
