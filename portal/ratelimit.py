"""Rate limits counted in one database round trip per request.

django-ratelimit and DRF's SimpleRateThrottle go through the cache API: with the database cache
(no REDIS_URL) that is five to seven queries per request (a cull count, reads, a write in a
savepoint), and DRF's throttle also stores the list of every request time of the window, which
grows with the limit. Here a request is one atomic upsert on RateCounter that returns the new
count: shared by every web worker, exact under concurrency, on PostgreSQL and SQLite alike.

Windows are fixed: they start at a key's first request and last one period; the count then starts
again from one. Rates use django-ratelimit's syntax ("30/m", "500/h", "5/10m").
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

from django.db import connection

from .client_ip import client_ip

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\w*\s*$")


def parse_rate(rate: str) -> tuple[int, int]:
    """'30/m' -> (30, 60): the number of requests and the window in seconds."""
    match = _RATE.match(rate or "")
    if not match:
        raise ValueError(f"not a rate: {rate!r}")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _UNITS[unit]


# One statement: a new key starts at one, an ended window restarts at one, else the count moves on.
# PostgreSQL 9.5+ and SQLite 3.35+ (RETURNING) both read it.
_UPSERT = (
    'INSERT INTO "portal_ratecounter" ("key", "window_ends", "count") VALUES (%s, %s, 1) '
    'ON CONFLICT ("key") DO UPDATE SET '
    '"count" = CASE WHEN "portal_ratecounter"."window_ends" <= %s THEN 1 ELSE "portal_ratecounter"."count" + 1 END, '
    '"window_ends" = CASE WHEN "portal_ratecounter"."window_ends" <= %s THEN excluded."window_ends" '
    'ELSE "portal_ratecounter"."window_ends" END '
    'RETURNING "count", "window_ends"'
)


@dataclass(frozen=True)
class Hit:
    count: int  # requests in the current window, this one included
    limit: int
    window_ends: int  # Unix seconds

    @property
    def limited(self) -> bool:
        return self.count > self.limit

    def retry_after(self, now: float | None = None) -> int:
        return max(0, int(self.window_ends - (now if now is not None else time.time())))


def _key(scope: str, ident: str) -> str:
    # Hashed: an identifier (an address, an e-mail) is never stored as written.
    return f"{scope}:{hashlib.sha256(ident.encode()).hexdigest()[:40]}"


def rate_hit(*, scope: str, ident: str, rate: str, now: float | None = None) -> Hit:
    """Count one request of `ident` against `rate` in `scope`; one statement, atomic.

    Runs in whatever transaction is open (none in a normal request: autocommit), so the counter's
    row lock is held for one statement only.
    """
    limit, period = parse_rate(rate)
    now_s = int(now if now is not None else time.time())
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [_key(scope, ident), now_s + period, now_s, now_s])
        count, window_ends = cursor.fetchone()
    return Hit(count=count, limit=limit, window_ends=window_ends)


def request_limited(request, *, scope: str, rate: str) -> bool:
    """Count this request against the client's address (portal.client_ip); True once over the rate."""
    return rate_hit(scope=scope, ident=client_ip(request), rate=rate).limited


def rate_counters_purge(*, now: float | None = None) -> int:
    """Delete the counters whose window has ended (they would restart at one anyway)."""
    from .models import RateCounter

    deleted, _ = RateCounter.objects.filter(window_ends__lte=int(now if now is not None else time.time())).delete()
    return deleted
