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


class StepAgencyRule(models.TextChoices):
    """Which agency does a processing step, when it is not a fixed one (ProcessingStep.agency)."""

    # The step's own agency, or the resolving agency when it names none.
    FIXED = "fixed", _("Cơ quan đã chọn (để trống: cơ quan giải quyết hồ sơ)")
    # Residence registration belongs to the police of the commune that resolves the dossier (Law on
    # Residence 2020; Decree 63/2024 for the liên thông of birth or death with residence): found at
    # reception as the active police unit whose locality is the resolving commune.
    COMMUNE_POLICE = "commune_police", _("Công an cấp xã nơi giải quyết hồ sơ")


class CalendarDayKind(models.TextChoices):
    DAY_OFF = "day_off", _("Ngày nghỉ")
    WORKING_DAY = "working_day", _("Ngày làm việc (làm bù)")


# File types a required document may accept, checked against the content of the upload.
DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
}


class FeeChannel(models.TextChoices):
    """The channel a fee rate depends on (domain.md §6: counter and online rates often differ)."""

    COUNTER = "counter", _("Trực tiếp")
    ONLINE = "online", _("Trực tuyến")
    POSTAL = "postal", _("Bưu chính công ích")


class FeeUnit(models.TextChoices):
    DOSSIER = "dossier", _("Mỗi hồ sơ")
    PAGE = "page", _("Mỗi trang")
    COPY = "copy", _("Mỗi bản")


class DiscountKind(models.TextChoices):
    PERCENT = "percent", _("Theo tỷ lệ phần trăm")
    FIXED = "fixed", _("Số tiền cố định")


class DiscountCombination(models.TextChoices):
    """How a policy combines with the others that apply to the same fee line."""

    # Among these, only the one most favourable to the citizen applies.
    BEST = "best", _("Chỉ áp dụng mức có lợi nhất cho người dân")
    # Applied after the best one, in their stated order, each on what remains to pay.
    STACKED = "stacked", _("Cộng dồn theo thứ tự")


class ExemptionGroup(models.TextChoices):
    """Law on Fees and Charges 2015 Art 10 and the civil-status law Art 11 (domain.md §6)."""

    CHILD = "child", _("Trẻ em")
    POOR_HOUSEHOLD = "poor_household", _("Người thuộc hộ nghèo")
    ELDERLY = "elderly", _("Người cao tuổi")
    DISABLED = "disabled", _("Người khuyết tật")
    MERIT = "merit", _("Người có công với cách mạng")
    ETHNIC_MINORITY = "ethnic_minority", _("Đồng bào dân tộc thiểu số ở xã đặc biệt khó khăn")
    OTHER = "other", _("Đối tượng đặc biệt khác")


class PaymentTiming(models.TextChoices):
    """When the fee of a procedure is paid."""

    # Online dossiers pay before they reach the reception queue.
    AT_SUBMISSION = "at_submission", _("Khi nộp hồ sơ")
    # The dossier waits in "Chờ nộp phí, lệ phí" after reception; its clock starts when paid.
    BEFORE_PROCESSING = "before_processing", _("Sau khi tiếp nhận, trước khi giải quyết")
    # The result is handed over only once the fee is paid.
    AT_RESULT = "at_result", _("Khi nhận kết quả")
