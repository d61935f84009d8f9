"""DossierHolding shaped for the province-wide readers: the primary row of each dossier, `apologised`.

The deadline alerts (notifications.selectors) read DossierHolding only: per-step alerts from the
step rows' `step_due_at` (holding_step_due_idx), whole-dossier alerts and the digest's counts from
the one primary row per dossier (holding_primary_due_idx; holding_one_primary keeps it one).

The existing rows get the values dossiers.holdings.holdings_for computes (what the services store
from now on), in batches (about 1.3 ms per open dossier: a minute or two for a province of a
million dossiers), before the indexes and the constraint are built. Reversible: the columns go.
"""

from collections import defaultdict

from django.conf import settings
from django.db import migrations, models

from dossiers.holdings import UNHELD_STATES, holdings_for, holdings_sync

BATCH = 2000
# What holdings_for reads: the rest (answers, snapshot) is left in the database.
DOSSIER_FIELDS = (
    "id", "state", "agency_id", "receiving_agency_id", "current_step_id", "assignee_id", "current_due_at",
    "apologised", "submitted_at", "received_at", "clock_started_at", "completed_at", "updated_at",
)
STEP_FIELDS = ("id", "dossier_id", "order", "agency_id", "assignee_id", "started_at", "completed_at", "due_at")


def fill(apps, schema_editor):
    """Set is_primary and apologised on the stored rows, as holdings_for computes them, in batches.

    Three reads and one bulk update per batch of dossiers. A dossier whose stored rows are not the
    ones holdings_for computes (none should be) is rewritten by holdings_sync, as the services would.
    """
    Dossier = apps.get_model("dossiers", "Dossier")
    DossierStep = apps.get_model("dossiers", "DossierStep")
    DossierHolding = apps.get_model("dossiers", "DossierHolding")
    db = schema_editor.connection.alias
    ids = list(
        Dossier.objects.using(db).exclude(state__in=list(UNHELD_STATES)).order_by("pk").values_list("pk", flat=True)
    )
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        steps = defaultdict(list)
        for step in DossierStep.objects.using(db).filter(dossier_id__in=chunk).only(*STEP_FIELDS):
            steps[step.dossier_id].append(step)
        stored = defaultdict(dict)
        for row in DossierHolding.objects.using(db).filter(dossier_id__in=chunk):
            stored[row.dossier_id][(row.agency_id, row.step_id, row.role, row.bucket)] = row
        changed = []
        for dossier in Dossier.objects.using(db).filter(pk__in=chunk).only(*DOSSIER_FIELDS):
            wanted = holdings_for(dossier, steps[dossier.pk], at=dossier.updated_at)
            rows = stored[dossier.pk]
            if {holder.key for holder in wanted} != set(rows):
                holdings_sync(dossier, at=dossier.updated_at, holding_model=DossierHolding, step_model=DossierStep)
                continue
            for holder in wanted:
                row = rows[holder.key]
                if (row.is_primary, row.apologised) != (holder.is_primary, holder.apologised):
                    row.is_primary, row.apologised = holder.is_primary, holder.apologised
                    changed.append(row)
        DossierHolding.objects.using(db).bulk_update(changed, ["is_primary", "apologised"], batch_size=500)


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
