"""The agencies a person works in, per role, read in one statement (issue 6).

Each membership gives its role over its agency and every unit below it (the agencies' materialised
paths). The statement is written once per process: compiling it through the ORM on every request cost
more than running it. The session engine reads the same subquery with the session row and its user
(portal.accounts.sessions), so that a signed-in request knows its memberships without a query of
its own; dossiers.selectors.remember_memberships reads it alone for a user from elsewhere.
"""

from __future__ import annotations

import functools

from django.db import connections

# On a User: role -> frozenset of agency ids (the memberships of this request).
MEMBERSHIPS_ATTRIBUTE = "_officer_memberships"
# On a User read with its memberships in the same statement (this request's session load).
READ_WITH_USER_ATTRIBUTE = "_memberships_read_with_user"
# The column of the session statement that holds them.
MEMBERSHIPS_COLUMN = "session_memberships"


def _select(using: str, user_reference: str) -> str:
    """SELECT the memberships of the user `user_reference` as "role:agency_id" pairs joined by commas."""
    from procedures.models import Agency

    from .models import Membership

    connection = connections[using]
    quote = connection.ops.quote_name
    path, agency_pk = quote(Agency._meta.get_field("path").column), quote(Agency._meta.pk.column)
    pairs = f"m.{quote(Membership._meta.get_field('role').column)} || ':' || CAST(a.{agency_pk} AS TEXT)"
    # The two databases the portal runs on (elsewhere `||` or the aggregate's length limit differ).
    aggregates = {"postgresql": "string_agg({}, ',')", "sqlite": "group_concat({}, ',')"}
    if connection.vendor not in aggregates:
        raise NotImplementedError(f"memberships are read on PostgreSQL or SQLite, not {connection.vendor}")
    aggregate = aggregates[connection.vendor].format(pairs)
    agencies = quote(Agency._meta.db_table)
    # substr rather than LIKE: a path is never a pattern. On PostgreSQL the same prefix also as a range
    # of the path's varchar_pattern_ops index (paths hold digits and "/", all below "~"): an index range
    # per membership instead of a scan of every agency of the province.
    below = f"substr(a.{path}, 1, length(t.{path})) = t.{path}"
    if connection.vendor == "postgresql":
        below = f"a.{path} ~>=~ t.{path} AND a.{path} ~<~ (t.{path} || '~') AND {below}"
    return (
        f"SELECT {aggregate} FROM {quote(Membership._meta.db_table)} m "  # noqa: S608 - names from the models
        f"JOIN {agencies} t ON t.{agency_pk} = m.{quote(Membership._meta.get_field('agency').column)} "
        f"JOIN {agencies} a ON {below} "
        f"WHERE m.{quote(Membership._meta.get_field('user').column)} = {user_reference}"
    )


@functools.cache
def memberships_column_sql(using: str, user_alias: str = "u") -> str:
    """The subquery column of the memberships of the user row `user_alias` (session statements)."""
    from .models import User

    quote = connections[using].ops.quote_name
    return f"({_select(using, f'{user_alias}.{quote(User._meta.pk.column)}')}) AS {MEMBERSHIPS_COLUMN}"


@functools.cache
def _memberships_sql(using: str) -> str:
    return _select(using, "%s")


def parse_memberships(text: str | None) -> dict[str, frozenset[int]]:
    """The "role:agency_id,..." pairs as role -> agency ids (no membership: an empty dict)."""
    by_role: dict[str, set[int]] = {}
    for pair in (text or "").split(","):
        if pair:
            role, _separator, pk = pair.rpartition(":")
            by_role.setdefault(role, set()).add(int(pk))
    return {role: frozenset(ids) for role, ids in by_role.items()}


def read_memberships(user_id: int, using: str = "default") -> dict[str, frozenset[int]]:
    """The user's agencies per role: one statement."""
    with connections[using].cursor() as cursor:
        cursor.execute(_memberships_sql(using), [user_id])
        row = cursor.fetchone()
    return parse_memberships(row[0] if row else None)


def keep_read_memberships(user, text: str | None) -> None:
    """Keep on `user` the memberships read with it (the column above), for the rest of its request."""
    user.__dict__[MEMBERSHIPS_ATTRIBUTE] = parse_memberships(text)
    user.__dict__[READ_WITH_USER_ATTRIBUTE] = True
