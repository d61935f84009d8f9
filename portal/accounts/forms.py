"""Forms of the accounts pages: login, citizen registration, password reset and the sandbox IdP."""

from __future__ import annotations

import datetime

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm, UsernameField
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from portal.widgets import VietnameseDateInput

from .backends import find_user_by_identifier
from .cccd import check_cccd_matches, parse_cccd
from .constants import Gender

User = get_user_model()

# Browsers without a native date picker send what the person typed; Vietnamese write dd/mm/yyyy.
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"]

LOGIN_ERROR_ID = "login-error"

# Django 5.2 changed the msgid of this validator message and its Vietnamese catalogue has not caught
# up, so the form would show it in English.
_PASSWORD_MESSAGES = {
    "password_too_short": _("Mật khẩu quá ngắn. Mật khẩu phải có ít nhất %(min_length)d ký tự."),
}


def validate_new_password(password: str, user) -> None:
    """Django's password validators (settings.AUTH_PASSWORD_VALIDATORS), with messages in Vietnamese."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise ValidationError(
            [
                ValidationError(_PASSWORD_MESSAGES[item.code], code=item.code, params=item.params)
                if item.code in _PASSWORD_MESSAGES
                else item
                for item in error.error_list
            ]
        ) from None


def login_key(identifier: str | None) -> str:
    """One key per account however it is named (CCCD, phone, e-mail in any letter case, spaces).

    django-axes counts failures per key, so without this each spelling of an account would get its
    own allowance of guesses (ASVS 2.2.1). Unknown identifiers are their own key.
    """
    user = find_user_by_identifier(identifier or "")
    return user.get_username() if user else (identifier or "").strip()


def axes_username(request, credentials: dict | None = None) -> str | None:
    """settings.AXES_USERNAME_CALLABLE: the same key for every login form, the admin's included."""
    source = credentials if credentials is not None else getattr(request, "POST", {})
    identifier = source.get(settings.AXES_USERNAME_FORM_FIELD)
    return login_key(identifier) if identifier else None


class DateInput(VietnameseDateInput):
    """Dates typed dd/mm/yyyy (issue 11, point 5); ISO values are still accepted."""


class LoginForm(AuthenticationForm):
    """Log in with a CCCD number, a phone number or an e-mail address and a password."""

    username = UsernameField(
        label=_("Số định danh cá nhân, số điện thoại hoặc email"),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Mật khẩu"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "invalid_login": _(
            "Thông tin đăng nhập không đúng. Vui lòng kiểm tra lại số định danh cá nhân, số điện thoại "
            "hoặc email và mật khẩu (mật khẩu phân biệt chữ hoa và chữ thường)."
        ),
        "inactive": _("Tài khoản này đã bị vô hiệu hóa. Vui lòng liên hệ tổng đài hỗ trợ của Cổng dịch vụ công."),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # The account the identifier names (None if unknown or ambiguous); views log its public_id.
        self.target_user = None

    @sensitive_variables()
    def clean(self):
        identifier = (self.cleaned_data.get("username") or "").strip()
        password = self.cleaned_data.get("password")
        if not identifier or not password:
            return self.cleaned_data
        self.target_user = find_user_by_identifier(identifier)
        # django-axes counts failures per username passed to authenticate(); see login_key().
        key = self.target_user.get_username() if self.target_user else identifier
        self.user_cache = authenticate(self.request, username=key, password=password)
        if self.user_cache is None:
            self._describe_inputs_by_error()
            locked_out = getattr(self.request, "axes_locked_out", False)
            target = self.target_user
            # The "inactive" message only to whoever knows the password, so that it reveals nothing.
            if target is not None and not target.is_active and not locked_out and target.check_password(password):
                raise ValidationError(self.error_messages["inactive"], code="inactive")
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    def _describe_inputs_by_error(self) -> None:
        """Point both inputs at the form-level error, which the template renders with LOGIN_ERROR_ID."""
        for name in ("username", "password"):
            attrs = self.fields[name].widget.attrs
            attrs["aria-describedby"] = LOGIN_ERROR_ID
            attrs["aria-invalid"] = "true"


class RegistrationForm(forms.ModelForm):
    """A citizen's own account. The username is the CCCD number."""

    gender = forms.ChoiceField(label=_("Giới tính"), choices=Gender.choices, widget=forms.RadioSelect)
    password1 = forms.CharField(
        label=_("Mật khẩu"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Nhập lại mật khẩu"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    # Consent per purpose (Decree 13/2023 Art 11): explicit, separate, never pre-ticked.
    consent_processing = forms.BooleanField(
        label=_(
            "Tôi đã đọc thông báo về xử lý dữ liệu cá nhân và đồng ý để cơ quan nhà nước xử lý dữ liệu của tôi "
            "khi giải quyết hồ sơ thủ tục hành chính."
        ),
        error_messages={"required": _("Cần đồng ý xử lý dữ liệu để giải quyết hồ sơ thì mới đăng ký được.")},
    )
    consent_notifications = forms.BooleanField(
        label=_("Đồng ý nhận thông báo về hồ sơ qua email, tin nhắn (không bắt buộc)."), required=False
    )
    consent_data_reuse = forms.BooleanField(
        label=_("Đồng ý lưu thông tin để điền sẵn cho lần nộp hồ sơ sau (không bắt buộc)."), required=False
    )

    def consent_choices(self) -> dict[str, bool]:
        return {
            "processing": self.cleaned_data["consent_processing"],
            "notifications": self.cleaned_data["consent_notifications"],
            "data_reuse": self.cleaned_data["consent_data_reuse"],
        }

    error_messages = {
        "password_mismatch": _("Hai mật khẩu đã nhập không giống nhau."),
        "contact_required": _("Vui lòng nhập số điện thoại hoặc email (ít nhất một trong hai) để nhận thông báo."),
        "email_taken": _("Email này đã có tài khoản."),
        "future_birth_date": _("Ngày sinh không thể ở trong tương lai."),
    }

    class Meta:
        model = User
        fields = ["full_name", "cccd", "date_of_birth", "gender", "phone", "email"]
        labels = {
            "full_name": _("Họ và tên"),
            "cccd": _("Số định danh cá nhân"),
            "date_of_birth": _("Ngày sinh"),
            "phone": _("Số điện thoại"),
            "email": _("Email"),
        }
        help_texts = {
            "full_name": _("Ghi đầy đủ, có dấu, như trên thẻ căn cước."),
            "cccd": _("12 chữ số in trên thẻ căn cước hoặc căn cước công dân."),
            "date_of_birth": _("Nhập theo dạng ngày/tháng/năm, ví dụ 15/08/1990."),
            "phone": _("Không bắt buộc nếu đã nhập email. Ví dụ: 0912345678."),
            "email": _("Không bắt buộc nếu đã nhập số điện thoại."),
        }
        error_messages = {
            "cccd": {"unique": _("Số định danh cá nhân này đã có tài khoản.")},
            "phone": {"unique": _("Số điện thoại này đã có tài khoản.")},
        }
        widgets = {
            "full_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "cccd": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "maxlength": 12}),
            "date_of_birth": DateInput(attrs={"autocomplete": "bday"}),
            "phone": forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("full_name", "cccd", "date_of_birth"):
            self.fields[name].required = True
        self.fields["date_of_birth"].input_formats = DATE_INPUT_FORMATS

    def clean_cccd(self) -> str:
        return parse_cccd(self.cleaned_data["cccd"]).number

    def clean_date_of_birth(self) -> datetime.date:
        value = self.cleaned_data["date_of_birth"]
        if value > timezone.localdate():
            raise ValidationError(self.error_messages["future_birth_date"], code="future_birth_date")
        return value

    def clean_email(self) -> str:
        email = (self.cleaned_data.get("email") or "").strip().lower()
        # E-mail is how a forgotten password is reset and one way to log in: one account per address.
        if email and User.objects.filter(email__iexact=email).exists():
            raise ValidationError(self.error_messages["email_taken"], code="email_taken")
        return email

    def clean(self):
        cleaned = super().clean()
        cccd, birth_date, gender = cleaned.get("cccd"), cleaned.get("date_of_birth"), cleaned.get("gender")
        if cccd and (birth_date or gender):
            try:
                check_cccd_matches(cccd, birth_date=birth_date, female=(gender == Gender.FEMALE) if gender else None)
            except ValidationError as error:
                for item in error.error_list:
                    self.add_error("gender" if item.code == "cccd_gender" else "date_of_birth", item)
        if not cleaned.get("phone") and not cleaned.get("email") and "phone" not in self.errors:
            self.add_error("phone", ValidationError(self.error_messages["contact_required"], code="contact_required"))
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", ValidationError(self.error_messages["password_mismatch"], code="mismatch"))
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        # After the instance is built, so that the similarity check sees the person's own data.
        password = self.cleaned_data.get("password2")
        if password and "password2" not in self.errors:
            self.instance.username = self.cleaned_data.get("cccd") or ""
            try:
                validate_new_password(password, self.instance)
            except ValidationError as error:
                self.add_error("password1", error)

    def save(self, commit: bool = True):
        user = super().save(commit=False)
        user.username = user.cccd
        user.set_password(self.cleaned_data["password1"])
        if commit:
            user.save()
        return user


class PasswordResetRequestForm(PasswordResetForm):
    email = forms.EmailField(
        label=_("Email của tài khoản"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class NewPasswordForm(SetPasswordForm):
    """The new password after a reset link, validated with Vietnamese messages."""

    def validate_password_for_user(self, user, password_field_name="password2"):  # noqa: S107 - a field name
        password = self.cleaned_data.get(password_field_name)
        if password:
            try:
                validate_new_password(password, user)
            except ValidationError as error:
                self.add_error(password_field_name, error)


class SandboxIdentityForm(forms.Form):
    """The identity a tester asserts on the sandbox identity provider's consent page."""

    cccd = forms.CharField(
        label=_("Số định danh cá nhân"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    full_name = forms.CharField(label=_("Họ và tên"), max_length=255)
    date_of_birth = forms.DateField(label=_("Ngày sinh"), input_formats=DATE_INPUT_FORMATS, widget=DateInput())
    gender = forms.ChoiceField(label=_("Giới tính"), choices=Gender.choices, widget=forms.RadioSelect)
    identity_level = forms.TypedChoiceField(
        label=_("Mức định danh"),
        choices=[(2, _("Mức 2")), (1, _("Mức 1"))],
        coerce=int,
        widget=forms.RadioSelect,
    )
    phone = forms.CharField(label=_("Số điện thoại (không bắt buộc)"), max_length=11, required=False)
    email = forms.EmailField(label=_("Email (không bắt buộc)"), required=False)
    state = forms.CharField(widget=forms.HiddenInput, max_length=200)
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=200)

    def clean_cccd(self) -> str:
        return parse_cccd(self.cleaned_data["cccd"]).number

    def clean(self):
        cleaned = super().clean()
        cccd, birth_date, gender = cleaned.get("cccd"), cleaned.get("date_of_birth"), cleaned.get("gender")
        if cccd and birth_date and gender:
            try:
                check_cccd_matches(cccd, birth_date=birth_date, female=gender == Gender.FEMALE)
            except ValidationError as error:
                self.add_error("cccd", error)
        return cleaned
