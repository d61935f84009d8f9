"""Pages anyone may open: tracking a dossier by its code (no login, no personal data)."""

from django.shortcuts import render
from django.urls import path


def track(request, code: str | None = None):
    return render(request, "dossiers/track.html", {"code": code})


urlpatterns = [
    path("tra-cuu/", track, name="track"),
    path("tra-cuu/<str:code>/", track, name="track_code"),
]
