"""VNPay payment gateway, protocol version 2.1.0 (domain.md §8.2).

Payment URL and notifications are signed with HMAC-SHA512 over the sorted, form-URL-encoded
`vnp_*` parameters (space as "+", `urllib.parse.quote_plus`), compared in constant time. The
merchant API (querydr, refund) takes JSON whose checksum is HMAC-SHA512 over the fields joined by
"|" in the order VNPay publishes (docs/decisions/0003-payment-gateways.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import urllib.error
import urllib.request
import uuid
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from ..constants import IpnOutcome, MessageKind
from .base import GatewayError, GatewayResult, GatewayStatus, PaymentProvider, RefundResult, StartResult
from .registry import register

logger = logging.getLogger("payments")
VN = ZoneInfo("Asia/Ho_Chi_Minh")
VERSION = "2.1.0"
EXCLUDED = ("vnp_SecureHash", "vnp_SecureHashType")

# Official IPN replies (vnpay_ipn.php); VNPay evaluates RspCode.
IPN_REPLIES = {
    IpnOutcome.CONFIRMED: ("00", "Confirm Success"),
    IpnOutcome.NOT_FOUND: ("01", "Order not found"),
    IpnOutcome.ALREADY_CONFIRMED: ("02", "Order already confirmed"),
    IpnOutcome.INVALID_AMOUNT: ("04", "Invalid amount"),
    IpnOutcome.INVALID_SIGNATURE: ("97", "Invalid signature"),
    IpnOutcome.ERROR: ("99", "Unknow error"),
}
# vnp_ResponseCode, in the officer's words (why a payment failed).
RESPONSE_CODES = {
    "00": "Giao dịch thành công",
    "07": "Trừ tiền thành công, giao dịch bị nghi ngờ",
    "09": "Thẻ/tài khoản chưa đăng ký Internet Banking",
    "10": "Xác thực thông tin thẻ/tài khoản sai quá 3 lần",
    "11": "Hết hạn chờ thanh toán",
    "12": "Thẻ/tài khoản bị khóa",
    "13": "Nhập sai mật khẩu xác thực (OTP)",
    "24": "Khách hàng hủy giao dịch",
    "51": "Tài khoản không đủ số dư",
    "65": "Vượt hạn mức giao dịch trong ngày",
    "75": "Ngân hàng đang bảo trì",
    "79": "Nhập sai mật khẩu thanh toán quá số lần quy định",
    "99": "Lỗi khác",
}
QUERY_HASH_FIELDS = [
    "vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TxnRef",
    "vnp_TransactionDate", "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo",
]  # fmt: skip
QUERY_RESPONSE_HASH_FIELDS = [
    "vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode", "vnp_TxnRef",
    "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo", "vnp_TransactionType",
    "vnp_TransactionStatus", "vnp_OrderInfo", "vnp_PromotionCode", "vnp_PromotionAmount",
]  # fmt: skip
REFUND_HASH_FIELDS = [
    "vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TransactionType", "vnp_TxnRef",
    "vnp_Amount", "vnp_TransactionNo", "vnp_TransactionDate", "vnp_CreateBy", "vnp_CreateDate",
    "vnp_IpAddr", "vnp_OrderInfo",
]  # fmt: skip
REFUND_RESPONSE_HASH_FIELDS = [
    "vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode", "vnp_TxnRef",
    "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo", "vnp_TransactionType",
    "vnp_TransactionStatus", "vnp_OrderInfo",
]  # fmt: skip


def hash_data(params: dict) -> str:
    """The string VNPay signs: sorted vnp_* pairs, values form-URL-encoded (space as "+")."""
    pairs = sorted((k, v) for k, v in params.items() if k.startswith("vnp_") and k not in EXCLUDED)
    return "&".join(f"{key}={quote_plus(str(value))}" for key, value in pairs)


def hmac_sha512(secret: str, message: str) -> str:
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha512).hexdigest()


def sign(params: dict, secret: str) -> str:
    return hmac_sha512(secret, hash_data(params))


def verify(params: dict, secret: str) -> bool:
    """Constant-time check of vnp_SecureHash (ASVS 13.2.6)."""
    given = str(params.get("vnp_SecureHash", "")).lower()
    return bool(given) and hmac.compare_digest(given, sign(params, secret))


def pipe_checksum(data: dict, fields: list[str], secret: str) -> str:
    return hmac_sha512(secret, "|".join(str(data.get(name, "")) for name in fields))


def vn_time(at: dt.datetime) -> str:
    return at.astimezone(VN).strftime("%Y%m%d%H%M%S")


def safe_text(text: str) -> str:
    """Values restricted to [A-Za-z0-9 .,_:-] (domain.md §8.2: the encoders disagree on others)."""
    import unicodedata

    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[^A-Za-z0-9 .,_:-]", "", plain)[:255]


@register
class VnpayProvider(PaymentProvider):
    name = "vnpay"
    verbose_name = "VNPay"

    def __init__(self) -> None:
        self.tmn_code = settings.VNPAY_TMN_CODE
        self.secret = settings.VNPAY_HASH_SECRET
        self.pay_url = settings.VNPAY_URL
        self.api_url = settings.VNPAY_API_URL

    # --- payment URL ----------------------------------------------------------------------

    def start(self, payment, *, return_url: str, client_ip: str, locale: str = "vn") -> StartResult:
        now = timezone.now()
        params = {
            "vnp_Version": VERSION,
            "vnp_Command": "pay",
            "vnp_TmnCode": self.tmn_code,
            "vnp_Amount": str(payment.amount * 100),
            "vnp_CurrCode": "VND",
            "vnp_TxnRef": payment.reference,
            "vnp_OrderInfo": safe_text(f"Thanh toan le phi ho so {payment.dossier.code or payment.reference}"),
            "vnp_OrderType": "billpayment",
            "vnp_Locale": "en" if locale == "en" else "vn",
            "vnp_ReturnUrl": return_url,
            "vnp_IpAddr": client_ip or "127.0.0.1",
            "vnp_CreateDate": vn_time(now),
            "vnp_ExpireDate": vn_time(payment.expires_at or now + dt.timedelta(minutes=15)),
        }
        data = hash_data(params)
        url = f"{self.pay_url}?{data}&vnp_SecureHash={hmac_sha512(self.secret, data)}"
        return StartResult(redirect_url=url, request=params)

    # --- browser return and IPN -----------------------------------------------------------

    def _result(self, params: dict) -> GatewayResult:
        params = {k: str(v) for k, v in params.items()}
        verified = verify(params, self.secret)
        try:
            amount = int(params.get("vnp_Amount", "")) // 100
        except ValueError:
            amount = None
        code, status = params.get("vnp_ResponseCode", ""), params.get("vnp_TransactionStatus", "")
        # Only both codes "00" mean paid (reliability.md, Payments).
        paid = code == "00" and status == "00"
        return GatewayResult(
            reference=params.get("vnp_TxnRef", ""),
            verified=verified,
            status=GatewayStatus.PAID if paid else GatewayStatus.FAILED,
            amount=amount,
            transaction_no=params.get("vnp_TransactionNo", ""),
            bank_code=params.get("vnp_BankCode", ""),
            reason=f"VNPay {code}/{status}: {RESPONSE_CODES.get(code, 'Mã không xác định')}",
            request=params,
        )

    def handle_return(self, params: dict) -> GatewayResult:
        return self._result(params)

    def handle_notification(self, params: dict) -> GatewayResult:
        return self._result(params)

    def notification_response(self, outcome: str) -> dict:
        code, message = IPN_REPLIES.get(outcome, IPN_REPLIES[IpnOutcome.ERROR])
        return {"RspCode": code, "Message": message}

    # --- merchant API ---------------------------------------------------------------------

    def _post_json(self, body: dict) -> dict:
        if not self.api_url.startswith(("https://", "http://")):
            raise GatewayError("VNPAY_API_URL must be an http(s) URL")
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            self.api_url,
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - URL from settings
                return json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise GatewayError(str(exc)) from exc

    def _start_date(self, payment) -> str:
        start = payment.messages.filter(kind=MessageKind.START).order_by("id").first()
        if start is not None and start.request.get("vnp_CreateDate"):
            return start.request["vnp_CreateDate"]
        return vn_time(payment.started_at or payment.created_at)

    def query(self, payment) -> GatewayResult:
        body = {
            "vnp_RequestId": uuid.uuid4().hex[:32],
            "vnp_Version": VERSION,
            "vnp_Command": "querydr",
            "vnp_TmnCode": self.tmn_code,
            "vnp_TxnRef": payment.reference,
            "vnp_OrderInfo": safe_text(f"Tra cuu giao dich {payment.reference}"),
            "vnp_TransactionDate": self._start_date(payment),
            "vnp_CreateDate": vn_time(timezone.now()),
            "vnp_IpAddr": "127.0.0.1",
        }
        body["vnp_SecureHash"] = pipe_checksum(body, QUERY_HASH_FIELDS, self.secret)
        answer = self._post_json(body)
        verified = hmac.compare_digest(
            str(answer.get("vnp_SecureHash", "")).lower(),
            pipe_checksum(answer, QUERY_RESPONSE_HASH_FIELDS, self.secret),
        )
        code, status = str(answer.get("vnp_ResponseCode", "")), str(answer.get("vnp_TransactionStatus", ""))
        if not verified or code != "00":
            state = GatewayStatus.UNKNOWN
        elif status == "00":
            state = GatewayStatus.PAID
        elif status == "01":
            state = GatewayStatus.PENDING
        else:
            state = GatewayStatus.FAILED
        try:
            amount = int(answer.get("vnp_Amount", "")) // 100
        except ValueError:
            amount = None
        return GatewayResult(
            reference=str(answer.get("vnp_TxnRef", payment.reference)),
            verified=verified,
            status=state,
            amount=amount,
            transaction_no=str(answer.get("vnp_TransactionNo", "")),
            bank_code=str(answer.get("vnp_BankCode", "")),
            reason=f"VNPay querydr {code}/{status}: {answer.get('vnp_Message', '')}",
            request=body,
            response=answer,
        )

    def refund(self, payment, *, amount: int, reason: str, requested_by: str) -> RefundResult:
        body = {
            "vnp_RequestId": uuid.uuid4().hex[:32],
            "vnp_Version": VERSION,
            "vnp_Command": "refund",
            "vnp_TmnCode": self.tmn_code,
            # 02: full refund, 03: partial.
            "vnp_TransactionType": "02" if amount == payment.amount else "03",
            "vnp_TxnRef": payment.reference,
            "vnp_Amount": str(amount * 100),
            "vnp_OrderInfo": safe_text(f"Hoan tra {payment.reference}: {reason}")[:255],
            "vnp_TransactionNo": payment.gateway_transaction_no,
            "vnp_TransactionDate": self._start_date(payment),
            "vnp_CreateBy": safe_text(requested_by)[:250] or "officer",
            "vnp_CreateDate": vn_time(timezone.now()),
            "vnp_IpAddr": "127.0.0.1",
        }
        body["vnp_SecureHash"] = pipe_checksum(body, REFUND_HASH_FIELDS, self.secret)
        answer = self._post_json(body)
        verified = hmac.compare_digest(
            str(answer.get("vnp_SecureHash", "")).lower(),
            pipe_checksum(answer, REFUND_RESPONSE_HASH_FIELDS, self.secret),
        )
        code = str(answer.get("vnp_ResponseCode", ""))
        return RefundResult(
            ok=verified and code == "00",
            gateway_reference=str(answer.get("vnp_TransactionNo", "")),
            reason=f"VNPay refund {code}: {answer.get('vnp_Message', '')}"
            + ("" if verified else " (chữ ký phản hồi không hợp lệ)"),
            request=body,
            response=answer,
        )
