"""The officer's queue in Debian's Chromium: a dense table on a desktop, cards on a phone, filters in the URL."""

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.dossiers import builders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])


@pytest.fixture
def world(monkeypatch):
    monkeypatch.setattr("dossiers.pdf.render_dossier_form", lambda *args, **kwargs: builders.PDF_BYTES)
    return builders.make_world()


@pytest.fixture
def desktop_page(browser):
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


def row_display(page) -> str:
    return page.locator(".queue-table tbody tr").first.evaluate("row => getComputedStyle(row).display")


def test_the_queue_is_a_table_on_a_desktop_and_filters_survive_reload_and_back(desktop_page, live_server, world):
    page = desktop_page
    received = builders.received(world)
    builders.submitted(world)
    log_in(page, live_server, world.reception)

    page.goto(f"{live_server.url}/can-bo/ho-so/?tab=all")
    assert row_display(page) == "table-row"
    headers = page.locator(".queue-table thead th").all_inner_texts()
    assert headers == [
        "Mã hồ sơ",
        "Thủ tục",
        "Người nộp",
        "Tiếp nhận",
        "Hạn xử lý",
        "Còn lại",
        "Bước hiện tại",
        "Cán bộ xử lý",
    ]
    assert page.locator(".queue-table tbody tr").count() == 2

    # Search by the applicant's name without diacritics: the text goes into the URL.
    page.locator("summary", has_text="Tìm kiếm và lọc hồ sơ").click()
    page.get_by_label("Tìm theo mã hồ sơ, họ tên hoặc số CCCD").fill("le van cong")
    page.get_by_label("Trạng thái").select_option(label="Đã tiếp nhận")
    page.get_by_role("button", name="Tìm", exact=True).click()
    page.wait_for_url(re.compile(r"q=le\+van\+cong"))
    assert "state=received" in page.url
    expect(page.get_by_role("link", name=received.code)).to_be_visible()
    assert page.locator(".queue-table tbody tr").count() == 1

    page.reload()
    assert page.get_by_label("Tìm theo mã hồ sơ, họ tên hoặc số CCCD").input_value() == "le van cong"
    assert page.locator(".queue-table tbody tr").count() == 1

    # Another tab keeps the search; the back button brings the filtered list back.
    page.get_by_role("navigation", name="Danh mục hồ sơ").get_by_role("link", name=re.compile("^Hồ sơ mới")).click()
    page.wait_for_url(re.compile(r"tab=new.*q=le\+van\+cong|q=le\+van\+cong.*tab=new"))
    page.go_back()
    page.wait_for_url(re.compile(r"tab=all"))
    assert "q=le+van+cong" in page.url
    assert page.get_by_label("Tìm theo mã hồ sơ, họ tên hoặc số CCCD").input_value() == "le van cong"
    assert page.locator(".queue-table tbody tr").count() == 1


def test_the_queue_is_cards_on_a_phone(phone_page, live_server, world):
    received = builders.received(world)
    log_in(phone_page, live_server, world.leader)
    phone_page.goto(f"{live_server.url}/can-bo/ho-so/?tab=new")
    assert row_display(phone_page) == "block"
    assert (
        not phone_page.locator(".queue-table thead").is_visible()
        or phone_page.locator(".queue-table thead").bounding_box()["height"] <= 1
    )
    card = phone_page.locator(".queue-table tbody tr").first
    assert received.code in card.inner_text()
    due_label = card.locator("td[data-label='Hạn xử lý']").evaluate("td => getComputedStyle(td, '::before').content")
    assert due_label == '"Hạn xử lý: "'  # each value is labelled on the card
    assert phone_page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
