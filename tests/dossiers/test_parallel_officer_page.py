"""A partner agency of an inter-agency dossier does its part from the officer page."""

import pytest
from django.urls import reverse

from dossiers.models import Dossier
from tests.dossiers import builders
from tests.dossiers.test_parallel_steps import group_steps, make_parallel_world

pytestmark = pytest.mark.django_db


def test_a_partner_agency_sees_and_completes_its_own_part_from_the_dossier_page(client):
    pw = make_parallel_world()
    dossier = builders.in_processing(pw.world)
    client.force_login(pw.police_specialist)
    page = client.get(reverse("dossiers:officer_dossier", args=[dossier.pk]))
    assert page.status_code == 200
    assert "Hoàn thành phần việc của đơn vị" in page.content.decode()

    url = reverse("dossiers:officer_dossier_action", args=[dossier.pk, "complete_part"])
    response = client.post(url, {"version": Dossier.objects.get(pk=dossier.pk).version, "note": "Đã xác nhận cư trú"})
    assert response.status_code == 302
    steps = group_steps(Dossier.objects.get(pk=dossier.pk))
    assert steps["Công an phường Hoa Lư"].completed_at is not None
    assert steps["Bảo hiểm xã hội khu vực Hoa Lư"].completed_at is None
    assert Dossier.objects.get(pk=dossier.pk).state == "in_processing"


def test_an_officer_without_an_open_part_is_not_offered_it_and_cannot_post_it(client):
    pw = make_parallel_world()
    dossier = builders.in_processing(pw.world)
    client.force_login(pw.world.specialist)  # the lead agency's specialist: the lead step is not a "part"
    page = client.get(reverse("dossiers:officer_dossier", args=[dossier.pk]))
    assert "Hoàn thành phần việc của đơn vị" not in page.content.decode()
    version = Dossier.objects.get(pk=dossier.pk).version
    url = reverse("dossiers:officer_dossier_action", args=[dossier.pk, "complete_part"])
    response = client.post(url, {"version": version, "note": ""})
    assert response.status_code == 403
    assert Dossier.objects.get(pk=dossier.pk).version == version
