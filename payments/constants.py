from django.db import models
from django.utils.translation import gettext_lazy as _


class PaymentState(models.TextChoices):
    CREATED = "created", _("Mới tạo")
    PENDING = "pending", _("Đang chờ cổng thanh toán")
    PAID = "paid", _("Đã thanh toán")
    FAILED = "failed", _("Không thành công")
    EXPIRED = "expired", _("Hết hạn")
    REFUNDED = "refunded", _("Đã hoàn trả")
    PARTIALLY_REFUNDED = "partially_refunded", _("Đã hoàn trả một phần")


# A payment in one of these may still be paid: at most one per obligation (a DB constraint).
OPEN_STATES = (PaymentState.CREATED, PaymentState.PENDING)
SETTLED_STATES = (PaymentState.PAID, PaymentState.REFUNDED, PaymentState.PARTIALLY_REFUNDED)


class PaymentMethod(models.TextChoices):
    ONLINE = "online", _("Thanh toán trực tuyến")
    CASH = "cash", _("Tiền mặt tại quầy")
    CARD = "card", _("Thẻ qua máy POS tại quầy")


class Obligation(models.TextChoices):
    """What a payment settles; one dossier has one fee obligation (its frozen total)."""

    FEE = "fee", _("Phí, lệ phí của hồ sơ")


class MessageKind(models.TextChoices):
    START = "start", _("Tạo yêu cầu thanh toán")
    RETURN = "return", _("Người dùng quay lại từ cổng")
    NOTIFICATION = "notification", _("Thông báo kết quả (IPN)")
    QUERY = "query", _("Tra cứu giao dịch")
    REFUND = "refund", _("Yêu cầu hoàn tiền")
    COUNTER = "counter", _("Thu tại quầy")


class RefundState(models.TextChoices):
    REQUESTED = "requested", _("Chờ lãnh đạo duyệt")
    APPROVED = "approved", _("Đã duyệt, đang hoàn qua cổng")
    COMPLETED = "completed", _("Đã hoàn trả")
    REJECTED = "rejected", _("Không duyệt")
    FAILED = "failed", _("Cổng thanh toán từ chối")


class IpnOutcome(models.TextChoices):
    """The outcome of a gateway notification, mapped by each provider to its protocol's reply."""

    CONFIRMED = "confirmed", _("Đã xác nhận")
    NOT_FOUND = "not_found", _("Không tìm thấy giao dịch")
    ALREADY_CONFIRMED = "already_confirmed", _("Giao dịch đã được xác nhận trước đó")
    INVALID_AMOUNT = "invalid_amount", _("Số tiền không khớp")
    INVALID_SIGNATURE = "invalid_signature", _("Chữ ký không hợp lệ")
    ERROR = "error", _("Lỗi không xác định")
