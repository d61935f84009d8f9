"""Rate limits counted by one atomic upsert (portal/ratelimit.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.models import RateCounter
from portal.ratelimit import parse_rate, rate_counters_purge, rate_hit

pytestmark = pytest.mark.django_db


def test_rates_read_as_django_ratelimit_writes_them():
    assert parse_rate("30/m") == (30, 60)
    assert parse_rate("500/h") == (500, 3600)
    assert parse_rate("5/10m") == (5, 600)
    with pytest.raises(ValueError):
        parse_rate("thirty")


def test_each_request_is_one_statement_and_the_count_passes_the_limit_after_n():
    with CaptureQueriesContext(connection) as queries:
        hits = [rate_hit(scope="t", ident="198.51.100.20", rate="3/m", now=1000) for _ in range(5)]
    assert len(queries.captured_queries) == 5
    assert [h.count for h in hits] == [1, 2, 3, 4, 5]
    assert [h.limited for h in hits] == [False, False, False, True, True]
    assert hits[-1].retry_after(now=1010) == 50


def test_a_window_that_ended_starts_again_at_one_and_other_addresses_count_apart():
    for _ in range(4):
        rate_hit(scope="t", ident="198.51.100.20", rate="3/m", now=1000)
    assert rate_hit(scope="t", ident="198.51.100.99", rate="3/m", now=1001).count == 1
    assert rate_hit(scope="other", ident="198.51.100.20", rate="3/m", now=1001).count == 1
    again = rate_hit(scope="t", ident="198.51.100.20", rate="3/m", now=1060)
    assert (again.count, again.limited, again.window_ends) == (1, False, 1120)


def test_the_address_is_not_stored_as_written():
    rate_hit(scope="t", ident="198.51.100.20", rate="3/m", now=1000)
    assert not RateCounter.objects.filter(key__contains="198.51.100.20").exists()


def test_ended_windows_are_purged_and_running_ones_kept():
    rate_hit(scope="t", ident="a", rate="3/m", now=1000)
    rate_hit(scope="t", ident="b", rate="3/h", now=1000)
    assert rate_counters_purge(now=1100) == 1
    assert RateCounter.objects.count() == 1


def test_on_postgresql_the_counters_write_no_wal():
    if connection.vendor != "postgresql":
        pytest.skip("UNLOGGED tables are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'portal_ratecounter'")
        assert cursor.fetchone()[0] == "u"
