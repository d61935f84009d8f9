from django.db import models
from django.utils.translation import gettext_lazy as _


class AgencyKind(models.TextChoices):
    PROVINCE = "province", _("Tỉnh, thành phố")
    DEPARTMENT = "department", _("Sở, ban, ngành")
    SERVICE_CENTRE = "service_centre", _("Trung tâm Phục vụ hành chính công")
    COMMUNE = "commune", _("Xã, phường, đặc khu")
    POLICE = "police", _("Công an")
    VERTICAL = "vertical", _("Cơ quan ngành dọc")
    OTHER = "other", _("Khác")


class ServiceLevel(models.TextChoices):
    """Decree 42/2022 Art 11 (kept by Decree 224/2026): end-to-end or partially online."""

    FULL = "toan_trinh", _("Toàn trình")
    PARTIAL = "mot_phan", _("Một phần")


class ApplicantType(models.TextChoices):
    INDIVIDUAL = "individual", _("Cá nhân")
    ORGANISATION = "organisation", _("Tổ chức")
    BOTH = "both", _("Cá nhân, tổ chức")


class FieldKind(models.TextChoices):
    TEXT = "text", _("Văn bản ngắn")
    TEXTAREA = "textarea", _("Văn bản dài")
    NUMBER = "number", _("Số")
    DATE = "date", _("Ngày")
    CHOICE = "choice", _("Lựa chọn")
    CCCD = "cccd", _("Số định danh cá nhân (CCCD)")
    PHONE = "phone", _("Số điện thoại")
    EMAIL = "email", _("Thư điện tử")
    ADDRESS = "address", _("Địa chỉ")


class FeeKind(models.TextChoices):
    """Law on Fees and Charges 2015 Art 3: receipts and accounting differ, so lines are kept apart."""

    CHARGE = "le_phi", _("Lệ phí")
    FEE = "phi", _("Phí")


class StepRole(models.TextChoices):
    RECEPTION = "reception", _("Cán bộ một cửa (tiếp nhận)")
    SPECIALIST = "specialist", _("Chuyên viên xử lý")
    LEADER = "leader", _("Lãnh đạo phê duyệt")


class CalendarDayKind(models.TextChoices):
    DAY_OFF = "day_off", _("Ngày nghỉ")
    WORKING_DAY = "working_day", _("Ngày làm việc (làm bù)")


# File types a required document may accept, checked against the content of the upload.
DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
}
