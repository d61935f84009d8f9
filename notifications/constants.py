from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("Thư điện tử")
    SMS = "sms", _("Tin nhắn SMS")
    IN_APP = "in_app", _("Thông báo trên Cổng")


class Audience(models.TextChoices):
    CITIZEN = "citizen", _("Người nộp hồ sơ")
    OFFICER = "officer", _("Cán bộ")


class Event(models.TextChoices):
    SUBMITTED = "submitted", _("Đã nộp hồ sơ")
    RECEIVED = "received", _("Đã tiếp nhận, hẹn trả")
    SUPPLEMENT_REQUESTED = "supplement_requested", _("Yêu cầu bổ sung")
    SUPPLEMENTED = "supplemented", _("Đã bổ sung")
    PAYMENT_CONFIRMED = "payment_confirmed", _("Đã nộp phí, lệ phí")
    RESULT_READY = "result_ready", _("Có kết quả")
    RETURNED = "returned", _("Đã trả kết quả")
    REFUSED = "refused", _("Từ chối")
    STOPPED = "stopped", _("Dừng xử lý")
    APOLOGISED = "apologised", _("Xin lỗi, hẹn lại")
    SHIPMENT_SENT = "shipment_sent", _("Kết quả đã gửi qua bưu chính")
    SHIPMENT_DELIVERED = "shipment_delivered", _("Bưu chính đã phát kết quả")
    RATING_REQUEST = "rating_request", _("Mời đánh giá")
    # To officers.
    NEW_WORK = "new_work", _("Hồ sơ mới cần xử lý")
    DUE_SOON = "due_soon", _("Sắp đến hạn")
    OVERDUE = "overdue", _("Quá hạn")
    APOLOGY_PROMPT = "apology_prompt", _("Nhắc gửi văn bản xin lỗi")
    SHIPMENT_RETURNED = "shipment_returned", _("Bưu chính hoàn trả kết quả")
    DIGEST = "digest", _("Tổng hợp hằng ngày")
    CONSULTATION_LATE = "consultation_late", _("Ý kiến phối hợp trễ hạn")


OFFICER_EVENTS = {
    Event.NEW_WORK,
    Event.DUE_SOON,
    Event.OVERDUE,
    Event.APOLOGY_PROMPT,
    Event.SHIPMENT_RETURNED,
    Event.DIGEST,
    Event.CONSULTATION_LATE,
}


class Status(models.TextChoices):
    QUEUED = "queued", _("Đang chờ gửi")
    SENDING = "sending", _("Đang gửi")
    SENT = "sent", _("Đã gửi")
    FAILED = "failed", _("Gửi lỗi")


class AlertLevel(models.TextChoices):
    DUE_SOON = "due_soon", _("Sắp đến hạn")
    OVERDUE = "overdue", _("Quá hạn")
    APOLOGY_PROMPT = "apology_prompt", _("Nhắc xin lỗi")
