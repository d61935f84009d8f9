"""The database cache table (settings.CACHES without REDIS_URL), made with the schema.

`createcachetable` is idempotent and does nothing for a Redis cache, so this is safe everywhere.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
