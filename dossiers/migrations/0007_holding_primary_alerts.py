"""DossierHolding shaped for the province-wide readers: the primary row of each dossier, `apologised`.

The deadline alerts (notifications.selectors) read DossierHolding only: per-step alerts from the
step rows' `step_due_at` (holding_step_due_idx), whole-dossier alerts and the digest's counts from
the one primary row per dossier (holding_primary_due_idx; holding_one_primary keeps it one).

The existing rows are filled by dossiers.holdings.holdings_sync (exactly what the services store
from now on) before the indexes and the constraint are built. Reversible: the columns are dropped.
"""

from django.conf import settings
from django.db import migrations, models

from dossiers.holdings import UNHELD_STATES, holdings_sync

BATCH = 2000


def fill(apps, schema_editor):
    Dossier = apps.get_model("dossiers", "Dossier")
    DossierStep = apps.get_model("dossiers", "DossierStep")
    DossierHolding = apps.get_model("dossiers", "DossierHolding")
    alias = schema_editor.connection.alias
    open_dossiers = Dossier.objects.using(alias).exclude(state__in=list(UNHELD_STATES)).iterator(BATCH)
    for dossier in open_dossiers:
        holdings_sync(dossier, at=dossier.updated_at, holding_model=DossierHolding, step_model=DossierStep)


class Migration(migrations.Migration):

    dependencies = [
        ('dossiers', '0006_register_number_label'),
        ('procedures', '0006_merge_20261202_0755'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='dossierholding',
            name='apologised',
            field=models.BooleanField(default=False, verbose_name='đã xin lỗi, hẹn lại'),
        ),
        migrations.AddField(
            model_name='dossierholding',
            name='is_primary',
            field=models.BooleanField(default=False, verbose_name='dòng đại diện cho hồ sơ'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='dossierholding',
            index=models.Index(condition=models.Q(('is_primary', True)), fields=['is_running', 'due_at', 'dossier', 'agency', 'assignee', 'apologised'], name='holding_primary_due_idx'),
        ),
        migrations.AddIndex(
            model_name='dossierholding',
            index=models.Index(condition=models.Q(('is_running', True), ('step_due_at__isnull', False)), fields=['step_due_at', 'step', 'dossier', 'agency', 'role', 'assignee', 'bucket'], name='holding_step_due_idx'),
        ),
        migrations.AddConstraint(
            model_name='dossierholding',
            constraint=models.UniqueConstraint(condition=models.Q(('is_primary', True)), fields=('dossier',), name='holding_one_primary'),
        ),
    ]
