"""Site-wide response rules that no view should have to remember."""

from __future__ import annotations

from django.utils.cache import add_never_cache_headers, patch_vary_headers


class PrivateResponseMiddleware:
    """Pages answered to a logged-in person carry their personal data: no browser, proxy or shared
    cache may keep them (ASVS 8.2.1). `Cache-Control: no-store` on every authenticated response.

    After AuthenticationMiddleware. Static files never reach it (whitenoise answers earlier).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
            patch_vary_headers(response, ["Cookie"])
        return response
