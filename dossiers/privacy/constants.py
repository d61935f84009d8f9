from django.db import models
from django.utils.translation import gettext_lazy as _

# The version of the consent texts shown to the person; a new wording gets a new version, so each
# consent row proves which text was agreed to (Decree 13/2023 Art 11: consent must be provable).
CONSENT_TEXT_VERSION = "2026-01"


class Purpose(models.TextChoices):
    PROCESSING = "processing", _("Xử lý hồ sơ thủ tục hành chính")
    NOTIFICATIONS = "notifications", _("Nhận thông báo qua email, tin nhắn")
    DATA_REUSE = "data_reuse", _("Tái sử dụng dữ liệu cho lần nộp sau")


class ConsentContext(models.TextChoices):
    REGISTRATION = "registration", _("Đăng ký tài khoản")
    SUBMISSION = "submission", _("Nộp hồ sơ")


class AccessChannel(models.TextChoices):
    PAGE = "page", _("Trang cán bộ")
    API = "api", _("API")
