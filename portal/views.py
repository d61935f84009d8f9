from __future__ import annotations

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from procedures.models import Field, Procedure

from .celery import app as celery_app
from .models import WorkerHeartbeat


def home(request):
    procedures = Procedure.objects.published().select_related("field")[:8]
    fields = Field.objects.all()
    return render(request, "home.html", {"procedures": procedures, "fields": fields})


def _database_status() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - a health check reports every failure
        return {"ok": False, "vendor": connection.vendor, "error": exc.__class__.__name__}


def _broker_status() -> dict:
    transport = celery_app.conf.broker_url.split(":", 1)[0]
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        status = {"ok": True, "transport": transport}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "transport": transport, "error": exc.__class__.__name__}
    beat = WorkerHeartbeat.objects.filter(name="beat").first() if _database_status()["ok"] else None
    status["last_worker_heartbeat"] = beat.beat_at.isoformat() if beat else None
    status["heartbeat_age_seconds"] = int((timezone.now() - beat.beat_at).total_seconds()) if beat else None
    return status


def _background_status() -> dict:
    """The oldest side effect still pending (one indexed row), and whether any failed in the last day."""
    from dossiers.models import SideEffect

    oldest = (
        SideEffect.objects.filter(status=SideEffect.Status.PENDING).order_by("created_at").values("created_at").first()
    )
    since = timezone.now() - timezone.timedelta(days=1)
    failed = SideEffect.objects.filter(status=SideEffect.Status.FAILED, created_at__gte=since).exists()
    return {
        "oldest_pending_side_effect": oldest["created_at"].isoformat() if oldest else None,
        "oldest_pending_age_seconds": int((timezone.now() - oldest["created_at"]).total_seconds()) if oldest else 0,
        "failed_in_last_day": failed,
    }


@never_cache
@require_GET
def healthz(request):
    """Database and broker status, and the background backlog, as JSON; 503 when either is down."""
    database = _database_status()
    broker = _broker_status()
    ok = database["ok"] and broker["ok"]
    body = {"status": "ok" if ok else "error", "database": database, "broker": broker}
    if database["ok"]:
        body["background"] = _background_status()
    return JsonResponse(body, status=200 if ok else 503)


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the static, cache-busted file."""
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.http import HttpResponsePermanentRedirect

    return HttpResponsePermanentRedirect(staticfiles_storage.url("favicon.ico"))
