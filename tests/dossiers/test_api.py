"""The dossier REST API: the journey through it alone, access per object, concurrency, duplicates, CSRF."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.test import APIClient

from dossiers.api import views as api_views
from dossiers.constants import DossierState
from dossiers.models import Dossier, DossierEvent
from portal.accounts.constants import Role
from procedures.constants import FieldKind
from tests.dossiers import builders
from tests.factories import PASSWORD, AgencyFactory, FormFieldFactory, OfficerFactory, UserFactory

pytestmark = pytest.mark.django_db

S = DossierState
ALL_GOOD = {"time": 2, "contacts": 2, "information": 2, "attitude": 2, "online": 2}
STAFF_ROLES = (Role.RECEPTION, Role.SPECIALIST, Role.LEADER, Role.AGENCY_ADMIN)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Idempotency keys and throttle counters live in the cache: none leaks between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world():
    return builders.make_world()


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def dossier_url(dossier, suffix: str = "") -> str:
    return f"/api/dossiers/{dossier.public_id}/{suffix}"


def officer_url(dossier, action: str = "") -> str:
    return f"/api/officer/dossiers/{dossier.pk}/" + (f"{action}/" if action else "")


def assert_vietnamese_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    # Vietnamese: the messages carry its diacritics.
    assert any(ch in body["detail"] for ch in "ăâđêôơưáàảãạếềểễệốồổỗộớờởỡợứừửữự"), body["detail"]
    return body


def test_the_whole_journey_goes_through_the_api_alone(world):
    """Citizen, reception, leader, specialist, leader again and the public each use only the API."""
    citizen = client_for(world.citizen)

    created = citizen.post(
        "/api/dossiers/", {"procedure": world.procedure.national_code, "agency": world.agency.pk}, format="json"
    )
    assert created.status_code == 201, created.content
    public_id = created.json()["public_id"]
    assert created.json()["state"] == S.DRAFT
    assert created["Cache-Control"].count("no-store") == 1
    url = f"/api/dossiers/{public_id}/"
    assert "Tên hộ kinh doanh" in created.json()["missing"][0]

    answered = citizen.patch(url + "answers/", {"answers": {"ten_ho_kinh_doanh": "Tạp hóa An"}}, format="json")
    assert answered.status_code == 200, answered.content
    assert answered.json()["answers"] == {"ten_ho_kinh_doanh": "Tạp hóa An"}

    requirement = answered.json()["documents"][0]["id"]
    uploaded = citizen.post(
        url + "files/", {"requirement": requirement, "file": builders.pdf_upload()}, format="multipart"
    )
    assert uploaded.status_code == 201, uploaded.content
    assert uploaded.json()["requirement_id"] == requirement

    detail = citizen.get(url).json()
    assert detail["missing"] == []
    submitted = citizen.post(url + "submit/", {"version": detail["version"]}, format="json")
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["state"] == S.SUBMITTED
    assert [d["public_id"] for d in citizen.get("/api/dossiers/").json()["results"]] == [public_id]

    reception = client_for(world.reception)
    queue = reception.get("/api/officer/queue/", {"tab": "new"}).json()
    [item] = [row for row in queue["results"] if row["public_id"] == public_id]
    dossier_id = item["id"]
    received = reception.post(
        f"/api/officer/dossiers/{dossier_id}/receive/", {"version": item["version"]}, format="json"
    )
    assert received.status_code == 200, received.content
    assert received.json()["state"] == S.RECEIVED
    code = received.json()["code"]
    assert code

    leader = client_for(world.leader)
    version = leader.get(f"/api/officer/dossiers/{dossier_id}/").json()["version"]
    assigned = leader.post(
        f"/api/officer/dossiers/{dossier_id}/assign/",
        {"version": version, "assignee": world.specialist.pk},
        format="json",
    )
    assert assigned.status_code == 200, assigned.content
    assert assigned.json()["state"] == S.IN_PROCESSING
    assert assigned.json()["assignee"]["id"] == world.specialist.pk

    specialist = client_for(world.specialist)
    [mine] = specialist.get("/api/officer/queue/", {"tab": "mine"}).json()["results"]
    proposed = specialist.post(
        f"/api/officer/dossiers/{dossier_id}/submit-for-approval/",
        {"version": mine["version"], "result": builders.pdf_upload("ket-qua.pdf")},
        format="multipart",
    )
    assert proposed.status_code == 200, proposed.content
    assert proposed.json()["state"] == S.AWAITING_APPROVAL

    [waiting] = leader.get("/api/officer/queue/", {"tab": "approval"}).json()["results"]
    approved = leader.post(
        f"/api/officer/dossiers/{dossier_id}/approve/", {"version": waiting["version"]}, format="json"
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["state"] == S.RESULT_READY

    detail = citizen.get(url).json()
    [result] = [f for f in detail["files"] if f["kind"] == "result"]
    download = citizen.get(result["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == builders.PDF_BYTES
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download["Cache-Control"]
    assert citizen.get(url).json()["state"] == S.RETURNED

    rated = citizen.post(url + "rating/", {"scores": ALL_GOOD, "comment": "Nhanh gọn"}, format="json")
    assert rated.status_code == 201, rated.content
    assert citizen.get(url).json()["rated"] is True

    tracked = client_for().get(f"/api/track/{code}/")
    assert tracked.status_code == 200
    body = tracked.json()
    assert body["state"] == S.RETURNED
    assert body["procedure"]["name"] == world.procedure.name
    assert body["agency"] == world.agency.name
    assert [step["name"] for step in body["steps"]] == ["Tiếp nhận", "Thẩm định", "Phê duyệt"]
    assert all(step["started_at"] and step["completed_at"] and step["timing"] for step in body["steps"])
    text = tracked.content.decode()
    for personal in ("Lê Văn Công", "037090001234", "cong@example.vn", "Chuyên Viên", "Lãnh Đạo", "Tạp hóa An"):
        assert personal not in text
    assert set(body) == {
        "code",
        "procedure",
        "agency",
        "state",
        "state_label",
        "state_explanation",
        "received_at",
        "current_due_at",
        "steps",
    }
    assert set(body["steps"][0]) == {"name", "agency", "started_at", "completed_at", "timing"}

    assert [e.action for e in DossierEvent.objects.filter(dossier__public_id=public_id)] == [
        "create",
        "submit",
        "receive",
        "assign",
        "submit_for_approval",
        "approve",
        "return_result",
        "rate",
    ]


def test_the_same_idempotency_key_and_body_return_the_same_dossier(world):
    client = client_for(world.citizen)
    body = {"procedure": world.procedure.national_code, "agency": world.agency.pk}

    first = client.post("/api/dossiers/", body, format="json", HTTP_IDEMPOTENCY_KEY="tao-ho-so-1")
    again = client.post(
        "/api/dossiers/", dict(reversed(body.items())), format="json", HTTP_IDEMPOTENCY_KEY="tao-ho-so-1"
    )

    assert first.status_code == 201
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["public_id"] == first.json()["public_id"]
    assert Dossier.objects.count() == 1


def test_the_same_idempotency_key_with_another_body_is_refused_with_422(world):
    client = client_for(world.citizen)
    body = {"procedure": world.procedure.national_code, "agency": world.agency.pk}
    client.post("/api/dossiers/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    other = client.post(
        "/api/dossiers/", {**body, "agency": AgencyFactory().pk}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert_vietnamese_error(other, 422, "idempotency_key_reused")
    assert Dossier.objects.count() == 1


def test_the_same_idempotency_key_while_the_first_request_runs_answers_409(world):
    body = {"procedure": world.procedure.national_code, "agency": world.agency.pk}
    cache.set(
        api_views.idempotency_cache_key(world.citizen, "k-2"),
        {"body": api_views.request_fingerprint(body), "public_id": None},
    )

    response = client_for(world.citizen).post("/api/dossiers/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    assert_vietnamese_error(response, 409, "idempotency_key_in_use")
    assert Dossier.objects.count() == 0


def test_idempotency_keys_belong_to_one_user_and_a_failed_request_frees_its_key(world):
    body = {"procedure": world.procedure.national_code, "agency": world.agency.pk}
    refused = client_for(world.citizen).post(
        "/api/dossiers/", {**body, "procedure": "9.999999"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    assert refused.status_code == 400

    mine = client_for(world.citizen).post("/api/dossiers/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    theirs = client_for(UserFactory()).post("/api/dossiers/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-3")

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["public_id"] != theirs.json()["public_id"]


def test_a_patch_with_state_owner_or_code_is_refused_and_changes_nothing(world):
    dossier = builders.draft(world)
    intruder = UserFactory()
    client = client_for(world.citizen)

    response = client.patch(
        dossier_url(dossier, "answers/"),
        {
            "answers": {"ten_ho_kinh_doanh": "Tên mới"},
            "state": S.RESULT_READY,
            "owner": intruder.pk,
            "code": "GIA-MAO-0001",
        },
        format="json",
    )

    body = assert_vietnamese_error(response, 400, "invalid")
    assert {"state", "owner", "code"} <= set(body["errors"])
    fresh = Dossier.objects.get(pk=dossier.pk)
    assert (fresh.state, fresh.owner_id, fresh.code, fresh.version) == (
        S.DRAFT,
        world.citizen.pk,
        None,
        dossier.version,
    )
    assert fresh.answers == {"ten_ho_kinh_doanh": "Tạp hóa An"}


def test_answers_to_questions_the_form_does_not_have_are_refused(world):
    dossier = builders.draft(world)

    response = client_for(world.citizen).patch(
        dossier_url(dossier, "answers/"), {"answers": {"state": "received"}}, format="json"
    )

    assert_vietnamese_error(response, 400, "invalid")
    assert Dossier.objects.get(pk=dossier.pk).answers == {"ten_ho_kinh_doanh": "Tạp hóa An"}


def test_invalid_answers_answer_400_in_vietnamese_and_nothing_is_saved(world):
    FormFieldFactory(procedure=world.procedure, code="so_cccd", label="Số CCCD chủ hộ", kind=FieldKind.CCCD, order=2)
    dossier = builders.draft(world)

    response = client_for(world.citizen).patch(
        dossier_url(dossier, "answers/"),
        {"answers": {"ten_ho_kinh_doanh": "Tạp hóa Bình", "so_cccd": "12345"}},
        format="json",
    )

    body = assert_vietnamese_error(response, 400, "invalid")
    assert "Số CCCD chủ hộ" in body["detail"]
    assert list(body["errors"]["answers"]) == ["so_cccd"]
    fresh = Dossier.objects.get(pk=dossier.pk)
    assert fresh.answers == {"ten_ho_kinh_doanh": "Tạp hóa An"}
    assert fresh.version == dossier.version


def test_invalid_field_values_of_an_officer_action_answer_400_in_vietnamese(world):
    dossier = builders.submitted(world)

    response = client_for(world.reception).post(
        officer_url(dossier, "request-supplement"), {"version": "abc", "items": [], "reason": ""}, format="json"
    )

    body = assert_vietnamese_error(response, 400, "invalid")
    assert set(body["errors"]) == {"version", "items", "reason"}
    assert "A valid integer" not in body["detail"]
    assert Dossier.objects.get(pk=dossier.pk).state == S.SUBMITTED


def test_a_refusal_of_a_service_answers_400_with_its_message_and_field(world):
    dossier = builders.draft(world)
    world.procedure.channel_postal = True
    world.procedure.save()

    response = client_for(world.citizen).put(
        dossier_url(dossier, "delivery/"), {"channel_out": "postal", "postal_address": "ngắn"}, format="json"
    )

    body = assert_vietnamese_error(response, 400, "invalid")
    assert body["field"] in ("postal_address", "channel_out")
    assert Dossier.objects.get(pk=dossier.pk).channel_out == "download"


def test_another_citizen_gets_404_on_the_dossier_its_files_and_every_action(world):
    dossier = builders.draft(world)
    file = dossier.files.get()
    other = client_for(UserFactory())
    version = dossier.version

    answers = [
        other.get(dossier_url(dossier)),
        other.patch(dossier_url(dossier, "answers/"), {"answers": {"ten_ho_kinh_doanh": "X"}}, format="json"),
        other.post(dossier_url(dossier, "files/"), {"requirement": 1, "file": builders.pdf_upload()}),
        other.delete(dossier_url(dossier, f"files/{file.public_id}/")),
        other.put(dossier_url(dossier, "delivery/"), {"channel_out": "counter"}, format="json"),
        other.post(dossier_url(dossier, "submit/"), {"version": version}, format="json"),
        other.post(dossier_url(dossier, "withdraw/"), {"version": version}, format="json"),
        other.post(dossier_url(dossier, "supplement/"), {"version": version, "note": "x"}, format="json"),
        other.post(dossier_url(dossier, "rating/"), {"scores": ALL_GOOD}, format="json"),
        other.get(f"/api/files/{file.public_id}/"),
    ]

    for response in answers:
        assert_vietnamese_error(response, 404, "not_found")
    assert other.get("/api/dossiers/").json()["results"] == []
    fresh = Dossier.objects.get(pk=dossier.pk)
    assert (fresh.state, fresh.version, fresh.answers) == (S.DRAFT, version, dossier.answers)
    assert fresh.files.count() == 1


def test_an_officer_of_another_agency_gets_404_on_the_dossier_its_files_and_every_action(world):
    dossier = builders.in_processing(world)
    elsewhere = AgencyFactory(name="UBND xã Khác")
    outsiders = [OfficerFactory(role=role, membership__agency=elsewhere) for role in STAFF_ROLES]
    file = dossier.files.first()

    for officer in outsiders:
        client = client_for(officer)
        assert_vietnamese_error(client.get(officer_url(dossier)), 404, "not_found")
        assert_vietnamese_error(client.get(f"/api/files/{file.public_id}/"), 404, "not_found")
        for action in api_views.OFFICER_ACTIONS:
            response = client.post(officer_url(dossier, action), {"version": dossier.version}, format="json")
            assert_vietnamese_error(response, 404, "not_found")
        for tab in ("new", "mine", "approval", "all"):
            assert client.get("/api/officer/queue/", {"tab": tab}).json()["results"] == []
    fresh = Dossier.objects.get(pk=dossier.pk)
    assert (fresh.state, fresh.version) == (S.IN_PROCESSING, dossier.version)


def test_a_citizen_cannot_use_the_officer_endpoints(world):
    dossier = builders.submitted(world)
    client = client_for(world.citizen)

    assert_vietnamese_error(client.get("/api/officer/queue/"), 403, "permission_denied")
    response = client.post(officer_url(dossier, "receive"), {"version": dossier.version}, format="json")
    assert_vietnamese_error(response, 403, "permission_denied")
    assert Dossier.objects.get(pk=dossier.pk).state == S.SUBMITTED


def test_a_stale_version_answers_409_and_changes_nothing(world):
    dossier = builders.submitted(world)
    events = DossierEvent.objects.filter(dossier=dossier).count()

    response = client_for(world.reception).post(
        officer_url(dossier, "receive"), {"version": dossier.version - 1}, format="json"
    )

    assert_vietnamese_error(response, 409, "conflict")
    fresh = Dossier.objects.get(pk=dossier.pk)
    assert (fresh.state, fresh.version, fresh.code) == (S.SUBMITTED, dossier.version, None)
    assert DossierEvent.objects.filter(dossier=dossier).count() == events


def test_a_stale_version_of_the_citizen_answers_409(world):
    dossier = builders.draft(world)

    response = client_for(world.citizen).post(
        dossier_url(dossier, "submit/"), {"version": dossier.version + 1}, format="json"
    )

    assert_vietnamese_error(response, 409, "conflict")
    assert Dossier.objects.get(pk=dossier.pk).state == S.DRAFT


def test_an_action_not_allowed_in_the_current_state_answers_409(world):
    dossier = builders.submitted(world)

    approve = client_for(world.leader).post(
        officer_url(dossier, "approve"), {"version": dossier.version}, format="json"
    )
    rate = client_for(world.citizen).post(dossier_url(dossier, "rating/"), {"scores": ALL_GOOD}, format="json")

    assert_vietnamese_error(approve, 409, "not_allowed")
    assert_vietnamese_error(rate, 409, "not_allowed")
    fresh = Dossier.objects.get(pk=dossier.pk)
    assert (fresh.state, fresh.version) == (S.SUBMITTED, dossier.version)


def test_an_officer_of_the_agency_without_the_role_for_the_action_gets_403(world):
    dossier = builders.submitted(world)

    response = client_for(world.specialist).post(
        officer_url(dossier, "receive"), {"version": dossier.version}, format="json"
    )

    assert_vietnamese_error(response, 403, "permission_denied")
    assert Dossier.objects.get(pk=dossier.pk).state == S.SUBMITTED


def test_a_result_is_not_the_applicants_before_approval(world):
    dossier = builders.awaiting_approval(world)
    result = dossier.files.get(kind="result")
    client = client_for(world.citizen)

    assert "result" not in {f["kind"] for f in client.get(dossier_url(dossier)).json()["files"]}
    assert_vietnamese_error(client.get(f"/api/files/{result.public_id}/"), 404, "not_found")


def test_an_authenticated_post_without_the_csrf_token_is_refused(world):
    client = APIClient(enforce_csrf_checks=True)
    # The lockout backend needs the request that carries the credentials.
    assert client.login(request=HttpRequest(), username=world.citizen.username, password=PASSWORD)
    body = {"procedure": world.procedure.national_code, "agency": world.agency.pk}

    refused = client.post("/api/dossiers/", body, format="json")

    assert_vietnamese_error(refused, 403, "csrf_failed")
    assert Dossier.objects.count() == 0

    token = "a" * 32
    client.cookies["csrftoken"] = token
    accepted = client.post("/api/dossiers/", body, format="json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201, accepted.content


def test_an_anonymous_request_is_refused_in_vietnamese(world):
    dossier = builders.draft(world)

    response = client_for().get(dossier_url(dossier))

    assert_vietnamese_error(response, 403, "not_authenticated")


def test_the_officer_queue_pages_with_a_cursor(world):
    dossiers = [builders.submitted(world) for _ in range(27)]
    client = client_for(world.reception)

    first = client.get("/api/officer/queue/", {"tab": "new"}).json()
    second = client.get("/api/officer/queue/", {"tab": "new", "after": first["next"]}).json()

    assert len(first["results"]) == 25
    assert len(second["results"]) == 2
    assert second["next"] is None
    seen = [row["id"] for row in first["results"] + second["results"]]
    assert sorted(seen) == sorted(d.pk for d in dossiers)
    assert_vietnamese_error(client.get("/api/officer/queue/", {"after": "không-hợp-lệ"}), 400, "invalid")
    assert_vietnamese_error(client.get("/api/officer/queue/", {"tab": "khac"}), 400, "invalid")


def test_tracking_an_unknown_code_answers_404(world):
    assert_vietnamese_error(client_for().get("/api/track/000.00.00.H40-260101-9999/"), 404, "not_found")


def test_the_schema_lists_the_dossier_endpoints():
    response = APIClient().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    for path in (
        "/api/dossiers/",
        "/api/dossiers/{public_id}/",
        "/api/dossiers/{public_id}/answers/",
        "/api/dossiers/{public_id}/files/",
        "/api/dossiers/{public_id}/files/{file_id}/",
        "/api/dossiers/{public_id}/delivery/",
        "/api/dossiers/{public_id}/submit/",
        "/api/dossiers/{public_id}/withdraw/",
        "/api/dossiers/{public_id}/supplement/",
        "/api/dossiers/{public_id}/rating/",
        "/api/files/{public_id}/",
        "/api/track/{code}/",
        "/api/officer/queue/",
        "/api/officer/dossiers/{id}/",
        *[f"/api/officer/dossiers/{{id}}/{action}/" for action in api_views.OFFICER_ACTIONS],
    ):
        assert path in paths, path
    assert "Idempotency-Key" in json.dumps(paths["/api/dossiers/"]["post"])


def test_a_supplement_requested_at_reception_is_answered_through_the_api(world):
    dossier = builders.submitted(world)
    requested = client_for(world.reception).post(
        officer_url(dossier, "request-supplement"),
        {"version": dossier.version, "items": ["Bản sao giấy tờ nhà"], "reason": "Thiếu giấy tờ"},
        format="json",
    )
    assert requested.status_code == 200, requested.content
    citizen = client_for(world.citizen)
    detail = citizen.get(dossier_url(dossier)).json()
    assert detail["state"] == S.SUPPLEMENT_REQUESTED
    assert "Bản sao giấy tờ nhà" in detail["supplement_note"]

    uploaded = citizen.post(
        dossier_url(dossier, "files/"), {"requirement": 1, "file": builders.pdf_upload("bo-sung.pdf")}
    )
    assert uploaded.status_code == 201, uploaded.content
    assert uploaded.json()["kind"] == "supplement"
    version = citizen.get(dossier_url(dossier)).json()["version"]
    sent = citizen.post(dossier_url(dossier, "supplement/"), {"version": version, "note": "Đã bổ sung"}, format="json")

    assert sent.status_code == 200, sent.content
    assert sent.json()["state"] == S.SUBMITTED


def test_a_citizen_removes_an_uploaded_file_and_withdraws_the_draft(world):
    dossier = builders.draft(world)
    file = dossier.files.get()
    client = client_for(world.citizen)

    removed = client.delete(dossier_url(dossier, f"files/{file.public_id}/"))
    assert removed.status_code == 204
    assert dossier.files.count() == 0
    version = client.get(dossier_url(dossier)).json()["version"]
    withdrawn = client.post(
        dossier_url(dossier, "withdraw/"), {"version": version, "reason": "Nộp nhầm"}, format="json"
    )

    assert withdrawn.status_code == 200, withdrawn.content
    assert withdrawn.json()["state"] == S.WITHDRAWN


def test_an_upload_whose_content_is_not_what_its_name_says_is_refused(world):
    dossier = builders.draft(world)

    response = client_for(world.citizen).post(
        dossier_url(dossier, "files/"),
        {"requirement": 1, "file": builders.pdf_upload("gia-mao.pdf", b"<html><script>alert(1)</script></html>")},
    )

    body = assert_vietnamese_error(response, 400, "invalid")
    assert body["field"] == "file"
    assert dossier.files.count() == 1


def test_tracking_is_rate_limited_per_address(world):
    from django.conf import settings

    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["dossier_track"].split("/")[0])
    client = client_for()
    answers = [client.get("/api/track/khong-co/").status_code for _ in range(limit + 1)]

    assert answers[:limit] == [404] * limit
    assert answers[limit] == 429
    assert_vietnamese_error(client.get("/api/track/khong-co/"), 429, "throttled")
