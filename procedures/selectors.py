from __future__ import annotations

from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from .constants import AgencyKind
from .models import Agency, Procedure


def procedure_list_public() -> QuerySet[Procedure]:
    return Procedure.objects.published().select_related("field").order_by("national_code")


def procedure_get_public(*, code: str) -> Procedure:
    """A published procedure with everything its public page shows, or 404."""
    queryset = (
        Procedure.objects.published()
        .select_related("field")
        .prefetch_related(
            "documents",
            "form_fields",
            "fees",
            "steps__agency",
            Prefetch("agencies", queryset=Agency.objects.filter(is_active=True).order_by("path")),
        )
    )
    return get_object_or_404(queryset, national_code=code)


def police_by_commune(*, commune_ids=None) -> dict[int, int]:
    """{commune id: id of its police unit}: the active police agency whose locality is the commune.

    With several (a reorganisation in progress), the one highest in the tree, then the oldest, so
    that the choice is the same for the services and the benchmark generator. `commune_ids` limits
    the query to those communes (a dossier's path); None reads the whole province (the generator).
    """
    units = Agency.objects.filter(kind=AgencyKind.POLICE, is_active=True, locality__isnull=False)
    if commune_ids is not None:
        units = units.filter(locality_id__in=list(commune_ids))
    found: dict[int, int] = {}
    for locality_id, pk in units.order_by("locality_id", "depth", "pk").values_list("locality_id", "pk"):
        found.setdefault(locality_id, pk)
    return found


def path_ids(path: str) -> list[int]:
    """The ids of a materialised path ("/1/5/12/"), the root first."""
    return [int(part) for part in path.strip("/").split("/") if part]


def commune_police_id(resolving_path: str, police: dict[int, int]) -> int | None:
    """The police unit of the commune that resolves a dossier: of the resolving agency itself, else of
    its nearest ancestor that has one (a unit under a commune resolving for it). Pure, so that
    dossiers.services and bench.generator route StepAgencyRule.COMMUNE_POLICE steps alike."""
    for pk in reversed(path_ids(resolving_path)):
        if pk in police:
            return police[pk]
    return None


def agencies_without_commune_police(agencies) -> list[Agency]:
    """The resolving agencies for which a StepAgencyRule.COMMUNE_POLICE step would find no police unit.

    The same rule as reception (`commune_police_id`), so that what publishing accepts, reception
    routes: a dossier of such an agency would otherwise be refused at the counter, after the citizen
    submitted it.
    """
    agencies = list(agencies)
    communes = {pk for agency in agencies for pk in path_ids(agency.path)}
    police = police_by_commune(commune_ids=communes)
    return [agency for agency in agencies if commune_police_id(agency.path, police) is None]


def procedure_offered(
    *, pk: int, agency_ids: set[int], fields: tuple[str, ...] = ("id", "national_code", "name")
) -> Procedure | None:
    """The procedure `pk`, with only `fields` loaded, if one of `agency_ids` offers it; else None.

    What Procedure.objects.filter(agencies__in=agency_ids).only(*fields).get(pk=pk) finds, in one
    lookup of the procedure-agency pair's unique index and written as SQL: a queue filter by
    procedure checks its value on every request, and compiling the ORM query was most of that check.
    `fields` are column names of Procedure, never input.
    """
    if not agency_ids:
        return None
    meta, through = Procedure._meta, Procedure.agencies.through._meta
    agencies = ", ".join(["%s"] * len(agency_ids))
    sql = (
        f"SELECT {', '.join(f'p.{name}' for name in fields)} FROM {meta.db_table} p "  # noqa: S608 - constants
        f"WHERE p.id = %s AND EXISTS (SELECT 1 FROM {through.db_table} a "
        f"WHERE a.procedure_id = p.id AND a.agency_id IN ({agencies}))"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk, *agency_ids])
        row = cursor.fetchone()
    return None if row is None else Procedure.from_db(connection.alias, list(fields), row)
