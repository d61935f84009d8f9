"""The client's address: one rule for every rate limit and lockout (django-ratelimit, django-axes,
DRF throttles).

X-Forwarded-For is a list anyone can write to; only the entries appended by our own reverse proxies
can be believed. With settings.TRUSTED_PROXY_COUNT = n, the n-th entry from the right is the address
the outermost of our proxies saw the request come from; everything left of it may be forged. With
n = 0 (the default: nothing in front of the app) the header is ignored and REMOTE_ADDR is the client.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """The address to count a request against; never a value the client chose."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        # The request did not pass through all our proxies: only the socket's peer is known.
        return remote
    candidate = forwarded[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
