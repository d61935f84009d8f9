"""portal/db.py: psycopg's C timestamptz loader on Django's PostgreSQL connections, same values."""

import datetime as dt

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader

from portal import db

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

TEXTS = [
    "2026-12-03 18:42:07.123456+00",
    "2026-01-01 00:00:00+00",
    "2025-06-30 23:59:59.999999+00",
    "1999-12-31 17:00:00+07",  # another offset in the literal: the session prints it in UTC
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
]


def _skip_unless_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("psycopg loaders are PostgreSQL's")
    if db.FAST_TIMESTAMPTZ_LOADER is None:
        pytest.skip("psycopg runs without its C module here")


def _read(cursor):
    values = ", ".join(f"'{text}'::timestamptz" for text in TEXTS)
    cursor.execute(f"SELECT {values}")
    return cursor.fetchone()


def test_connections_load_timestamps_with_the_c_loader_and_get_djangos_values():
    _skip_unless_postgres()
    with connection.cursor() as cursor:
        loader = cursor.connection.adapters.get_loader(cursor.connection.adapters.types["timestamptz"].oid, 0)
        assert loader is db.FAST_TIMESTAMPTZ_LOADER
        fast = _read(cursor)
    # Django's own loader on a cursor of the same connection.
    raw = connection.connection
    with raw.cursor() as djangos:
        register_tzloader(connection.timezone, djangos)
        expected = _read(djangos)
    assert fast == expected
    assert all(value.tzinfo is dt.UTC for value in fast)
    assert fast[3] == dt.datetime(1999, 12, 31, 10, 0, tzinfo=dt.UTC)


def test_the_orm_reads_aware_utc_datetimes():
    _skip_unless_postgres()
    from portal.accounts.models import User

    joined = dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC)
    user = User.objects.create_user(username="timestamps", password="x" * 16, date_joined=joined)
    read = User.objects.values_list("date_joined", flat=True).get(pk=user.pk)
    assert read == joined
    assert read.tzinfo is dt.UTC


def test_another_session_time_zone_keeps_djangos_loader():
    _skip_unless_postgres()
    raw = connection.connection
    with raw.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Asia/Ho_Chi_Minh'")
    try:
        fresh = type(raw.adapters)(raw.adapters)
        before = fresh.get_loader(fresh.types["timestamptz"].oid, 0)

        class Probe:
            adapters = fresh
            pgconn = raw.pgconn

        assert db.use_fast_timestamps(Probe, connection) is False
        assert fresh.get_loader(fresh.types["timestamptz"].oid, 0) is before
    finally:
        with raw.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
