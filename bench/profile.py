"""Profile requests in-process against the province loaded by `bench.province` (run on demand).

    .venv/bin/python -m bench.profile lanhdao /can-bo/ho-so/?tab=all
    .venv/bin/python -m bench.profile anon /tra-cuu/<code>/ --repeat 200 --top 30

Starts the bench PostgreSQL (the database must have been loaded), signs the user in through the test
client (password and second factor skipped: `force_login` and the user's confirmed TOTP device put in
the session, as the login view does), warms up, then prints for each path: the statements of one
request, the median time alone, the Python calls per request and the functions where the time goes
(cProfile, sorted by own time, then cumulative).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

from bench import postgres
from bench.province import _environment, _setup_django


def _client(username: str):
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    if username == "anon":
        return client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from portal.accounts.models import User

    user = User.objects.get(username=username)
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


def profile(client, path: str, *, repeat: int, top: int, callers: str = "") -> None:
    from django.db import connection

    for _ in range(5):  # warm: templates, translations, the connection
        response = client.get(path, secure=True)
    if response.status_code >= 400:
        print(f"{path}: HTTP {response.status_code}")
    queries = []

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append({"sql": sql, "time": f"{time.perf_counter() - started:.4f}"})

    with connection.execute_wrapper(record):
        client.get(path, secure=True)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(path, secure=True)
        timings.append(time.perf_counter() - started)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        client.get(path, secure=True)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    calls = stats.total_calls // repeat  # type: ignore[attr-defined]
    print(f"\n== {path}: HTTP {response.status_code}, {len(queries)} statements, ", end="")
    print(f"median {statistics.median(timings) * 1000:.1f} ms alone, {calls:,} calls per request")
    for number, query in enumerate(queries, 1):
        print(f"  {number:>2}. {query['time']}s {' '.join(query['sql'].split())[:200]}")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    if callers:
        stats.print_callers(callers)
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("user", help="a username, or anon")
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--callers", default="", help="also print who calls the functions matching this pattern")
    args = parser.parse_args(argv)
    server = postgres.server()
    if not server.loaded():
        print("no province loaded: run `python -m bench.province --dossiers N --load-only` first")
        return 1
    env = _environment(server)
    _setup_django(env)
    server.start(loading=False)
    try:
        from django.conf import settings
        from django.core.management import call_command

        if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():  # as bench.province serves them
            call_command("collectstatic", interactive=False, verbosity=0)
        client = _client(args.user)
        for path in args.paths:
            profile(client, path, repeat=args.repeat, top=args.top, callers=args.callers)
    finally:
        from django.db import connections

        connections.close_all()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
