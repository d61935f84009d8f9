"""Assisted submission: a community digital helper submits for a present citizen (issue 11)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dossiers import services
from dossiers.assistance import dossier_send_assisted_confirmation
from dossiers.constants import Channel, DossierState
from dossiers.models import Dossier, DossierAssistance, SideEffect
from dossiers.tasks import run_side_effect
from notifications.models import SandboxSms
from portal.accounts.constants import Role
from tests.dossiers import builders
from tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db

CITIZEN_CCCD = "037090001234"  # the world's citizen
NO_ACCOUNT_CCCD = "001195004321"


@pytest.fixture
def world():
    return builders.make_world()


@pytest.fixture
def helper(world):
    return OfficerFactory(role=Role.DIGITAL_HELPER, membership__agency=world.agency, full_name="Phạm Hỗ Trợ")


@pytest.fixture
def helper_client(client, helper):
    client.force_login(helper)
    return client


def start_url(world) -> str:
    return reverse("dossiers:helper_start", args=[world.procedure.national_code])


def start_form(**overrides) -> dict:
    return {
        "agency": "",
        "citizen_name": "Lê Văn Công",
        "citizen_id_number": CITIZEN_CCCD,
        "citizen_phone": "0912345678",
        "confirmation": "sms",
        "consent": "on",
        **overrides,
    }


def start(helper_client, world, **overrides) -> Dossier:
    response = helper_client.post(start_url(world), start_form(agency=str(world.agency.pk), **overrides))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Dossier.objects.get(assistance__isnull=False)


def fill_and_submit(helper_client, helper, dossier) -> Dossier:
    services.dossier_save_answers(dossier=dossier, user=helper, answers={"ten_ho_kinh_doanh": "Tạp hóa An"})
    services.dossier_attach_file(dossier=dossier, user=helper, requirement_id=1, upload=builders.pdf_upload())
    review = helper_client.get(reverse("dossiers:review", args=[dossier.public_id]))
    assert review.status_code == 200
    version = Dossier.objects.get(pk=dossier.pk).version
    response = helper_client.post(reverse("dossiers:submit", args=[dossier.public_id]), {"version": version})
    assert response["Location"] == reverse("dossiers:submitted", args=[dossier.public_id])
    return Dossier.objects.get(pk=dossier.pk)


def test_the_helper_records_consent_and_the_dossier_belongs_to_the_citizens_account(helper_client, world, helper):
    dossier = start(helper_client, world)
    assistance = dossier.assistance
    assert dossier.owner == world.citizen and dossier.submitted_by == helper
    assert dossier.channel_in == Channel.ONLINE  # counted as online in the statistics
    assert assistance.helper == helper and assistance.agency == world.agency
    assert assistance.consent_at is not None and "Lê Văn Công" in assistance.consent_text
    assert "Phạm Hỗ Trợ" in assistance.consent_text
    assert dossier.applicant_id_number == CITIZEN_CCCD


def test_without_consent_nothing_is_created(helper_client, world):
    response = helper_client.post(start_url(world), start_form(agency=str(world.agency.pk), consent=""))
    assert response.status_code == 200
    assert "Cần có sự đồng ý của công dân" in response.content.decode()
    assert not Dossier.objects.exists()


def test_a_bad_cccd_or_sms_without_phone_is_refused(helper_client, world):
    page = helper_client.post(start_url(world), start_form(agency=str(world.agency.pk), citizen_id_number="123"))
    assert "12 chữ số" in page.content.decode()
    page = helper_client.post(start_url(world), start_form(agency=str(world.agency.pk), citizen_phone=""))
    assert "để gửi tin nhắn xác nhận" in page.content.decode()
    assert not Dossier.objects.exists()


def test_only_digital_helpers_reach_the_helper_pages(client, world):
    client.force_login(world.citizen)
    assert client.get(start_url(world)).status_code == 404
    assert client.get(reverse("dossiers:helper_home")).status_code == 404
    client.force_login(world.reception)
    assert client.post(start_url(world), start_form(agency=str(world.agency.pk))).status_code == 404
    assert not Dossier.objects.exists()


def test_the_helper_submits_prints_and_texts_the_confirmation_once(helper_client, world, helper, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    dossier = fill_and_submit(helper_client, helper, start(helper_client, world))
    assert dossier.state == DossierState.SUBMITTED and dossier.reference
    submitted = helper_client.get(reverse("dossiers:submitted", args=[dossier.public_id])).content.decode()
    assert reverse("dossiers:helper_confirmation", args=[dossier.public_id]) in submitted
    page = helper_client.get(reverse("dossiers:helper_confirmation", args=[dossier.public_id])).content.decode()
    assert dossier.reference in page and "In phiếu" in page and CITIZEN_CCCD not in page
    send = reverse("dossiers:helper_send_sms", args=[dossier.public_id])
    helper_client.post(send)
    helper_client.post(send)  # a second tap sends nothing more
    effects = SideEffect.objects.filter(dossier=dossier, kind="sms")
    assert effects.count() == 1
    run_side_effect.apply(args=[effects.get().pk])
    sent = list(SandboxSms.objects.all())
    assert [m.to for m in sent] == ["0912345678"]
    assert dossier.reference in sent[0].text
    # The citizen sees it in their own account.
    helper_client.force_login(world.citizen)
    assert dossier.procedure.name in helper_client.get(reverse("dossiers:my_dossiers")).content.decode()


def test_the_helper_sees_only_their_dossiers_and_only_until_reception(helper_client, world, helper, client):
    dossier = fill_and_submit(helper_client, helper, start(helper_client, world))
    file = dossier.files.get()
    home = helper_client.get(reverse("dossiers:helper_home")).content.decode()
    assert dossier.reference in home
    assert helper_client.get(reverse("dossiers:file", args=[file.public_id])).status_code == 200

    # Another helper of the same commune sees nothing of it.
    other = OfficerFactory(role=Role.DIGITAL_HELPER, membership__agency=world.agency, cccd="001090007777")
    client.force_login(other)
    for name in ("dossiers:detail", "dossiers:helper_confirmation", "dossiers:submitted"):
        assert client.get(reverse(name, args=[dossier.public_id])).status_code == 404
    assert client.get(reverse("dossiers:file", args=[file.public_id])).status_code == 404
    assert client.post(reverse("dossiers:helper_send_sms", args=[dossier.public_id])).status_code == 404

    services.dossier_receive(dossier=Dossier.objects.get(pk=dossier.pk), officer=world.reception)
    for name in ("dossiers:detail", "dossiers:helper_confirmation", "dossiers:submitted"):
        assert helper_client.get(reverse(name, args=[dossier.public_id])).status_code == 404, name
    assert helper_client.get(reverse("dossiers:file", args=[file.public_id])).status_code == 404
    assert dossier.reference not in helper_client.get(reverse("dossiers:helper_home")).content.decode()
    with pytest.raises(services.NotAllowedError):
        dossier_send_assisted_confirmation(dossier=dossier, helper=helper)
    # The citizen still follows it.
    client.force_login(world.citizen)
    assert client.get(reverse("dossiers:detail", args=[dossier.public_id])).status_code == 200


def test_a_citizen_without_an_account_follows_the_dossier_by_its_reference(helper_client, world, helper, client):
    dossier = fill_and_submit(
        helper_client, helper, start(helper_client, world, citizen_id_number=NO_ACCOUNT_CCCD, citizen_name="Trần Bình")
    )
    assert dossier.owner is None
    assert DossierAssistance.objects.get(dossier=dossier).citizen_id_number == NO_ACCOUNT_CCCD
    client.logout()
    page = client.get(reverse("dossiers:track_code", args=[dossier.reference]))
    assert page.status_code == 200
    body = page.content.decode()
    assert dossier.procedure.name in body and "Trần Bình" not in body
