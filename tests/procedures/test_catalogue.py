"""The public catalogue of procedures: search with or without diacritics, filters, detail page, API."""

from decimal import Decimal

import pytest
from django.urls import reverse

from procedures.constants import AgencyKind, FeeKind, ServiceLevel
from tests.factories import (
    AgencyFactory,
    FeeItemFactory,
    FieldFactory,
    ProcedureFactory,
    RequiredDocumentFactory,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("procedures:list")


def detail_url(code: str) -> str:
    return reverse("procedures:detail", args=[code])


def codes(response) -> list[str]:
    return [p.national_code for p in response.context["page"].object_list]


@pytest.fixture
def catalogue():
    """Two provinces; procedures of a commune, of a department and of the other province's commune."""
    ninh_binh = AgencyFactory(name="UBND tỉnh Ninh Bình", kind=AgencyKind.PROVINCE, identifier="H37")
    justice = AgencyFactory(
        name="Sở Tư pháp Ninh Bình", kind=AgencyKind.DEPARTMENT, identifier="000.00.12.H37", parent=ninh_binh
    )
    gia_vien = AgencyFactory(
        name="UBND xã Gia Viễn", identifier="000.21.12.H37", parent=justice, address="Thôn Đông, xã Gia Viễn"
    )
    thanh_hoa = AgencyFactory(name="UBND tỉnh Thanh Hóa", kind=AgencyKind.PROVINCE, identifier="H56")
    quang_phu = AgencyFactory(name="UBND xã Quảng Phú", identifier="000.00.12.H56", parent=thanh_hoa)
    closed = AgencyFactory(name="UBND xã Đã Sáp Nhập", identifier="000.99.12.H37", parent=justice, is_active=False)
    civil = FieldFactory(code="HT", name="Hộ tịch")
    residence = FieldFactory(code="CT", name="Cư trú")

    birth = ProcedureFactory(
        national_code="1.001193",
        name="Thủ tục đăng ký khai sinh",
        field=civil,
        level=ServiceLevel.FULL,
        processing_days=Decimal("2.5"),
        legal_basis="Luật Hộ tịch số 60/2014/QH13, Điều 16",
        result_type="Giấy khai sinh",
        agencies=[gia_vien, quang_phu, closed],
    )
    RequiredDocumentFactory(procedure=birth, name="Tờ khai đăng ký khai sinh", order=1)
    RequiredDocumentFactory(procedure=birth, name="Giấy chứng sinh", order=2, original_count=1, copy_count=2)
    FeeItemFactory(procedure=birth, name="Lệ phí đăng ký quá hạn", amount=50000)
    FeeItemFactory(procedure=birth, name="Lệ phí đúng hạn", amount=0)
    FeeItemFactory(
        procedure=birth,
        kind=FeeKind.FEE,
        name="Phí cấp bản sao",
        amount=8000,
        condition_field="ban_sao",
        condition_value="Có",
    )
    ProcedureFactory(
        national_code="1.000656",
        name="Thủ tục đăng ký khai tử",
        field=civil,
        level=ServiceLevel.PARTIAL,
        agencies=[quang_phu],
    )
    ProcedureFactory(national_code="1.004222", name="Đăng ký thường trú", field=residence, agencies=[justice])
    ProcedureFactory(
        national_code="2.000986",
        name="Liên thông đăng ký khai sinh, thường trú, cấp thẻ BHYT",
        field=civil,
        agencies=[gia_vien],
        is_published=False,
    )
    return {
        "ninh_binh": ninh_binh,
        "justice": justice,
        "gia_vien": gia_vien,
        "thanh_hoa": thanh_hoa,
        "civil": civil,
        "residence": residence,
    }


# --- search ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["dang ky khai sinh", "Đăng ký khai sinh", "ĐĂNG KÝ KHAI SINH", "  khai   sinh ", "1.001193", "giay khai sinh"],
)
def test_search_finds_a_procedure_with_or_without_diacritics_or_by_code(client, catalogue, query):
    response = client.get(LIST_URL, {"q": query})
    assert response.status_code == 200
    assert codes(response) == ["1.001193"]
    assert "Thủ tục đăng ký khai sinh" in response.text


def test_search_needs_every_word(client, catalogue):
    response = client.get(LIST_URL, {"q": "dang ky"})
    assert codes(response) == ["1.000656", "1.001193", "1.004222"]
    assert "Tìm thấy 3 thủ tục" in response.text


def test_a_search_without_results_says_so(client, catalogue):
    response = client.get(LIST_URL, {"q": "giay phep lai xe"})
    assert codes(response) == []
    assert "Không tìm thấy thủ tục phù hợp" in response.text


def test_the_search_box_keeps_the_query(client, catalogue):
    response = client.get(LIST_URL, {"q": "khai sinh"})
    assert 'value="khai sinh"' in response.text


# --- filters --------------------------------------------------------------------------------------


def test_an_agency_filter_includes_the_units_below_it(client, catalogue):
    response = client.get(LIST_URL, {"agency": catalogue["ninh_binh"].pk})
    assert codes(response) == ["1.001193", "1.004222"]


def test_a_procedure_of_several_units_in_the_subtree_is_listed_once(client, catalogue):
    ProcedureFactory(national_code="1.000001", agencies=[catalogue["justice"], catalogue["gia_vien"]])
    response = client.get(LIST_URL, {"agency": catalogue["ninh_binh"].pk})
    assert codes(response) == ["1.000001", "1.001193", "1.004222"]
    assert "Tìm thấy 3 thủ tục" in response.text


def test_an_agency_filter_on_a_commune_lists_only_its_procedures(client, catalogue):
    assert codes(client.get(LIST_URL, {"agency": catalogue["gia_vien"].pk})) == ["1.001193"]
    assert codes(client.get(LIST_URL, {"agency": catalogue["thanh_hoa"].pk})) == ["1.000656", "1.001193"]


def test_the_field_filter(client, catalogue):
    assert codes(client.get(LIST_URL, {"field": catalogue["residence"].pk})) == ["1.004222"]
    assert codes(client.get(LIST_URL, {"field": catalogue["civil"].pk})) == ["1.000656", "1.001193"]


def test_the_level_filter(client, catalogue):
    assert codes(client.get(LIST_URL, {"level": ServiceLevel.PARTIAL})) == ["1.000656"]


def test_filters_combine(client, catalogue):
    response = client.get(LIST_URL, {"q": "dang ky", "field": catalogue["civil"].pk, "agency": catalogue["justice"].pk})
    assert codes(response) == ["1.001193"]


@pytest.mark.parametrize(
    "params", [{"agency": "999999"}, {"agency": "abc"}, {"field": "khong-co"}, {"level": "muc_do_4"}]
)
def test_an_invalid_filter_value_shows_an_error_instead_of_failing(client, catalogue, params):
    response = client.get(LIST_URL, params)
    assert response.status_code == 200
    assert response.context["filter"].errors
    assert '<p class="error">' in response.text
    assert codes(response) == []


def test_an_inactive_agency_is_not_offered_as_a_filter(client, catalogue):
    response = client.get(LIST_URL)
    assert "UBND xã Đã Sáp Nhập" not in response.text
    assert "UBND xã Gia Viễn" in response.text


# --- pagination -----------------------------------------------------------------------------------


def test_twenty_five_procedures_make_two_pages_and_keep_the_query(client):
    ProcedureFactory.create_batch(25, name="Thủ tục cấp phép số")
    ProcedureFactory(name="Thủ tục khác")

    first = client.get(LIST_URL, {"q": "cap phep"})
    second = client.get(LIST_URL, {"q": "cap phep", "page": 2})

    assert len(first.context["page"].object_list) == 20
    assert len(second.context["page"].object_list) == 5
    assert set(codes(first)).isdisjoint(codes(second))
    assert "Tìm thấy 25 thủ tục" in second.text
    assert 'href="?q=cap+phep&amp;page=2"' in first.text
    assert 'href="?q=cap+phep&amp;page=1"' in second.text
    assert "Trang 2/2" in second.text


@pytest.mark.parametrize("page", ["99", "abc", "-1"])
def test_an_out_of_range_page_number_shows_a_page(client, page):
    ProcedureFactory.create_batch(21)
    assert client.get(LIST_URL, {"page": page}).status_code == 200


# --- publication ----------------------------------------------------------------------------------


def test_unpublished_procedures_are_not_listed(client, catalogue):
    assert "2.000986" not in codes(client.get(LIST_URL))
    assert codes(client.get(LIST_URL, {"q": "lien thong"})) == []


def test_an_unpublished_procedure_has_no_public_page(client, catalogue):
    assert client.get(detail_url("2.000986")).status_code == 404
    assert client.get("/api/procedures/2.000986/").status_code == 404


def test_an_unknown_code_has_no_page(client, catalogue):
    assert client.get(detail_url("9.999999")).status_code == 404


# --- the detail page ------------------------------------------------------------------------------


def test_the_detail_page_shows_what_a_citizen_needs(client, catalogue):
    response = client.get(detail_url("1.001193"))
    text = response.text
    assert response.status_code == 200
    assert "Thủ tục đăng ký khai sinh" in text
    assert "Tờ khai đăng ký khai sinh" in text
    assert "Giấy chứng sinh" in text
    assert "50.000 đồng" in text
    assert "8.000 đồng" in text
    assert "Miễn phí" in text
    assert "áp dụng khi" in text
    assert "2,5 ngày làm việc" in text
    assert "Luật Hộ tịch số 60/2014/QH13, Điều 16" in text
    assert "UBND xã Gia Viễn" in text
    assert "Thôn Đông, xã Gia Viễn" in text
    assert "UBND xã Quảng Phú" in text
    assert "Hộ tịch" in text


def test_the_detail_page_does_not_list_inactive_agencies(client, catalogue):
    assert "UBND xã Đã Sáp Nhập" not in client.get(detail_url("1.001193")).text


def test_documents_are_listed_in_their_order(client, catalogue):
    text = client.get(detail_url("1.001193")).text
    assert text.index("Tờ khai đăng ký khai sinh") < text.index("Giấy chứng sinh")


def test_a_procedure_without_fees_says_so(client, catalogue):
    assert "Không thu phí, lệ phí." in client.get(detail_url("1.004222")).text


def test_a_local_variant_code_has_a_page(client):
    ProcedureFactory(national_code="2.000815.000.00.00.H55", name="Thủ tục của Thái Nguyên")
    assert client.get(detail_url("2.000815.000.00.00.H55")).status_code == 200
    assert client.get("/api/procedures/2.000815.000.00.00.H55/").json()["name"] == "Thủ tục của Thái Nguyên"


# --- the API --------------------------------------------------------------------------------------


def test_the_api_searches_without_diacritics(client, catalogue):
    response = client.get("/api/procedures/", {"q": "dang ky khai sinh"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"][0]["national_code"] == "1.001193"
    assert body["results"][0]["name"] == "Thủ tục đăng ký khai sinh"
    assert body["results"][0]["field"] == "Hộ tịch"


def test_the_api_filters_by_agency_subtree_and_hides_unpublished(client, catalogue):
    body = client.get("/api/procedures/", {"agency": catalogue["ninh_binh"].pk}).json()
    assert [p["national_code"] for p in body["results"]] == ["1.001193", "1.004222"]


def test_the_api_refuses_an_invalid_filter(client, catalogue):
    assert client.get("/api/procedures/", {"level": "muc_do_4"}).status_code == 400


def test_the_api_detail_has_documents_fees_and_agencies(client, catalogue):
    response = client.get("/api/procedures/1.001193/")
    assert response.status_code == 200
    body = response.json()
    assert body["national_code"] == "1.001193"
    assert Decimal(body["processing_days"]) == Decimal("2.5")
    assert [d["name"] for d in body["documents"]] == ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"]
    assert sorted(f["amount"] for f in body["fees"]) == [0, 8000, 50000]
    assert {a["identifier"] for a in body["agencies"]} == {"000.21.12.H37", "000.00.12.H56"}
    assert body["legal_basis"] == "Luật Hộ tịch số 60/2014/QH13, Điều 16"


def test_the_api_is_read_only_for_the_public(client, catalogue):
    assert client.post("/api/procedures/", {"national_code": "1.000001"}).status_code in (401, 403)


def test_the_openapi_schema_describes_the_catalogue(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/procedures/" in schema["paths"]
    assert "/api/procedures/{national_code}/" in schema["paths"]


def test_the_api_documentation_page_answers(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()


# --- languages ------------------------------------------------------------------------------------


def test_the_catalogue_is_in_vietnamese_by_default(client, catalogue):
    response = client.get(LIST_URL)
    assert response.status_code == 200
    assert '<html lang="vi">' in response.text


def test_the_catalogue_stays_vietnamese_whatever_the_browser_language(client, catalogue):
    """Issue 11, point 8: English only when chosen, never from Accept-Language."""
    response = client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert '<html lang="vi">' in response.text


def test_the_catalogue_follows_the_chosen_language(client, catalogue):
    client.post(reverse("set_language"), {"language": "en", "next": LIST_URL})
    response = client.get(detail_url("1.001193"))
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert "50,000" in response.text  # English number format


def test_a_language_cookie_is_honoured(client, catalogue, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(LIST_URL, {"q": "khai sinh"})
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert codes(response) == ["1.001193"]
