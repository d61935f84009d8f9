"""The benchmark's baseline views exist only where BENCH_VIEWS turns them on (never by default)."""

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_baseline_views_are_not_mounted_unless_bench_views_is_on(client):
    assert settings.BENCH_VIEWS is False
    for path in ("/bench/nodb/", "/bench/orm/", "/bench/orm-session/"):
        assert client.get(path).status_code == 404
