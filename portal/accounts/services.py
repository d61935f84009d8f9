"""Account administration: the audited changes an administrator makes to other people's accounts.

Every change an administrator makes to an account, a membership or a password goes through here and
writes an append-only AccountEvent in the same transaction. An administrator never learns or sets
another person's password: they send the person a single-use reset link to the person's own e-mail.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from .models import AccountEvent, Membership, User

logger = logging.getLogger("portal.accounts")


class AccountAdminError(Exception):
    """An account change the administrator may not make, with a message for them."""


def account_event_record(*, actor: User | None, subject: User, action: str, data: dict[str, Any] | None = None):
    """Append one AccountEvent. Callers run it in the transaction of the change it records."""
    return AccountEvent.objects.create(
        action=action,
        actor_public_id=actor.public_id if actor is not None else None,
        actor_name=(actor.get_full_name() if actor is not None else "")[:255],
        subject_public_id=subject.public_id,
        subject_username=subject.get_username()[:150],
        data=data or {},
    )


def membership_data(membership: Membership) -> dict[str, Any]:
    return {"agency_id": membership.agency_id, "agency": str(membership.agency), "role": membership.role}


@transaction.atomic
def account_password_reset_send(*, actor: User, subject: User, domain: str, use_https: bool) -> None:
    """E-mail `subject` a single-use link to choose a new password, and audit that it was sent.

    The link goes to the address on the account, so only its owner can use it; the administrator's
    action changes nothing until the owner does. Raises AccountAdminError when the account has no
    e-mail address.
    """
    if not subject.email:
        raise AccountAdminError(
            _("Tài khoản %(username)s chưa có email để nhận liên kết đặt lại mật khẩu.")
            % {"username": subject.get_username()}
        )
    context = {
        "email": subject.email,
        "domain": domain,
        "site_name": domain,
        "uid": urlsafe_base64_encode(force_bytes(subject.pk)),
        "user": subject,
        "token": default_token_generator.make_token(subject),
        "protocol": "https" if use_https else "http",
        "province_name": settings.PORTAL_PROVINCE_NAME,
    }
    account_event_record(actor=actor, subject=subject, action=AccountEvent.Action.PASSWORD_RESET_SENT)
    # Sent after commit: a rolled-back audit row must not leave a link in someone's mailbox.
    transaction.on_commit(
        lambda: PasswordResetForm().send_mail(
            "registration/password_reset_subject.txt",
            "registration/password_reset_email.html",
            context,
            None,
            subject.email,
        )
    )
    logger.info("accounts.password_reset_sent actor=%s subject=%s", actor.public_id, subject.public_id)
