"""Who holds an open dossier now, as rows of DossierHolding (see its docstring for their meaning).

`holdings_for` is pure: it computes the rows from a dossier and its steps in memory, reading plain
attributes only, so that the data migration (historical models), the benchmark generator and the
tests compute exactly what the services store. `holdings_sync` writes the difference to the
database; dossiers.services._save() calls it in the transaction of every change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from portal.accounts.constants import Role

from .constants import FINAL_STATES, DossierState, HoldingBucket

S = DossierState
B = HoldingBucket
RUNNING_STATES = frozenset({S.RECEIVED, S.IN_PROCESSING, S.AWAITING_APPROVAL})
# States without holders: nothing is left to do (FINAL_STATES) or nothing was submitted yet.
UNHELD_STATES = frozenset({S.DRAFT, *FINAL_STATES})
# What a stored row mirrors from the dossier and its steps: updated in place while the key stays.
MIRRORED = ("state", "assignee_id", "due_at", "step_due_at", "is_running", "is_primary", "apologised")


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
    is_primary: bool = False
    apologised: bool = False

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
                apologised=bool(dossier.apologised),
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
    return _mark_primary(rows, dossier)


def _mark_primary(rows: list[Holder], dossier) -> list[Holder]:
    """Flag the one row that stands for the whole dossier (DossierHolding.is_primary).

    The resolving agency's row: the current step's row when that step is there (it carries the
    dossier's assignee), else its first row. Every held dossier has one (the resolving agency always
    holds it), so province-wide readers take one row per dossier without DISTINCT.
    """
    if not rows:
        return rows
    own = [i for i, row in enumerate(rows) if row.agency_id == dossier.agency_id]
    current = [i for i in own if rows[i].step_id is not None and rows[i].step_id == dossier.current_step_id]
    index = (current or own or [0])[0]
    rows[index] = replace(rows[index], is_primary=True)
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
        is_primary=getattr(row, "is_primary", False),
        apologised=getattr(row, "apologised", False),
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
    # A historical model (the data migrations) may predate some columns: write those it has.
    columns = {f.attname for f in holding_model._meta.concrete_fields}
    mirrored = [name for name in MIRRORED if name in columns]
    keep_ids, create, first, then = set(), [], [], []
    for holder in wanted:
        row = stored.get(holder.key)
        if row is None:
            create.append(holder)
            continue
        keep_ids.add(row.pk)
        values = {name: getattr(holder, name) for name in mirrored}
        if any(getattr(row, name) != value for name, value in values.items()):
            # The row giving up is_primary is written before the one taking it, so the dossier never
            # has two primary rows, even within one statement (holding_one_primary checks each row).
            (first if getattr(row, "is_primary", False) and not holder.is_primary else then).append(row)
            for name, value in values.items():
                setattr(row, name, value)
    stale = [row.pk for row in stored.values() if row.pk not in keep_ids]
    if stale:
        holding_model.objects.filter(pk__in=stale).delete()
    for update in (first, then):
        if update:
            holding_model.objects.bulk_update(update, mirrored)
    if create:
        holding_model.objects.bulk_create(
            [
                holding_model(dossier_id=dossier.pk, **{k: v for k, v in holder.__dict__.items() if k in columns})
                for holder in create
            ]
        )
