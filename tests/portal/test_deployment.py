"""The production deployment: docker-compose.yml and `check --deploy` with production settings."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def _command(service: dict) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else shlex.split(command)


def test_compose_defines_the_production_services_with_health_checks():
    services = _compose()["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    for name in ("web", "worker", "postgres", "redis"):
        assert "healthcheck" in services[name], name
    assert services["postgres"]["volumes"] and services["redis"]["volumes"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DEBUG"] == "false"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")


def test_compose_commands_exist_in_the_project():
    services = _compose()["services"]
    assert _command(services["web"])[:2] == ["gunicorn", "portal.wsgi"]
    assert (ROOT / "portal" / "wsgi.py").exists()
    for name in ("worker", "beat"):
        command = _command(services[name])
        assert command[:3] == ["celery", "-A", "portal"]
        assert command[3] == name
    assert _command(services["migrate"])[:3] == ["python", "manage.py", "migrate"]
    assert (ROOT / "manage.py").exists()
    assert (ROOT / "Dockerfile").exists()
    # Every console script the compose file runs is installed from requirements.txt.
    requirements = (ROOT / "requirements.txt").read_text().lower()
    for tool in ("gunicorn", "celery"):
        assert f"\n{tool}" in requirements


def test_procfile_starts_web_worker_and_beat():
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert set(lines) == {"web", "worker", "beat"}
    assert "portal.wsgi" in lines["web"] and "127.0.0.1:${WEB_PORT:-8000}" in lines["web"]
    assert "celery -A portal worker" in lines["worker"] and "celery -A portal beat" in lines["beat"]


def _production_env(**extra) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DEBUG="false",
        SECRET_KEY="k3Jx9-production-like-secret-Qw8mZt2vLp5sRb7nYc4hGd6fTa1eUo0iWkXjHs",
        ALLOWED_HOSTS="dichvucong.example.gov.vn",
        DATABASE_URL="postgres://portal:secret@127.0.0.1:5432/portal",
        REDIS_URL="redis://127.0.0.1:6379/0",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    )
    env.update(extra)
    return env


def test_production_settings_pass_check_deploy_without_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_production_env(SECRET_KEY=""),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_only_the_tls_proxy_publishes_ports_and_web_trusts_forwarded_headers_from_it_alone():
    compose = _compose()
    services = compose["services"]
    proxy = services["proxy"]
    assert proxy["image"].startswith("caddy:")
    assert {"80:80", "443:443"} <= set(proxy["ports"])
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    for name, service in services.items():
        if name != "proxy":
            assert "ports" not in service, f"{name} must not be reachable from outside"
    proxy_address = proxy["networks"]["internal"]["ipv4_address"]
    command = _command(services["web"])
    assert command[command.index("--forwarded-allow-ips") + 1] == proxy_address
    assert services["web"]["environment"]["TRUSTED_PROXY_COUNT"] == "1"


def test_the_web_health_check_sends_the_public_host_name():
    """Production ALLOWED_HOSTS lists only the public name: a probe of bare 127.0.0.1 gets 400."""
    test = " ".join(_compose()["services"]["web"]["healthcheck"]["test"])
    assert "/healthz" in test
    assert "ALLOWED_HOSTS" in test and "'Host'" in test


def test_healthz_answers_a_probe_with_the_public_host_and_refuses_a_bare_address(client, settings, db):
    settings.ALLOWED_HOSTS = ["dichvucong.example.gov.vn"]
    assert client.get("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 400
    assert client.get("/healthz", HTTP_HOST="dichvucong.example.gov.vn").status_code in (200, 503)


def test_requirements_are_split_pinned_and_hashed():
    runtime = (ROOT / "requirements.txt").read_text()
    dev = (ROOT / "requirements-dev.txt").read_text()
    for text in (runtime, dev):
        pins = [line for line in text.splitlines() if "==" in line and not line.startswith((" ", "#"))]
        assert pins
        assert all(line.rstrip().endswith("\\") for line in pins), "every pin carries its hashes"
        assert "--hash=sha256:" in text
    names = {line.split("==")[0].lower() for line in runtime.splitlines() if "==" in line and line[0].isalpha()}
    for tool in ("pytest", "playwright", "ruff", "hypothesis", "pip-tools"):
        assert tool not in names, f"{tool} must not be in the production image"
    for package in ("django", "gunicorn", "celery", "weasyprint", "django-csp"):
        assert package in names
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements-dev" not in dockerfile
    assert "--require-hashes -r requirements.txt" in dockerfile
