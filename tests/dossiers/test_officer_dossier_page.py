"""The officer's dossier page with its lists read in one statement (issue 6) reads exactly as before.

The reference is the template and the context the page used before (the files, events, appointments,
fees and steps each read through the ORM as model instances, links reversed in the template), kept
here verbatim: tests/dossiers/officer_dossier_before.html and `context_before` below. For every
state and role, in both languages, the page must be the same bytes but for the CSRF tokens.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dossiers import services
from dossiers.constants import Action, FileKind, FormNumber, FormState
from dossiers.forms import display_answer
from dossiers.selectors import dossier_get_for_officer, dossier_timeline
from dossiers.views import officer
from portal.accounts.constants import Role
from procedures.calendar import Timing
from tests.dossiers import builders

pytestmark = pytest.mark.django_db

BEFORE = (Path(__file__).parent / "officer_dossier_before.html").read_text(encoding="utf-8")


def context_before(request, dossier, *, failed=None) -> dict:
    """dossiers.views.officer._dossier_context before issue 6, verbatim."""
    roles = officer.OfficerRoles(request.user)
    now = timezone.now()
    actions = []
    for spec in officer.ACTIONS.values():
        if not spec.offered(dossier, roles):
            continue
        form = failed[1] if failed and failed[0] == spec.name else officer._action_form(spec, dossier, request.user)
        actions.append({"spec": spec, "form": form})

    snapshot = dossier.snapshot
    answers = [
        {"label": spec.get("label", spec["code"]), "value": display_answer(spec, dossier.answers.get(spec["code"], ""))}
        for spec in sorted(snapshot.get("form_fields", []), key=lambda f: int(f.get("order") or 0))
    ]
    files = list(dossier.files.select_related("uploaded_by").order_by("created_at", "id"))
    documents = []
    for document in services.snapshot_documents(snapshot):
        documents.append(
            {
                "name": document.get("name", ""),
                "mandatory": document.get("is_mandatory"),
                "files": [
                    f
                    for f in files
                    if f.requirement_id == document["id"] and f.kind in (FileKind.SUBMITTED, FileKind.SUPPLEMENT)
                ],
            }
        )
    known = {document["id"] for document in services.snapshot_documents(snapshot)}
    other_files = [
        f
        for f in files
        if f.kind in (FileKind.SUBMITTED, FileKind.SUPPLEMENT, FileKind.ATTACHMENT) and f.requirement_id not in known
    ]
    action_labels = {value: str(label) for value, label in Action.choices}
    events = [
        {
            "event": event,
            "action_label": action_labels.get(event.action, event.action),
            "from_state": officer._state_label(event.from_state) if event.from_state else "",
            "to_state": officer._state_label(event.to_state) if event.to_state else "",
            "details": officer._event_details(event),
            "attachments": list(event.attachments.all()),
        }
        for event in dossier.events.prefetch_related("attachments").order_by("created_at", "id")
    ]
    forms_issued = [f for f in files if f.kind == FileKind.FORM]
    by_id = {f.pk: f for f in files}
    appointments = list(dossier.appointments.all())
    for appointment in appointments:
        if appointment.form_id in by_id:
            appointment.form = by_id[appointment.form_id]
    receipt_status = services.dossier_receipt_status(dossier=dossier, files=forms_issued)
    return {
        "dossier": dossier,
        "procedure_name": snapshot.get("name", dossier.procedure.name),
        "badge": officer._deadline_badge(dossier, now),
        "answers": answers,
        "documents": documents,
        "other_files": other_files,
        "results": [f for f in files if f.kind == FileKind.RESULT],
        "forms_issued": forms_issued,
        "appointments": appointments,
        "receipt": next((f for f in reversed(forms_issued) if f.form_number == FormNumber.RECEIPT), None),
        "receipt_status": receipt_status,
        "receipt_refresh_seconds": officer.RECEIPT_REFRESH_SECONDS,
        "receipt_refresh": receipt_status is not None
        and receipt_status.state == FormState.PENDING
        and dossier.received_at is not None
        and now - dossier.received_at < officer.RECEIPT_REFRESH_WINDOW,
        "fees": list(dossier.fees.all()),
        "timeline": dossier_timeline(dossier),
        "timing_labels": Timing.LABELS,
        "events": events,
        "actions": actions,
    }


def _render_before(request, template_name, context, status=200):
    return HttpResponse(engines["django"].from_string(BEFORE).render(context, request), status=status)


def _without_tokens(markup: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken" value=""', markup)


def page_now_and_before(client, monkeypatch, dossier) -> tuple[str, str]:
    url = f"/can-bo/ho-so/{dossier.pk}/"
    with CaptureQueriesContext(connection) as now_queries:
        response = client.get(url)
    assert response.status_code == 200
    with monkeypatch.context() as patch, CaptureQueriesContext(connection) as before_queries:
        patch.setattr(officer, "dossier_page_get_for_officer", dossier_get_for_officer)
        patch.setattr(officer, "_dossier_context", context_before)
        patch.setattr(officer, "render", _render_before)
        before = client.get(url)
    assert before.status_code == 200
    # The reference really is the ORM reading: a statement per list.
    assert len(before_queries) > len(now_queries)
    return _without_tokens(response.content.decode()), _without_tokens(before.content.decode())


def _counter_paid(world):
    """A dossier with a fee paid at the counter: a payment row, fee lines, the payment's event."""
    from payments.services import payment_record_counter

    dossier = builders.received(world)
    payment_record_counter(
        dossier=dossier,
        officer=world.reception,
        amount=dossier.fee_total,
        receipt_number="BL-0001",
        method="cash",
        expected_version=dossier.version,
    )
    dossier.refresh_from_db()
    return dossier


def _supplement_requested(world):
    dossier = builders.in_processing(world)
    return services.dossier_request_supplement(
        dossier=dossier,
        officer=world.specialist,
        items=["Bản sao <CCCD> có chứng thực", "Giấy xác nhận & cam kết"],
        reason="Thiếu giấy tờ",
        expected_version=dossier.version,
    )


def _receipt_pending(world):
    """Received, Form 01 not rendered yet: the page says it is being made."""
    return services.dossier_receive(dossier=builders.submitted(world), officer=world.reception)


def _apologised(world):
    dossier = builders.in_processing(world)
    new_due = dossier.current_due_at + dt.timedelta(days=7)
    while new_due.weekday() >= 5:
        new_due += dt.timedelta(days=1)
    return services.dossier_apologise(
        dossier=dossier,
        officer=world.leader,
        new_due_at=new_due,
        reason="Cần xác minh thêm",
        expected_version=dossier.version,
    )


MAKERS = {
    "submitted": builders.submitted,
    "received": builders.received,
    "receipt_pending": _receipt_pending,
    "in_processing": builders.in_processing,
    "supplement_requested": _supplement_requested,
    "apologised": _apologised,
    "awaiting_approval": builders.awaiting_approval,
    "result_ready": builders.result_ready,
    "returned": builders.returned,
}


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("state", list(MAKERS))
def test_the_dossier_page_reads_as_the_model_rendering_did_for_every_role(client, monkeypatch, state, language):
    world = builders.make_world()
    dossier = MAKERS[state](world)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for user in (world.reception, world.specialist, world.leader):
        client.force_login(user)
        now, before = page_now_and_before(client, monkeypatch, dossier)
        assert now == before, f"{state} as {user.full_name} ({language})"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_dossier_with_fees_and_a_counter_payment_reads_as_before(client, monkeypatch, language):
    world = builders.make_world(fee=50_000, fee_first=True)
    dossier = _counter_paid(world)
    assert dossier.payments.exists() and dossier.fees.exists()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for user in (world.reception, world.leader):
        client.force_login(user)
        now, before = page_now_and_before(client, monkeypatch, dossier)
        assert "BL-0001" in now
        assert now == before


def test_a_dossier_awaiting_its_fee_reads_as_before(client, monkeypatch):
    world = builders.make_world(fee=50_000, fee_first=True)
    dossier = builders.received(world)
    client.force_login(world.reception)
    now, before = page_now_and_before(client, monkeypatch, dossier)
    assert 'id="act-record_payment"' in now
    assert now == before


def test_the_page_reads_its_lists_with_the_dossier_and_no_payment_row_costs_no_query(client):
    world = builders.make_world()
    dossier = builders.awaiting_approval(world)
    client.force_login(world.leader)
    client.get(f"/can-bo/ho-so/{dossier.pk}/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/can-bo/ho-so/{dossier.pk}/").status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    page = [q for q in sql if 'FROM "dossiers_dossier"' in q]
    assert len(page) == 1, "\n".join(sql)
    for table in ("dossiers_dossierfile", "dossiers_dossierevent", "dossiers_dossierstep", "payments_payment"):
        assert not any(f'FROM "{table}"' in q for q in sql), table
    # Still written on every view (Decree 13/2023): who opened the applicant's personal data.
    assert sum(q.startswith('INSERT INTO "privacy_personaldataaccess"') for q in sql) == 1


def test_an_officer_of_a_step_agency_only_still_sees_the_page_and_others_do_not(client):
    """The access check reads the steps from the page's lists: the same answer as dossier_get_for_officer."""
    from procedures.constants import StepRole
    from tests.factories import AgencyFactory, OfficerFactory

    world = builders.make_world()
    dossier = builders.in_processing(world)
    other = AgencyFactory(name="Phòng Tài chính")
    outsider = OfficerFactory(role=Role.SPECIALIST, membership__agency=AgencyFactory(name="Phòng khác"))
    step_officer = OfficerFactory(role=Role.SPECIALIST, membership__agency=other)
    client.force_login(step_officer)
    assert client.get(f"/can-bo/ho-so/{dossier.pk}/").status_code == 404
    dossier.steps.filter(role=StepRole.LEADER).update(agency=other)
    assert client.get(f"/can-bo/ho-so/{dossier.pk}/").status_code == 200
    client.force_login(outsider)
    assert client.get(f"/can-bo/ho-so/{dossier.pk}/").status_code == 404
