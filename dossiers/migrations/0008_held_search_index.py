"""The queue's name search reads a trigram index of the held dossiers only.

A queue lists only held dossiers (DossierHolding rows exist for the states below, about 6% of a
province's dossiers), yet the trigram index of 0003 covered every dossier ever submitted: at
1,000,000 dossiers a common name's trigram lists took most of a search request (bench/RESULTS.md).
The partial index holds the same column for the held states; dossiers.filters.dossier_search adds
the same state list to its name condition, so that PostgreSQL proves the index applies. Nothing else
searched the whole index, so it is dropped (one GIN index less to update on every dossier write).
SQLite: nothing (the same column, matched with a plain LIKE).
"""

from django.db import migrations

# dossiers.filters.HELD_STATES when this was written (a test compares them): every state but the
# draft and FINAL_STATES, sorted.
HELD_STATES = (
    "awaiting_approval",
    "awaiting_payment",
    "in_processing",
    "received",
    "result_ready",
    "submitted",
    "supplement_requested",
)
STATES_SQL = ", ".join(f"'{state}'" for state in HELD_STATES)


def create_held_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS dossier_held_search_trgm_idx ON dossiers_dossier "
        f"USING gin (search_text gin_trgm_ops) WHERE state IN ({STATES_SQL})"
    )
    schema_editor.execute("DROP INDEX IF EXISTS dossier_search_trgm_idx")


def restore_full_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS dossier_search_trgm_idx ON dossiers_dossier USING gin (search_text gin_trgm_ops)"
    )
    schema_editor.execute("DROP INDEX IF EXISTS dossier_held_search_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0007_holding_primary_alerts")]

    operations = [migrations.RunPython(create_held_index, restore_full_index)]
