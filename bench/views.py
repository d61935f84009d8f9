"""Baseline views of the benchmark, mounted under /bench/ only when settings.BENCH_VIEWS is on.

Every scenario of bench/http.py is reported as a ratio to these, measured in the same run: they
are what the stack costs before any of the portal's own work.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.urls import path

from procedures.models import Agency


def no_database(request):
    """JSON without the database: the cost of Django, gunicorn and the middleware."""
    return JsonResponse({"ok": True})


def one_query(request):
    """One ORM query by primary key, the cheapest real read."""
    return JsonResponse({"name": Agency.objects.filter(pk=1).values_list("name", flat=True).first()})


@login_required
def one_query_logged_in(request):
    """The same with an officer's session (the session row and its user, read in one statement)."""
    return JsonResponse({"name": Agency.objects.filter(pk=1).values_list("name", flat=True).first()})


urlpatterns = [
    path("nodb/", no_database, name="bench_nodb"),
    path("orm/", one_query, name="bench_orm"),
    path("orm-session/", one_query_logged_in, name="bench_orm_session"),
]
