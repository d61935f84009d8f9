"""The portal's URLs plus one trivial officer view, for tests/accounts/test_request_cost.py."""

from django.http import JsonResponse
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def trivial_officer_view(request):
    """No query of its own: what an officer request costs before any view runs."""
    user = request.user
    return JsonResponse({"verified": user.is_authenticated and user.is_verified()})


def otp_device_view(request):
    """The device that verified this session, as django-otp's request.user.otp_device gives it."""
    device = request.user.otp_device
    return JsonResponse({"device": device.persistent_id if device is not None else None})


urlpatterns = [
    path("can-bo/__trivial__/", trivial_officer_view),
    path("can-bo/__device__/", otp_device_view),
    *portal_urlpatterns,
]
