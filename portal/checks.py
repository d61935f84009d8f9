"""System checks for production settings that Django's own --deploy checks do not cover."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

UNSAFE_MAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}


@register("security")
def mail_backend_check(app_configs, **kwargs):
    """With DEBUG off, password-reset links must go to the person, never into a log or a file."""
    if settings.DEBUG or settings.EMAIL_BACKEND not in UNSAFE_MAIL_BACKENDS:
        return []
    return [
        Error(
            f"EMAIL_BACKEND is {settings.EMAIL_BACKEND} while DEBUG is off: password-reset links and "
            "notifications would be printed or dropped instead of sent.",
            hint="Set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST (see .env.example).",
            id="portal.E001",
        )
    ]
