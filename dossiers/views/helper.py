"""Pages of the community digital helper (tổ công nghệ số cộng đồng): submit for a present citizen.

The helper starts from a procedure's page, records the citizen's CCCD and consent, then fills in
the same six steps as a citizen (the citizen views accept the helper until reception, through
selectors.dossier_get_for_citizen); after submission they print the confirmation or send it by
SMS. Their list shows only the dossiers they helped with and only until reception (404 after).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.accounts.cccd import validate_cccd
from portal.accounts.models import phone_validator
from procedures.selectors import procedure_get_public

from .. import selectors, services
from ..assistance import dossier_send_assisted_confirmation, dossier_start_assisted, helper_agency
from ..models import DossierAssistance
from .citizen import AgencyForm, citizen_page, expected_reception_by


class AssistedStartForm(AgencyForm):
    citizen_name = forms.CharField(label=gettext_lazy("Họ và tên công dân"), max_length=255)
    citizen_id_number = forms.CharField(
        label=gettext_lazy("Số định danh cá nhân (CCCD) của công dân"),
        max_length=12,
        validators=[validate_cccd],
        help_text=gettext_lazy("Đối chiếu với thẻ căn cước công dân xuất trình. Hồ sơ thuộc về công dân này."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    citizen_phone = forms.CharField(
        label=gettext_lazy("Số điện thoại của công dân (không bắt buộc)"),
        max_length=11,
        required=False,
        validators=[phone_validator],
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    confirmation = forms.ChoiceField(
        label=gettext_lazy("Xác nhận cho công dân"),
        choices=DossierAssistance.Confirmation.choices,
        initial=DossierAssistance.Confirmation.PRINTED,
        widget=forms.RadioSelect,
    )
    consent = forms.BooleanField(
        label=gettext_lazy("Công dân có mặt, đã xuất trình căn cước và đồng ý để tôi khai, nộp hồ sơ này thay mình."),
        error_messages={"required": gettext_lazy("Cần có sự đồng ý của công dân trước khi nộp hồ sơ giúp.")},
    )

    def clean(self):
        data = super().clean()
        if data.get("confirmation") == DossierAssistance.Confirmation.SMS and not data.get("citizen_phone"):
            self.add_error("citizen_phone", _("Nhập số điện thoại của công dân để gửi tin nhắn xác nhận."))
        return data


def _helper_only(request: HttpRequest):
    agency = helper_agency(request.user)
    if agency is None:
        raise Http404("not a helper")
    return agency


@citizen_page("GET")
def helper_home(request: HttpRequest) -> HttpResponse:
    """The helper's dossiers not received yet, newest first (20 at most: a day's work at a counter)."""
    agency = _helper_only(request)
    dossiers = (
        selectors.dossiers_assisted_by(request.user)
        .select_related("procedure", "agency")
        .order_by("-created_at", "-id")[:20]
    )
    return render(request, "dossiers/helper/home.html", {"agency": agency, "dossiers": dossiers})


@citizen_page("GET", "POST")
def helper_start(request: HttpRequest, code: str) -> HttpResponse:
    _helper_only(request)
    procedure = procedure_get_public(code=code)
    if not procedure.channel_online:
        raise Http404("not online")
    agencies = procedure.agencies.filter(is_active=True).order_by("path")
    form = AssistedStartForm(request.POST if request.method == "POST" else None, agencies=agencies)
    if agencies.count() == 1:
        form.fields["agency"].initial = agencies.first().pk
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            dossier = dossier_start_assisted(
                procedure=procedure,
                agency=data["agency"],
                helper=request.user,
                citizen_name=data["citizen_name"],
                citizen_id_number=data["citizen_id_number"],
                citizen_phone=data["citizen_phone"],
                consent=data["consent"],
                confirmation=data["confirmation"],
            )
        except services.DossierError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Đã ghi nhận sự đồng ý của công dân. Tiếp tục khai hồ sơ cùng công dân."))
            return redirect("dossiers:applicant", dossier.public_id)
    return render(request, "dossiers/helper/start.html", {"procedure": procedure, "form": form})


@citizen_page("GET")
def helper_confirmation(request: HttpRequest, public_id) -> HttpResponse:
    """The printable confirmation for the citizen: reference, what happens next, how to follow it."""
    dossier = selectors.dossier_get_for_helper(user=request.user, public_id=public_id)
    if dossier.reference is None:
        return redirect("dossiers:review", dossier.public_id)
    return render(
        request,
        "dossiers/helper/confirmation.html",
        {
            "dossier": dossier,
            "assistance": dossier.assistance,
            "reception_by": expected_reception_by(dossier),
            "sms_sent": dossier.side_effects.filter(kind="sms", payload__template="assisted_confirmation").exists(),
            "masked_cccd": "*" * 8 + dossier.assistance.citizen_id_number[-4:],
        },
    )


@citizen_page("POST")
def helper_send_sms(request: HttpRequest, public_id) -> HttpResponse:
    dossier = selectors.dossier_get_for_helper(user=request.user, public_id=public_id)
    try:
        dossier_send_assisted_confirmation(dossier=dossier, helper=request.user)
    except services.DossierError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Đã gửi tin nhắn xác nhận tới số %(phone)s.") % {"phone": dossier.applicant_phone})
    return redirect("dossiers:helper_confirmation", dossier.public_id)


urlpatterns = [
    path("ho-tro/", helper_home, name="helper_home"),
    path("ho-tro/nop/<str:code>/", helper_start, name="helper_start"),
    path("ho-tro/ho-so/<uuid:public_id>/xac-nhan/", helper_confirmation, name="helper_confirmation"),
    path("ho-tro/ho-so/<uuid:public_id>/gui-sms/", helper_send_sms, name="helper_send_sms"),
]
