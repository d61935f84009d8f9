"""The session engine (SESSION_ENGINE): Django's database sessions, read with their user in one statement.

The session row carries its user's id (accounts.Session.user), written with the data on every save.
Loading a session reads the row, its user and the user's confirmed second-factor devices in one
statement (the same columns as portal.accounts.otp.session_user_get). Authentication then takes that
user instead of querying again (SessionUserAuthenticationMiddleware and IdentifierBackend.get_user),
with every check of django.contrib.auth.get_user unchanged: the backend named in the session, the
session hash, an inactive account refused. The user is read in the same statement as the session
row, so it is never older than the session it belongs to.
"""

from __future__ import annotations

import contextvars
import functools

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone

from .otp import session_user_columns_sql

# The session store whose user authentication may take, while django.contrib.auth.get_user runs.
authenticating_session: contextvars.ContextVar = contextvars.ContextVar("authenticating_session", default=None)
SESSION_DATA_ATTRIBUTE = "loaded_session_data"


def _user_id(data: dict) -> int | None:
    try:
        return int(data[SESSION_KEY])
    except (KeyError, TypeError, ValueError):
        return None


class SessionStore(DatabaseSessionStore):
    # The user read with the session by load(), or None (no user, or not loaded by load()).
    loaded_user = None

    @classmethod
    def get_model_class(cls):
        from .models import Session

        return Session

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        session.user_id = _user_id(data)
        return session

    def load(self):
        from .models import User

        using = router.db_for_read(self.model, instance=None)
        now = connections[using].ops.adapt_datetimefield_value(timezone.now())
        rows = User._default_manager.db_manager(using).raw(_session_sql(using), [self.session_key, now])
        row = next(iter(rows), None)
        if row is None:
            self._session_key = None
            return {}
        self.loaded_user = row if row.pk is not None else None
        return self.decode(getattr(row, SESSION_DATA_ATTRIBUTE))


@functools.cache
def _session_sql(using: str) -> str:
    from .models import Session, User

    quote = connections[using].ops.quote_name
    session, user = quote(Session._meta.db_table), quote(User._meta.db_table)
    return (
        f"SELECT {session_user_columns_sql()}, s.{quote('session_data')} AS {SESSION_DATA_ATTRIBUTE} "  # noqa: S608 - names from the models
        f"FROM {session} s LEFT JOIN {user} u ON u.{quote(User._meta.pk.column)} = s.{quote('user_id')} "
        f"WHERE s.{quote('session_key')} = %s AND s.{quote('expire_date')} > %s"
    )


def session_loaded_user(user_id):
    """The user read with the session being authenticated, if it is the one with this id; else None."""
    store = authenticating_session.get()
    user = getattr(store, "loaded_user", None)
    return user if user is not None and user.pk == user_id else None
