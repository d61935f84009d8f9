"""Issue 11: what trips a first-time citizen up, checked with Django's test client."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dossiers.constants import DossierState
from dossiers.models import Dossier, DossierFile
from procedures.constants import FieldKind
from tests.dossiers import builders
from tests.factories import FormFieldFactory, RequiredDocumentFactory, UserFactory

pytestmark = pytest.mark.django_db

HTML_BYTES = b"<!DOCTYPE html><html><body>not a pdf</body></html>"


@pytest.fixture
def world():
    return builders.make_world()


@pytest.fixture
def citizen_client(client, world):
    client.force_login(world.citizen)
    return client


def url(name: str, dossier: Dossier, *args) -> str:
    return reverse(f"dossiers:{name}", args=[dossier.public_id, *args])


def start_draft(client, world) -> Dossier:
    client.post(reverse("dossiers:start", args=[world.procedure.national_code]))
    return Dossier.objects.get(owner=world.citizen, state=DossierState.DRAFT)


# --- point 1: files chosen and "Tiếp tục" ----------------------------------------------------


def test_continue_uploads_the_files_chosen_and_moves_on(citizen_client, world):
    dossier = start_draft(citizen_client, world)
    response = citizen_client.post(
        url("documents", dossier), {"action": "continue", "doc1_file": builders.pdf_upload("de-nghi.pdf")}
    )
    assert response.status_code == 302
    assert response["Location"] == url("delivery", dossier)
    assert list(DossierFile.objects.filter(dossier=dossier).values_list("original_name", flat=True)) == ["de-nghi.pdf"]


def test_continue_with_a_bad_file_stays_on_the_page_and_says_which(citizen_client, world):
    RequiredDocumentFactory(procedure=world.procedure, name="Bản vẽ", order=2, is_mandatory=False)
    dossier = start_draft(citizen_client, world)
    response = citizen_client.post(
        url("documents", dossier),
        {
            "action": "continue",
            "doc1_file": builders.pdf_upload("de-nghi.pdf"),
            "doc2_file": builders.pdf_upload("x.pdf", HTML_BYTES),
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Tệp chưa được tải lên:" in page and 'href="#id_doc2_file"' in page
    assert "không phải định dạng được chấp nhận" in page
    # The good one was stored, the bad one was not, and the page did not move on.
    assert list(DossierFile.objects.filter(dossier=dossier).values_list("original_name", flat=True)) == ["de-nghi.pdf"]


def test_the_documents_step_is_one_form_whose_continue_button_sends_the_files(citizen_client, world):
    dossier = start_draft(citizen_client, world)
    page = citizen_client.get(url("documents", dossier)).content.decode()
    form_start = page.index('id="documents-form"')
    form_end = page.index("</form>", form_start)
    inside = page[form_start:form_end]
    assert 'name="doc1_file"' in inside
    assert 'name="action" value="continue"' in inside
    assert 'enctype="multipart/form-data"' in page[page.rindex("<form", 0, form_start) : form_start]


def test_continue_without_files_moves_on_and_upload_alone_stays(citizen_client, world):
    dossier = start_draft(citizen_client, world)
    response = citizen_client.post(url("documents", dossier), {"action": "continue"})
    assert response["Location"] == url("delivery", dossier)
    response = citizen_client.post(url("documents", dossier), {"upload": "1", "doc1_file": builders.pdf_upload()})
    assert response["Location"] == url("documents", dossier) + "#doc-1"
    assert DossierFile.objects.filter(dossier=dossier).count() == 1


def test_another_citizens_documents_step_is_not_found(client, world):
    dossier = builders.draft(world)
    other = UserFactory(cccd="001090009999")
    client.force_login(other)
    response = client.post(url("documents", dossier), {"action": "continue", "doc1_file": builders.pdf_upload()})
    assert response.status_code == 404
    assert DossierFile.objects.filter(dossier=dossier).count() == 1


# --- point 2: each thing asked once ----------------------------------------------------------


@pytest.fixture
def requester_world(world):
    for order, (code, label, kind) in enumerate(
        [
            ("ho_ten_nguoi_yeu_cau", "Họ, chữ đệm và tên người yêu cầu", FieldKind.TEXT),
            ("so_dinh_danh_nguoi_yeu_cau", "Số định danh cá nhân", FieldKind.CCCD),
            ("so_dien_thoai", "Số điện thoại liên hệ", FieldKind.PHONE),
            ("quan_he_voi_tre", "Quan hệ với người được khai sinh", FieldKind.TEXT),
        ],
        start=10,
    ):
        FormFieldFactory(
            procedure=world.procedure, code=code, label=label, kind=kind, order=order, section="Người yêu cầu"
        )
    return world


def test_the_applicant_details_are_asked_once_and_fill_the_procedures_questions(citizen_client, requester_world):
    world = requester_world
    dossier = start_draft(citizen_client, world)
    page = citizen_client.get(url("applicant", dossier)).content.decode()
    # Prefilled from the account; the requester's other question on the same page; no page of its own.
    assert 'value="Lê Văn Công"' in page and 'value="037090001234"' in page
    assert "Quan hệ với người được khai sinh" in page
    assert "Bước 1/5" in page  # applicant, business form, documents, delivery, review
    assert "Số điện thoại" in page and "Số điện thoại (không bắt buộc)" not in page  # required by the procedure

    response = citizen_client.post(
        url("applicant", dossier),
        {
            "applicant_name": "Lê Văn Công",
            "applicant_id_number": "037090001234",
            "applicant_phone": "0912345678",
            "quan_he_voi_tre": "Cha",
        },
    )
    assert response.status_code == 302
    next_page = citizen_client.get(response["Location"]).content.decode()
    for label in ("Họ, chữ đệm và tên người yêu cầu", "Số định danh cá nhân", "Số điện thoại liên hệ"):
        assert label not in next_page
    dossier.refresh_from_db()
    assert dossier.answers["ho_ten_nguoi_yeu_cau"] == "Lê Văn Công"
    assert dossier.answers["so_dinh_danh_nguoi_yeu_cau"] == "037090001234"
    assert dossier.answers["so_dien_thoai"] == "0912345678"
    assert dossier.answers["quan_he_voi_tre"] == "Cha"


def test_a_missing_required_phone_is_refused_on_the_applicant_step(citizen_client, requester_world):
    dossier = start_draft(citizen_client, requester_world)
    response = citizen_client.post(
        url("applicant", dossier),
        {"applicant_name": "Lê Văn Công", "applicant_id_number": "037090001234", "quan_he_voi_tre": "Cha"},
    )
    assert response.status_code == 200
    assert 'href="#id_applicant_phone"' in response.content.decode()
    dossier.refresh_from_db()
    assert "so_dien_thoai" not in dossier.answers


# --- point 9: something to quote at submission ------------------------------------------------


def test_the_submitted_page_gives_a_reference_who_receives_it_by_when_and_how_they_tell(citizen_client, world):
    dossier = builders.draft(world)
    dossier.applicant_phone = "0912345678"
    dossier.save(update_fields=["applicant_phone"])
    version = Dossier.objects.get(pk=dossier.pk).version
    citizen_client.post(url("submit", dossier), {"version": version})
    dossier.refresh_from_db()
    assert dossier.reference and dossier.reference.startswith("N") and dossier.code is None
    page = citizen_client.get(url("submitted", dossier)).content.decode()
    assert dossier.reference in page
    assert f"Bộ phận Một cửa của {world.agency.name}" in page
    assert "Dự kiến trước" in page
    assert "cong@example.vn" in page and "0912345678" in page
    # Anyone may track it by the reference before it has a code, without personal data.
    citizen_client.logout()
    tracked = citizen_client.get(reverse("dossiers:track_code", args=[dossier.reference]))
    assert tracked.status_code == 200 and "Lê Văn Công" not in tracked.content.decode()


def test_a_repeated_submission_keeps_its_first_reference(citizen_client, world):
    dossier = builders.submitted(world)
    reference = dossier.reference
    citizen_client.post(url("submit", dossier), {"version": dossier.version})
    assert Dossier.objects.get(pk=dossier.pk).reference == reference
