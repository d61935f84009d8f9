"""Site-wide response rules that no view should have to remember."""

from __future__ import annotations

from functools import partial

from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.functional import SimpleLazyObject, empty


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


class LazyMessageMiddleware(MessageMiddleware):
    """django.contrib.messages' middleware, building the message storage only for requests that use it.

    Django builds it on every request (a cookie signer and a session reader) and asks it to store
    at the end; a storage nobody read or added to stores nothing, so a request that never touches
    its messages (an API call, a JSON view) now skips both. Any use (messages.add_message,
    get_messages, the `messages` context processor) builds the same storage as before.
    """

    def process_request(self, request):
        request._messages = SimpleLazyObject(partial(default_storage, request))

    def process_response(self, request, response):
        messages = request.__dict__.get("_messages")
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)
