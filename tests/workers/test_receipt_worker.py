"""Form 01 through a real Celery worker and Redis: rendered after the reception, never lost, never twice."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from dossiers import services
from dossiers.constants import Action, FileKind, FormNumber
from dossiers.models import Dossier, DossierFile, SideEffect
from dossiers.tasks import side_effects_sweep
from tests.dossiers import builders

from .processes import Redis, Worker, publishing_to, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(150),
]


def _receipts(dossier) -> list[DossierFile]:
    return list(DossierFile.objects.filter(dossier=dossier, kind=FileKind.FORM, form_number=FormNumber.RECEIPT))


def test_a_real_worker_renders_form_01_once_after_the_reception(tmp_path, redis_url):
    world = builders.make_world()
    dossier = builders.submitted(world)
    worker = Worker(tmp_path, redis_url, MEDIA_ROOT=settings.MEDIA_ROOT)
    try:
        with publishing_to(redis_url):
            received = services.dossier_receive(dossier=dossier, officer=world.reception)
        [form] = wait_for(lambda: _receipts(received), 90, "Form 01 from the worker")
        wait_for(
            lambda: SideEffect.objects.filter(dossier=received, kind="issue_form", status="done").exists(), 30, "done"
        )
        # A later sweep has nothing to publish for it: still one file.
        past = timezone.now() + timezone.timedelta(hours=1)
        with publishing_to(redis_url):
            side_effects_sweep(now=past)
    finally:
        output = worker.stop()
    assert len(_receipts(received)) == 1
    assert received.events.get(action=Action.RECEIVE).attachments.get() == form
    with form.file.open("rb") as stored:
        assert stored.read(5) == b"%PDF-"
    assert Dossier.objects.get(pk=received.pk).register_number == 1
    assert "Traceback" not in output, output[-3000:]


def test_with_redis_stopped_a_reception_is_saved_and_the_sweeper_gets_its_form_01_rendered_once(tmp_path, settings):
    settings.SIDE_EFFECT_GRACE_SECONDS = 0
    world = builders.make_world()
    redis = Redis()
    try:
        dossier = builders.submitted(world)
        with publishing_to(redis.url):  # nothing listens there yet: the publish fails
            received = services.dossier_receive(dossier=dossier, officer=world.reception)
        assert received.state == "received" and received.code and received.register_number == 1
        assert services.dossier_receipt_status(dossier=received).state == "pending"
        assert SideEffect.objects.get(dossier=received, kind="issue_form").status == "pending"
        assert _receipts(received) == []
        redis.start()
        worker = Worker(tmp_path, redis.url, MEDIA_ROOT=settings.MEDIA_ROOT)
        try:
            SideEffect.objects.filter(status="pending").update(next_attempt_at=timezone.now())
            with publishing_to(redis.url):
                assert side_effects_sweep() >= 1
            wait_for(lambda: _receipts(received), 90, "Form 01 after the sweep")
            wait_for(
                lambda: SideEffect.objects.filter(dossier=received, kind="issue_form", status="done").exists(),
                30,
                "done",
            )
            # The sweeper runs again (as beat would): nothing more is rendered.
            with publishing_to(redis.url):
                side_effects_sweep(now=timezone.now() + timezone.timedelta(hours=1))
        finally:
            output = worker.stop()
    finally:
        redis.close()
    assert len(_receipts(received)) == 1
    assert services.dossier_receipt_status(dossier=received).state == "ready"
    assert Dossier.objects.get(pk=received.pk).register_number == 1
    assert "Traceback" not in output, output[-3000:]
