"""The citizen's pages with Django's test client: the whole journey, every bad input, other people's dossiers.

Each refusal is checked for its Vietnamese message and for what it must not do: the rows counted
before and after are the same.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dossiers import services
from dossiers.constants import Action, DossierState, FileKind
from dossiers.models import Dossier, DossierEvent, DossierFee, DossierFile, DossierRating, SideEffect
from procedures.constants import FieldKind
from procedures.services import procedure_publish_version
from tests.dossiers import builders
from tests.factories import AgencyFactory, FeeItemFactory, FormFieldFactory, RequiredDocumentFactory, UserFactory

pytestmark = pytest.mark.django_db

HTML_BYTES = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


@pytest.fixture
def world():
    return builders.make_world()


@pytest.fixture
def citizen_client(client, world):
    client.force_login(world.citizen)
    return client


def url(name: str, dossier: Dossier | None = None, *args) -> str:
    return reverse(f"dossiers:{name}", args=[dossier.public_id, *args] if dossier is not None else list(args))


def page_text(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def counts() -> dict[str, int]:
    return {
        "dossiers": Dossier.objects.count(),
        "files": DossierFile.objects.count(),
        "events": DossierEvent.objects.count(),
        "fees": DossierFee.objects.count(),
        "side_effects": SideEffect.objects.count(),
        "ratings": DossierRating.objects.count(),
    }


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def start_draft(client, world) -> Dossier:
    response = client.post(reverse("dossiers:start", args=[world.procedure.national_code]))
    assert response.status_code == 302
    return Dossier.objects.get(owner=world.citizen, state=DossierState.DRAFT)


# --- starting ---------------------------------------------------------------------------------


def test_the_procedure_page_offers_online_submission_only_when_the_procedure_accepts_it(client, world):
    page = page_text(client.get(reverse("procedures:detail", args=[world.procedure.national_code])))
    assert "Nộp hồ sơ trực tuyến" in page
    assert reverse("dossiers:start", args=[world.procedure.national_code]) in page

    world.procedure.channel_online = False
    world.procedure.save()
    page = page_text(client.get(reverse("procedures:detail", args=[world.procedure.national_code])))
    assert "Nộp hồ sơ trực tuyến" not in page
    client.force_login(world.citizen)
    assert client.post(reverse("dossiers:start", args=[world.procedure.national_code])).status_code == 404
    assert Dossier.objects.count() == 0


def test_an_anonymous_visitor_is_sent_to_the_login_page_and_back(client, world):
    start = reverse("dossiers:start", args=[world.procedure.national_code])
    response = client.post(start)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "next=" in response["Location"]
    assert Dossier.objects.count() == 0


def test_with_one_agency_the_choice_is_skipped_and_the_first_step_opens(citizen_client, world):
    response = citizen_client.post(reverse("dossiers:start", args=[world.procedure.national_code]))
    dossier = Dossier.objects.get()
    assert response["Location"] == url("applicant", dossier)
    assert dossier.state == DossierState.DRAFT
    assert dossier.agency == world.agency
    assert dossier.owner == world.citizen


def test_with_several_agencies_the_citizen_chooses_one_from_a_radio_list(citizen_client, world):
    other = AgencyFactory(name="UBND xã Ninh Hải")
    world.procedure.agencies.add(other)
    start = reverse("dossiers:start", args=[world.procedure.national_code])

    response = citizen_client.post(start)  # the button of the procedure page: no agency yet
    page = page_text(response)
    assert response.status_code == 200
    assert "<fieldset" in page and "<legend" in page and "Cơ quan giải quyết" in page
    assert 'type="radio"' in page and "UBND xã Ninh Hải" in page
    assert Dossier.objects.count() == 0

    response = citizen_client.post(start, {"agency": ""})
    assert "Vui lòng chọn cơ quan giải quyết." in page_text(response)
    assert Dossier.objects.count() == 0

    outsider = AgencyFactory(name="UBND xã Không Liên Quan")
    response = citizen_client.post(start, {"agency": outsider.pk})
    assert "Cơ quan đã chọn không giải quyết thủ tục này." in page_text(response)
    assert Dossier.objects.count() == 0

    response = citizen_client.post(start, {"agency": other.pk})
    dossier = Dossier.objects.get()
    assert dossier.agency == other
    assert response["Location"] == url("applicant", dossier)


# --- the journey ------------------------------------------------------------------------------


def test_the_whole_journey_from_the_procedure_page_to_the_confirmation(citizen_client, world, settings):
    FeeItemFactory(procedure=world.procedure, name="Lệ phí đăng ký", amount=100000)
    dossier = start_draft(citizen_client, world)

    # 1. Applicant, prefilled from the account.
    response = citizen_client.get(url("applicant", dossier))
    page = page_text(response)
    assert 'value="Lê Văn Công"' in page and 'value="037090001234"' in page
    assert "Bước 1/5" in page
    assert re.search(r'<li aria-current="step">\s*<strong>Thông tin người nộp hồ sơ</strong>', page)
    response = citizen_client.post(
        url("applicant", dossier),
        {
            "applicant_name": "Lê Văn Công",
            "applicant_id_number": "037090001234",
            "applicant_phone": "0912345678",
            "applicant_email": "cong@example.vn",
            "applicant_address": "Số 5 đường Trần Hưng Đạo, phường Hoa Lư",
        },
    )
    assert response["Location"] == url("section", dossier, 1)

    # 2. The form's only section.
    page = page_text(citizen_client.get(url("section", dossier, 1)))
    assert "Bước 2/5" in page and "Tên hộ kinh doanh" in page
    response = citizen_client.post(url("section", dossier, 1), {"ten_ho_kinh_doanh": "Tạp hóa Bình An"})
    assert response["Location"] == url("documents", dossier)

    # 3. Documents: shows the allowed types and size, then the upload.
    page = page_text(citizen_client.get(url("documents", dossier)))
    assert "Bước 3/5" in page
    assert "Giấy đề nghị đăng ký hộ kinh doanh" in page
    assert "Định dạng PDF, JPG, PNG, tối đa 10 MB mỗi tệp" in page
    assert "<progress" in page and "js/upload-progress.js" in page
    response = citizen_client.post(
        url("upload", dossier),
        {"requirement": "1", "file": builders.pdf_upload("de-nghi.pdf")},
        follow=True,
    )
    assert "Đã tải lên \u201cde-nghi.pdf\u201d" in " ".join(messages_of(response))
    assert "de-nghi.pdf" in page_text(response)
    stored = DossierFile.objects.get(dossier=dossier)
    assert stored.requirement_id == 1 and stored.content_type == "application/pdf"

    # 4. Delivery.
    page = page_text(citizen_client.get(url("delivery", dossier)))
    assert "Bước 4/5" in page and "<legend" in page
    response = citizen_client.post(url("delivery", dossier), {"channel_out": "download"})
    assert response["Location"] == url("review", dossier)

    # 5. Check your answers, with a "Sửa" link to every part.
    page = page_text(citizen_client.get(url("review", dossier)))
    assert "Bước 5/5" in page
    for text in ("Tạp hóa Bình An", "de-nghi.pdf", "Nhận kết quả điện tử trên Cổng", "100.000 đồng", "0912345678"):
        assert text in page
    for target in (url("applicant", dossier), url("section", dossier, 1), url("documents", dossier)):
        assert f'href="{target}' in page
    assert page.count(">Sửa<") >= 4
    dossier.refresh_from_db()
    assert f'name="version" value="{dossier.version}"' in page

    response = citizen_client.post(url("submit", dossier), {"version": dossier.version})
    assert response["Location"] == url("submitted", dossier)
    dossier.refresh_from_db()
    assert dossier.state == DossierState.SUBMITTED
    assert dossier.answers == {"ten_ho_kinh_doanh": "Tạp hóa Bình An"}
    assert dossier.applicant_phone == "0912345678"
    assert dossier.fee_total == 100000

    page = page_text(citizen_client.get(url("submitted", dossier)))
    assert "Đã nộp hồ sơ thành công" in page
    assert "Việc gì sẽ diễn ra tiếp theo" in page
    assert "Chưa có mã" in page

    # It is in "Hồ sơ của tôi" and can no longer be edited.
    page = page_text(citizen_client.get(reverse("dossiers:my_dossiers")))
    assert "Đăng ký kinh doanh hộ cá thể" in page and "Chưa có mã" in page and "Chờ tiếp nhận" in page
    response = citizen_client.get(url("section", dossier, 1))
    assert response.status_code == 302 and response["Location"] == url("detail", dossier)


def test_answers_are_kept_as_a_draft_between_visits(citizen_client, world):
    dossier = start_draft(citizen_client, world)
    response = citizen_client.post(
        url("section", dossier, 1), {"ten_ho_kinh_doanh": "Quán phở Gia Viễn", "action": "save_exit"}
    )
    assert response["Location"] == reverse("dossiers:my_dossiers")
    assert 'value="Quán phở Gia Viễn"' in page_text(citizen_client.get(url("section", dossier, 1)))


def test_a_change_from_the_check_page_returns_to_it(citizen_client, world):
    dossier = start_draft(citizen_client, world)
    page = page_text(citizen_client.get(url("section", dossier, 1) + "?from=review"))
    assert 'name="return_to" value="review"' in page
    response = citizen_client.post(url("section", dossier, 1), {"ten_ho_kinh_doanh": "Mới", "return_to": "review"})
    assert response["Location"] == url("review", dossier)
    response = citizen_client.post(url("section", dossier, 1), {"ten_ho_kinh_doanh": "Mới", "return_to": "//evil"})
    assert response["Location"] == url("documents", dossier)


def test_one_page_per_section_in_the_order_of_the_form(citizen_client, world):
    FormFieldFactory(
        procedure=world.procedure, code="dia_diem", label="Địa điểm kinh doanh", section="Địa điểm", order=5
    )
    FormFieldFactory(
        procedure=world.procedure, code="ngay_bat_dau", label="Ngày bắt đầu", kind=FieldKind.DATE, section="Địa điểm",
        order=6,
    )  # fmt: skip
    dossier = start_draft(citizen_client, world)
    page = page_text(citizen_client.get(url("section", dossier, 2)))
    assert "Bước 3/6" in page and "Địa điểm kinh doanh" in page and "Tên hộ kinh doanh" not in page
    # Typed dd/mm/yyyy, said next to the field (issue 11, point 5): no browser picker in mm/dd/yyyy.
    assert 'inputmode="numeric"' in page and 'placeholder="dd/mm/yyyy"' in page and 'type="date"' not in page
    assert "ví dụ 20/11/2026" in page
    response = citizen_client.post(
        url("section", dossier, 2), {"dia_diem": "Phố cổ Hoa Lư", "ngay_bat_dau": "05/03/2026"}
    )
    assert response["Location"] == url("documents", dossier)
    dossier.refresh_from_db()
    assert dossier.answers["ngay_bat_dau"] == "2026-03-05"
    assert 'value="05/03/2026"' in page_text(citizen_client.get(url("section", dossier, 2)))
    assert "05/03/2026" in page_text(citizen_client.get(url("review", dossier)))
    assert citizen_client.get(url("section", dossier, 3)).status_code == 404


# --- bad input: a Vietnamese message, nothing changed ------------------------------------------


def test_a_cccd_with_letters_is_refused_next_to_the_field_and_nothing_is_saved(citizen_client, world):
    FormFieldFactory(
        procedure=world.procedure, code="cccd_chu_ho", label="Số định danh của chủ hộ", kind=FieldKind.CCCD
    )
    dossier = start_draft(citizen_client, world)
    version = Dossier.objects.get(pk=dossier.pk).version
    before = counts()

    response = citizen_client.post(
        url("section", dossier, 1), {"ten_ho_kinh_doanh": "Tạp hóa", "cccd_chu_ho": "03709000123A"}
    )
    page = page_text(response)
    assert response.status_code == 200
    assert "Số định danh cá nhân phải gồm đúng 12 chữ số." in page
    # The summary at the top links to the field; the field points at its message.
    assert 'id="error-summary"' in page and 'href="#id_cccd_chu_ho"' in page
    assert 'aria-describedby="id_cccd_chu_ho_error"' in page and 'aria-invalid="true"' in page
    assert 'id="id_cccd_chu_ho_error"' in page
    dossier.refresh_from_db()
    assert dossier.answers == {} and dossier.version == version
    assert counts() == before


def test_an_invalid_applicant_id_number_is_refused(citizen_client, world):
    dossier = start_draft(citizen_client, world)
    before = Dossier.objects.get(pk=dossier.pk)
    response = citizen_client.post(
        url("applicant", dossier), {"applicant_name": "Lê Văn Công", "applicant_id_number": "abc"}
    )
    assert "Số định danh cá nhân phải gồm đúng 12 chữ số." in page_text(response)
    after = Dossier.objects.get(pk=dossier.pk)
    assert (after.applicant_id_number, after.version) == (before.applicant_id_number, before.version)


def test_an_html_file_named_pdf_is_refused_and_nothing_is_stored(citizen_client, world, settings):
    dossier = start_draft(citizen_client, world)
    before, files_before = counts(), stored_files(settings)
    upload = SimpleUploadedFile("x.pdf", HTML_BYTES, content_type="application/pdf")

    response = citizen_client.post(url("upload", dossier), {"requirement": "1", "file": upload})
    page = page_text(response)
    assert response.status_code == 200
    assert "Tệp \u201cx.pdf\u201d không phải định dạng được chấp nhận (PDF, JPG, PNG)" in page
    # Next to the upload field of that document, linked from the summary at the top.
    assert 'id="id_doc1_file_error"' in page and 'href="#id_doc1_file"' in page
    assert counts() == before
    assert stored_files(settings) == files_before


def test_a_file_one_byte_over_the_limit_is_refused_and_nothing_is_stored(citizen_client, world, settings):
    RequiredDocumentFactory(
        procedure=world.procedure, name="Bản vẽ mặt bằng", order=2, max_size_mb=1, is_mandatory=False
    )
    dossier = start_draft(citizen_client, world)
    before, files_before = counts(), stored_files(settings)
    data = builders.PDF_BYTES + b"0" * (1024 * 1024 + 1 - len(builders.PDF_BYTES))
    assert len(data) == 1024 * 1024 + 1

    response = citizen_client.post(
        url("upload", dossier), {"requirement": "2", "file": builders.pdf_upload("ban-ve.pdf", data)}
    )
    page = page_text(response)
    assert "Tệp \u201cban-ve.pdf\u201d quá lớn" in page and "tối đa 1 MB" in page
    assert 'id="id_doc2_file_error"' in page
    assert counts() == before
    assert stored_files(settings) == files_before


def test_an_upload_without_a_file_says_so(citizen_client, world):
    dossier = start_draft(citizen_client, world)
    before = counts()
    response = citizen_client.post(url("upload", dossier), {"requirement": "1"})
    assert response.status_code == 200
    assert 'id="id_doc1_file_error"' in page_text(response)
    assert counts() == before


def test_submitting_without_a_mandatory_document_is_refused_with_links_to_fix_it(citizen_client, world):
    dossier = start_draft(citizen_client, world)
    citizen_client.post(url("section", dossier, 1), {"ten_ho_kinh_doanh": "Tạp hóa"})
    dossier.refresh_from_db()
    page = page_text(citizen_client.get(url("review", dossier)))
    assert "Thiếu giấy tờ bắt buộc: Giấy đề nghị đăng ký hộ kinh doanh" in page
    assert f'href="{url("documents", dossier)}#doc-1"' in page
    before = counts()

    response = citizen_client.post(url("submit", dossier), {"version": dossier.version})
    page = page_text(response)
    assert response.status_code == 200
    assert "Hồ sơ chưa đủ để nộp" in page
    assert "Thiếu giấy tờ bắt buộc: Giấy đề nghị đăng ký hộ kinh doanh" in page
    assert Dossier.objects.get(pk=dossier.pk).state == DossierState.DRAFT
    assert counts() == before


def test_a_stale_double_submission_submits_once_and_says_so(citizen_client, world):
    dossier = builders.draft(world)
    version = dossier.version

    first = citizen_client.post(url("submit", dossier), {"version": version})
    assert first["Location"] == url("submitted", dossier)
    after_first = counts()

    second = citizen_client.post(url("submit", dossier), {"version": version}, follow=True)
    assert second.redirect_chain[-1][0] == url("detail", dossier)
    assert any("đã được nộp lúc" in m and "không được thực hiện" in m for m in messages_of(second))
    assert counts() == after_first
    assert DossierEvent.objects.filter(dossier=dossier, action=Action.SUBMIT).count() == 1
    assert Dossier.objects.get(pk=dossier.pk).state == DossierState.SUBMITTED


def test_a_submission_of_a_draft_changed_since_the_check_page_is_refused(citizen_client, world):
    dossier = builders.draft(world)
    stale = dossier.version
    services.dossier_save_answers(dossier=dossier, user=world.citizen, answers={"ten_ho_kinh_doanh": "Tên mới"})
    before = counts()
    response = citizen_client.post(url("submit", dossier), {"version": stale}, follow=True)
    assert response.redirect_chain[-1][0] == url("review", dossier)
    assert any("Hồ sơ đã thay đổi sau khi bạn mở trang kiểm tra" in m for m in messages_of(response))
    assert Dossier.objects.get(pk=dossier.pk).state == DossierState.DRAFT
    assert counts() == before


def test_a_submission_without_a_version_changes_nothing(citizen_client, world):
    dossier = builders.draft(world)
    before = counts()
    response = citizen_client.post(url("submit", dossier), {}, follow=True)
    assert any("Trang đã cũ" in m for m in messages_of(response))
    assert Dossier.objects.get(pk=dossier.pk).state == DossierState.DRAFT
    assert counts() == before


# --- delivery ---------------------------------------------------------------------------------


def test_postal_delivery_needs_an_address_and_is_hidden_without_a_postal_channel(citizen_client, world):
    dossier = start_draft(citizen_client, world)
    response = citizen_client.post(url("delivery", dossier), {"channel_out": "postal", "postal_address": "ngắn"})
    assert "Vui lòng nhập đầy đủ địa chỉ nhận kết quả qua bưu chính." in page_text(response)
    assert Dossier.objects.get(pk=dossier.pk).channel_out == "download"
    citizen_client.post(
        url("delivery", dossier), {"channel_out": "postal", "postal_address": "Số 5 Trần Hưng Đạo, phường Hoa Lư"}
    )
    assert Dossier.objects.get(pk=dossier.pk).postal_address == "Số 5 Trần Hưng Đạo, phường Hoa Lư"

    world.procedure.channel_postal = False
    world.procedure.save()
    page = page_text(citizen_client.get(url("delivery", dossier)))
    assert 'value="postal"' not in page and "postal_address" not in page
    response = citizen_client.post(url("delivery", dossier), {"channel_out": "postal", "postal_address": "x" * 20})
    assert response.status_code == 200 and 'id="error-summary"' in page_text(response)


# --- documents: several files, removal, reuse -------------------------------------------------


def test_several_files_per_document_and_removal(citizen_client, world):
    dossier = start_draft(citizen_client, world)
    for name in ("trang-1.pdf", "trang-2.png"):
        data = builders.PNG_BYTES if name.endswith(".png") else builders.PDF_BYTES
        citizen_client.post(url("upload", dossier), {"requirement": "1", "file": SimpleUploadedFile(name, data)})
    files = list(DossierFile.objects.filter(dossier=dossier).order_by("id"))
    assert [f.original_name for f in files] == ["trang-1.pdf", "trang-2.png"]
    page = page_text(citizen_client.get(url("documents", dossier)))
    assert url("remove_file", dossier, files[0].public_id) in page

    response = citizen_client.post(url("remove_file", dossier, files[0].public_id))
    assert response["Location"] == url("documents", dossier) + "#doc-1"
    assert list(DossierFile.objects.filter(dossier=dossier)) == [files[1]]


def test_a_document_from_an_earlier_dossier_can_be_reused(citizen_client, world):
    earlier = builders.submitted(world)
    earlier_file = earlier.files.get()
    dossier = start_draft(citizen_client, world)
    page = page_text(citizen_client.get(url("documents", dossier)))
    assert "Dùng lại giấy tờ đã nộp" in page and str(earlier_file.public_id) in page

    response = citizen_client.post(url("reuse", dossier), {"requirement": "1", "source": str(earlier_file.public_id)})
    assert response["Location"] == url("documents", dossier) + "#doc-1"
    reused = DossierFile.objects.get(dossier=dossier)
    assert (reused.original_name, reused.sha256, reused.requirement_id) == ("to-khai.pdf", earlier_file.sha256, 1)


def test_someone_elses_file_cannot_be_reused(citizen_client, world, caplog):
    stranger = UserFactory(full_name="Người Lạ")
    theirs = services.dossier_create_draft(procedure=world.procedure, agency=world.agency, owner=stranger)
    their_file = services.dossier_attach_file(
        dossier=theirs, user=stranger, requirement_id=1, upload=builders.pdf_upload()
    )
    dossier = start_draft(citizen_client, world)
    assert str(their_file.public_id) not in page_text(citizen_client.get(url("documents", dossier)))
    before = counts()
    with caplog.at_level(logging.WARNING, logger="dossiers.access"):
        response = citizen_client.post(
            url("reuse", dossier), {"requirement": "1", "source": str(their_file.public_id)}, follow=True
        )
    assert any("Không tìm thấy giấy tờ này" in m for m in messages_of(response))
    assert counts() == before
    assert any("access.refused" in r.getMessage() for r in caplog.records)


def test_an_unapproved_result_of_an_earlier_dossier_is_not_offered_for_reuse(citizen_client, world):
    earlier = builders.awaiting_approval(world)
    draft_result = earlier.files.get(kind=FileKind.RESULT)
    dossier = start_draft(citizen_client, world)
    assert str(draft_result.public_id) not in page_text(citizen_client.get(url("documents", dossier)))
    before = counts()
    citizen_client.post(url("reuse", dossier), {"requirement": "1", "source": str(draft_result.public_id)})
    assert counts() == before


# --- following a dossier ----------------------------------------------------------------------


def test_my_dossiers_lists_code_state_and_due_date_twenty_a_page(citizen_client, world):
    received = builders.received(world)
    for _ in range(20):
        services.dossier_create_draft(procedure=world.procedure, agency=world.agency, owner=world.citizen)
    page = page_text(citizen_client.get(reverse("dossiers:my_dossiers")))
    assert page.count('class="card"') == 20
    assert "Trang 1/2" in page and "?page=2" in page
    page = page_text(citizen_client.get(reverse("dossiers:my_dossiers"), {"page": 2}))
    assert received.code in page
    assert "Đã tiếp nhận" in page
    assert "Hồ sơ đã được tiếp nhận và đang được chuyển đến cán bộ xử lý." in page
    from django.utils import timezone

    # One format everywhere (issue 11, point 4): HH:MM dd/mm/yyyy.
    assert timezone.localtime(received.current_due_at).strftime("%H:%M %d/%m/%Y") in page


def test_the_detail_page_shows_status_dates_steps_events_and_official_forms(citizen_client, world):
    dossier = builders.in_processing(world)
    receipt = dossier.files.get(kind=FileKind.FORM)
    page = page_text(citizen_client.get(url("detail", dossier)))
    assert dossier.code in page
    assert "Đang xử lý" in page and "Hồ sơ đang được cán bộ chuyên môn thẩm định, giải quyết." in page
    assert "Tiếp nhận" in page and "Thẩm định" in page and "Chuyên Viên" in page
    assert "Tiếp nhận hồ sơ" in page and "Phân công xử lý" in page and "Cán bộ Một Cửa" in page
    assert url("file", None, receipt.public_id) in page
    assert "Mẫu 01" in page
    assert "Rút hồ sơ" not in page  # received: only the one-stop shop can stop it now


def test_a_submitted_dossier_can_be_withdrawn_once(citizen_client, world):
    dossier = builders.submitted(world)
    page = page_text(citizen_client.get(url("detail", dossier)))
    assert "Xác nhận rút hồ sơ" in page
    response = citizen_client.post(
        url("withdraw", dossier), {"version": dossier.version, "reason": "Nộp nhầm"}, follow=True
    )
    assert any("Đã rút hồ sơ." in m for m in messages_of(response))
    assert Dossier.objects.get(pk=dossier.pk).state == DossierState.WITHDRAWN
    before = counts()
    response = citizen_client.post(url("withdraw", dossier), {"version": dossier.version}, follow=True)
    assert messages_of(response) and counts() == before


def test_a_supplement_request_is_answered_on_the_dossier_page(citizen_client, world):
    dossier = services.dossier_request_supplement(
        dossier=builders.submitted(world), officer=world.reception, items=["Bản sao sổ hộ khẩu"], reason="Thiếu giấy tờ"
    )
    page = page_text(citizen_client.get(url("detail", dossier)))
    assert "Bổ sung hồ sơ" in page and "Bản sao sổ hộ khẩu" in page and "Gửi bổ sung" in page
    original = dossier.files.get(kind=FileKind.SUBMITTED)
    assert url("remove_file", dossier, original.public_id) not in page  # what was filed stays

    # Sending nothing is refused.
    before = counts()
    response = citizen_client.post(url("supplement", dossier), {"version": Dossier.objects.get(pk=dossier.pk).version})
    assert "Vui lòng tải lên giấy tờ bổ sung hoặc ghi nội dung giải trình." in page_text(response)
    assert counts() == before

    # An invalid file is shown next to its field on the dossier page.
    response = citizen_client.post(
        url("upload", dossier), {"requirement": "1", "file": SimpleUploadedFile("y.pdf", HTML_BYTES)}
    )
    assert "không phải định dạng được chấp nhận" in page_text(response) and 'id="id_doc1_file_error"' in page_text(
        response
    )
    assert counts() == before

    response = citizen_client.post(
        url("upload", dossier), {"requirement": "1", "file": builders.pdf_upload("bo-sung.pdf")}
    )
    assert response["Location"] == url("detail", dossier) + "#bo-sung"
    new_file = DossierFile.objects.get(dossier=dossier, kind=FileKind.SUPPLEMENT)
    version = Dossier.objects.get(pk=dossier.pk).version
    response = citizen_client.post(url("supplement", dossier), {"version": version, "note": "Đã bổ sung"}, follow=True)
    assert any("Đã gửi bổ sung hồ sơ" in m for m in messages_of(response))
    dossier.refresh_from_db()
    assert dossier.state == DossierState.SUBMITTED
    assert DossierEvent.objects.get(dossier=dossier, action=Action.SUPPLEMENT).attachments.get() == new_file


def test_the_first_download_of_an_electronic_result_returns_it_once(citizen_client, world):
    dossier = builders.result_ready(world)
    result = dossier.files.get(kind=FileKind.RESULT, is_current=True)
    page = page_text(citizen_client.get(url("detail", dossier)))
    assert url("file", None, result.public_id) in page

    for _ in range(2):
        response = citizen_client.get(url("file", None, result.public_id))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == builders.PDF_BYTES
    dossier.refresh_from_db()
    assert dossier.state == DossierState.RETURNED
    assert DossierEvent.objects.filter(dossier=dossier, action=Action.RETURN_RESULT).count() == 1


def test_a_result_to_be_collected_at_the_counter_is_not_returned_by_a_download(citizen_client, world):
    dossier = builders.draft(world)
    services.dossier_set_delivery(dossier=dossier, user=world.citizen, channel_out="counter")
    dossier = services.dossier_submit(dossier=dossier, user=world.citizen)
    dossier = services.dossier_receive(dossier=dossier, officer=world.reception)
    dossier = services.dossier_assign(dossier=dossier, actor=world.leader, assignee=world.specialist)
    dossier = services.dossier_submit_for_approval(
        dossier=dossier, officer=world.specialist, result_upload=builders.pdf_upload("ket-qua.pdf")
    )
    dossier = services.dossier_approve(dossier=dossier, officer=world.leader)
    result = dossier.files.get(kind=FileKind.RESULT, is_current=True)
    assert citizen_client.get(url("file", None, result.public_id)).status_code == 200
    assert Dossier.objects.get(pk=dossier.pk).state == DossierState.RESULT_READY


def test_files_are_served_as_never_cached_attachments_with_their_stored_type_and_name(citizen_client, world):
    dossier = builders.draft(world)
    file = dossier.files.get()
    response = citizen_client.get(url("file", None, file.public_id))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="to-khai.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_an_officer_of_the_agency_may_download_the_file_once_submitted(client, world):
    dossier = builders.submitted(world)
    client.force_login(world.reception)
    assert client.get(url("file", None, dossier.files.get().public_id)).status_code == 200


def test_a_returned_dossier_is_rated_once(citizen_client, world):
    dossier = builders.returned(world)
    page = page_text(citizen_client.get(url("detail", dossier)))
    assert (
        "Đánh giá mức độ hài lòng" in page and page.count("<fieldset") >= 5 and "Thái độ của cán bộ, công chức" in page
    )

    before = counts()
    response = citizen_client.post(url("rate", dossier), {"score_time": "2"})
    assert response.status_code == 200 and 'id="error-summary"' in page_text(response)
    assert counts() == before

    scores = {
        "score_time": "2",
        "score_contacts": "2",
        "score_information": "1",
        "score_attitude": "2",
        "score_online": "0",
    }
    response = citizen_client.post(url("rate", dossier), {**scores, "comment": "Nhanh"}, follow=True)
    assert any("Cảm ơn bạn đã đánh giá." in m for m in messages_of(response))
    rating = DossierRating.objects.get(dossier=dossier)
    assert rating.scores == {"time": 2, "contacts": 2, "information": 1, "attitude": 2, "online": 0}
    after = counts()
    response = citizen_client.post(url("rate", dossier), scores, follow=True)
    assert any("Hồ sơ này đã được đánh giá." in m for m in messages_of(response))
    assert counts() == after
    assert "Đánh giá của bạn" in page_text(citizen_client.get(url("detail", dossier)))


# --- access control and caching ---------------------------------------------------------------


def test_another_citizen_gets_404_everywhere_and_each_refusal_is_logged(client, world, caplog, settings):
    dossier = services.dossier_request_supplement(
        dossier=builders.submitted(world), officer=world.reception, items=["Bản sao"], reason="Thiếu"
    )
    draft = builders.draft(world)
    file = dossier.files.get(kind=FileKind.SUBMITTED)
    other = UserFactory(full_name="Người Khác")
    client.force_login(other)
    before, files_before = counts(), stored_files(settings)
    pdf = builders.PDF_BYTES

    requests = [
        ("get", url("detail", dossier), {}),
        ("get", url("file", None, file.public_id), {}),
        ("get", url("applicant", draft), {}),
        ("get", url("section", draft, 1), {}),
        ("get", url("documents", draft), {}),
        ("get", url("delivery", draft), {}),
        ("get", url("review", draft), {}),
        ("get", url("submitted", dossier), {}),
        ("post", url("applicant", draft), {"applicant_name": "X", "applicant_id_number": "037090001234"}),
        ("post", url("section", draft, 1), {"ten_ho_kinh_doanh": "X"}),
        ("post", url("upload", draft), {"requirement": "1", "file": SimpleUploadedFile("a.pdf", pdf)}),
        ("post", url("upload", dossier), {"requirement": "1", "file": SimpleUploadedFile("a.pdf", pdf)}),
        ("post", url("reuse", draft), {"requirement": "1", "source": str(file.public_id)}),
        ("post", url("remove_file", draft, draft.files.get().public_id), {}),
        ("post", url("delivery", draft), {"channel_out": "counter"}),
        ("post", url("submit", draft), {"version": draft.version}),
        ("post", url("withdraw", dossier), {"version": dossier.version}),
        ("post", url("supplement", dossier), {"version": dossier.version, "note": "X"}),
        ("post", url("rate", dossier), {"score_time": "2"}),
    ]
    for method, target, data in requests:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="dossiers"):
            response = getattr(client, method)(target, data)
        assert response.status_code == 404, (method, target)
        assert any("access.refused" in r.getMessage() for r in caplog.records), (method, target)
        assert f"user={other.pk}" in " ".join(r.getMessage() for r in caplog.records)
    assert counts() == before
    assert stored_files(settings) == files_before
    assert Dossier.objects.get(pk=draft.pk).answers == {"ten_ho_kinh_doanh": "Tạp hóa An"}


def test_every_page_requires_login(client, world):
    dossier = builders.draft(world)
    for target in (
        reverse("dossiers:my_dossiers"),
        url("detail", dossier),
        url("applicant", dossier),
        url("review", dossier),
        url("file", None, dossier.files.get().public_id),
    ):
        response = client.get(target)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")), target


def test_pages_with_personal_data_are_never_cached(citizen_client, world):
    dossier = builders.draft(world)
    for target in (
        reverse("dossiers:my_dossiers"),
        reverse("dossiers:start", args=[world.procedure.national_code]),
        url("detail", dossier),
        url("applicant", dossier),
        url("section", dossier, 1),
        url("documents", dossier),
        url("delivery", dossier),
        url("review", dossier),
    ):
        response = citizen_client.get(target)
        assert response.status_code == 200, target
        assert "no-store" in response["Cache-Control"], target


def test_actions_refuse_get_and_need_a_csrf_token(world):
    from django.test import Client

    dossier = builders.draft(world)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.citizen)
    assert client.get(url("submit", dossier)).status_code == 405
    assert client.post(url("submit", dossier), {"version": dossier.version}).status_code == 403
    assert Dossier.objects.get(pk=dossier.pk).state == DossierState.DRAFT


def test_a_procedure_with_a_fee_condition_shows_the_fee_that_applies(citizen_client, world):
    FormFieldFactory(
        procedure=world.procedure, code="loai", label="Loại", kind=FieldKind.CHOICE, choices="Mới \nCấp lại", order=2
    )
    FeeItemFactory(
        procedure=world.procedure,
        name="Lệ phí cấp mới",
        amount=Decimal("100000"),
        condition_field="loai",
        condition_value="Mới",
    )
    procedure_publish_version(procedure=world.procedure)
    dossier = start_draft(citizen_client, world)
    citizen_client.post(url("section", dossier, 1), {"ten_ho_kinh_doanh": "A", "loai": "Mới"})
    assert Dossier.objects.get(pk=dossier.pk).answers["loai"] == "Mới"
    assert "100.000 đồng" in page_text(citizen_client.get(url("review", dossier)))


def test_help_text_from_the_catalogue_is_shown_as_text_not_html(citizen_client, world):
    FormFieldFactory(
        procedure=world.procedure,
        code="ghi_chu",
        label="Ghi chú",
        required=False,
        help_text="<script>alert(1)</script>",
    )
    dossier = start_draft(citizen_client, world)
    page = page_text(citizen_client.get(url("section", dossier, 1)))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Ghi chú (không bắt buộc)" in page


def test_a_second_click_on_submit_online_shows_the_existing_draft_instead_of_creating_another(client):
    """From the procedure page, a citizen with a draft sees it first; only the start page's button creates more."""
    from dossiers.models import Dossier
    from tests.dossiers import builders

    world = builders.make_world()
    client.force_login(world.citizen)
    url = f"/nop-ho-so/{world.procedure.national_code}/"
    first = client.post(url)
    assert first.status_code == 302
    assert Dossier.objects.filter(owner=world.citizen).count() == 1
    second = client.post(url)
    assert second.status_code == 200
    assert "Bạn có hồ sơ nháp của thủ tục này" in second.content.decode()
    assert Dossier.objects.filter(owner=world.citizen).count() == 1
    confirmed = client.post(url, {"confirm": "1"})
    assert confirmed.status_code == 302
    assert Dossier.objects.filter(owner=world.citizen).count() == 2
