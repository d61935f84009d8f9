"""The person's own data pages: consents, download of everything held (JSON, PDF), erasure request."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import services
from .constants import Purpose


class ConsentForm(forms.Form):
    notifications = forms.BooleanField(label=Purpose.NOTIFICATIONS.label, required=False)
    data_reuse = forms.BooleanField(label=Purpose.DATA_REUSE.label, required=False)


class ErasureForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "Tôi hiểu rằng tài khoản sẽ bị vô hiệu hóa, các hồ sơ đang soạn bị xóa, còn hồ sơ đã nộp được cơ "
            "quan lưu trữ theo quy định của pháp luật."
        ),
        error_messages={"required": gettext_lazy("Vui lòng đánh dấu xác nhận trước khi gửi yêu cầu xóa.")},
    )


def _attachment_name(user, extension: str) -> str:
    return f"du-lieu-ca-nhan-{timezone.localdate():%Y%m%d}.{extension}"


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_data(request: HttpRequest) -> HttpResponse:
    """What the portal holds and what the person agreed to; change optional consents."""
    current = services.consent_current(user=request.user)
    form = ConsentForm(request.POST or None, initial=current)
    if request.method == "POST" and form.is_valid():
        services.consent_record(
            user=request.user,
            context="registration",
            choices={
                "notifications": form.cleaned_data["notifications"],
                "data_reuse": form.cleaned_data["data_reuse"],
            },
        )
        messages.success(request, _("Đã lưu lựa chọn đồng ý của bạn."))
        return redirect("privacy:my_data")
    return render(
        request,
        "privacy/my_data.html",
        {"form": form, "erasure_form": ErasureForm(), "processing": current[Purpose.PROCESSING]},
    )


@never_cache
@login_required
@require_GET
def export_json(request: HttpRequest) -> HttpResponse:
    data = services.personal_data_export_record(user=request.user, fmt="json")
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_attachment_name(request.user, "json")}"'
    return response


@never_cache
@login_required
@require_GET
def export_pdf(request: HttpRequest) -> HttpResponse:
    data = services.personal_data_export_record(user=request.user, fmt="pdf")
    response = HttpResponse(services.personal_data_export_pdf(data=data), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_attachment_name(request.user, "pdf")}"'
    return response


@never_cache
@login_required
@require_POST
def erase(request: HttpRequest) -> HttpResponse:
    form = ErasureForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["confirm"][0])
        return redirect("privacy:my_data")
    try:
        services.account_erase(user=request.user)
    except services.PrivacyError as exc:
        messages.error(request, str(exc))
        return redirect("privacy:my_data")
    logout(request)
    messages.success(request, _("Dữ liệu tài khoản của bạn đã được xóa. Hồ sơ đã nộp được lưu trữ theo quy định."))
    return redirect("home")
