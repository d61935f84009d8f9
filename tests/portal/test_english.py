"""The portal in English: the Vietnamese msgids are translated by locale/en, and locale/vi fills the
gaps in Django's own Vietnamese catalogue."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from tests.factories import ProcedureFactory
from tests.services import unavailable

LOCALE = Path(settings.BASE_DIR) / "locale"
# English is had only by choosing it (the language cookie the switcher sets), never from the browser.
EN = {"HTTP_COOKIE": f"{settings.LANGUAGE_COOKIE_NAME}=en"}
VALID_REGISTRATION = {
    "full_name": "Trần Thị Bình",
    "cccd": "001195004321",  # Hà Nội, 1900s female, born 1995
    "date_of_birth": "1995-11-03",
    "gender": "female",
    "phone": "0987654321",
    "email": "tran.thi.binh@example.vn",
}


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    """LocaleMiddleware leaves the request's language active in the test thread: undo it."""
    yield
    translation.deactivate()


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def nav_of(html: str) -> str:
    match = re.search(r'<nav class="site-nav".*?</nav>', html, flags=re.S)
    assert match, "the main navigation is missing"
    return match.group(0)


def html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]*)"', html)
    assert match, "the page has no <html lang>"
    return match.group(1)


def assert_english(html: str, present: tuple[str, ...], absent: tuple[str, ...]) -> None:
    assert html_lang(html) == "en"
    for text in present:
        assert text in html, f"{text!r} missing from the English page"
    for text in absent:
        assert text not in html, f"Vietnamese {text!r} left on the English page"
    nav = nav_of(html)
    assert "Administrative procedures" in nav
    assert "Track a dossier" in nav
    assert "Thủ tục hành chính" not in nav
    assert "Tra cứu hồ sơ" not in nav


@pytest.mark.django_db
def test_the_home_page_is_in_english(client):
    html = html_of(client.get(reverse("home"), **EN))
    assert_english(
        html,
        present=("Online public services", "Find an administrative procedure", "Skip to main content", "Log in"),
        absent=("Dịch vụ công trực tuyến", "Bỏ qua, đến nội dung chính", "Đăng nhập", "Tổng đài hỗ trợ"),
    )
    assert "Public Services Portal" in html
    assert "Support hotline" in html


@pytest.mark.django_db
def test_the_catalogue_is_in_english_with_english_plurals(client):
    ProcedureFactory()
    html = html_of(client.get(reverse("procedures:list"), **EN))
    assert_english(
        html,
        present=("Search and filter procedures", "All agencies", "1 procedure found", "Full online"),
        absent=("Tìm và lọc thủ tục", "Tất cả cơ quan", "Tìm thấy", "Toàn trình"),
    )

    ProcedureFactory()
    html = html_of(client.get(reverse("procedures:list"), **EN))
    assert "2 procedures found" in html


@pytest.mark.django_db
def test_a_procedure_page_is_in_english(client):
    procedure = ProcedureFactory(with_content=True)
    html = html_of(client.get(reverse("procedures:detail", args=[procedure.national_code]), **EN))
    assert_english(
        html,
        present=("Procedure code", "Processing time limit", "Fees and charges", "Charge"),
        absent=("Mã thủ tục", "Thời hạn giải quyết", "Phí, lệ phí"),
    )


@pytest.mark.django_db
def test_the_login_page_is_in_english(client):
    html = html_of(client.get(reverse("accounts:login"), **EN))
    assert_english(
        html,
        present=("Personal identification number, phone number or email", "Password", "Forgotten your password?"),
        absent=("Số định danh cá nhân, số điện thoại hoặc email", "Mật khẩu", "Quên mật khẩu?"),
    )


@pytest.mark.django_db
def test_the_registration_page_is_in_english(client):
    html = html_of(client.get(reverse("accounts:register"), **EN))
    assert_english(
        html,
        present=("Register an account", "Full name", "Date of birth", "Personal identification number", "Sex"),
        absent=("Đăng ký tài khoản", "Họ và tên", "Ngày sinh", "Giới tính"),
    )


@pytest.mark.django_db
def test_a_short_password_is_refused_in_english(client):
    data = {**VALID_REGISTRATION, "password1": "ngan-qua-1", "password2": "ngan-qua-1"}
    html = html_of(client.post(reverse("accounts:register"), data, **EN))
    assert "This password is too short. It must contain at least 12 characters." in html
    assert "Mật khẩu quá ngắn" not in html


@pytest.mark.django_db
def test_a_short_password_is_refused_in_vietnamese(client):
    data = {**VALID_REGISTRATION, "password1": "ngan-qua-1", "password2": "ngan-qua-1"}
    html = html_of(client.post(reverse("accounts:register"), data, HTTP_COOKIE=f"{settings.LANGUAGE_COOKIE_NAME}=vi"))
    assert html_lang(html) == "vi"
    assert "Mật khẩu quá ngắn. Mật khẩu phải có ít nhất 12 ký tự." in html
    assert "too short" not in html


def test_djangos_own_too_short_message_is_vietnamese():
    """Django 5.2's Vietnamese catalogue lacks this msgid (it changed to %d): locale/vi supplies it."""
    with translation.override("vi"), pytest.raises(ValidationError) as refused:
        password_validation.validate_password("ngan-qua-1")
    assert "Mật khẩu quá ngắn. Mật khẩu phải có ít nhất 12 ký tự." in refused.value.messages
    assert not any("too short" in message for message in refused.value.messages)


@pytest.mark.django_db
def test_the_public_tracking_page_is_in_english(client):
    html = html_of(client.get(reverse("dossiers:track"), **EN))
    assert_english(
        html,
        present=("Dossier code", "The code printed on the dossier receipt and result appointment slip"),
        absent=("Mã hồ sơ", "Mã in trên Giấy tiếp nhận"),
    )
    response = client.get(reverse("dossiers:track_code", args=["000.00.12.H40-260305-9999"]), **EN)
    assert response.status_code == 404
    html = response.content.decode()
    assert "No dossier found with the code 000.00.12.H40-260305-9999" in html
    assert "Không tìm thấy hồ sơ" not in html


@pytest.mark.django_db
def test_the_language_switcher_goes_to_english_and_back(client):
    home = reverse("home")
    assert html_lang(html_of(client.get(home))) == "vi"

    response = client.post(reverse("set_language"), {"language": "en", "next": home})
    assert response.status_code == 302
    html = html_of(client.get(home))
    assert html_lang(html) == "en"
    assert "Administrative procedures" in nav_of(html)

    client.post(reverse("set_language"), {"language": "vi", "next": home})
    html = html_of(client.get(home))
    assert html_lang(html) == "vi"
    assert "Thủ tục hành chính" in nav_of(html)
    assert "Administrative procedures" not in html


def test_messages_with_curly_quotes_are_translated():
    """xgettext 0.21 keeps Python's \\u201c escapes verbatim in the msgid; the catalogue also carries
    the run-time form. If this fails after makemessages, write “ ” as characters in the source."""
    with translation.override("en"):
        assert translation.gettext("Đã xóa tệp \u201c%(file)s\u201d.") == "Deleted the file \u201c%(file)s\u201d."


def _msgfmt() -> str:
    path = shutil.which("msgfmt")
    if path is None:
        unavailable("msgfmt is not installed (Debian package gettext)")
    return path


@pytest.mark.parametrize("language", ["en", "vi"])
def test_the_catalogue_is_complete_and_valid(language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    result = subprocess.run(
        [_msgfmt(), "--check", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "translated message" in result.stderr
    assert "untranslated" not in result.stderr, result.stderr
    assert "fuzzy" not in result.stderr, result.stderr


@pytest.mark.parametrize("language", ["en", "vi"])
def test_the_committed_mo_matches_its_po(language, tmp_path):
    """The runtime needs no gettext: the .mo is committed, and must be compiled from the current .po."""
    folder = LOCALE / language / "LC_MESSAGES"
    committed = folder / "django.mo"
    assert committed.exists(), f"{committed} is missing: run manage.py compilemessages"
    fresh = tmp_path / "django.mo"
    subprocess.run([_msgfmt(), "--check-format", "-o", str(fresh), str(folder / "django.po")], check=True)
    with committed.open("rb") as old, fresh.open("rb") as new:
        assert gettext.GNUTranslations(old)._catalog == gettext.GNUTranslations(new)._catalog, (
            f"{committed} is out of date: run manage.py compilemessages"
        )
