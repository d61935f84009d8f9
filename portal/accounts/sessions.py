"""The session engine (SESSION_ENGINE): Django's database sessions, read with their user in one statement.

The session row carries its user's id (accounts.Session.user), written with the data on every save.
Loading a session reads the row, its user, the user's confirmed second-factor devices and its
memberships (portal.accounts.memberships) in one statement (the same columns as
portal.accounts.otp.session_user_get). Authentication then takes that user instead of querying again
(SessionUserAuthenticationMiddleware and IdentifierBackend.get_user), with every check of
django.contrib.auth.get_user unchanged: the backend named in the session, the session hash, an inactive
account refused. The user is read in the same statement as the session row, so it is never older than
the session it belongs to.
"""

from __future__ import annotations

import contextvars
import functools

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone

from .memberships import keep_read_memberships, memberships_column_sql
from .otp import STATIC_DEVICE_ATTRIBUTE, TOTP_DEVICE_ATTRIBUTE, session_device_columns_sql

# The session store whose user authentication may take, while django.contrib.auth.get_user runs.
authenticating_session: contextvars.ContextVar = contextvars.ContextVar("authenticating_session", default=None)


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
        """The session's data, its user kept in loaded_user; one statement, on a plain cursor.

        A cursor rather than a RawQuerySet: mapping the columns to the model on every request cost
        more than the query. The same column converters as the ORM's are applied.
        """
        from .models import User

        using = router.db_for_read(self.model)
        connection = connections[using]
        sql, attnames, converters = _session_query(using)
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        session_data, totp_device_id, static_device_id, memberships, *values = row
        if values[0] is not None:  # the primary key: the session has a user
            for index, column, functions in converters:
                for function in functions:
                    values[index] = function(values[index], column, connection)
            user = User.from_db(using, attnames, values)
            setattr(user, TOTP_DEVICE_ATTRIBUTE, totp_device_id)
            setattr(user, STATIC_DEVICE_ATTRIBUTE, static_device_id)
            keep_read_memberships(user, memberships)
            self.loaded_user = user
        return self.decode(session_data)


@functools.cache
def _session_query(using: str) -> tuple[str, list[str], list[tuple]]:
    """The statement, the user's attribute names in its column order, and their converters."""
    from .models import Session, User

    connection = connections[using]
    quote = connection.ops.quote_name
    fields = [User._meta.pk, *(f for f in User._meta.concrete_fields if not f.primary_key)]
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(User._meta.db_table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            converters.append((index, column, functions))
    user_columns = ", ".join(f"u.{quote(f.column)}" for f in fields)
    sql = (
        f"SELECT s.{quote('session_data')}, {session_device_columns_sql()}, "  # noqa: S608 - names from the models
        f"{memberships_column_sql(using)}, {user_columns} "
        f"FROM {quote(Session._meta.db_table)} s "
        f"LEFT JOIN {quote(User._meta.db_table)} u ON u.{quote(User._meta.pk.column)} = s.{quote('user_id')} "
        f"WHERE s.{quote('session_key')} = %s AND s.{quote('expire_date')} > %s"
    )
    return sql, [f.attname for f in fields], converters


def session_loaded_user(user_id):
    """The user read with the session being authenticated, if it is the one with this id; else None."""
    store = authenticating_session.get()
    user = getattr(store, "loaded_user", None)
    return user if user is not None and user.pk == user_id else None
