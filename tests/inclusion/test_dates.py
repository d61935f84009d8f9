"""Issue 11, points 4 and 5: one Vietnamese date format everywhere, dates typed dd/mm/yyyy."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from dossiers import services
from procedures.constants import FieldKind
from tests.dossiers import builders
from tests.factories import FormFieldFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["vi", "en"])
def test_dates_and_times_read_dd_mm_yyyy_in_both_languages(language):
    when = dt.datetime(2026, 11, 20, 9, 30)
    with translation.override(language):
        rendered = Template(
            "{{ day|date }} {{ day }} | {{ when|date:'DATETIME_FORMAT' }} | {{ day|date:'SHORT_DATE_FORMAT' }}"
        )
        out = rendered.render(Context({"day": when.date(), "when": when}))
    assert out == "20/11/2026 20/11/2026 | 09:30 20/11/2026 | 20/11/2026"


def test_officers_see_a_date_answer_as_dd_mm_yyyy(client):
    world = builders.make_world()
    FormFieldFactory(procedure=world.procedure, code="ngay", label="Ngày bắt đầu", kind=FieldKind.DATE, order=2)
    dossier = services.dossier_create_draft(procedure=world.procedure, agency=world.agency, owner=world.citizen)
    services.dossier_save_answers(
        dossier=dossier, user=world.citizen, answers={"ten_ho_kinh_doanh": "Tạp hóa An", "ngay": "2026-11-20"}
    )
    services.dossier_attach_file(dossier=dossier, user=world.citizen, requirement_id=1, upload=builders.pdf_upload())
    submitted = services.dossier_submit(dossier=dossier, user=world.citizen)
    client.force_login(world.reception)
    page = client.get(reverse("dossiers:officer_dossier", args=[submitted.pk])).content.decode()
    assert "20/11/2026" in page and "2026-11-20" not in page


def test_the_registration_birth_date_is_typed_dd_mm_yyyy(client):
    page = client.get(reverse("accounts:register")).content.decode()
    assert 'placeholder="dd/mm/yyyy"' in page and 'type="date"' not in page
