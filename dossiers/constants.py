import functools

from django.db import models
from django.utils.translation import gettext_lazy as _


class DossierState(models.TextChoices):
    """The lifecycle of a dossier (Decree 61/2018 Arts 17–20 as replaced by Decree 118/2025)."""

    DRAFT = "draft", _("Nháp")
    SUBMITTED = "submitted", _("Chờ tiếp nhận")
    SUPPLEMENT_REQUESTED = "supplement_requested", _("Yêu cầu bổ sung hồ sơ")
    REFUSED_AT_RECEPTION = "refused_at_reception", _("Từ chối tiếp nhận")
    RECEIVED = "received", _("Đã tiếp nhận")
    AWAITING_PAYMENT = "awaiting_payment", _("Chờ nộp phí, lệ phí")
    IN_PROCESSING = "in_processing", _("Đang xử lý")
    AWAITING_APPROVAL = "awaiting_approval", _("Chờ phê duyệt")
    REFUSED_AFTER_APPRAISAL = "refused_after_appraisal", _("Từ chối giải quyết")
    RESULT_READY = "result_ready", _("Đã có kết quả")
    RETURNED = "returned", _("Đã trả kết quả")
    STOPPED = "stopped", _("Dừng giải quyết")
    WITHDRAWN = "withdrawn", _("Đã rút hồ sơ")


# What a citizen reads for each state: plain words, what happens next.
STATE_EXPLANATIONS = {
    DossierState.DRAFT: _("Hồ sơ chưa được nộp. Bạn có thể tiếp tục khai và nộp khi đã đủ giấy tờ."),
    DossierState.SUBMITTED: _("Hồ sơ đã được gửi và đang chờ cán bộ một cửa kiểm tra, tiếp nhận."),
    DossierState.SUPPLEMENT_REQUESTED: _("Cơ quan yêu cầu bổ sung giấy tờ. Vui lòng xem nội dung và bổ sung."),
    DossierState.REFUSED_AT_RECEPTION: _("Hồ sơ không được tiếp nhận. Lý do được ghi trong phiếu từ chối."),
    DossierState.RECEIVED: _("Hồ sơ đã được tiếp nhận và đang được chuyển đến cán bộ xử lý."),
    DossierState.AWAITING_PAYMENT: _("Hồ sơ đang chờ nộp phí, lệ phí trước khi được giải quyết."),
    DossierState.IN_PROCESSING: _("Hồ sơ đang được cán bộ chuyên môn thẩm định, giải quyết."),
    DossierState.AWAITING_APPROVAL: _("Hồ sơ đang chờ lãnh đạo phê duyệt kết quả."),
    DossierState.REFUSED_AFTER_APPRAISAL: _("Cơ quan từ chối giải quyết hồ sơ. Lý do được ghi trong phiếu từ chối."),
    DossierState.RESULT_READY: _("Đã có kết quả giải quyết. Bạn có thể nhận kết quả theo hình thức đã đăng ký."),
    DossierState.RETURNED: _("Kết quả đã được trả. Hãy đánh giá mức độ hài lòng của bạn."),
    DossierState.STOPPED: _("Hồ sơ đã dừng giải quyết theo đề nghị của người nộp."),
    DossierState.WITHDRAWN: _("Hồ sơ đã được rút."),
}

# States in which the processing clock runs and the dossier sits in an officer's queue.
OPEN_STATES = (
    DossierState.RECEIVED,
    DossierState.IN_PROCESSING,
    DossierState.AWAITING_APPROVAL,
    DossierState.RESULT_READY,
)
# States after which nothing changes any more.
FINAL_STATES = (
    DossierState.REFUSED_AT_RECEPTION,
    DossierState.REFUSED_AFTER_APPRAISAL,
    DossierState.RETURNED,
    DossierState.STOPPED,
    DossierState.WITHDRAWN,
)


@functools.cache
def state_labels(language: str | None) -> dict[str, str]:
    """The state labels in `language` (translation.get_language()), translated once per language:
    get_state_display() translates and hashes every choice again on each call."""
    return {value: str(label) for value, label in DossierState.choices}


class Channel(models.TextChoices):
    ONLINE = "online", _("Trực tuyến")
    COUNTER = "counter", _("Trực tiếp tại Bộ phận Một cửa")
    POSTAL = "postal", _("Qua dịch vụ bưu chính công ích")


class ResultChannel(models.TextChoices):
    DOWNLOAD = "download", _("Nhận kết quả điện tử trên Cổng")
    COUNTER = "counter", _("Nhận trực tiếp tại Bộ phận Một cửa")
    POSTAL = "postal", _("Nhận qua dịch vụ bưu chính công ích")


class SupplementStage(models.TextChoices):
    RECEPTION = "reception", _("Khi tiếp nhận")
    APPRAISAL = "appraisal", _("Sau thẩm định")


class AppointmentKind(models.TextChoices):
    """Why an appointment (ngày hẹn trả) was given; every one is kept, none is overwritten."""

    ORIGINAL = "original", _("Hẹn trả khi tiếp nhận")
    RESTART = "restart", _("Hẹn trả mới sau khi bổ sung hồ sơ")
    APOLOGY = "apology", _("Hẹn lại sau khi xin lỗi")


class PauseReason(models.TextChoices):
    SUPPLEMENT = "supplement", _("Chờ bổ sung hồ sơ")
    PAYMENT = "payment", _("Chờ nộp phí, lệ phí")


class FileKind(models.TextChoices):
    SUBMITTED = "submitted", _("Giấy tờ nộp kèm")
    SUPPLEMENT = "supplement", _("Giấy tờ bổ sung")
    RESULT = "result", _("Kết quả giải quyết")
    FORM = "form", _("Biểu mẫu một cửa")
    ATTACHMENT = "attachment", _("Tệp đính kèm xử lý")


class Action(models.TextChoices):
    """What an audit event records; one per service function."""

    CREATE = "create", _("Tạo hồ sơ")
    SUBMIT = "submit", _("Nộp hồ sơ")
    RECEIVE = "receive", _("Tiếp nhận hồ sơ")
    REQUEST_SUPPLEMENT = "request_supplement", _("Yêu cầu bổ sung")
    SUPPLEMENT = "supplement", _("Bổ sung hồ sơ")
    REFUSE = "refuse", _("Từ chối")
    RECORD_PAYMENT = "record_payment", _("Ghi nhận nộp phí")
    REFUND = "refund", _("Hoàn trả phí, lệ phí")
    ASSIGN = "assign", _("Phân công xử lý")
    FORWARD = "forward", _("Chuyển bước xử lý")
    CONSULT = "consult", _("Lấy ý kiến phối hợp")
    SUBMIT_FOR_APPROVAL = "submit_for_approval", _("Trình phê duyệt")
    SEND_BACK = "send_back", _("Trả lại để xử lý lại")
    APPROVE = "approve", _("Phê duyệt kết quả")
    RETURN_RESULT = "return_result", _("Trả kết quả")
    APOLOGISE = "apologise", _("Xin lỗi, hẹn lại ngày trả")
    STOP = "stop", _("Dừng giải quyết")
    REQUEST_STOP = "request_stop", _("Đề nghị dừng giải quyết")
    ANSWER_CONSULTATION = "answer_consultation", _("Trả lời ý kiến phối hợp")
    WITHDRAW = "withdraw", _("Rút hồ sơ")
    RATE = "rate", _("Đánh giá")
    ISSUE_FORM = "issue_form", _("Phát hành biểu mẫu")


class FormNumber(models.TextChoices):
    """The seven forms of Circular 03/2025/TT-VPCP, Appendix I."""

    RECEIPT = "01", _("Mẫu 01 – Giấy tiếp nhận hồ sơ và hẹn trả kết quả")
    SUPPLEMENT = "02", _("Mẫu 02 – Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ")
    REFUSAL = "03", _("Mẫu 03 – Phiếu từ chối tiếp nhận giải quyết hồ sơ")
    APOLOGY = "04", _("Mẫu 04 – Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết")
    STOP = "05", _("Mẫu 05 – Thông báo dừng giải quyết hồ sơ")
    CONTROL = "06", _("Mẫu 06 – Phiếu kiểm soát quá trình giải quyết hồ sơ")
    REGISTER = "07", _("Mẫu 07 – Sổ theo dõi hồ sơ")


class FormState(models.TextChoices):
    """Where a form owed by an action stands while a worker renders it (Form 01 after a reception)."""

    PENDING = "pending", _("Đang tạo")
    READY = "ready", _("Đã tạo")
    FAILED = "failed", _("Chưa tạo được")


# Satisfaction criteria offered to citizens (Decree 61/2018 Art 31(1); Circular 01/2018 indexes).
RATING_CRITERIA = {
    "time": _("Thời gian trả kết quả so với quy định"),
    "contacts": _("Số lần phải liên hệ với cơ quan để hoàn thiện hồ sơ"),
    "information": _("Thông tin về thủ tục được công khai đầy đủ, chính xác"),
    "attitude": _("Thái độ của cán bộ, công chức"),
    "online": _("Chất lượng dịch vụ công trực tuyến"),
}
RATING_SCORES = {2: _("Hài lòng"), 1: _("Bình thường"), 0: _("Không hài lòng")}


class HoldingBucket(models.TextChoices):
    """The stage at which a holder of an open dossier has it (see dossiers.models.DossierHolding)."""

    RECEPTION = "reception", _("Chờ tiếp nhận")
    PAYMENT = "payment", _("Chờ nộp phí, lệ phí")
    UNASSIGNED = "unassigned", _("Chờ phân công")
    PROCESSING = "processing", _("Đang xử lý")
    APPROVAL = "approval", _("Chờ phê duyệt")
    SUPPLEMENT = "supplement", _("Chờ người nộp bổ sung")
    RESULT = "result", _("Chờ trả kết quả")
