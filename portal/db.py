"""Database connection set-up of the portal's own.

psycopg's C timestamp parser for Django's connections. Django (5.2) registers on every PostgreSQL
connection a `timestamptz` loader derived from psycopg's pure-Python one, so that each timestamp
read is parsed by a regular expression in Python and then given Django's time zone; psycopg's C
loader cannot be subclassed (it is final). A queue page of 50 rows reads about 200 timestamps: a
sixth of the queue API's Python time went to that parsing (bench/RESULTS.md, fifth round). Known
upstream: Django ticket #36960, psycopg issue #1273.

With USE_TZ on and the connection's session in UTC (Django sets it so), the C loader returns
exactly what Django's does: an aware datetime whose tzinfo is `datetime.timezone.utc` (psycopg maps
the session's "UTC" to it). The loader below is Django's class in name and `timezone` (Django
compares that attribute before each cursor), with the C loader's bound `load` put in its place.
Anything else (another session time zone, USE_TZ off, psycopg without its C module) keeps
Django's loader.
"""

from __future__ import annotations

import datetime as dt

from django.db.backends.signals import connection_created
from django.dispatch import receiver


def _fast_loader_class():
    """A timestamptz loader class whose instances load with psycopg's C code; None without it."""
    try:
        import psycopg
        from psycopg.adapt import Loader
        from psycopg.pq import Format
    except ImportError:  # pragma: no cover - psycopg is a requirement
        return None
    oid = psycopg.postgres.types["timestamptz"].oid
    optimised = psycopg.adapters.get_loader(oid, Format.TEXT)
    if optimised is None or optimised.__module__.startswith("psycopg."):  # the pure-Python one
        return None

    class UTCTimestamptzLoader(Loader):
        timezone = dt.UTC

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            # An instance attribute shadows the method: psycopg calls the C function directly.
            self.load = optimised(oid, context).load

        def load(self, data):  # pragma: no cover - replaced on every instance
            raise NotImplementedError

    return UTCTimestamptzLoader


FAST_TIMESTAMPTZ_LOADER = _fast_loader_class()


def use_fast_timestamps(raw_connection, django_connection) -> bool:
    """Register the C timestamptz loader on one psycopg connection when it gives Django's result."""
    if FAST_TIMESTAMPTZ_LOADER is None or django_connection.timezone is not dt.UTC:
        return False
    if raw_connection.pgconn.parameter_status(b"TimeZone") != b"UTC":
        return False
    raw_connection.adapters.register_loader("timestamptz", FAST_TIMESTAMPTZ_LOADER)
    return True


@receiver(connection_created, dispatch_uid="portal.db.fast_timestamps")
def _on_connection_created(sender, connection, **kwargs):
    if connection.vendor == "postgresql" and hasattr(connection.connection, "adapters"):  # psycopg 3
        use_fast_timestamps(connection.connection, connection)
