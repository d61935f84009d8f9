"""Pages anyone may open: tracking a dossier by its code (no login, no personal data)."""

from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from portal.ratelimit import request_limited

from ..constants import STATE_EXPLANATIONS
from ..selectors import dossier_track_public


@never_cache
def track(request, code: str | None = None):
    """Status of a dossier by its code, as printed on Form 01 and in its QR code.

    Shows the procedure, the agency, the state, the dates and the steps, never the applicant.
    Rate limited per address so that codes cannot be harvested by enumeration.
    """
    code = (code or request.GET.get("code", "")).strip()
    if code and not request.resolver_match.kwargs.get("code"):
        return redirect("dossiers:track_code", code=code)
    # One atomic upsert per request (portal/ratelimit.py), not the cache's five to seven queries.
    if code and request_limited(request, scope="dossier-track", rate=settings.TRACKING_RATE_LIMIT):
        return render(request, "dossiers/track.html", {"code": code, "limited": True}, status=429)
    dossier = dossier_track_public(code=code) if code else None
    context = {"code": code, "dossier": dossier}
    if dossier is not None:
        context.update(explanation=STATE_EXPLANATIONS.get(dossier.state, ""), steps=dossier.steps)
    elif code:
        context["not_found"] = _(
            "Không tìm thấy hồ sơ có mã %(code)s. Vui lòng kiểm tra lại mã trên giấy tiếp nhận."
        ) % {"code": code}
    return render(request, "dossiers/track.html", context, status=404 if code and dossier is None else 200)


urlpatterns = [
    path("tra-cuu/", track, name="track"),
    path("tra-cuu/<str:code>/", track, name="track_code"),
]
