"""Real Celery workers, a Redis of a test's own and a stalling SMTP server, for the fault tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from tests.portal.test_processes import BIN, ROOT, _env, _free_port


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Worker:
    """`celery worker` as the Procfile starts it (prefetch 1, acks late), in a process group of its own."""

    def __init__(self, tmp_path: Path, broker_url: str, **env):
        self.log = open(tmp_path / f"worker-{time.monotonic_ns()}.log", "w+")  # noqa: SIM115
        self.process = subprocess.Popen(
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
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=_env(tmp_path, REDIS_URL=broker_url, **{k: str(v) for k, v in env.items()}),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill9(self) -> None:
        """kill -9 of the whole worker, main process and pool: nothing gets to clean up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> str:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill9()
        self.log.seek(0)
        return self.log.read()


class Redis:
    """A Redis server that a test may stop and start again on the same port."""

    def __init__(self):
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="portal-redis-fault-")
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for(lambda: _connectable(self.port), 10, "redis")

    def stop(self) -> None:
        if self.process:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _connectable(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
        return True
    return False


class StallingSmtp:
    """An SMTP server that records each message and, while `stall` is set, does not answer its end."""

    def __init__(self):
        self.messages: list[str] = []
        self.stall = threading.Event()
        self.received = threading.Event()
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 sandbox ESMTP\r\n")
                data, lines = False, []
                for raw in self.rfile:
                    line = raw.decode("utf-8", "replace")
                    if data:
                        if line in (".\r\n", ".\n"):
                            data = False
                            outer.messages.append("".join(lines))
                            outer.received.set()
                            while outer.stall.is_set():
                                time.sleep(0.1)  # the client dies waiting for "250"
                                if self.rfile.closed:
                                    return
                            self.wfile.write(b"250 queued\r\n")
                            lines = []
                        else:
                            lines.append(line)
                        continue
                    verb = line[:4].upper()
                    if verb in ("EHLO", "HELO"):
                        self.wfile.write(b"250 sandbox\r\n")
                    elif verb == "DATA":
                        data = True
                        self.wfile.write(b"354 go on\r\n")
                    elif verb == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.stall.clear()
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def publishing_to(broker_url: str, transport_options: dict | None = None):
    """Point this test process's Celery app (what on_commit publishes with) at `broker_url`."""
    from portal.celery import app

    previous, previous_options = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url = broker_url
    app.conf.broker_transport_options = transport_options or {}
    app.conf.broker_connection_timeout = 1
    app.conf.task_publish_retry_policy = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
    _reset(app)
    try:
        yield app
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = previous, previous_options
        _reset(app)


def filesystem_broker(tmp_path: Path) -> tuple[str, dict]:
    """The embedded broker of `make run`, in the folders a Worker of this tmp_path uses."""
    base = tmp_path / "var" / "celery"
    for folder in ("queue", "processed", "control"):
        (base / folder).mkdir(parents=True, exist_ok=True)
    return "filesystem://", {
        "data_folder_in": str(base / "queue"),
        "data_folder_out": str(base / "queue"),
        "processed_folder": str(base / "processed"),
        "control_folder": str(base / "control"),
        "store_processed": False,
    }


def _reset(app) -> None:
    # The producer pool is bound to the broker it was first used with (kombu keeps one per broker).
    app._pool = None
    with contextlib.suppress(AttributeError):
        app.amqp._producer_pool = None
