"""Assisted submission: a community digital helper (tổ công nghệ số cộng đồng) submits for a citizen.

The citizen is present and shows their CCCD; their consent is recorded with the time and the
helper. The dossier belongs to the citizen: to their account when one has that CCCD, else it is
followed by its submission reference and code (public tracking). It is an online dossier
(``channel_in`` online, so the statistics count it as online); who helped is on the
DossierAssistance row. The helper keeps access only until reception (dossiers.selectors).
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.accounts.cccd import validate_cccd
from portal.accounts.constants import Role
from procedures.models import Agency, Procedure

from . import services
from .constants import Channel, DossierState
from .models import Dossier, DossierAssistance, SideEffect

logger = logging.getLogger("dossiers")

CONSENT_TEXT = (
    "Tôi, {name}, số định danh cá nhân {cccd}, có mặt và đồng ý để {helper} (tổ công nghệ số cộng đồng, "
    "{agency}) khai và nộp hồ sơ “{procedure}” thay tôi. Hồ sơ thuộc về tôi; tôi nhận thông báo về hồ sơ."
)
# The SMS side effect's kind; its handler is dossiers.tasks._sms (the hook for the SMS provider).
SMS_CONFIRMATION = "sms"


def helper_agency(user) -> Agency | None:
    """The commune at which the user is registered as a community digital helper, if any."""
    membership = (
        user.memberships.filter(role=Role.DIGITAL_HELPER).select_related("agency").order_by("id").first()
        if getattr(user, "is_authenticated", False)
        else None
    )
    return membership.agency if membership else None


def is_helper(user) -> bool:
    return helper_agency(user) is not None


@transaction.atomic
def dossier_start_assisted(
    *,
    procedure: Procedure,
    agency: Agency,
    helper,
    citizen_name: str,
    citizen_id_number: str,
    citizen_phone: str = "",
    consent: bool,
    confirmation: str = DossierAssistance.Confirmation.PRINTED,
) -> Dossier:
    """Create the draft a helper fills in for a present citizen, with the citizen's consent recorded.

    Only a user with a digital-helper membership may call it. Nothing is written unless the consent
    is given and the CCCD is valid. The draft's owner is the account with that CCCD, if any.
    """
    commune = helper_agency(helper)
    if commune is None:
        raise services.PermissionDeniedError(_("Chỉ thành viên tổ công nghệ số cộng đồng được nộp hồ sơ giúp."))
    if not consent:
        raise services.DossierError(_("Cần có sự đồng ý của công dân trước khi nộp hồ sơ giúp."), field="consent")
    try:
        validate_cccd(citizen_id_number)
    except ValidationError as exc:
        raise services.DossierError(" ".join(exc.messages), field="citizen_id_number") from exc
    if confirmation == DossierAssistance.Confirmation.SMS and not citizen_phone:
        raise services.DossierError(
            _("Nhập số điện thoại của công dân để gửi tin nhắn xác nhận."), field="citizen_phone"
        )
    owner = get_user_model().objects.filter(cccd=citizen_id_number, is_active=True).first()
    applicant = {
        "applicant_name": citizen_name.strip(),
        "applicant_id_number": citizen_id_number,
        "applicant_phone": citizen_phone or (owner.phone if owner and owner.phone else ""),
        "applicant_email": owner.email if owner and owner.email else "",
        "applicant_address": owner.address if owner and owner.address else "",
    }
    dossier = services.dossier_create_draft(
        procedure=procedure,
        agency=agency,
        owner=owner,
        submitted_by=helper,
        channel_in=Channel.ONLINE,
        applicant=applicant,
    )
    DossierAssistance.objects.create(
        dossier=dossier,
        helper=helper,
        agency=commune,
        citizen_id_number=citizen_id_number,
        consent_text=CONSENT_TEXT.format(
            name=applicant["applicant_name"],
            cccd=citizen_id_number,
            helper=helper.get_full_name(),
            agency=commune.name,
            procedure=procedure.name,
        ),
        consent_at=timezone.now(),
        confirmation=confirmation,
    )
    logger.info("dossier.assisted dossier=%s helper=%s linked=%s", dossier.pk, helper.pk, owner is not None)
    return dossier


@transaction.atomic
def dossier_send_assisted_confirmation(*, dossier: Dossier, helper) -> SideEffect:
    """Record the SMS confirmation of a submitted assisted dossier; once per dossier.

    The message goes out through the side-effect path (dossiers.tasks), after commit; a second
    request returns the first row and sends nothing more.
    """
    dossier = Dossier.objects.select_for_update().get(pk=dossier.pk)
    assistance = DossierAssistance.objects.filter(dossier=dossier, helper=helper).first()
    if assistance is None:
        raise services.PermissionDeniedError(_("Bạn không có quyền thực hiện thao tác này đối với hồ sơ này."))
    if dossier.state != DossierState.SUBMITTED or not dossier.reference:
        raise services.NotAllowedError(_("Chỉ gửi xác nhận cho hồ sơ đã nộp, chưa được tiếp nhận."))
    if not dossier.applicant_phone:
        raise services.DossierError(_("Hồ sơ không có số điện thoại của công dân."))
    existing = dossier.side_effects.filter(kind=SMS_CONFIRMATION, payload__template="assisted_confirmation").first()
    if existing is not None:
        return existing
    text = _("Hồ sơ “%(procedure)s” đã được nộp hộ. Mã tham chiếu: %(reference)s. Tra cứu: %(url)s") % {
        "procedure": dossier.procedure.name,
        "reference": dossier.reference,
        "url": _tracking_url(dossier),
    }
    return services._side_effect(dossier, SMS_CONFIRMATION, template="assisted_confirmation", text=text)


def _tracking_url(dossier: Dossier) -> str:
    from django.conf import settings
    from django.urls import reverse

    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("dossiers:track_code", args=[dossier.reference])
