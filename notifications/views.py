from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .constants import Channel
from .models import Notification, NotificationPreference
from .services import notification_mark_read, notification_preferences_set


class PreferencesForm(forms.Form):
    email = forms.BooleanField(label=_("Nhận thông báo qua thư điện tử"), required=False)
    sms = forms.BooleanField(label=_("Nhận thông báo qua tin nhắn SMS"), required=False)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def inbox(request):
    """The person's in-app notifications (newest first, 50) and their choice of channels."""
    prefs = NotificationPreference.objects.filter(user=request.user).first()
    form = PreferencesForm(
        request.POST or None, initial={"email": prefs.email if prefs else True, "sms": prefs.sms if prefs else True}
    )
    if request.method == "POST":
        if "mark_read" in request.POST:
            notification_mark_read(user=request.user)
        elif form.is_valid():
            notification_preferences_set(user=request.user, **form.cleaned_data)
        return redirect("notifications:inbox")
    items = Notification.objects.filter(recipient=request.user, channel=Channel.IN_APP).select_related("dossier")[:50]
    return render(request, "notifications/inbox.html", {"items": items, "form": form})


app_name = "notifications"
urlpatterns = [path("accounts/me/notifications/", inbox, name="inbox")]
