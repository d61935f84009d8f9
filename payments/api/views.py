"""Payment API: a fee quote, payment start and status, and the gateway's IPN endpoint."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from dossiers.selectors import dossier_get_for_citizen
from dossiers.services import DossierError, PermissionDeniedError
from procedures.fees import fee_quote
from procedures.models import Procedure
from procedures.services import procedure_publish_version

from .. import services
from ..selectors import payment_get_for_user
from ..views import _client_ip
from . import serializers as s


def _error(exc: DossierError) -> Response:
    code = status.HTTP_403_FORBIDDEN if isinstance(exc, PermissionDeniedError) else status.HTTP_409_CONFLICT
    return Response({"detail": exc.message, "field": exc.field}, status=code)


class FeeQuoteView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=s.FeeQuoteRequestSerializer,
        responses=s.FeeQuoteSerializer,
        summary="Báo giá phí, lệ phí theo thủ tục, cách thức nộp và nội dung tờ khai",
    )
    def post(self, request):
        data = s.FeeQuoteRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        procedure = get_object_or_404(Procedure.objects.published(), national_code=data.validated_data["procedure"])
        agency = None
        if data.validated_data.get("agency"):
            agency = get_object_or_404(procedure.agencies.all(), identifier=data.validated_data["agency"])
        version = procedure.current_version or procedure_publish_version(procedure=procedure)
        quote = fee_quote(
            snapshot=version.snapshot,
            procedure=procedure,
            agency=agency or procedure.agencies.first(),
            channel=data.validated_data["channel"],
            answers=data.validated_data.get("answers") or {},
            exemption_group=data.validated_data.get("exemption_group") or "",
        )
        return Response(s.FeeQuoteSerializer(quote.as_dict()).data)


class PaymentStartView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=s.PaymentStartSerializer,
        responses={201: s.PaymentSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False)],
        summary="Bắt đầu thanh toán trực tuyến phí, lệ phí của hồ sơ",
    )
    def post(self, request):
        data = s.PaymentStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dossier = dossier_get_for_citizen(user=request.user, public_id=data.validated_data["dossier"])
        try:
            payment = services.payment_create(
                dossier=dossier,
                actor=request.user,
                idempotency_key=request.headers.get("Idempotency-Key", "")[:100],
                expected_amount=data.validated_data.get("amount"),
            )
            url = services.payment_start(
                payment=payment,
                return_url=request.build_absolute_uri(reverse("payments:return", args=[payment.provider])),
                client_ip=_client_ip(request),
            )
        except DossierError as exc:
            return _error(exc)
        payment.refresh_from_db()
        body = s.PaymentSerializer(payment).data
        body["redirect_url"] = url
        return Response(body, status=status.HTTP_201_CREATED)


class PaymentStatusView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=s.PaymentSerializer, summary="Trạng thái một giao dịch thanh toán")
    def get(self, request, public_id):
        return Response(s.PaymentSerializer(payment_get_for_user(user=request.user, public_id=public_id)).data)


class IpnView(APIView):
    """VNPay's server-to-server notification (IPN), configured in the merchant portal.

    Verifies the checksum, finds the order, checks the amount and that it is not already
    confirmed; answers {"RspCode", "Message"} with 00, 01, 02, 04, 97 or 99 (HTTP 200 always,
    as the protocol expects).
    """

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    renderer_classes = [JSONRenderer]
    throttle_classes: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, required=name != "vnp_BankTranNo")
            for name in [
                "vnp_Amount",
                "vnp_BankCode",
                "vnp_BankTranNo",
                "vnp_CardType",
                "vnp_OrderInfo",
                "vnp_PayDate",
                "vnp_ResponseCode",
                "vnp_TmnCode",
                "vnp_TransactionNo",
                "vnp_TransactionStatus",
                "vnp_TxnRef",
                "vnp_SecureHash",
            ]
        ],
        responses=s.IpnResponseSerializer,
        summary="IPN của cổng thanh toán (VNPay 2.1.0)",
        auth=[],
    )
    def get(self, request, provider):
        from ..providers.registry import provider_names

        if provider not in provider_names() or provider == "counter":
            return Response({"RspCode": "99", "Message": "Unknow error"})
        answer = services.payment_handle_notification(provider_name=provider, params=request.query_params.dict())
        return Response(answer)
