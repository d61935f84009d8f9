"""HTTP scenarios against gunicorn on 127.0.0.1: wrk for reads, threads of Python for flows.

gunicorn runs as in production (2 sync workers, DEBUG off, a throwaway SECRET_KEY, persistent
connections) behind a pretend proxy: every request carries X-Forwarded-Proto: https. Each wrk run
is bounded (8 connections, a fixed duration) and its Lua done() hook prints p50/p95/p99. Between
scenarios the harness waits until both workers are idle again, so that a slow scenario's backlog
does not leak into the next one.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "wrk.lua"
HOST = "127.0.0.1"


# --- a small HTTP client with cookies and CSRF --------------------------------------------------


class Client:
    """One keep-alive connection to gunicorn, with the cookies of one browser session."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(HOST, port, timeout=300)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "Origin": f"https://{HOST}",
            "Referer": f"https://{HOST}{path}",
            **(headers or {}),
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.cookies.get("csrftoken") and method != "GET":
            headers.setdefault("X-CSRFToken", self.cookies["csrftoken"])
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=300)
                if attempt:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response.status, data

    def get(self, path: str):
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict):
        return self.request(
            "POST",
            path,
            urlencode({"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **fields}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    def send_json(self, method: str, path: str, payload: dict):
        return self.request(method, path, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    def post_file(self, path: str, fields: dict, name: str, content: bytes, content_type: str):
        return self.post_files(path, fields, {"file": (name, content, content_type)})

    def post_files(self, path: str, fields: dict, files: dict[str, tuple[str, bytes, str]]):
        """A multipart POST: `files` maps each part name to (file name, bytes, content type)."""
        boundary = uuid.uuid4().hex
        parts = []
        for key, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
        for part, (name, content, content_type) in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{part}"; filename="{name}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n".encode()
                + content
                + b"\r\n"
            )
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(
            "POST", path, b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )

    def login(self, username: str, password: str, *, totp_secret: str = "") -> None:
        """Log in as a citizen, or as staff with the second factor (a TOTP code from the base32 secret)."""
        self.get("/accounts/login/")
        status, body = self.post_form("/accounts/login/", {"username": username, "password": password})
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login of {username} failed: {status} {body[:300]!r}")
        if not totp_secret:
            return
        from django_otp.oath import totp

        key = base64.b32decode(totp_secret)
        for _attempt in range(2):
            self.get("/accounts/2fa/")
            code = f"{totp(key, step=30, digits=6):06d}"
            status, body = self.post_form("/accounts/2fa/", {"token": code})
            if status == 302:
                return
            # Each code works once: a login in the same 30 s window needs the next code.
            time.sleep(30 - time.time() % 30 + 0.5)
        raise RuntimeError(f"second factor of {username} failed: {status} {body[:300]!r}")

    def clone(self) -> Client:
        """Another connection with the same session (one login per account: each TOTP code works once)."""
        other = Client(self.port)
        other.cookies = dict(self.cookies)
        return other

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


# --- gunicorn -------------------------------------------------------------------------------------


@dataclass
class Gunicorn:
    port: int
    env: dict
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "portal.wsgi",
                "--workers", "2",
                "--worker-class", "sync",
                "--bind", f"{HOST}:{self.port}",
                "--no-control-socket",
                "--timeout", "180",
                "--log-level", "warning",
            ],
            cwd=ROOT,
            env=self.env,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = Client(self.port).get("/bench/nodb/")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each worker (children of the master), from /proc."""
        if not self.process:
            return []
        sizes = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
            if fields.get("PPid", "").strip() == str(self.process.pid):
                sizes.append(int(fields["VmRSS"].split()[0]) / 1024)
        return sorted(sizes)

    def wait_idle(self, limit: float = 300) -> None:
        """Until a trivial request is answered at once: no backlog of a slow scenario is left."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            start = time.perf_counter()
            Client(self.port).get("/bench/nodb/")
            if time.perf_counter() - start < 0.05:
                return
            time.sleep(0.5)


# --- wrk -----------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    rps: float
    p50: float
    p95: float
    p99: float
    requests: int
    errors: int
    alone_ms: float | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)


def wrk(port: int, name: str, paths: list[str], *, cookie: str = "", duration: int = 12, connections: int = 8):
    """One bounded wrk run over `paths` (taken in turn); latency percentiles in milliseconds."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (as root: bash .ci/system-packages bench)")
    env = {**os.environ, "BENCH_PATHS": "|".join(paths), "BENCH_COOKIE": cookie}
    done = subprocess.run(
        [
            "wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--timeout", "120s",
            "-s", str(LUA), f"http://{HOST}:{port}",
        ],
        capture_output=True, text=True, env=env, timeout=duration + 200, check=True,
    )  # fmt: skip
    line = next(line for line in done.stdout.splitlines() if line.startswith("BENCH_JSON "))
    data = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = data["duration_us"] / 1e6
    return Result(
        name=name,
        rps=data["requests"] / seconds if seconds else 0.0,
        p50=data["p50"] / 1000,
        p95=data["p95"] / 1000,
        p99=data["p99"] / 1000,
        requests=data["requests"],
        errors=data["errors_status"] + data["errors_other"],
    )


def alone(client: Client, path: str, *, repeat: int = 3) -> tuple[float, int, int]:
    """Median milliseconds of a request sent alone (after one warm-up), its status and size."""
    status, body = client.get(path)
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        status, body = client.get(path)
        timings.append((time.perf_counter() - start) * 1000)
        if timings[-1] > 1500:  # a slow page: one more sample says nothing new
            break
    return statistics.median(timings), status, len(body)


# --- flows with threads ---------------------------------------------------------------------------


def run_threads(worker, *, threads: int, duration: float) -> tuple[list[float], int]:
    """Run worker(index, stop_at) in threads; each returns a list of flow latencies (seconds)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def body(index: int) -> None:
        try:
            mine, failed = worker(index, stop_at)
        except Exception as exc:  # noqa: BLE001 - reported as an error count, the run goes on
            print(f"  thread {index}: {exc}")
            mine, failed = [], 1
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    pool = [threading.Thread(target=body, args=(i,)) for i in range(threads)]
    started = time.monotonic()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies, errors[0], time.monotonic() - started


def percentiles(name: str, latencies: list[float], errors: int, elapsed: float, note: str = "") -> Result:
    ordered = sorted(latencies) or [0.0]

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return Result(
        name=name,
        rps=len(latencies) / elapsed if elapsed else 0.0,
        p50=pct(0.50),
        p95=pct(0.95),
        p99=pct(0.99),
        requests=len(latencies),
        errors=errors,
        note=note,
    )


def throwaway_secret() -> str:
    return secrets.token_urlsafe(50)
