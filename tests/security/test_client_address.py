"""Issue 10 point 2: one client-address rule for every limit; counters shared by all web workers."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from portal.client_ip import client_ip

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
CODE = "000.00.00.H40-260101-0001"


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


def request(remote="203.0.113.7", forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "1.2.3.4", "203.0.113.7"),  # no proxy: the header is ignored
        (0, "203.0.113.7", None, "203.0.113.7"),
        (1, "172.18.0.5", "198.51.100.20", "198.51.100.20"),  # what Caddy saw
        (1, "172.18.0.5", "6.6.6.6, 198.51.100.20", "198.51.100.20"),  # forged entries on the left
        (2, "172.18.0.5", "6.6.6.6, 198.51.100.20, 10.0.0.2", "198.51.100.20"),
        (1, "172.18.0.5", None, "172.18.0.5"),  # not through the proxy
        (2, "172.18.0.5", "198.51.100.20", "172.18.0.5"),  # fewer hops than proxies
        (1, "172.18.0.5", "not-an-address", "172.18.0.5"),
    ],
)
def test_client_address_believes_forwarded_headers_only_as_far_as_our_proxies_wrote_them(
    settings, proxies, remote, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_ip(request(remote, forwarded)) == expected


def test_every_limit_and_lockout_uses_the_one_rule(settings):
    from axes.helpers import get_client_ip_address
    from django_ratelimit.core import get_usage
    from rest_framework.settings import api_settings

    from dossiers.api.views import TrackThrottle

    settings.TRUSTED_PROXY_COUNT = 1
    forged = request("172.18.0.5", "6.6.6.6, 198.51.100.20")
    assert get_client_ip_address(forged) == "198.51.100.20"
    usage = get_usage(forged, group="g", key="ip", rate="5/m", increment=False)
    assert usage is not None
    assert TrackThrottle().get_ident(forged) == "198.51.100.20"
    assert api_settings.DEFAULT_THROTTLE_RATES["dossier_track"] == settings.TRACKING_API_RATE_LIMIT


@pytest.mark.parametrize("proxies", [0, 1])
def test_a_forged_forwarded_header_never_resets_the_tracking_page_limit(client, settings, proxies):
    settings.TRUSTED_PROXY_COUNT = proxies
    settings.TRACKING_RATE_LIMIT = "3/m"
    remote = "203.0.113.7" if proxies == 0 else "172.18.0.5"
    real = "" if proxies == 0 else ", 198.51.100.20"
    statuses = [
        client.get(f"/tra-cuu/{CODE}/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=f"10.9.{n}.1{real}").status_code
        for n in range(6)
    ]
    assert statuses[:3] == [404, 404, 404]
    assert statuses[3:] == [429, 429, 429]


@pytest.mark.parametrize("proxies", [0, 1])
def test_a_forged_forwarded_header_never_resets_the_tracking_api_throttle(client, settings, proxies):
    settings.TRUSTED_PROXY_COUNT = proxies
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"dossier_track": "3/m"}}
    remote = "203.0.113.7" if proxies == 0 else "172.18.0.5"
    real = "" if proxies == 0 else ", 198.51.100.20"
    statuses = [
        client.get(f"/api/track/{CODE}/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=f"10.9.{n}.1{real}").status_code
        for n in range(6)
    ]
    assert statuses[:3] == [404, 404, 404]
    assert statuses[3:] == [429, 429, 429]
    # Another real client behind the same proxy is counted apart.
    other = client.get(f"/api/track/{CODE}/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert other.status_code == (404 if proxies else 429)


def _settings_in_a_fresh_process(extra_env: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update({"DEBUG": "true", "DJANGO_SETTINGS_MODULE": "portal.settings", **extra_env})
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({'cache': settings.CACHES['default']['BACKEND']}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_without_redis_counters_live_in_the_database_shared_by_every_worker():
    """Per-process memory would let n workers pass n times the limit."""
    assert _settings_in_a_fresh_process({})["cache"] == "django.core.cache.backends.db.DatabaseCache"


def test_with_redis_counters_live_in_redis():
    found = _settings_in_a_fresh_process({"REDIS_URL": "redis://127.0.0.1:1/0"})
    assert found["cache"] == "django.core.cache.backends.redis.RedisCache"


def test_two_cache_connections_share_one_counter_in_the_database_cache(settings, db):
    """What two gunicorn workers do: separate cache objects over the same table see one count."""
    from django.core.cache.backends.db import DatabaseCache
    from django.core.management import call_command

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "t_cache"}}
    call_command("createcachetable", verbosity=0)
    first = DatabaseCache("t_cache", {})
    second = DatabaseCache("t_cache", {})
    first.add("rl:counter", 0)
    first.incr("rl:counter")
    second.incr("rl:counter")
    assert first.get("rl:counter") == 2
