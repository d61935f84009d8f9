"""Form 01 after a reception: committed as a side effect, rendered once by the worker, pending until then."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from dossiers import services
from dossiers.constants import Action, AppointmentKind, FileKind, FormNumber, FormState
from dossiers.models import DossierAppointment, DossierFile, SideEffect
from dossiers.tasks import side_effect_run
from tests.dossiers import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def renders(monkeypatch):
    """Count WeasyPrint renders of the forms (the real renderer runs)."""
    from dossiers import pdf

    calls: list[str] = []
    real = pdf.render_dossier_form

    def counting(dossier, number, **extra):
        calls.append(number)
        return real(dossier, number, **extra)

    monkeypatch.setattr(pdf, "render_dossier_form", counting)
    return calls


def receipt_effect(dossier) -> SideEffect:
    return SideEffect.objects.get(dossier=dossier, kind="issue_form", payload__form=FormNumber.RECEIPT)


def test_a_reception_commits_its_numbers_and_owes_form_01_without_rendering_it(renders):
    world = builders.make_world()
    dossier = services.dossier_receive(dossier=builders.submitted(world), officer=world.reception)
    assert renders == []
    assert dossier.code and dossier.register_number == 1
    event = dossier.events.get(action=Action.RECEIVE)
    effect = receipt_effect(dossier)
    assert effect.status == SideEffect.Status.PENDING
    assert effect.payload == {"form": FormNumber.RECEIPT, "event": event.pk, "actor": world.reception.pk}
    assert not dossier.files.filter(kind=FileKind.FORM).exists()
    assert services.dossier_receipt_status(dossier=dossier) == services.FormStatus(FormState.PENDING)


def test_the_worker_renders_form_01_once_however_often_it_is_delivered(renders):
    world = builders.make_world()
    dossier = services.dossier_receive(dossier=builders.submitted(world), officer=world.reception)
    effect = receipt_effect(dossier)
    assert side_effect_run(effect.pk) == "done"
    assert side_effect_run(effect.pk) == "skipped"  # a second delivery, or the sweeper's
    # Even a handler run again on a done row (a message redelivered mid-commit) keeps the one file.
    again = services.run_recorded_form(SideEffect.objects.get(pk=effect.pk))
    assert renders == [FormNumber.RECEIPT]
    form = dossier.files.get(kind=FileKind.FORM, form_number=FormNumber.RECEIPT)
    assert again == form
    assert dossier.events.get(action=Action.RECEIVE).attachments.get() == form
    appointment = DossierAppointment.objects.get(dossier=dossier, kind=AppointmentKind.ORIGINAL)
    assert appointment.form == form
    dossier.refresh_from_db()
    assert dossier.register_number == 1
    assert services.dossier_receipt_status(dossier=dossier) == services.FormStatus(FormState.READY, form)


def test_a_failed_attempt_leaves_no_file_and_the_retry_stores_one(monkeypatch, settings):
    settings.SIDE_EFFECT_MAX_ATTEMPTS = 3
    world = builders.make_world()
    dossier = services.dossier_receive(dossier=builders.submitted(world), officer=world.reception)
    effect = receipt_effect(dossier)
    saved: list[str] = []
    real_save = DossierFile.file.field.storage.save

    def save(name, content, max_length=None):
        saved.append(real_save(name, content, max_length=max_length))
        return saved[-1]

    monkeypatch.setattr(DossierFile.file.field.storage, "save", save)
    queryset = type(DossierAppointment.objects.all())
    real_update = queryset.update

    def broken_update(self, **kwargs):
        if self.model is DossierAppointment:  # after the PDF is stored, before the attempt commits
            raise RuntimeError("database went away")
        return real_update(self, **kwargs)

    monkeypatch.setattr(queryset, "update", broken_update)
    assert side_effect_run(effect.pk) == "retry"
    assert len(saved) == 1 and not default_storage.exists(saved[0])  # the attempt's PDF is deleted
    assert not DossierFile.objects.filter(dossier=dossier, kind=FileKind.FORM).exists()
    assert services.dossier_receipt_status(dossier=dossier).state == FormState.PENDING

    monkeypatch.setattr(queryset, "update", real_update)
    assert side_effect_run(effect.pk) == "done"
    assert len(saved) == 2 and default_storage.exists(saved[1])
    assert dossier.files.get(kind=FileKind.FORM, form_number=FormNumber.RECEIPT).file.name == saved[1]


def test_a_form_that_could_not_be_rendered_is_reported_failed(settings, monkeypatch):
    settings.SIDE_EFFECT_MAX_ATTEMPTS = 1
    world = builders.make_world()
    dossier = services.dossier_receive(dossier=builders.submitted(world), officer=world.reception)

    def broken(*args, **kwargs):
        raise RuntimeError("no fonts")

    monkeypatch.setattr("dossiers.pdf.render_dossier_form", broken)
    assert side_effect_run(receipt_effect(dossier).pk) == "failed"
    assert services.dossier_receipt_status(dossier=dossier) == services.FormStatus(FormState.FAILED)


def test_a_dossier_waiting_for_its_fee_owes_no_form_01_yet():
    world = builders.make_world(fee=50_000, fee_first=True)
    dossier = services.dossier_receive(dossier=builders.submitted(world), officer=world.reception)
    assert not SideEffect.objects.filter(dossier=dossier, kind="issue_form").exists()
    assert services.dossier_receipt_status(dossier=dossier) is None


def test_the_api_returns_form_01_pending_then_ready_with_its_download_url():
    world = builders.make_world()
    dossier = builders.submitted(world)
    api = APIClient()
    api.force_login(world.reception)
    received = api.post(f"/api/officer/dossiers/{dossier.pk}/receive/", {"version": dossier.version}, format="json")
    assert received.status_code == 200, received.content
    assert received.json()["receipt"] == {"state": "pending", "download_url": None}

    builders.issue_pending_forms(dossier)
    detail = api.get(f"/api/officer/dossiers/{dossier.pk}/").json()
    form = dossier.files.get(kind=FileKind.FORM, form_number=FormNumber.RECEIPT)
    url = f"http://testserver/api/files/{form.public_id}/"
    assert detail["receipt"] == {"state": "ready", "download_url": url}
    [listed] = [f for f in detail["files"] if f["form_number"] == FormNumber.RECEIPT]
    assert listed["download_url"] == url
    download = api.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF-")


def test_the_api_gives_no_form_01_state_before_reception():
    world = builders.make_world()
    dossier = builders.submitted(world)
    api = APIClient()
    api.force_login(world.reception)
    assert api.get(f"/api/officer/dossiers/{dossier.pk}/").json()["receipt"] is None
