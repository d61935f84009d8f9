from django.shortcuts import render


def track(request, code: str | None = None):
    return render(request, "dossiers/track.html", {"code": code})
