"""`make bench-province`: a province of a million dossiers on a PostgreSQL of its own, then HTTP scenarios.

    .venv/bin/python -m bench.province --dossiers 1000000           # load (minutes), then measure
    .venv/bin/python -m bench.province --dossiers 1000000 --reuse   # measure the database loaded before
    .venv/bin/python -m bench.province --dossiers 3000 --duration 3 # a quick check of the harness

Everything runs on 127.0.0.1 and stops at the end, on error too: PostgreSQL (pg_ctl stop) and
gunicorn. The results go to stdout (a Markdown table) and to bench-results-<size>.json under the
data folder (/var/tmp/portal-bench by default, BENCH_DIR to change it).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import faulthandler
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import postgres

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Bench@2026-dichvucong"  # noqa: S105 - the generated accounts' password, local only
DEMO_PASSWORD = "Demo@2026-dichvucong"  # noqa: S105 - load_demo's published password
DEMO_TOTP_SECRET = "DICHVUCONGDEMOTOTPNINHBINHQUANTR"  # noqa: S105 - load_demo's published second factor
API_ROWS = 50  # the targets are for queue API pages of 50 rows
TABS = ["new", "mine", "due_soon", "overdue", "supplement", "approval", "result", "all"]
# Which demo officer looks at which tab: the role the tab is for.
TAB_USER = {"new": "motcua", "mine": "chuyenvien", "approval": "lanhdao", "result": "motcua"}


def _environment(server: postgres.Server) -> dict:
    """The production-like settings of both this process and gunicorn."""
    var = server.base / "var"
    for folder in ("celery/queue", "celery/processed", "celery/results", "celery/control", "media"):
        (var / folder).mkdir(parents=True, exist_ok=True)
    return {
        "DATABASE_URL": server.url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),  # throwaway, for this run only
        "ALLOWED_HOSTS": "127.0.0.1",
        "CONN_MAX_AGE": "60",
        "BENCH_VIEWS": "true",
        "VAR_DIR": str(var),
        "MEDIA_ROOT": str(var / "media"),
        "LOG_LEVEL": "WARNING",
        # The tracking page is rate-limited per address; every request here comes from 127.0.0.1.
        "TRACKING_RATE_LIMIT": "100000000/m",
        "AXES_FAILURE_LIMIT": "1000",
    }


def _setup_django(env: dict) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    import django

    django.setup()


def load(server: postgres.Server, args) -> dict:
    from django.core.management import call_command

    from bench.generator import load_province

    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_demo", force=True, quiet=True)
    print(f"migrated and demo loaded in {time.monotonic() - started:.0f} s", flush=True)
    info = load_province(
        server.url, dossiers=args.dossiers, citizens=args.citizens, seed=args.seed, log=lambda m: print(m, flush=True)
    )
    info["seconds"]["total"] = round(time.monotonic() - started)
    cur = _db_size(server)
    info["database_size"] = cur
    return info


def _db_size(server) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size('portal'))")
        return cursor.fetchone()[0]


# --- non-HTTP timings ------------------------------------------------------------------------------


def _working_moment(now: dt.datetime) -> dt.datetime:
    """`now`, or 10:00 of the next working day: the alert scan sends nothing on a day off."""
    from django.utils import timezone

    from notifications.selectors import horizons

    moment = now
    for _ in range(15):
        if horizons(moment)["working_day"]:
            return moment
        day = timezone.localtime(moment).date() + dt.timedelta(days=1)
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))
    return now


# alerts_due's queries, in the order it runs them (notifications.selectors).
ALERT_QUERIES = [
    ("step overdue", "step", "overdue"),
    ("step due soon", "step", "due_soon"),
    ("dossier overdue", "dossier", "overdue"),
    ("dossier due soon", "dossier", "due_soon"),
    ("apology prompt", "dossier", "apology_prompt"),
]


def time_selections() -> list[dict]:
    """The deadline selection the workers run over the whole province, and the officers' queue tabs.

    notifications.selectors.alerts_due as the first scan sees it (nothing sent yet; unbounded here:
    limit 1,000,000), split per query, then in steady state (everything due already in SentAlert,
    the worker's default limit), and agency_deadline_counts (the digest); beside them the plain
    set-based queries over dossiers timed before, every queue tab through queue_page, queue_counts.
    """
    from django.db import connection, reset_queries, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from dossiers.constants import DossierState as S
    from dossiers.models import Dossier
    from dossiers.selectors import queue_counts, queue_page, remember_memberships
    from notifications.models import SentAlert
    from notifications.selectors import agency_deadline_counts, alerts_due
    from portal.accounts.models import User

    now = timezone.now()
    moment = _working_moment(now)
    running = [S.RECEIVED, S.IN_PROCESSING, S.AWAITING_APPROVAL]
    open_count = Dossier.objects.filter(state__in=running).count()
    rows = []

    def add(name: str, seconds: float, result) -> None:
        rows.append(
            {
                "name": name,
                "seconds": seconds,
                "rows": result,
                "per_100k_open": seconds / max(open_count, 1) * 100_000,
                "open": open_count,
            }
        )
        print(f"  {name}: {seconds * 1000:.0f} ms ({result} rows)", flush=True)

    def timed(name: str, fn) -> None:
        fn()  # warm
        samples = []
        for _ in range(3):
            start = time.perf_counter()
            result = fn()
            samples.append(time.perf_counter() - start)
        add(name, statistics.median(samples), result)

    print(f"  {open_count:,} running dossiers; alerts at {timezone.localtime(moment):%Y-%m-%d %H:%M}", flush=True)
    alerts_due(moment, limit=1_000_000)  # warm
    runs = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            found = alerts_due(moment, limit=1_000_000)
            total = time.perf_counter() - start
        holding = [q for q in captured.captured_queries if "dossiers_dossierholding" in q["sql"]]
        runs.append((total, [float(q["time"]) for q in holding], [q["sql"] for q in holding], found))
    runs.sort(key=lambda run: run[0])
    total, query_times, sqls, found = runs[1]  # the median run
    by_kind: dict[tuple[str, str], int] = {}
    for alert in found:
        kind = ("step" if alert.step_id else "dossier", alert.level)
        by_kind[kind] = by_kind.get(kind, 0) + 1
    add("alerts_due, first scan (whole province, every kind, nothing sent yet)", total, len(found))
    if len(query_times) == len(ALERT_QUERIES):  # each query's own time (Django's query log)
        for (name, of, level), seconds in zip(ALERT_QUERIES, query_times, strict=True):
            add(f"alerts_due: {name} query", seconds, by_kind.get((of, level), 0))
    # The 15-minute scan in steady state: what was due is already recorded in SentAlert, so only the
    # newly due alerts come back. Recorded in a transaction rolled back after timing (read-only run).
    with transaction.atomic():
        sent = [SentAlert(dossier_id=a.dossier_id, step_id=a.step_id, level=a.level, due_at=a.due_at) for a in found]
        SentAlert.objects.bulk_create(sent, batch_size=5000)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE notifications_sentalert")
        timed("alerts_due, steady state (all of the above already sent)", lambda: len(alerts_due(moment)))
        transaction.set_rollback(True)
    timed("agency_deadline_counts (digest, whole province)", lambda: len(agency_deadline_counts(moment)))
    with connection.cursor() as cursor:
        for (name, _of, _level), sql in zip(ALERT_QUERIES, sqls, strict=False):
            cursor.execute("EXPLAIN " + sql)
            plan = [row[0].strip() for row in cursor.fetchall()]
            print(f"  plan of {name}: " + " | ".join(line for line in plan if "Scan" in line)[:300], flush=True)

    timed(
        "overdue, whole province (set-based query on dossiers)",
        lambda: len(
            list(
                Dossier.objects.filter(state__in=running, current_due_at__lt=now).values_list(
                    "id", "agency_id", "current_due_at"
                )
            )
        ),
    )
    timed(
        "due soon (2 days), whole province (set-based query on dossiers)",
        lambda: len(
            list(
                Dossier.objects.filter(
                    state__in=running, current_due_at__gte=now, current_due_at__lt=now + dt.timedelta(days=2)
                ).values_list("id", "agency_id", "current_due_at")
            )
        ),
    )
    users = {name: User.objects.get(username=name) for name in {*TAB_USER.values(), "lanhdao"}}

    def as_request(user, fn):
        # What a request does first: the memberships resolved once (without it every tab and check
        # reads them again, a few dozen statements that no request makes).
        remember_memberships(user)
        return fn()

    for tab in TABS:
        username = TAB_USER.get(tab, "lanhdao")
        timed(
            f"queue_page tab {tab} ({username}), first 50",
            lambda tab=tab, user=users[username]: as_request(
                user, lambda: len(queue_page(user, tab, size=50, now=now)[0])
            ),
        )
    leader = users["lanhdao"]
    timed(
        "queue_counts, every tab (lanhdao)",
        lambda: as_request(leader, lambda: sum(queue_counts(leader, now=now).values())),
    )
    reset_queries()
    connection.close()
    return rows


def time_form01() -> dict:
    """Form 01 of a received dossier, against the same template rendered from a fixed context."""
    from django.template.loader import render_to_string
    from django.utils import translation

    from dossiers.models import Dossier
    from dossiers.pdf import _html_to_pdf, form_context, render_dossier_form
    from portal.accounts.models import User

    officer = User.objects.get(username="motcua")
    dossier = (
        Dossier.objects.filter(state="in_processing", receiving_agency__identifier="000.00.41.H40")
        .select_related("procedure_version", "agency", "receiving_agency")
        .order_by("-received_at")
        .first()
    )
    with translation.override("vi"):
        context = {"form_number": "01", **form_context(dossier, officer=officer)}
    context = {k: (list(v) if hasattr(v, "__iter__") and hasattr(v, "model") else v) for k, v in context.items()}

    def fixed():
        with translation.override("vi"):
            return _html_to_pdf(render_to_string("dossiers/forms/mau_01.html", context))

    def full():
        return render_dossier_form(dossier, "01", officer=officer)

    def median(fn, n=5):
        fn()
        samples = []
        for _ in range(n):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    with_db, without_db = median(full), median(fixed)
    print(f"  Form 01: {with_db * 1000:.0f} ms; fixed context: {without_db * 1000:.0f} ms", flush=True)
    return {"with_database_ms": with_db * 1000, "fixed_context_ms": without_db * 1000, "ratio": with_db / without_db}


# --- HTTP -----------------------------------------------------------------------------------------


def measure_http(env: dict, args) -> dict:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from bench import http
    from dossiers.api.views import _encode_cursor
    from dossiers.models import Dossier
    from dossiers.selectors import queue_for_officer, queue_page
    from portal.accounts.models import User
    from procedures.models import Agency
    from procedures.text import normalize_search

    # DEBUG off serves the manifest's names; compressing every file takes minutes on a busy machine,
    # so an existing manifest is kept (remove staticfiles/ after changing static files).
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    # Uploads are scanned as in production (fail closed): a clamd of the run's own, spoken to over
    # INSTREAM, with the tests' EICAR-only signature database (the signature mirror is unreachable here).
    from tests.services import start_clamd

    clamav_url, stop_clamd = start_clamd()
    port = postgres.free_port()
    server = http.Gunicorn(port=port, env={**os.environ, **env, "CLAMAV_URL": clamav_url})
    results: list[http.Result] = []
    extra: dict = {}
    server.start()
    try:
        sessions = {}
        for username in ("motcua", "chuyenvien", "lanhdao"):
            client = http.Client(port)
            client.login(username, DEMO_PASSWORD, totp_secret=DEMO_TOTP_SECRET)
            sessions[username] = client
        leader = User.objects.get(username="lanhdao")
        commune = Agency.objects.get(identifier="000.00.41.H40")
        sample = list(
            Dossier.objects.filter(agency=commune, code__isnull=False)
            .order_by("-id")
            .values("pk", "code", "applicant_name", "applicant_id_number")[:200]
        )
        # An open dossier's applicant, searched as an officer types: no diacritics, lower case.
        held = Dossier.objects.filter(agency=commune, holdings__isnull=False).values(
            "applicant_name", "applicant_id_number"
        )[:1]
        search_name = normalize_search(held[0]["applicant_name"]) if held else "nguyen"
        search_cccd = (held[0]["applicant_id_number"] if held else "") or "001090000001"
        # A cursor deep in the "all" tab (20,000 rows, or half the tab when smaller; computed once, slowly).
        depth = min(20_000, queue_for_officer(leader, "all").count() // 2)
        deep = list(queue_for_officer(leader, "all")[depth : depth + 1])
        deep_cursor = (
            f"{deep[0].current_due_at.isoformat() if deep[0].current_due_at else ''}~{deep[0].pk}" if deep else ""
        )
        _page, first_cursor = queue_page(leader, "all", size=API_ROWS)
        procedure_id = Dossier.objects.filter(agency=commune).values_list("procedure_id", flat=True).first()
        connection.close()

        def cookie(user: str) -> str:
            return sessions[user].cookie_header

        scenarios: list[tuple[str, list[str], str]] = [
            ("baseline: no database", ["/bench/nodb/"], ""),
            ("baseline: one ORM query", ["/bench/orm/"], ""),
            ("baseline: one ORM query, officer session", ["/bench/orm-session/"], cookie("lanhdao")),
        ]
        for tab in TABS:
            scenarios.append(
                (f"queue page, tab {tab}", [f"/can-bo/ho-so/?tab={tab}"], cookie(TAB_USER.get(tab, "lanhdao")))
            )
        from urllib.parse import quote

        scenarios += [
            (
                f"queue page, tab all, deep cursor ({depth:,})",
                [f"/can-bo/ho-so/?tab=all&after={quote(deep_cursor)}"],
                cookie("lanhdao"),
            ),
            (
                "queue page, tab all, filter procedure",
                [f"/can-bo/ho-so/?tab=all&procedure={procedure_id}"],
                cookie("lanhdao"),
            ),
            (
                "queue page, tab all, search by name without diacritics",
                [f"/can-bo/ho-so/?tab=all&q={quote(search_name)}"],
                cookie("lanhdao"),
            ),
        ]
        for tab in TABS:
            scenarios.append(
                (
                    f"queue API, tab {tab}",
                    [f"/api/officer/queue/?tab={tab}&size={API_ROWS}"],
                    cookie(TAB_USER.get(tab, "lanhdao")),
                )
            )
        scenarios += [
            (
                f"queue API, tab all, deep cursor ({depth:,})",
                [f"/api/officer/queue/?tab=all&size={API_ROWS}&after={_encode_cursor(deep_cursor)}"],
                cookie("lanhdao"),
            ),
            (
                "queue API, tab all, second page",
                [f"/api/officer/queue/?tab=all&size={API_ROWS}&after={_encode_cursor(first_cursor)}"],
                cookie("lanhdao"),
            ),
            (
                "queue API, filter procedure",
                [f"/api/officer/queue/?tab=all&size={API_ROWS}&procedure={procedure_id}"],
                cookie("lanhdao"),
            ),
            (
                f"queue API, filter procedure, deep cursor ({depth:,})",
                [
                    f"/api/officer/queue/?tab=all&size={API_ROWS}&procedure={procedure_id}"
                    f"&after={_encode_cursor(deep_cursor)}"
                ],
                cookie("lanhdao"),
            ),
            (
                "queue API, search by code",
                [f"/api/officer/queue/?tab=all&size={API_ROWS}&q={quote(sample[0]['code'])}"],
                cookie("lanhdao"),
            ),
            (
                "queue API, search by name without diacritics",
                [f"/api/officer/queue/?tab=all&size={API_ROWS}&q={quote(search_name)}"],
                cookie("lanhdao"),
            ),
            (
                "queue API, search by CCCD",
                [f"/api/officer/queue/?tab=all&size={API_ROWS}&q={search_cccd}"],
                cookie("lanhdao"),
            ),
            ("officer's dossier page", [f"/can-bo/ho-so/{row['pk']}/" for row in sample[:50]], cookie("lanhdao")),
            ("tracking page by code", [f"/tra-cuu/{quote(row['code'])}/" for row in sample], ""),
            ("tracking API by code", [f"/api/track/{quote(row['code'])}/" for row in sample], ""),
            ("catalogue", ["/procedures/"], ""),
            ("catalogue search", ["/procedures/?q=khai+sinh"], ""),
        ]
        only = args.only.split(",") if args.only else None
        for name, paths, cookie_value in scenarios:
            if only and not any(word in name for word in only):
                continue
            server.wait_idle()
            probe = http.Client(port)
            if cookie_value:
                for part in cookie_value.split("; "):
                    key, _sep, value = part.partition("=")
                    probe.cookies[key] = value
            alone_ms, status, size = http.alone(probe, paths[0])
            if status != 200:
                print(f"  {name}: status {status} on {paths[0]}, skipped", flush=True)
                results.append(http.Result(name, 0, 0, 0, 0, 0, 1, alone_ms, note=f"status {status}"))
                continue
            result = http.wrk(port, name, paths, cookie=cookie_value, duration=args.duration)
            result.alone_ms = alone_ms
            result.extra["bytes"] = size
            results.append(result)
            print(
                f"  {name}: {result.rps:.1f} req/s, p50 {result.p50:.1f} ms, p95 {result.p95:.1f} ms, "
                f"p99 {result.p99:.1f} ms, alone {alone_ms:.1f} ms, errors {result.errors}",
                flush=True,
            )
        if not only or any(word in "submission reception" for word in only):
            server.wait_idle()
            try:
                results += flows(port, args, sessions["motcua"])
            except Exception as exc:  # noqa: BLE001 - the read scenarios' results are kept
                print(f"  flows failed: {exc!r}", flush=True)
                extra["flows_error"] = repr(exc)
        extra["worker_rss_mb"] = server.worker_rss_mb()
        print(f"  worker RSS: {extra['worker_rss_mb']} MB", flush=True)
    finally:
        server.stop()
        stop_clamd()
    return {"results": results, **extra}


def flows(port: int, args, officer=None) -> list:
    """Submission (create, answers, two uploads, submit) and reception, threads of real HTTP clients."""
    from django.db import connection

    from bench import http
    from bench.generator import answer_for
    from dossiers.models import Dossier
    from portal.accounts.models import User
    from procedures.models import Agency, Procedure

    commune = Agency.objects.get(identifier="000.00.41.H40")
    candidates = [
        p
        for p in Procedure.objects.published().filter(agencies=commune, channel_online=True).order_by("pk")
        if p.current_version
        and sum(1 for d in p.current_version.snapshot.get("documents", []) if d.get("is_mandatory")) == 2
    ]
    procedure = candidates[0]
    snapshot = procedure.current_version.snapshot
    mandatory = [i for i, d in enumerate(snapshot["documents"], start=1) if d.get("is_mandatory")]
    first_citizen = (
        User.objects.filter(username__startswith="037").exclude(username="037192004517").order_by("pk").first()
    )
    citizens_meta = list(
        User.objects.filter(pk__gte=first_citizen.pk)
        .order_by("pk")
        .values("pk", "username", "full_name", "cccd", "phone", "email")[:8]
    )
    connection.close()
    import random

    threads = 8
    clients = []
    for meta in citizens_meta[:threads]:
        client = http.Client(port)
        client.login(meta["username"], PASSWORD)
        clients.append((client, meta))
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

    def required_answers(meta, rng) -> dict:
        """The form's required answers for this citizen, as the generator writes them."""
        from bench.generator import Person

        person = Person(
            id=meta["pk"],
            name=meta["full_name"],
            cccd=meta["cccd"] or "",
            phone=meta["phone"] or "",
            email=meta["email"],
        )
        return {
            f["code"]: answer_for(f, person, rng, dt.datetime.now())
            for f in snapshot.get("form_fields", [])
            if f.get("required")
        }

    def submit_one(client, meta, rng) -> int:
        status, body = client.send_json(
            "POST", "/api/dossiers/", {"procedure": procedure.national_code, "agency": commune.pk}
        )
        if status != 201:
            raise RuntimeError(f"create: {status} {body[:300]!r}")
        public_id = json.loads(body)["public_id"]
        answers = required_answers(meta, rng)
        status, body = client.send_json("PATCH", f"/api/dossiers/{public_id}/answers/", {"answers": answers})
        if status != 200:
            raise RuntimeError(f"answers: {status} {body[:300]!r}")
        for requirement in mandatory:
            status, body = client.post_file(
                f"/api/dossiers/{public_id}/files/",
                {"requirement": requirement},
                f"giay-to-{requirement}.pdf",
                pdf,
                "application/pdf",
            )
            if status != 201:
                raise RuntimeError(f"upload: {status} {body[:300]!r}")
        status, body = client.get(f"/api/dossiers/{public_id}/")
        version = json.loads(body)["version"]
        status, body = client.send_json("POST", f"/api/dossiers/{public_id}/submit/", {"version": version})
        if status != 200:
            raise RuntimeError(f"submit: {status} {body[:300]!r}")
        return json.loads(body).get("id") or 0

    def submit_in_one(client, meta, rng) -> int:
        """The same submission through POST /api/dossiers/submissions/ (one multipart request)."""
        answers = required_answers(meta, rng)
        fields = {
            "procedure": procedure.national_code,
            "agency": commune.pk,
            "answers": json.dumps(answers, ensure_ascii=False, default=str),
        }
        files = {
            f"file_{requirement}": (f"giay-to-{requirement}.pdf", pdf, "application/pdf") for requirement in mandatory
        }
        status, body = client.post_files("/api/dossiers/submissions/", fields, files)
        if status != 201:
            raise RuntimeError(f"submission: {status} {body[:300]!r}")
        return json.loads(body).get("id") or 0

    def measure(name: str, submit) -> object:
        # Preflight: one submission alone, to fail loudly on a protocol error rather than count it.
        submit(*clients[0], random.Random(1))

        def submitter(index: int, stop_at: float):
            client, meta = clients[index]
            rng = random.Random(index)
            latencies, errors = [], 0
            while time.monotonic() < stop_at:
                start = time.perf_counter()
                try:
                    submit(client, meta, rng)
                    latencies.append(time.perf_counter() - start)
                except Exception as exc:  # noqa: BLE001
                    errors += 1
                    if errors < 3:
                        print(f"  submission error: {exc}")
            return latencies, errors

        latencies, errors, elapsed = http.run_threads(submitter, threads=threads, duration=args.duration)
        result = http.percentiles(name, latencies, errors, elapsed, note="flows/s")
        print(
            f"  {result.name}: {result.rps:.1f}/s, p50 {result.p50:.0f} ms, p95 {result.p95:.0f} ms, errors {errors}",
            flush=True,
        )
        return result

    submission = measure("submission (create, answers, 2 uploads, submit)", submit_one)
    submission_in_one = measure("submission in one request (answers and 2 uploads)", submit_in_one)

    # Reception of submitted dossiers of the commune by its one-stop officer (demo `motcua`).
    waiting = list(
        Dossier.objects.filter(agency=commune, state="submitted").order_by("pk").values_list("pk", "version")
    )
    connection.close()
    if officer is None:
        officer = http.Client(port)
        officer.login("motcua", DEMO_PASSWORD, totp_secret=DEMO_TOTP_SECRET)
    receivers = [officer.clone() for _ in range(threads)]
    queue = list(waiting)
    queue_lock = threading.Lock()

    def receiver(index: int, stop_at: float):
        client = receivers[index]
        latencies, errors = [], 0
        while time.monotonic() < stop_at:
            with queue_lock:
                if not queue:
                    break
                pk, version = queue.pop(0)
            start = time.perf_counter()
            status, body = client.send_json("POST", f"/api/officer/dossiers/{pk}/receive/", {"version": version})
            if status == 200:
                latencies.append(time.perf_counter() - start)
            else:
                errors += 1
                if errors < 3:
                    print(f"  reception error {status}: {body[:200]!r}")
        return latencies, errors

    latencies, errors, elapsed = http.run_threads(receiver, threads=threads, duration=args.duration)
    reception = http.percentiles(
        f"reception (dossier_receive via API, {len(waiting)} waiting)", latencies, errors, elapsed, note="receptions/s"
    )
    print(
        f"  {reception.name}: {reception.rps:.1f}/s, p50 {reception.p50:.0f} ms, "
        f"p95 {reception.p95:.0f} ms, errors {errors}",
        flush=True,
    )
    return [submission, submission_in_one, reception]


# --- report ---------------------------------------------------------------------------------------


def report(info: dict, measured: dict, selections: list, form01: dict, args) -> str:
    results = measured["results"]
    base = next((r for r in results if r.name == "baseline: one ORM query"), None)
    lines = [
        f"Size: {info.get('dossiers', '?'):,} dossiers; rows: "
        + ", ".join(f"{table.split('_', 1)[1]} {count:,}" for table, count in sorted(info.get("rows", {}).items()))
        + f"; database {info.get('database_size', '?')}; load {info.get('seconds', {})} s",
        "",
        "| Scenario | Requests/s | p50 ms | p95 ms | p99 ms | Alone ms | Ratio to one-ORM-query | Errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ratio = f"{r.rps / base.rps * 100:.2f}%" if base and base.rps and r.rps else ""
        alone = f"{r.alone_ms:.1f}" if r.alone_ms is not None else ""
        lines.append(
            f"| {r.name} | {r.rps:.1f} | {r.p50:.1f} | {r.p95:.1f} | {r.p99:.1f} | {alone} | {ratio} | {r.errors} |"
        )
    lines += ["", "| Timed | ms | rows | ms per 100,000 open (running) dossiers |", "|---|---:|---:|---:|"]
    for row in selections:
        lines.append(
            f"| {row['name']} | {row['seconds'] * 1000:.0f} | {row['rows']} | {row['per_100k_open'] * 1000:.0f} |"
        )
    if form01:
        lines += [
            "",
            f"Form 01: {form01['with_database_ms']:.0f} ms; the same template from a fixed context without the "
            f"database: {form01['fixed_context_ms']:.0f} ms (ratio {form01['ratio']:.2f}×).",
        ]
    lines += [
        "",
        f"gunicorn worker RSS after the run: {', '.join(f'{m:.0f} MB' for m in measured.get('worker_rss_mb', []))}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument(
        "--citizens", type=int, default=None, help="default: a quarter of the dossiers (250,000 for 1M)"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true", help="measure the database loaded before (same size)")
    parser.add_argument("--load-only", action="store_true")
    parser.add_argument("--duration", type=int, default=12, help="seconds of each wrk run")
    parser.add_argument("--only", default="", help="comma-separated words: run only the scenarios named so")
    args = parser.parse_args(argv)
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints where a long run is
    # PostgreSQL and wrk, installed when missing (as root; otherwise it says what is missing).
    subprocess.run(["bash", str(ROOT / ".ci" / "system-packages"), "bench"], check=False)
    args.citizens = args.citizens or max(args.dossiers // 4, 50)
    server = postgres.server()
    env = _environment(server) if server.base.exists() else None
    try:
        loaded = server.loaded() if server.initialised() else None
        if args.reuse and loaded and loaded.get("dossiers") == args.dossiers:
            env = _environment(server)
            _setup_django(env)
            server.start(loading=False)
            from django.core.management import call_command

            # Code merged since the load may bring migrations; they touch the small tables only.
            call_command("migrate", verbosity=0, interactive=False)
            info = loaded
            print(f"reusing the database loaded on {info.get('loaded_at')} ({info['dossiers']:,} dossiers)", flush=True)
        else:
            server.init()
            env = _environment(server)
            _setup_django(env)
            server.start(loading=True)
            server.create_database()
            info = load(server, args)
            info["loaded_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            server.mark_loaded(info)
            print(json.dumps(info, indent=2), flush=True)
            # Measure as production runs: fsync and synchronous commit on.
            from django.db import connection

            connection.close()
            server.stop()
            server.start(loading=False)
        if args.load_only:
            return 0
        print("timings without HTTP:", flush=True)
        selections = time_selections()
        form01 = time_form01()
        print("HTTP scenarios (gunicorn 2 sync workers, wrk 8 connections):", flush=True)
        measured = measure_http(env, args)
        text = report(info, measured, selections, form01, args)
        print("\n" + text)
        out = server.base / f"bench-results-{args.dossiers}.md"
        out.write_text(text + "\n")
        print(f"\nwritten to {out}")
        return 0
    finally:
        from django.db import connections

        with contextlib.suppress(Exception):  # Django may not be set up when the failure came first
            connections.close_all()
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
