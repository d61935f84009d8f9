"""Throwaway PostgreSQL, Redis and Chromium for the test suite (a pytest plugin, loaded with -p).

PostgreSQL is started before Django is set up, so that the whole suite runs on it whenever it can
be had; Redis and Chromium start on first use. Each runs on a free loopback port with its data in
a temporary folder and is stopped at the end. PostgreSQL refuses to run as root, so as root it runs
as the `postgres` user. When a server cannot be had, the tests that need it skip with the reason;
under CI=true they fail instead, so that CI never passes without really running them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").lower() == "true"
# Playwright's sync API runs an event loop in the test thread; Django must still allow ORM calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

_state: dict = {"stops": [], "postgres_reason": None, "packages_tried": False}


def unavailable(reason: str):
    """Skip for want of a service, or fail under CI=true where every service must be there."""
    if CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ensure_packages() -> None:
    """As root, install the Debian packages the suite needs (once per run)."""
    if _state["packages_tried"]:
        return
    _state["packages_tried"] = True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["bash", str(ROOT / ".ci" / "system-packages"), "test"], check=False)


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, cwd="/", **kwargs)


# --- PostgreSQL -----------------------------------------------------------------------------------


def _postgres_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


def start_postgres() -> str:
    """Start a PostgreSQL server for this run and return its URL (raises RuntimeError if impossible)."""
    bindir = _postgres_bin()
    if bindir is None:
        _ensure_packages()
        bindir = _postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (Debian package postgresql-15)")
    as_user: list[str] = []
    base = tempfile.mkdtemp(prefix="portal-pg-", dir="/tmp")
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: run it as the postgres user, from a folder it can reach.
        shutil.chown(base, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(base, "data"), _free_port()
    _run(
        [
            *as_user,
            str(bindir / "initdb"),
            "-D",
            data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]
    )
    options = (
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=100"
    )
    _run(
        [
            *as_user,
            str(bindir / "pg_ctl"),
            "-D",
            data,
            "-o",
            options,
            "-l",
            os.path.join(base, "log"),
            "-w",
            "-t",
            "30",
            "start",
        ]
    )

    def stop() -> None:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"],
            cwd="/",
            capture_output=True,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)

    _state["stops"].append(stop)
    return f"postgres://postgres@127.0.0.1:{port}/portal"


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Point Django at a throwaway PostgreSQL before pytest-django sets Django up."""
    if os.environ.get("TEST_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    elif os.environ.get("PORTAL_TEST_POSTGRES", "1") != "0":
        try:
            os.environ["DATABASE_URL"] = start_postgres()
        except (RuntimeError, subprocess.CalledProcessError, OSError, KeyError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            if CI:
                raise pytest.UsageError(f"CI=true but PostgreSQL could not be started: {detail}") from exc
            _state["postgres_reason"] = f"PostgreSQL unavailable, the suite runs on SQLite: {detail.strip()[:200]}"
            os.environ.pop("DATABASE_URL", None)
    return (yield)


def pytest_report_header(config):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    lines = [f"database: {engine}" + (" (throwaway server)" if engine == "postgresql" else "")]
    if _state["postgres_reason"]:
        lines.append(_state["postgres_reason"])
    return lines


def pytest_unconfigure(config):
    while _state["stops"]:
        with contextlib.suppress(Exception):
            _state["stops"].pop()()


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres"):
        from django.db import connection

        if connection.vendor != "postgresql":
            unavailable(_state["postgres_reason"] or "this test needs PostgreSQL")


# --- Redis ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis server of this run's own, on a free port, without persistence."""
    if os.environ.get("TEST_REDIS_URL"):
        return os.environ["TEST_REDIS_URL"]
    if not shutil.which("redis-server"):
        _ensure_packages()
    server = shutil.which("redis-server")
    if not server:
        unavailable("Redis is not installed (Debian package redis-server)")
    port, base = _free_port(), tempfile.mkdtemp(prefix="portal-redis-")
    subprocess.run(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "yes",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            base,
            "--pidfile",
            os.path.join(base, "redis.pid"),
            "--logfile",
            os.path.join(base, "redis.log"),
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            break
        time.sleep(0.05)

    def stop() -> None:
        subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)

    _state["stops"].append(stop)
    return f"redis://127.0.0.1:{port}/0"


# --- ClamAV ---------------------------------------------------------------------------------------

# The EICAR test file (eicar.org): every antivirus product detects it, and it harms nothing.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!H+H*"


def _clamd_bin() -> str | None:
    return shutil.which("clamd") or ("/usr/sbin/clamd" if os.path.exists("/usr/sbin/clamd") else None)


@pytest.fixture(scope="session")
def clamd_url() -> str:
    """A clamd of this run's own on a free loopback port (start_clamd), stopped at the end of the run."""
    if os.environ.get("TEST_CLAMAV_URL"):
        return os.environ["TEST_CLAMAV_URL"]
    if _clamd_bin() is None or not shutil.which("sigtool"):
        _ensure_packages()
    try:
        url, stop = start_clamd()
    except RuntimeError as exc:
        unavailable(str(exc))
    _state["stops"].append(stop)
    return url


def start_clamd() -> tuple[str, Callable[[], None]]:
    """Start a clamd on a free loopback port with a signature database built here: (tcp URL, stop).

    The official signature mirror cannot be reached from these machines, so the database holds only
    the EICAR test file: its MD5 (local.hdb, the whole file) and its bytes as a body signature
    (local.ndb, found anywhere, e.g. inside a PDF). Production updates its database with freshclam.
    The benchmark (bench/province.py) uses it too, so that uploads go through the real INSTREAM protocol.
    """
    clamd, sigtool = _clamd_bin(), shutil.which("sigtool")
    if clamd is None or sigtool is None:
        raise RuntimeError("ClamAV is not installed (Debian package clamav-daemon)")
    base = tempfile.mkdtemp(prefix="portal-clamd-")
    database = os.path.join(base, "db")
    os.mkdir(database)
    sample = os.path.join(base, "eicar.com")
    Path(sample).write_bytes(EICAR)
    md5 = subprocess.run([sigtool, "--md5", sample], check=True, capture_output=True, text=True).stdout
    Path(database, "local.hdb").write_text(md5)
    Path(database, "local.ndb").write_text(f"Portal.Test.EICAR-Body:0:*:{EICAR.hex()}\n")
    os.remove(sample)
    port = _free_port()
    config = os.path.join(base, "clamd.conf")
    Path(config).write_text(
        f"DatabaseDirectory {database}\nTCPSocket {port}\nTCPAddr 127.0.0.1\nForeground yes\n"
        f"LogFile {base}/clamd.log\nStreamMaxLength 30M\n"
    )
    process = subprocess.Popen([clamd, "-c", config], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    ready = False
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"zPING\0")
            ready = sock.recv(16).startswith(b"PONG")
        if ready:
            break
        time.sleep(0.2)
    if not ready:
        process.kill()
        detail = (process.stderr.read() or b"").decode(errors="replace")[-200:] if process.poll() is not None else ""
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"clamd did not start: {detail or 'timeout'}")

    def stop() -> None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
        shutil.rmtree(base, ignore_errors=True)

    return f"tcp://127.0.0.1:{port}", stop


# --- Chromium -------------------------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if path is None:
        _ensure_packages()
        path = shutil.which("chromium")
    if path is None:
        unavailable("Chromium is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
    except Exception as exc:  # noqa: BLE001 - any launch failure means no browser for this run
        playwright.stop()
        unavailable(f"Chromium did not start: {exc}")
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    """A 360 px wide phone screen."""
    context = browser.new_context(
        locale="vi-VN", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()
