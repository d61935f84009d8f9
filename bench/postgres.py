"""A PostgreSQL 15 server of the benchmark's own: data under /var/tmp, a free loopback port.

As root it runs as the `postgres` user (PostgreSQL refuses root), from `/`, like tests/services.py.
The data directory survives between runs so that `--reuse` skips a load of several minutes; the
server is stopped with `pg_ctl stop` whatever happens. During the load fsync is off; the
measurements run with fsync and synchronous commit on, as in production.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

BASE = Path(os.environ.get("BENCH_DIR", "/var/tmp/portal-bench"))
LOAD_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=4GB"
MEASURE_OPTIONS = "-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
COMMON_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c max_connections=60 -c shared_buffers=512MB "
    "-c maintenance_work_mem=256MB -c checkpoint_timeout=30min"
)


def _bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/15/bin/initdb")) or sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb")
    )
    if not candidates:
        raise RuntimeError("PostgreSQL is not installed (Debian package postgresql-15)")
    return Path(candidates[-1]).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    base: Path
    port: int
    running: bool = False

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/portal"

    @property
    def _as_user(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_user, *args], check=True, cwd="/", capture_output=True, text=True)

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def init(self) -> None:
        """A fresh cluster (an earlier one at the same place is removed)."""
        shutil.rmtree(self.base, ignore_errors=True)
        self.base.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        self._run(
            str(_bindir() / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--locale=C.UTF-8",
        )  # fmt: skip

    def start(self, *, loading: bool) -> None:
        options = f"-p {self.port} -k {self.base} {COMMON_OPTIONS} {LOAD_OPTIONS if loading else MEASURE_OPTIONS}"
        self._run(
            str(_bindir() / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.base / "log"),
            "-w", "-t", "60", "start",
        )  # fmt: skip
        self.running = True

    def stop(self) -> None:
        if not self.running:
            return
        subprocess.run(
            [*self._as_user, str(_bindir() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "120", "stop"],
            cwd="/",
            capture_output=True,
            check=False,
        )
        self.running = False

    def create_database(self) -> None:
        self._run(str(_bindir() / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "portal")

    # What was loaded, so that --reuse knows (written after a complete load only).
    @property
    def _marker(self) -> Path:
        return self.base / "loaded.json"

    def loaded(self) -> dict | None:
        return json.loads(self._marker.read_text()) if self._marker.exists() else None

    def mark_loaded(self, info: dict) -> None:
        self._marker.write_text(json.dumps(info, indent=2))


def server() -> Server:
    return Server(base=BASE, port=free_port())
