"""A reception officer at work in Debian's Chromium: the queue, a dossier, its reception."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import formats, timezone
from playwright.sync_api import expect

from dossiers.constants import DossierState
from dossiers.models import Dossier
from tests.dossiers import builders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, user) -> None:
    """Sign the browser in as `user` with a session made by Django's test client."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.fixture
def world():
    return builders.make_world()


def test_reception_officer_receives_a_new_dossier(page, live_server, world, axe_audit):
    dossier = builders.submitted(world)
    log_in(page, live_server, world.reception)

    page.goto(f"{live_server.url}/can-bo/ho-so/?tab=all")
    page.get_by_role("navigation", name="Danh mục hồ sơ").get_by_role("link", name="Hồ sơ mới (1)").click()
    page.wait_for_url(re.compile(r"tab=new"))
    expect(page.get_by_role("heading", level=2, name="Hồ sơ mới")).to_be_visible()
    assert axe_audit(page) == [], "queue"

    page.get_by_role("link", name=f"Hồ sơ chưa cấp mã (số {dossier.pk})").click()
    assert "Lê Văn Công" in page.get_by_role("region", name="Người nộp hồ sơ").inner_text()
    assert axe_audit(page) == [], "dossier before reception"

    page.get_by_role("button", name="Tiếp nhận hồ sơ").click()
    page.wait_for_url(re.compile(rf"/can-bo/ho-so/{dossier.pk}/$"))
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.state == DossierState.RECEIVED
    due = formats.date_format(timezone.localtime(dossier.current_due_at), "H:i d/m/Y")
    # The first status region is the message; the second says Form 01 is being prepared by the worker.
    status = page.get_by_role("status").first.inner_text()
    assert f"Đã tiếp nhận hồ sơ {dossier.code}. Ngày hẹn trả kết quả: {due}." in status
    assert "Đang tạo Giấy tiếp nhận và hẹn trả kết quả (Mẫu 01)…" in page.get_by_role("status").nth(1).inner_text()
    # The worker's task runs; the page's meta refresh then shows the print link.
    builders.issue_pending_forms(dossier)
    expect(page.get_by_role("link", name="In Giấy tiếp nhận và hẹn trả kết quả (Mẫu 01)")).to_be_visible(timeout=20_000)
    assert page.get_by_role("heading", level=1).inner_text() == f"Hồ sơ {dossier.code}"
    assert due in page.locator("dl.facts").first.inner_text()
    assert page.get_by_role("button", name="Tiếp nhận hồ sơ").count() == 0
    assert axe_audit(page) == [], "dossier after reception"

    page.get_by_role("link", name="← Danh sách hồ sơ").click()
    page.wait_for_url(re.compile(r"/can-bo/ho-so/(\?.*)?$"))
    page.get_by_role("link", name="Tất cả (1)").click()
    page.wait_for_url(re.compile(r"tab=all"))
    expect(page.get_by_role("link", name=dossier.code)).to_be_visible()


def test_officer_pages_fit_a_phone_without_serious_accessibility_violations(phone_page, live_server, world, axe_audit):
    received = builders.received(world)
    builders.submitted(world)
    log_in(phone_page, live_server, world.leader)
    for path in ("/can-bo/ho-so/?tab=new", f"/can-bo/ho-so/{received.pk}/", "/can-bo/so-theo-doi/"):
        phone_page.goto(f"{live_server.url}{path}")
        assert overflow(phone_page) <= 0, path
        assert axe_audit(phone_page) == [], path
    # The leader assigns the received dossier from the queue, on the phone.
    phone_page.goto(f"{live_server.url}/can-bo/ho-so/?tab=new")
    phone_page.get_by_label(f"Chọn hồ sơ {received.code} để phân công").check()
    phone_page.get_by_label("Phân công cho chuyên viên").select_option(label="Chuyên Viên")
    phone_page.get_by_role("button", name="Phân công", exact=True).click()
    assert f"Đã phân công 1 hồ sơ cho Chuyên Viên: {received.code}." in phone_page.get_by_role("status").inner_text()
    assert Dossier.objects.get(pk=received.pk).state == DossierState.IN_PROCESSING
