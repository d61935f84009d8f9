"""Loads the default texts (notifications/defaults.py) as e-mail templates administrators can edit.

Only rows that do not exist are created: an administrator's edits are never overwritten.
"""

from django.db import migrations


def load(apps, schema_editor):
    from notifications.defaults import DEFAULTS

    Template = apps.get_model("notifications", "NotificationTemplate")
    for event, languages in DEFAULTS.items():
        for language, (subject, body) in languages.items():
            Template.objects.get_or_create(
                event=event, channel="email", language=language, defaults={"subject": subject, "body": body}
            )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
