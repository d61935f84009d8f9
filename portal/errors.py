"""Error pages: under /api/ the API's one JSON shape {"detail", "code"}, elsewhere Django's pages."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": _("Không tìm thấy."), "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse({"detail": _("Lỗi hệ thống. Vui lòng thử lại sau."), "code": "server_error"}, status=500)
    return defaults.server_error(request)
