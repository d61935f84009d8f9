from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db.models import Q


def find_user_by_identifier(identifier: str):
    """The account a person means by their CCCD, phone number, e-mail or username; None if none."""
    value = (identifier or "").strip()
    if not value:
        return None
    User = get_user_model()
    query = Q(username=value) | Q(cccd=value) | Q(phone=value)
    if "@" in value:
        query |= Q(email=value.lower())
    matches = list(User.objects.filter(query)[:2])
    return matches[0] if len(matches) == 1 else None


class IdentifierBackend(ModelBackend):
    """Log in with a CCCD number, a phone number or an e-mail address and a password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = find_user_by_identifier(username)
        if user is None:
            # Spend the same time as a real check so that timing does not reveal unknown accounts.
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        """The session's user, read with the ids of its confirmed second-factor devices.

        ModelBackend.get_user plus, in the same query, what the second-factor middleware checks
        (portal.accounts.otp.session_user_get), so that it needs no query of its own (issue 6).
        During a request the session engine has usually read it with the session row already.
        """
        from .otp import session_user_get
        from .sessions import session_loaded_user

        try:
            user_id = get_user_model()._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        # Already read with the session being authenticated (portal.accounts.sessions): no query.
        user = session_loaded_user(user_id) or session_user_get(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
