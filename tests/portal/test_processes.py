"""The processes of `make run` for real: gunicorn, a Celery worker and beat, talking to each other.

They run as subprocesses against the test database, so these tests need PostgreSQL (a SQLite
in-memory database cannot be shared between processes).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.factories import ProcedureFactory

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(tmp_path, **extra) -> dict:
    from django.db import connection

    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DEBUG="true",
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        VAR_DIR=str(tmp_path / "var"),
        PATH=f"{BIN}:{env.get('PATH', '')}",
    )
    env.update(extra)
    for folder in ("celery/queue", "celery/processed", "celery/results", "celery/control"):
        (tmp_path / "var" / folder).mkdir(parents=True, exist_ok=True)
    return env


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(process: subprocess.Popen) -> str:
    # Only the main process: it shuts its children down warmly. Signalling the whole group would
    # kill a worker's pool process in the middle of a task and print a (harmless) traceback.
    os.kill(process.pid, signal.SIGTERM)
    try:
        out, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
    return out or ""


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return response.status, response.read().decode()
    except OSError:
        return None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_procfile_serves_the_catalogue_and_beat_reaches_the_worker(tmp_path):
    """`honcho start` as `make run` does: the page lists procedures and a beat task runs in the worker."""
    ProcedureFactory(name="Đăng ký khai sinh", national_code="1.001193")
    port = _free_port()
    # honcho's own PORT variable is ignored by the Procfile, which reads WEB_PORT.
    env = _env(tmp_path, WEB_PORT=str(port), HEARTBEAT_SECONDS="1")
    process = subprocess.Popen(
        [str(BIN / "honcho"), "start", "-f", "Procfile"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        status, body = _wait_for(lambda: _get(f"http://127.0.0.1:{port}/procedures/"), 60, "the web process")
        assert status == 200
        assert "Đăng ký khai sinh" in body

        def heartbeat():
            answer = _get(f"http://127.0.0.1:{port}/healthz")
            if answer:
                data = json.loads(answer[1])
                return data if data["broker"].get("last_worker_heartbeat") else None
            return None

        health = _wait_for(heartbeat, 60, "beat → worker heartbeat")
        assert health["status"] == "ok"
        assert health["broker"]["transport"] == "filesystem"
    finally:
        output = _stop(process)
    assert "Traceback" not in output, output[-3000:]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_task_sent_from_the_web_process_runs_in_a_redis_worker(tmp_path, redis_url):
    from portal.celery import app
    from portal.models import WorkerHeartbeat
    from portal.tasks import record_heartbeat

    env = _env(tmp_path, REDIS_URL=redis_url)
    worker = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "portal",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "1",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    previous = app.conf.broker_url
    app.conf.broker_url = redis_url
    try:
        with app.connection_for_write() as connection:
            record_heartbeat.apply_async(args=["from-web"], connection=connection)
        row = _wait_for(lambda: WorkerHeartbeat.objects.filter(name="from-web").first(), 60, "the worker")
        assert row.count == 1
    finally:
        app.conf.broker_url = previous
        output = _stop(worker)
    assert "Traceback" not in output, output[-3000:]
