import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import UserFactory

User = get_user_model()

VALID = {
    "full_name": "Trần Thị Bình",
    "cccd": "001195004321",  # Hà Nội, 1900s female, born 1995
    "date_of_birth": "1995-11-03",
    "gender": "female",
    "phone": "0987654321",
    "email": "Tran.Thi.Binh@example.vn",
    "password1": "mot-mat-khau-du-dai-2026",
    "password2": "mot-mat-khau-du-dai-2026",
    "consent_processing": "on",
}


def register(client, **overrides):
    data = {**VALID, **overrides}
    return client.post(reverse("accounts:register"), {k: v for k, v in data.items() if v is not None})


@pytest.mark.django_db
def test_registration_page_labels_every_field_in_vietnamese(client):
    html = client.get(reverse("accounts:register")).content.decode()
    for label in ("Họ và tên", "Số định danh cá nhân", "Ngày sinh", "Giới tính", "Số điện thoại", "Mật khẩu"):
        assert label in html
    assert '<label for="id_cccd"' in html


@pytest.mark.django_db
def test_registration_creates_a_citizen_named_by_cccd_and_logs_them_in(client):
    response = register(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user = User.objects.get()
    assert user.username == user.cccd == "001195004321"
    assert user.email == "tran.thi.binh@example.vn"
    assert user.phone == "0987654321"
    assert user.identity_level == 0
    assert user.check_password(VALID["password1"])
    assert not user.memberships.exists()
    assert client.session["_auth_user_id"] == str(user.pk)
    home = client.get(response["Location"])
    assert "Đăng ký tài khoản thành công" in home.content.decode()


@pytest.mark.django_db
def test_registration_accepts_a_day_month_year_birth_date(client):
    assert register(client, date_of_birth="03/11/1995").status_code == 302
    assert User.objects.get().date_of_birth.isoformat() == "1995-11-03"


@pytest.mark.django_db
@pytest.mark.parametrize("contact", [{"phone": ""}, {"email": ""}])
def test_registration_needs_only_one_of_phone_and_email(client, contact):
    assert register(client, **contact).status_code == 302
    assert User.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"cccd": "00119500432"}, "cccd", "Số định danh cá nhân phải gồm đúng 12 chữ số."),
        ({"cccd": "00119500432X"}, "cccd", "Số định danh cá nhân phải gồm đúng 12 chữ số."),
        ({"cccd": "003195004321"}, "cccd", "không phải mã tỉnh nơi đăng ký khai sinh"),
        (
            {"date_of_birth": "1996-11-03"},
            "date_of_birth",
            "Năm sinh 1996 không khớp với số định danh cá nhân (năm 1995).",
        ),
        ({"gender": "male"}, "gender", "Giới tính không khớp với số định danh cá nhân."),
        ({"password1": "ngan-qua-1", "password2": "ngan-qua-1"}, "password1", "Mật khẩu quá ngắn"),
        ({"password1": "123456789012345", "password2": "123456789012345"}, "password1", "hoàn toàn là số"),
        ({"password2": "mot-mat-khau-khac-2026"}, "password2", "Hai mật khẩu đã nhập không giống nhau."),
        ({"phone": "", "email": ""}, "phone", "Vui lòng nhập số điện thoại hoặc email"),
        ({"phone": "12345"}, "phone", "Số điện thoại gồm 10 hoặc 11 chữ số"),
        ({"full_name": ""}, "full_name", "Trường này là bắt buộc."),
    ],
)
def test_bad_registration_shows_a_vietnamese_message_and_creates_no_user(client, overrides, field, message):
    response = register(client, **overrides)

    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    # The error is tied to its input for screen readers.
    assert f'id="id_{field}_error"' in html
    assert User.objects.count() == 0
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_registration_with_a_cccd_that_already_has_an_account_is_refused(client):
    UserFactory(username="someone", cccd=VALID["cccd"])

    response = register(client)

    assert response.status_code == 200
    assert "Số định danh cá nhân này đã có tài khoản." in response.content.decode()
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_registration_with_a_phone_or_email_already_in_use_is_refused(client):
    UserFactory(phone=VALID["phone"], email="TRAN.thi.binh@EXAMPLE.vn")

    html = register(client).content.decode()

    assert "Số điện thoại này đã có tài khoản." in html
    assert "Email này đã có tài khoản." in html
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_invalid_input_is_marked_for_assistive_technology(client):
    html = register(client, cccd="123").content.decode()

    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_cccd_helptext id_cccd_error"' in html
    assert 'href="#id_cccd"' in html  # the error summary links to the field


@pytest.mark.django_db
def test_registration_page_is_not_cached(client):
    response = client.get(reverse("accounts:register"))
    assert "no-store" in response["Cache-Control"]
