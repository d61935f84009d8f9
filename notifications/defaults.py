# ruff: noqa: E501 - one message a line reads better than split strings
"""Default texts of the notification templates, Vietnamese and English, loaded into the database.

Variables: {{ procedure }}, {{ reference }} (dossier code, or the submission reference before
reception), {{ link }}, {{ appointment }}, {{ items }} (what a supplement asks for), {{ amount }},
{{ agency }}, {{ state }}, {{ tracking_number }}, {{ due }}, {{ count }}, {{ new_appointment }}.
Never the applicant's identification number.
"""

DEFAULTS = {
    "submitted": {
        "vi": (
            "Đã nộp hồ sơ {{ reference }}",
            "Hồ sơ {{ procedure }} (mã {{ reference }}) đã được gửi tới {{ agency }}. Theo dõi: {{ link }}",
        ),
        "en": (
            "Dossier {{ reference }} submitted",
            "Your dossier for {{ procedure }} ({{ reference }}) was sent to {{ agency }}. Follow it: {{ link }}",
        ),
    },
    "received": {
        "vi": (
            "Hồ sơ {{ reference }} đã được tiếp nhận",
            "Hồ sơ {{ procedure }} đã được tiếp nhận, mã hồ sơ {{ reference }}. Ngày hẹn trả kết quả: {{ appointment }}.{% if amount %} Phí, lệ phí: {{ amount }}.{% endif %} {{ link }}",
        ),
        "en": (
            "Dossier {{ reference }} received",
            "Your dossier for {{ procedure }} was received, code {{ reference }}. Result expected on {{ appointment }}.{% if amount %} Fees: {{ amount }}.{% endif %} {{ link }}",
        ),
    },
    "supplement_requested": {
        "vi": (
            "Hồ sơ {{ reference }} cần bổ sung",
            "Hồ sơ {{ procedure }} (mã {{ reference }}) cần bổ sung: {{ items }}. Bổ sung tại: {{ link }}",
        ),
        "en": (
            "Dossier {{ reference }} needs more documents",
            "Your dossier for {{ procedure }} ({{ reference }}) needs: {{ items }}. Add them at: {{ link }}",
        ),
    },
    "supplemented": {
        "vi": (
            "Đã bổ sung hồ sơ {{ reference }}",
            "Hồ sơ {{ procedure }} (mã {{ reference }}) đã được bổ sung. {{ link }}",
        ),
        "en": (
            "Dossier {{ reference }} completed",
            "Your dossier for {{ procedure }} ({{ reference }}) was completed. {{ link }}",
        ),
    },
    "payment_confirmed": {
        "vi": (
            "Đã nhận phí, lệ phí hồ sơ {{ reference }}",
            "Đã nhận {{ amount }} cho hồ sơ {{ procedure }} (mã {{ reference }}). {{ link }}",
        ),
        "en": (
            "Payment received for {{ reference }}",
            "We received {{ amount }} for your dossier for {{ procedure }} ({{ reference }}). {{ link }}",
        ),
    },
    "result_ready": {
        "vi": (
            "Hồ sơ {{ reference }} đã có kết quả",
            "Hồ sơ {{ procedure }} (mã {{ reference }}) đã có kết quả. {{ link }}",
        ),
        "en": (
            "Result ready for {{ reference }}",
            "The result of your dossier for {{ procedure }} ({{ reference }}) is ready. {{ link }}",
        ),
    },
    "returned": {
        "vi": (
            "Đã trả kết quả hồ sơ {{ reference }}",
            "Kết quả hồ sơ {{ procedure }} (mã {{ reference }}) đã được trả. Mời đánh giá chất lượng phục vụ: {{ link }}",
        ),
        "en": (
            "Result of {{ reference }} returned",
            "The result of your dossier for {{ procedure }} ({{ reference }}) was handed over. Please rate our service: {{ link }}",
        ),
    },
    "refused": {
        "vi": (
            "Hồ sơ {{ reference }} không được giải quyết",
            "Hồ sơ {{ procedure }} (mã {{ reference }}) không được giải quyết. Lý do và văn bản: {{ link }}",
        ),
        "en": (
            "Dossier {{ reference }} refused",
            "Your dossier for {{ procedure }} ({{ reference }}) was refused. Reasons: {{ link }}",
        ),
    },
    "stopped": {
        "vi": (
            "Hồ sơ {{ reference }} đã dừng xử lý",
            "Hồ sơ {{ procedure }} (mã {{ reference }}) đã dừng xử lý theo đề nghị. {{ link }}",
        ),
        "en": (
            "Dossier {{ reference }} stopped",
            "Your dossier for {{ procedure }} ({{ reference }}) was stopped at your request. {{ link }}",
        ),
    },
    "apologised": {
        "vi": (
            "Hồ sơ {{ reference }}: xin lỗi và hẹn lại",
            "Hồ sơ {{ procedure }} (mã {{ reference }}) chậm so với hẹn. Cơ quan xin lỗi và hẹn trả mới: {{ appointment }}. {{ link }}",
        ),
        "en": (
            "Dossier {{ reference }}: apology and new date",
            "Your dossier for {{ procedure }} ({{ reference }}) is late. We apologise; new date: {{ appointment }}. {{ link }}",
        ),
    },
    "shipment_sent": {
        "vi": (
            "Kết quả hồ sơ {{ reference }} đã gửi qua bưu chính",
            "Kết quả hồ sơ {{ procedure }} (mã {{ reference }}) đã giao bưu chính, số hiệu bưu gửi {{ tracking_number }}. {{ link }}",
        ),
        "en": (
            "Result of {{ reference }} posted",
            "The result of your dossier for {{ procedure }} ({{ reference }}) was posted, tracking number {{ tracking_number }}. {{ link }}",
        ),
    },
    "shipment_delivered": {
        "vi": (
            "Đã phát kết quả hồ sơ {{ reference }}",
            "Bưu chính đã phát kết quả hồ sơ {{ procedure }} (mã {{ reference }}). Mời đánh giá: {{ link }}",
        ),
        "en": (
            "Result of {{ reference }} delivered",
            "The post delivered the result of your dossier for {{ procedure }} ({{ reference }}). Please rate us: {{ link }}",
        ),
    },
    "rating_request": {
        "vi": (
            "Mời đánh giá hồ sơ {{ reference }}",
            "Mời ông/bà đánh giá việc giải quyết hồ sơ {{ procedure }} (mã {{ reference }}): {{ link }}",
        ),
        "en": (
            "Please rate dossier {{ reference }}",
            "Please rate how your dossier for {{ procedure }} ({{ reference }}) was handled: {{ link }}",
        ),
    },
    "new_work": {
        "vi": (
            "Hồ sơ mới {{ reference }}",
            "Hồ sơ {{ procedure }} (mã {{ reference }}) chờ xử lý, hạn {{ due }}. {{ link }}",
        ),
        "en": (
            "New dossier {{ reference }}",
            "Dossier for {{ procedure }} ({{ reference }}) awaits you, due {{ due }}. {{ link }}",
        ),
    },
    "due_soon": {
        "vi": (
            "Sắp đến hạn: hồ sơ {{ reference }}",
            "Hồ sơ {{ procedure }} (mã {{ reference }}) đến hạn {{ due }}. {{ link }}",
        ),
        "en": (
            "Due soon: dossier {{ reference }}",
            "Dossier for {{ procedure }} ({{ reference }}) is due {{ due }}. {{ link }}",
        ),
    },
    "overdue": {
        "vi": (
            "Quá hạn: hồ sơ {{ reference }}",
            "Hồ sơ {{ procedure }} (mã {{ reference }}) đã quá hạn {{ due }}. {{ link }}",
        ),
        "en": (
            "Overdue: dossier {{ reference }}",
            "Dossier for {{ procedure }} ({{ reference }}) was due {{ due }}. {{ link }}",
        ),
    },
    "consultation_late": {
        "vi": (
            "Ý kiến phối hợp trễ hạn: hồ sơ {{ reference }}",
            "Cơ quan được lấy ý kiến về hồ sơ {{ procedure }} (mã {{ reference }}) chưa trả lời đúng hạn (Nghị định 61/2018, Điều 19). Đề nghị đôn đốc. {{ link }}",
        ),
        "en": (
            "Consultation overdue: dossier {{ reference }}",
            "The unit consulted on the dossier for {{ procedure }} ({{ reference }}) has not answered by its deadline. Please follow it up. {{ link }}",
        ),
    },
    "apology_prompt": {
        "vi": (
            "Cần gửi văn bản xin lỗi: hồ sơ {{ reference }}",
            "Hồ sơ {{ procedure }} (mã {{ reference }}) hẹn trả {{ due }} có nguy cơ trễ. Hôm nay là hạn cuối gửi văn bản xin lỗi, hẹn lại (Mẫu 04). {{ link }}",
        ),
        "en": (
            "Apology due: dossier {{ reference }}",
            "Dossier for {{ procedure }} ({{ reference }}), due {{ due }}, may be late. Today is the last day to issue the apology letter (Form 04). {{ link }}",
        ),
    },
    "shipment_returned": {
        "vi": (
            "Bưu chính hoàn trả kết quả hồ sơ {{ reference }}",
            "Bưu chính hoàn trả kết quả hồ sơ {{ procedure }} (mã {{ reference }}, bưu gửi {{ tracking_number }}) sau khi phát không thành công. {{ link }}",
        ),
        "en": (
            "Post returned the result of {{ reference }}",
            "The post returned the result of dossier {{ procedure }} ({{ reference }}, item {{ tracking_number }}) after failed deliveries. {{ link }}",
        ),
    },
    "digest": {
        "vi": (
            "Tổng hợp hồ sơ {{ agency }}",
            "{{ agency }}: {{ due_soon }} hồ sơ sắp đến hạn, {{ overdue }} hồ sơ quá hạn. {{ link }}",
        ),
        "en": (
            "Dossier digest of {{ agency }}",
            "{{ agency }}: {{ due_soon }} dossiers due soon, {{ overdue }} overdue. {{ link }}",
        ),
    },
}
