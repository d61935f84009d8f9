"""Reception at scale: the code and register numbers come from counter rows, Form 01 renders outside their locks."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from dossiers import services
from dossiers.constants import Action, FileKind, FormNumber
from dossiers.models import DossierCodeSequence, DossierEvent, DossierRegisterCounter
from dossiers.pdf import form_context
from tests.dossiers import builders


def test_register_numbers_run_on_through_the_year_from_a_counter(db, monkeypatch):
    monkeypatch.setattr("dossiers.pdf.render_dossier_form", lambda *args, **kwargs: builders.PDF_BYTES)
    world = builders.make_world()
    received = [builders.received(world) for _n in range(3)]
    assert [d.register_number for d in received] == [1, 2, 3]
    counter = DossierRegisterCounter.objects.get(agency=world.agency)
    assert (counter.year, counter.last) == (received[0].received_at.year, 3)
    # Form 01 (and Form 07) print the stored number; the RECEIVE event records it too.
    assert form_context(received[2])["register_entry"]["number"] == 3
    event = DossierEvent.objects.get(dossier=received[2], action=Action.RECEIVE)
    assert event.data["register_number"] == 3
    assert event.attachments.filter(form_number=FormNumber.RECEIPT).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_form_01_is_rendered_by_the_worker_after_the_numbers_are_committed(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    world = builders.make_world()
    dossier = builders.submitted(world)
    seen: dict[str, object] = {}

    def render(target, number, **extra):
        # Another connection can take the agency's code and register rows at once: nobody waits
        # for this PDF, and the dossier is already received for everyone.
        def probe():
            try:
                with transaction.atomic():
                    seen["sequence"] = DossierCodeSequence.objects.select_for_update(nowait=True).count()
                    seen["register"] = DossierRegisterCounter.objects.select_for_update(nowait=True).count()
                    seen["code"] = type(target).objects.get(pk=target.pk).code
            except Exception as exc:  # noqa: BLE001 - reported to the test's thread
                seen["error"] = exc
            finally:
                connection.close()

        thread = threading.Thread(target=probe)
        thread.start()
        thread.join(timeout=30)
        return builders.PDF_BYTES

    monkeypatch.setattr("dossiers.pdf.render_dossier_form", render)
    received = services.dossier_receive(dossier=dossier, officer=world.reception)
    assert not seen, "the request rendered Form 01 itself"
    builders.issue_pending_forms(received)  # the worker's task, after the reception committed
    assert "error" not in seen, seen.get("error")
    assert seen["sequence"] == 1 and seen["register"] == 1
    assert seen["code"] == received.code
    assert received.files.filter(kind=FileKind.FORM, form_number=FormNumber.RECEIPT).count() == 1
