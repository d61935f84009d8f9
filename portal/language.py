"""The interface language: Vietnamese for everyone, English only for whoever chooses it.

Django's LocaleMiddleware follows the browser's Accept-Language, so a phone or an office computer
set to English got an English portal (and admin) without anybody asking for it (issue 11, points
8 and 11). Here the only inputs are the language cookie written by Django's ``set_language`` view
(the switcher in the page header) and LANGUAGE_CODE; Accept-Language is ignored.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


def language_from_request(request) -> str:
    """The chosen language if it is one of ours, else Vietnamese."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen:
        try:
            return translation.get_supported_language_variant(chosen)
        except LookupError:
            pass
    return settings.LANGUAGE_CODE


class ChosenLanguageMiddleware:
    """Activates the chosen language for the request; replaces django.middleware.locale.LocaleMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        # Pages differ by the cookie, never by Accept-Language.
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
