"""Personal data services: consent, the person's export, account erasure, view log and retention purge.

Each function is keyword-only and runs in one transaction; every change writes an audit row
(accounts.AccountEvent for accounts, privacy.DossierPurge for dossiers). Nothing here changes a
dossier's state: purges only strip personal fields and stored files, and save through
dossiers.services._save so that derived tables stay right.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from dossiers.constants import DossierState
from dossiers.models import Dossier
from portal.accounts.models import AccountEvent
from portal.accounts.services import account_event_record

from .constants import CONSENT_TEXT_VERSION, AccessChannel, ConsentContext, Purpose
from .models import Consent, DossierPurge, PersonalDataAccess

logger = logging.getLogger("privacy")

# Drafts never submitted are under no archive duty: their personal data goes after this long.
DRAFT_RETENTION_DAYS = 180
PURGE_BATCH = 500


class PrivacyError(Exception):
    """A refused personal-data request; the message is for the person."""


# --- consent ------------------------------------------------------------------------------------


# No savepoint when nested: the rows are one INSERT, and every caller lets a failure roll back the
# whole transaction it records the consent in (the submission), so a savepoint only cost two round trips.
@transaction.atomic(savepoint=False)
def consent_record(
    *, user, context: str, choices: dict[str, bool], dossier: Dossier | None = None, text_version: str = ""
) -> list[Consent]:
    """One Consent row per purpose answered (given or refused), with the text version and the time."""
    rows = [
        Consent(
            user=user,
            dossier=dossier,
            purpose=Purpose(purpose),
            granted=bool(granted),
            context=ConsentContext(context),
            text_version=text_version or CONSENT_TEXT_VERSION,
        )
        for purpose, granted in choices.items()
    ]
    Consent.objects.bulk_create(rows)
    return rows


def consent_current(*, user) -> dict[str, bool]:
    """The latest answer per purpose (a purpose never answered counts as refused: silence is not consent)."""
    answers = dict.fromkeys(Purpose.values, False)
    for row in Consent.objects.filter(user=user).order_by("created_at", "pk"):
        answers[row.purpose] = row.granted
    return answers


# --- who saw what -------------------------------------------------------------------------------


def personal_data_access_record(*, dossier: Dossier, viewer, channel: str) -> None:
    """Log that `viewer` (not the applicant) opened the dossier's personal data."""
    if dossier.owner_id == viewer.pk:
        return
    PersonalDataAccess.objects.create(dossier=dossier, viewer=viewer, channel=AccessChannel(channel))


# --- export -------------------------------------------------------------------------------------


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat()
    return value.isoformat()


def _dossier_data(dossier: Dossier, user) -> dict:
    return {
        "code": dossier.code,
        "public_id": str(dossier.public_id),
        "procedure": dossier.procedure.name,
        "agency": dossier.agency.name,
        "state": dossier.state,
        "state_label": str(dossier.get_state_display()),
        "created_at": _iso(dossier.created_at),
        "submitted_at": _iso(dossier.submitted_at),
        "received_at": _iso(dossier.received_at),
        "due_at": _iso(dossier.current_due_at),
        "closed_at": _iso(dossier.closed_at),
        "channel_in": dossier.channel_in,
        "channel_out": dossier.channel_out,
        "applicant": {
            "name": dossier.applicant_name,
            "id_number": dossier.applicant_id_number,
            "phone": dossier.applicant_phone,
            "email": dossier.applicant_email,
            "address": dossier.applicant_address,
        },
        "postal_address": dossier.postal_address,
        "answers": dossier.answers,
        "fees": [{"name": fee.name, "amount": fee.amount} for fee in dossier.fees.all()],
        "fee_paid_at": _iso(dossier.fee_paid_at),
        "files": [
            {
                "name": f.original_name,
                "kind": f.kind,
                "document": f.requirement_name,
                "content_type": f.content_type,
                "size": f.size,
                "sha256": f.sha256,
                "uploaded_at": _iso(f.created_at),
            }
            for f in dossier.files.all()
        ],
        # What happened to the dossier and when; officers are other people, so only "by you" or not.
        "history": [
            {
                "at": _iso(e.created_at),
                "action": e.action,
                "action_label": str(e.get_action_display()),
                "from_state": e.from_state,
                "to_state": e.to_state,
                "by_you": e.actor_id == user.pk,
                "note": e.note,
            }
            for e in dossier.events.order_by("created_at", "pk")
        ],
        "rating": (
            {"scores": dossier.rating.scores, "comment": dossier.rating.comment} if hasattr(dossier, "rating") else None
        ),
    }


def personal_data_export(*, user) -> dict:
    """Everything the portal holds on this person, and nothing on anyone else (Decree 13/2023 Art 14)."""
    dossiers = (
        Dossier.objects.filter(owner=user)
        .select_related("procedure", "agency", "rating")
        .prefetch_related("fees", "files", "events")
        .order_by("created_at", "pk")
    )
    return {
        "exported_at": _iso(timezone.now()),
        "portal": settings.PORTAL_PROVINCE_NAME,
        "account": {
            "username": user.username,
            "full_name": user.full_name,
            "cccd": user.cccd,
            "phone": user.phone,
            "email": user.email,
            "date_of_birth": _iso(user.date_of_birth),
            "gender": user.gender,
            "address": user.address,
            "identity_level": user.identity_level,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        },
        "consents": [
            {
                "purpose": c.purpose,
                "purpose_label": str(c.get_purpose_display()),
                "granted": c.granted,
                "context": c.context,
                "text_version": c.text_version,
                "dossier": c.dossier.code if c.dossier_id and c.dossier.code else None,
                "at": _iso(c.created_at),
            }
            for c in user.consents.select_related("dossier").order_by("created_at", "pk")
        ],
        "dossiers": [_dossier_data(d, user) for d in dossiers],
        "account_events": [
            {"action": e.action, "action_label": str(e.get_action_display()), "at": _iso(e.created_at)}
            for e in AccountEvent.objects.filter(subject_public_id=user.public_id).order_by("created_at", "pk")
        ],
    }


def personal_data_export_record(*, user, fmt: str) -> dict:
    """The export, with an audit row saying the person downloaded it."""
    data = personal_data_export(user=user)
    account_event_record(subject=user, actor=user, action=AccountEvent.Action.DATA_EXPORTED, data={"format": fmt})
    logger.info("privacy.export public_id=%s format=%s", user.public_id, fmt)
    return data


def personal_data_export_pdf(*, data: dict) -> bytes:
    """The export as a readable PDF (WeasyPrint, through the forms' restricted renderer)."""
    from dossiers.pdf import _html_to_pdf

    return _html_to_pdf(render_to_string("privacy/export_pdf.html", {"data": data}))


# --- erasure ------------------------------------------------------------------------------------


def _strip_dossier(dossier: Dossier, *, retention_years: int) -> DossierPurge:
    """Remove a dossier's personal data and stored files; keep the register facts (code, dates, state)."""
    from dossiers.services import _save

    removed = 0
    for stored in dossier.files.all():
        if stored.file:
            stored.file.delete(save=False)
            removed += 1
    dossier.files.update(original_name="", file="", is_current=False)
    dossier.applicant_name = ""
    dossier.applicant_id_number = ""
    dossier.applicant_phone = ""
    dossier.applicant_email = ""
    dossier.applicant_address = ""
    dossier.postal_address = ""
    dossier.answers = {}
    dossier.summary = ""
    _save(dossier)
    return DossierPurge.objects.create(dossier=dossier, retention_years=retention_years, files_removed=removed)


@transaction.atomic
def account_erase(*, user, actor=None) -> dict:
    """Erase what the law lets go of a citizen's account, at their request (Decree 13/2023 Art 16).

    Kept: dossiers that were submitted (the agency's legal duty and the archive law need them for
    their retention period; they hold their own copy of the applicant's data) and the consent and
    audit rows (evidence). Erased: the account's identity and contact data (the account is
    deactivated and can no longer log in) and drafts never submitted. Staff accounts are refused:
    their work is part of the record. Writes an ACCOUNT_ERASED audit row.
    """
    from portal.accounts.models import User

    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_staff or user.is_superuser or user.memberships.exists():
        raise PrivacyError(_("Tài khoản cán bộ không xóa được theo yêu cầu này; vui lòng liên hệ quản trị hệ thống."))
    if not user.is_active:
        raise PrivacyError(_("Tài khoản này đã được xóa dữ liệu."))
    drafts = Dossier.objects.select_for_update(of=("self",)).filter(
        owner=user, state=DossierState.DRAFT, purge__isnull=True
    )
    erased = 0
    for draft in drafts:
        _strip_dossier(draft, retention_years=0)
        erased += 1
    retained = Dossier.objects.filter(owner=user).exclude(state=DossierState.DRAFT).count()
    account_event_record(
        subject=user,
        actor=actor or user,
        action=AccountEvent.Action.ACCOUNT_ERASED,
        data={"drafts_erased": erased, "dossiers_retained": retained},
    )
    user.username = f"deleted-{user.public_id}"
    user.full_name = ""
    user.first_name = user.last_name = ""
    user.cccd = None
    user.phone = None
    user.email = ""
    user.date_of_birth = None
    user.gender = ""
    user.address = ""
    user.identity_level = 0
    user.is_active = False
    user.set_unusable_password()
    user.save()
    logger.info("privacy.account_erased public_id=%s drafts=%s retained=%s", user.public_id, erased, retained)
    return {"drafts_erased": erased, "dossiers_retained": retained}


# --- retention purge ------------------------------------------------------------------------------


def dossiers_purge_expired(*, now: dt.datetime | None = None, batch: int = PURGE_BATCH) -> int:
    """Strip the personal data of dossiers past their procedure's retention period; return how many.

    A dossier goes when it closed more than `procedure.retention_years` years ago (0 = permanent:
    never), or when it is a draft untouched for DRAFT_RETENTION_DAYS. Already purged dossiers are
    skipped, so the task can run again at any time; each dossier is its own transaction.
    """
    now = now or timezone.now()
    # Years as 365.25 days: a day more or less does not matter against a retention of years.
    expired = (
        Dossier.objects.filter(purge__isnull=True, closed_at__isnull=False, procedure__retention_years__gt=0)
        .alias(
            keep_until=ExpressionWrapper(
                F("closed_at") + F("procedure__retention_years") * dt.timedelta(days=365.25),
                output_field=DateTimeField(),
            )
        )
        .filter(keep_until__lt=now)
    )
    stale_drafts = Dossier.objects.filter(
        purge__isnull=True, state=DossierState.DRAFT, updated_at__lt=now - dt.timedelta(days=DRAFT_RETENTION_DAYS)
    )
    ids = list(expired.order_by("pk").values_list("pk", flat=True)[:batch])
    ids += list(stale_drafts.order_by("pk").values_list("pk", flat=True)[: max(batch - len(ids), 0)])
    done = 0
    for pk in ids:
        with transaction.atomic():
            dossier = (
                Dossier.objects.select_for_update(of=("self",))
                .select_related("procedure")
                .filter(pk=pk, purge__isnull=True)
                .first()
            )
            if dossier is None:
                continue
            years = 0 if dossier.state == DossierState.DRAFT else dossier.procedure.retention_years
            _strip_dossier(dossier, retention_years=years)
            done += 1
    if done:
        logger.info("privacy.purge dossiers=%s", done)
    return done
