"""Who holds an open dossier now, as rows of DossierHolding (see its docstring for their meaning).

`holdings_for` is pure: it computes the rows from a dossier and its steps in memory, reading plain
attributes only, so that the data migration (historical models), the benchmark generator and the
tests compute exactly what the services store. `holdings_sync` writes the difference to the
database; dossiers.services._save() calls it in the transaction of every change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from portal.accounts.constants import Role

from .constants import FINAL_STATES, DossierState, HoldingBucket

S = DossierState
B = HoldingBucket
RUNNING_STATES = frozenset({S.RECEIVED, S.IN_PROCESSING, S.AWAITING_APPROVAL})
# States without holders: nothing is left to do (FINAL_STATES) or nothing was submitted yet.
UNHELD_STATES = frozenset({S.DRAFT, *FINAL_STATES})


@dataclass(frozen=True)
class Holder:
    """One DossierHolding row, before it is stored."""

    agency_id: int
    role: str
    bucket: str
    state: str
    assignee_id: int | None = None
    step_id: int | None = None
    since: dt.datetime | None = None
    due_at: dt.datetime | None = None
    step_due_at: dt.datetime | None = None
    is_running: bool = False

    @property
    def key(self) -> tuple:
        """What identifies a holder across changes: its `since` is kept while the key stays."""
        return (self.agency_id, self.step_id, self.role, self.bucket)


def _open_steps(steps: Iterable) -> list:
    return sorted(
        (s for s in steps if s.started_at is not None and s.completed_at is None), key=lambda s: (s.order, s.pk)
    )


def holdings_for(dossier, steps: Iterable, *, at: dt.datetime | None = None) -> list[Holder]:
    """The holders of `dossier` given all its steps (DossierStep rows or objects with the same fields).

    `at` is the `since` of holders whose start the data does not record (the supplement request);
    holdings_sync keeps the stored `since` of a holder that did not change.
    """
    state = dossier.state
    if state in UNHELD_STATES:
        return []
    steps = list(steps)
    by_pk = {s.pk: s for s in steps}
    current = by_pk.get(dossier.current_step_id)
    running = state in RUNNING_STATES
    due = dossier.current_due_at
    fallback = at or getattr(dossier, "updated_at", None)
    rows: list[Holder] = []

    def add(agency_id, role, bucket, *, since, assignee_id=None, step=None) -> None:
        rows.append(
            Holder(
                agency_id=agency_id,
                role=role,
                bucket=bucket,
                state=state,
                assignee_id=assignee_id,
                step_id=step.pk if step is not None else None,
                since=since or fallback,
                due_at=due,
                step_due_at=step.due_at if step is not None else None,
                is_running=running,
            )
        )

    if state == S.SUBMITTED:
        add(dossier.agency_id, Role.RECEPTION, B.RECEPTION, since=dossier.submitted_at)
    elif state == S.AWAITING_PAYMENT:
        add(dossier.agency_id, Role.RECEPTION, B.PAYMENT, since=dossier.received_at)
    elif state == S.RECEIVED:
        add(dossier.agency_id, Role.SPECIALIST, B.UNASSIGNED, since=dossier.clock_started_at or dossier.received_at)
    elif state in (S.IN_PROCESSING, S.AWAITING_APPROVAL):
        for step in _open_steps(steps):
            lead = step.pk == dossier.current_step_id
            if state == S.AWAITING_APPROVAL and lead:
                # The leader approves; the specialist who proposed the result still counts it as "mine".
                add(
                    step.agency_id,
                    Role.LEADER,
                    B.APPROVAL,
                    since=step.started_at,
                    assignee_id=dossier.assignee_id,
                    step=step,
                )
                continue
            assignee_id = dossier.assignee_id if lead else step.assignee_id
            bucket = B.PROCESSING if assignee_id else B.UNASSIGNED
            add(step.agency_id, Role.SPECIALIST, bucket, since=step.started_at, assignee_id=assignee_id, step=step)
    elif state == S.RESULT_READY:
        for agency_id in dict.fromkeys(a for a in (dossier.receiving_agency_id, dossier.agency_id) if a):
            add(agency_id, Role.RECEPTION, B.RESULT, since=dossier.completed_at)
    elif state == S.SUPPLEMENT_REQUESTED:
        pass  # nobody acts: every holding agency watches (below)

    # Every other agency holding the dossier watches it: the resolving agency, the receiving unit,
    # the agency of the current step and of any open step (also while the applicant supplements).
    bucket = rows[0].bucket if rows else B.SUPPLEMENT if state == S.SUPPLEMENT_REQUESTED else B.PROCESSING
    since = rows[0].since if rows else None
    holding = {row.agency_id for row in rows}
    watchers = [dossier.agency_id, dossier.receiving_agency_id]
    if current is not None:
        watchers.append(current.agency_id)
    watchers += [s.agency_id for s in _open_steps(steps)]
    for agency_id in dict.fromkeys(a for a in watchers if a):
        if agency_id not in holding:
            holding.add(agency_id)
            add(agency_id, "", bucket, since=since)
    return rows


def _as_holder(row) -> Holder:
    return Holder(
        agency_id=row.agency_id,
        role=row.role,
        bucket=row.bucket,
        state=row.state,
        assignee_id=row.assignee_id,
        step_id=row.step_id,
        since=row.since,
        due_at=row.due_at,
        step_due_at=row.step_due_at,
        is_running=row.is_running,
    )


def holdings_sync(dossier, *, at: dt.datetime | None = None, holding_model=None, step_model=None) -> None:
    """Make the stored holders of `dossier` those holdings_for computes; call inside its transaction.

    Holders whose key (agency, step, role, bucket) is unchanged keep their row and their `since`;
    others are deleted and created. Costs one read of the steps and of the holders, and one write per
    changed kind of row. `holding_model`/`step_model` let the data migration pass historical models.
    """
    from django.utils import timezone

    from .models import DossierHolding, DossierStep

    holding_model = holding_model or DossierHolding
    step_model = step_model or DossierStep
    at = at or timezone.now()
    if dossier.state == S.DRAFT:
        return  # never held yet (no state leads back to draft): no query for the citizen's edits
    if dossier.state in UNHELD_STATES:
        holding_model.objects.filter(dossier_id=dossier.pk).delete()
        return
    wanted = holdings_for(dossier, step_model.objects.filter(dossier_id=dossier.pk), at=at)
    stored = {}
    for row in holding_model.objects.filter(dossier_id=dossier.pk):
        stored[_as_holder(row).key] = row
    if not wanted and not stored:
        return
    keep_ids, create, update = set(), [], []
    for holder in wanted:
        row = stored.get(holder.key)
        if row is None:
            create.append(holder)
            continue
        keep_ids.add(row.pk)
        fields = {
            "state": holder.state,
            "assignee_id": holder.assignee_id,
            "due_at": holder.due_at,
            "step_due_at": holder.step_due_at,
            "is_running": holder.is_running,
        }
        if any(getattr(row, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(row, name, value)
            update.append(row)
    stale = [row.pk for row in stored.values() if row.pk not in keep_ids]
    if stale:
        holding_model.objects.filter(pk__in=stale).delete()
    if update:
        holding_model.objects.bulk_update(update, ["state", "assignee_id", "due_at", "step_due_at", "is_running"])
    if create:
        holding_model.objects.bulk_create(
            [holding_model(dossier_id=dossier.pk, **holder.__dict__) for holder in create]
        )
