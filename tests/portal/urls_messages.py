"""Three views for tests/portal/test_lazy_messages.py: one adds a message, one ignores them, one shows them."""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def add_message(request):
    messages.success(request, "Đã lưu <hồ sơ>.")
    return JsonResponse({"added": True})


def ignore_messages(request):
    return JsonResponse({"ok": True})


def show_messages(request):
    return render(request, "base.html")


urlpatterns = [
    path("__add__/", add_message),
    path("__ignore__/", ignore_messages),
    path("__show__/", show_messages),
    *portal_urlpatterns,
]
