from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

admin.site.site_header = _("Quản trị Cổng dịch vụ công")
admin.site.site_title = _("Quản trị Cổng dịch vụ công")
admin.site.index_title = _("Cấu hình cơ quan, thủ tục và tài khoản")

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("portal.accounts.urls")),
    path("tai-khoan/du-lieu-ca-nhan/", include("dossiers.privacy.urls")),
    path("procedures/", include("procedures.urls")),
    path("", include("dossiers.urls")),
    path("", include("payments.urls")),
    path("", include("dossiers.postal.views")),
    path("", include("notifications.views")),
    path("admin/", admin.site.urls),
    path("api/", include("procedures.api.urls")),
    path("api/", include("dossiers.api.urls")),
    path("api/", include("payments.api.urls")),
    path("api/", include("dossiers.privacy.api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Split: the page and its start-up script are separate responses, so the strict CSP holds.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
]

if settings.BENCH_VIEWS:
    # Baselines for bench/ only (a view without the database, one ORM query, the same logged in).
    urlpatterns.append(path("bench/", include("bench.urls")))
handler404 = "portal.errors.not_found"
handler500 = "portal.errors.server_error"
