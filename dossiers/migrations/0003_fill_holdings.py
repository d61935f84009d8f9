"""Fill what 0002_holdings added for the dossiers that already exist, and index the name search.

- DossierHolding rows for every open dossier, computed by dossiers.holdings.holdings_for (pure: it
  reads plain attributes, so the historical models serve);
- Dossier.search_text (the applicant's name without diacritics);
- register numbers and counters: each received dossier's place in its receiving unit's year, in
  order of reception, as Form 01 printed it until now;
- on PostgreSQL, pg_trgm and a GIN trigram index on search_text (LIKE '%...%' through the index).

Reversible: going back deletes the holdings, counters and numbers and drops the index.
"""

from django.db import migrations

from dossiers.holdings import UNHELD_STATES, holdings_sync
from procedures.text import normalize_search

BATCH = 2000


def fill(apps, schema_editor):
    Dossier = apps.get_model("dossiers", "Dossier")
    DossierStep = apps.get_model("dossiers", "DossierStep")
    DossierHolding = apps.get_model("dossiers", "DossierHolding")
    Counter = apps.get_model("dossiers", "DossierRegisterCounter")
    alias = schema_editor.connection.alias

    names = Dossier.objects.using(alias).exclude(applicant_name="").only("pk", "applicant_name").iterator(BATCH)
    batch = []
    for dossier in names:
        dossier.search_text = normalize_search(dossier.applicant_name)[:255]
        batch.append(dossier)
        if len(batch) >= BATCH:
            Dossier.objects.using(alias).bulk_update(batch, ["search_text"])
            batch = []
    if batch:
        Dossier.objects.using(alias).bulk_update(batch, ["search_text"])

    open_dossiers = Dossier.objects.using(alias).exclude(state__in=list(UNHELD_STATES)).iterator(BATCH)
    for dossier in open_dossiers:
        holdings_sync(dossier, at=dossier.updated_at, holding_model=DossierHolding, step_model=DossierStep)

    last: dict[tuple[int, int], int] = {}
    batch = []
    from django.utils import timezone

    received = (
        Dossier.objects.using(alias)
        .filter(received_at__isnull=False)
        .order_by("received_at", "pk")
        .only("pk", "received_at", "receiving_agency_id", "agency_id")
    )
    for dossier in received.iterator(BATCH):
        key = (dossier.receiving_agency_id or dossier.agency_id, timezone.localtime(dossier.received_at).year)
        last[key] = last.get(key, 0) + 1
        dossier.register_number = last[key]
        batch.append(dossier)
        if len(batch) >= BATCH:
            Dossier.objects.using(alias).bulk_update(batch, ["register_number"])
            batch = []
    if batch:
        Dossier.objects.using(alias).bulk_update(batch, ["register_number"])
    Counter.objects.using(alias).bulk_create(
        [Counter(agency_id=agency_id, year=year, last=value) for (agency_id, year), value in last.items()]
    )


def unfill(apps, schema_editor):
    alias = schema_editor.connection.alias
    apps.get_model("dossiers", "DossierHolding").objects.using(alias).all().delete()
    apps.get_model("dossiers", "DossierRegisterCounter").objects.using(alias).all().delete()
    apps.get_model("dossiers", "Dossier").objects.using(alias).update(register_number=None, search_text="")


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: the same column, matched with a plain LIKE
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS dossier_search_trgm_idx ON dossiers_dossier USING gin (search_text gin_trgm_ops)"
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS dossier_search_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0002_holdings")]

    operations = [
        migrations.RunPython(create_trigram_index, drop_trigram_index),
        migrations.RunPython(fill, unfill),
    ]
