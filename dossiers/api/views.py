"""Endpoints of the dossier API, with the same permissions as the pages.

Every object is fetched through a selector that authorises as it fetches, so that another
person's dossier or file answers 404 exactly like a missing one (ASVS 4.1.1, 4.2.1). Every change
is one service call; the view only turns the request into its arguments and the service's refusal
into an HTTP status. Answers carry `Cache-Control: no-store` (ASVS 8.2.1): they hold personal data.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import logging

from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, mixins, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView, exception_handler

from dossiers.privacy.services import consent_record, personal_data_access_record
from portal.client_ip import client_ip
from portal.ratelimit import rate_hit

from .. import selectors, services
from ..constants import DossierState, FileKind, ResultChannel
from ..filters import FILTER_KEYS, QueueFilterSet
from ..models import Dossier
from . import serializers as s

logger = logging.getLogger("dossiers.api")
S = DossierState

# --- errors ------------------------------------------------------------------------------------


class ApiError(exceptions.APIException):
    """A refusal with its status, a stable code and, when known, the field at fault."""

    def __init__(self, message: str, *, status_code: int, code: str, field: str | None = None):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.code = code
        self.field = field


def _from_dossier_error(exc: services.DossierError) -> ApiError:
    if isinstance(exc, services.ConflictError):
        return ApiError(exc.message, status_code=status.HTTP_409_CONFLICT, code="conflict", field=exc.field)
    # By class, never by reading the traceback: PermissionDeniedError is "you may not" (403),
    # the other NotAllowedError "nobody may, in this state" (409).
    if isinstance(exc, services.PermissionDeniedError):
        return ApiError(exc.message, status_code=status.HTTP_403_FORBIDDEN, code="permission_denied")
    if isinstance(exc, services.NotAllowedError):
        return ApiError(exc.message, status_code=status.HTTP_409_CONFLICT, code="not_allowed", field=exc.field)
    return ApiError(exc.message, status_code=status.HTTP_400_BAD_REQUEST, code="invalid", field=exc.field)


# DRF's Vietnamese catalogue lacks these; the codes stay DRF's.
_MESSAGES = {
    "not_authenticated": gettext_lazy("Vui lòng đăng nhập để sử dụng chức năng này."),
    "authentication_failed": gettext_lazy("Thông tin đăng nhập không đúng."),
    "parse_error": gettext_lazy("Dữ liệu gửi lên không đúng định dạng."),
    "unsupported_media_type": gettext_lazy("Định dạng dữ liệu gửi lên không được hỗ trợ."),
    "not_acceptable": gettext_lazy("Không thể trả dữ liệu theo định dạng được yêu cầu."),
    "not_found": gettext_lazy("Không tìm thấy."),
}


def _leaf_messages(data, field: str = ""):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaf_messages(value, field or ("" if key == api_settings.NON_FIELD_ERRORS_KEY else str(key)))
    elif isinstance(data, list):
        for value in data:
            yield from _leaf_messages(value, field)
    else:
        yield f"{field}: {data}" if field else str(data)


def api_exception_handler(exc, context):
    """The one handler of the whole API (settings.REST_FRAMEWORK["EXCEPTION_HANDLER"]): every answer
    shaped {"detail": ..., "code": ...} and worded in Vietnamese. The project's error classes map by
    class: PermissionDeniedError 403, NotAllowedError and ConflictError 409, other DossierError and
    Django's ValidationError 400."""
    if isinstance(exc, services.DossierError):
        exc = _from_dossier_error(exc)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ApiError):
        body = {"detail": str(exc.detail), "code": exc.code}
        if exc.field:
            body["field"] = exc.field
    elif isinstance(exc, exceptions.ValidationError):
        messages = list(_leaf_messages(exc.detail))
        body = {
            "detail": _("Dữ liệu không hợp lệ: %(problems)s") % {"problems": "; ".join(messages)},
            "code": "invalid",
            "errors": response.data if isinstance(response.data, dict) else {"non_field_errors": response.data},
        }
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        detail = str(exc.detail)
        if code == "permission_denied" and detail.startswith("CSRF Failed"):
            code = "csrf_failed"
            detail = _("Yêu cầu thiếu hoặc sai mã chống giả mạo (CSRF). Vui lòng tải lại trang và thử lại.")
        elif isinstance(exc, exceptions.Throttled):
            detail = _("Quá nhiều yêu cầu. Vui lòng thử lại sau %(wait)s giây.") % {"wait": int(exc.wait or 60)}
        elif code in _MESSAGES:
            detail = str(_MESSAGES[code])
        body = {"detail": detail, "code": code}
    response.data = body
    return response


_ERROR_DESCRIPTIONS = {
    400: gettext_lazy("Dữ liệu không hợp lệ (thông báo và lỗi theo trường)."),
    403: gettext_lazy("Không có quyền, chưa đăng nhập hoặc thiếu mã CSRF."),
    404: gettext_lazy("Không tìm thấy (kể cả khi đối tượng thuộc về người khác)."),
    409: gettext_lazy(
        "Xung đột: hồ sơ vừa được cập nhật (phiên bản cũ) hoặc thao tác không hợp lệ ở trạng thái hiện tại."
    ),
    422: gettext_lazy("Idempotency-Key đã dùng cho một yêu cầu khác."),
    429: gettext_lazy("Quá nhiều yêu cầu."),
}


def _errors(*codes: int) -> dict:
    return {code: OpenApiResponse(s.ErrorSerializer, description=str(_ERROR_DESCRIPTIONS[code])) for code in codes}


# --- base --------------------------------------------------------------------------------------


class IsOfficer(BasePermission):
    """A staff member of at least one agency; which dossiers they reach is the selectors' business."""

    message = gettext_lazy("Chức năng này dành cho cán bộ của cơ quan giải quyết hồ sơ.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        selectors.remember_memberships(user)  # resolved once for the whole request
        return bool(user and user.is_authenticated and selectors.officer_agency_ids(user))


class ApiView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    def get_exception_handler(self):
        return api_exception_handler

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        add_never_cache_headers(response)
        return response


def _citizen_dossier(request, public_id):
    return selectors.dossier_get_for_citizen(user=request.user, public_id=public_id)


def _dossier_response(
    request, public_id, status_code: int = status.HTTP_200_OK, headers=None, *, written: Dossier | None = None
) -> Response:
    """The dossier as its applicant reads it. `written` is the instance a service has just saved under
    its row lock, after this request's access check: it is current, so it is not read again."""
    dossier = written if written is not None else _citizen_dossier(request, public_id)
    return Response(
        s.DossierSerializer(dossier, context={"request": request}).data, status=status_code, headers=headers
    )


def _valid(serializer_class, request, **context):
    serializer = serializer_class(data=request.data, context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- citizen -----------------------------------------------------------------------------------

# Kept a day, like the stores of the payment gateways; a request still running holds the key only
# briefly, so that a crashed worker does not block the client for a day.
IDEMPOTENCY_TTL = 24 * 3600
IDEMPOTENCY_RUNNING_TTL = 60
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=gettext_lazy(
        "Khóa chống tạo trùng: cùng khóa và cùng nội dung trả lại hồ sơ đã tạo (200); khóa đang được xử lý "
        "→ 409; cùng khóa với nội dung khác → 422."
    ),
)


def idempotency_cache_key(user, key: str) -> str:
    """Keys are per user: one person's key never answers another's request."""
    return f"dossiers:api:idempotency:{user.pk}:{hashlib.sha256(key.encode()).hexdigest()}"


def request_fingerprint(data) -> str:
    """A hash of the parsed body, the same whatever the order of its keys."""
    if hasattr(data, "lists"):
        data = dict(data.lists())
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=_fingerprint_part).encode("utf-8")).hexdigest()


def _fingerprint_part(value) -> str:
    """An uploaded file by its name, size and content hash (a retry sends the same bytes)."""
    if hasattr(value, "chunks") and hasattr(value, "size"):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return f"file:{value.name}:{value.size}:{digest.hexdigest()}"
    return str(value)


def _idempotent(request, create) -> Response:
    """Run `create` (which answers with a dossier) once per Idempotency-Key and body; replay it after.

    Without the header, `create` simply runs. cache.add is atomic (SET NX on Redis): exactly one request
    with a key goes on to create; a second one while it runs gets 409, one with another body 422.
    """
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return create(request)
    if not (0 < len(key) <= 255) or not key.isascii() or not key.isprintable():
        raise ApiError(
            _("Idempotency-Key phải gồm 1 đến 255 ký tự ASCII in được."),
            status_code=status.HTTP_400_BAD_REQUEST,
            code="invalid",
            field="Idempotency-Key",
        )
    cache_key = idempotency_cache_key(request.user, key)
    body = request_fingerprint(request.data)
    if not cache.add(cache_key, {"body": body, "public_id": None}, IDEMPOTENCY_RUNNING_TTL):
        return _replay(request, cache.get(cache_key), body)
    try:
        response = create(request)
    except BaseException:
        cache.delete(cache_key)
        raise
    cache.set(cache_key, {"body": body, "public_id": response.data["public_id"]}, IDEMPOTENCY_TTL)
    return response


def _replay(request, stored: dict | None, body: str) -> Response:
    if stored is None:  # expired between the two calls: the first request failed or ran too long
        raise ApiError(
            _("Yêu cầu với Idempotency-Key này đang được xử lý. Vui lòng thử lại sau."),
            status_code=status.HTTP_409_CONFLICT,
            code="idempotency_key_in_use",
        )
    if stored["body"] != body:
        raise ApiError(
            _("Idempotency-Key này đã được dùng cho một yêu cầu có nội dung khác."),
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
            code="idempotency_key_reused",
        )
    if stored["public_id"] is None:
        raise ApiError(
            _("Yêu cầu với Idempotency-Key này đang được xử lý. Vui lòng thử lại sau."),
            status_code=status.HTTP_409_CONFLICT,
            code="idempotency_key_in_use",
        )
    logger.info("dossier_api.idempotent_replay user=%s dossier=%s", request.user.pk, stored["public_id"])
    return _dossier_response(request, stored["public_id"], headers={"Idempotent-Replayed": "true"})


@extend_schema_view(
    get=extend_schema(
        summary="Hồ sơ của tôi", tags=["dossiers"], responses={200: s.DossierSummarySerializer(many=True)}
    ),
    post=extend_schema(
        summary="Tạo hồ sơ nháp",
        tags=["dossiers"],
        parameters=[IDEMPOTENCY_HEADER],
        request=s.DossierCreateSerializer,
        responses={
            201: s.DossierSerializer,
            200: OpenApiResponse(s.DossierSerializer, description=gettext_lazy("Lặp lại với cùng Idempotency-Key.")),
            **_errors(400, 403, 409, 422),
        },
    ),
)
class DossierListCreateView(ApiView, mixins.ListModelMixin, generics.GenericAPIView):
    serializer_class = s.DossierSummarySerializer
    pagination_class = PageNumberPagination
    filter_backends: list = []

    def get_queryset(self):
        return (
            selectors.dossiers_of_citizen(self.request.user)
            .select_related("procedure", "agency")
            .order_by("-created_at", "-id")
        )

    def get(self, request):
        return self.list(request)

    def post(self, request):
        return _idempotent(request, self._create)

    def _create(self, request) -> Response:
        data = _valid(s.DossierCreateSerializer, request)
        dossier = services.dossier_create_draft(procedure=data["procedure"], agency=data["agency"], owner=request.user)
        return _dossier_response(request, dossier.public_id, status.HTTP_201_CREATED, written=dossier)


FILE_PART = "file_"
SUBMISSION_FILES_MAX = 20


def _submission_uploads(request) -> list[tuple[int, object]]:
    """The file parts `file_<requirement id>` (each may repeat), in the order sent."""
    uploads: list[tuple[int, object]] = []
    for name in request.FILES:
        suffix = name[len(FILE_PART) :] if name.startswith(FILE_PART) else ""
        if not suffix.isdigit():
            raise ApiError(
                _("Tệp “%(name)s”: tên phần tệp phải có dạng file_<số thành phần hồ sơ>.") % {"name": name},
                status_code=status.HTTP_400_BAD_REQUEST,
                code="invalid",
                field=name,
            )
        uploads += [(int(suffix), upload) for upload in request.FILES.getlist(name)]
    if len(uploads) > SUBMISSION_FILES_MAX:
        raise ApiError(
            _("Mỗi lần nộp có tối đa %(n)s tệp.") % {"n": SUBMISSION_FILES_MAX},
            status_code=status.HTTP_400_BAD_REQUEST,
            code="invalid",
            field="file",
        )
    return uploads


@extend_schema_view(
    post=extend_schema(
        summary="Nộp hồ sơ trong một yêu cầu",
        description=(
            "Tạo hồ sơ, lưu tờ khai, tải lên giấy tờ và nộp, tất cả hoặc không gì cả (multipart/form-data). "
            "Mỗi giấy tờ là một phần tệp tên file_<id thành phần hồ sơ> (id trong `documents` của thủ tục), "
            "có thể lặp lại. Có lỗi thì không có gì được lưu."
        ),
        tags=["dossiers"],
        parameters=[IDEMPOTENCY_HEADER],
        request={"multipart/form-data": s.SubmissionSerializer},
        responses={
            201: s.DossierSerializer,
            200: OpenApiResponse(s.DossierSerializer, description=gettext_lazy("Lặp lại với cùng Idempotency-Key.")),
            **_errors(400, 403, 409, 422),
        },
    ),
)
class DossierSubmissionView(ApiView):
    """The six calls of a submission (create, answers, uploads, submit) as one transaction and one request."""

    parser_classes = [MultiPartParser, FormParser]

    def post(self, request):
        return _idempotent(request, self._submit)

    def _submit(self, request) -> Response:
        uploads = _submission_uploads(request)
        # The file parts are read above; the serializer refuses any part it does not know.
        fields = {key: value for key, value in request.data.items() if key not in request.FILES}
        serializer = s.SubmissionSerializer(data=fields, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        stored = []
        try:
            with transaction.atomic():
                dossier = services.dossier_create_draft(
                    procedure=data["procedure"], agency=data["agency"], owner=request.user
                )
                if data["answers"]:
                    answers = s.AnswersUpdateSerializer(
                        data={"answers": data["answers"]},
                        context={"request": request, "form_fields": dossier.snapshot.get("form_fields", [])},
                    )
                    answers.is_valid(raise_exception=True)
                    dossier = services.dossier_save_answers(
                        dossier=dossier, user=request.user, answers=answers.validated_data["answers"]
                    )
                for requirement_id, upload in uploads:
                    stored.append(
                        services.dossier_attach_file(
                            dossier=dossier, user=request.user, requirement_id=requirement_id, upload=upload
                        )
                    )
                submitted = services.dossier_submit(dossier=dossier, user=request.user, expected_version=None)
                consent_record(
                    user=request.user,
                    dossier=submitted,
                    context="submission",
                    choices={
                        "processing": True,
                        "notifications": data["consent_notifications"],
                        "data_reuse": data["consent_data_reuse"],
                    },
                )
        except BaseException:
            # The rows rolled back; the stored bytes are not in the transaction.
            for file in stored:
                with contextlib.suppress(OSError):
                    file.file.storage.delete(file.file.name)
            raise
        return _dossier_response(request, submitted.public_id, status.HTTP_201_CREATED, written=submitted)


class DossierDetailView(ApiView):
    @extend_schema(
        summary="Chi tiết hồ sơ của tôi", tags=["dossiers"], responses={200: s.DossierSerializer, **_errors(403, 404)}
    )
    def get(self, request, public_id):
        return _dossier_response(request, public_id)


class DossierAnswersView(ApiView):
    @extend_schema(
        summary="Lưu câu trả lời tờ khai",
        description="Chỉ các trường gửi lên được kiểm tra và lưu; trường lạ bị từ chối.",
        tags=["dossiers"],
        request=s.AnswersUpdateSerializer,
        responses={200: s.DossierSerializer, **_errors(400, 403, 404, 409)},
    )
    def patch(self, request, public_id):
        dossier = _citizen_dossier(request, public_id)
        data = _valid(s.AnswersUpdateSerializer, request, form_fields=dossier.snapshot.get("form_fields", []))
        saved = services.dossier_save_answers(dossier=dossier, user=request.user, answers=data["answers"])
        return _dossier_response(request, public_id, written=saved)


class DossierFilesView(ApiView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Tải lên giấy tờ",
        tags=["dossiers"],
        request=s.FileUploadSerializer,
        responses={201: s.DossierFileSerializer, **_errors(400, 403, 404, 409)},
    )
    def post(self, request, public_id):
        dossier = _citizen_dossier(request, public_id)
        data = _valid(s.FileUploadSerializer, request)
        stored = services.dossier_attach_file(
            dossier=dossier, user=request.user, requirement_id=data.get("requirement"), upload=data["file"]
        )
        return Response(s.DossierFileSerializer(stored, context={"request": request}).data, status=201)


class DossierFileDetailView(ApiView):
    @extend_schema(summary="Xóa giấy tờ đã tải lên", tags=["dossiers"], responses={204: None, **_errors(403, 404, 409)})
    def delete(self, request, public_id, file_id):
        dossier = _citizen_dossier(request, public_id)
        # Only the applicant's own uploads can be addressed here; forms and results are not theirs to delete.
        file = dossier.files.filter(public_id=file_id, kind__in=[FileKind.SUBMITTED, FileKind.SUPPLEMENT]).first()
        if file is None:
            raise Http404
        services.dossier_remove_file(dossier=dossier, user=request.user, file=file)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DossierDeliveryView(ApiView):
    @extend_schema(
        summary="Chọn hình thức nhận kết quả",
        tags=["dossiers"],
        request=s.DeliverySerializer,
        responses={200: s.DossierSerializer, **_errors(400, 403, 404, 409)},
    )
    def put(self, request, public_id):
        dossier = _citizen_dossier(request, public_id)
        data = _valid(s.DeliverySerializer, request)
        services.dossier_set_delivery(
            dossier=dossier,
            user=request.user,
            channel_out=data["channel_out"],
            postal_address=data.get("postal_address", ""),
        )
        return _dossier_response(request, public_id)


class CitizenActionView(ApiView):
    request_serializer: type[s.RequestSerializer]

    def post(self, request, public_id):
        dossier = _citizen_dossier(request, public_id)
        data = dict(_valid(self.request_serializer, request))
        written = self.perform(dossier, request.user, data.pop("version", None), data)
        return _dossier_response(request, public_id, written=written)

    def perform(self, dossier, user, version, data) -> Dossier | None:
        """Run the action; return the dossier the service saved when nothing else changed it after."""
        raise NotImplementedError


def _citizen_action(request_serializer, summary: str, description: str = ""):
    return extend_schema_view(
        post=extend_schema(
            summary=summary,
            description=description,
            tags=["dossiers"],
            request=request_serializer,
            responses={200: s.DossierSerializer, **_errors(400, 403, 404, 409)},
        )
    )


@_citizen_action(s.SubmitSerializer, "Nộp hồ sơ", "Kiểm tra đủ thông tin và giấy tờ; chốt phí, lệ phí.")
class DossierSubmitView(CitizenActionView):
    request_serializer = s.SubmitSerializer

    def perform(self, dossier, user, version, data):
        with transaction.atomic():
            submitted = services.dossier_submit(dossier=dossier, user=user, expected_version=version)
            consent_record(
                user=user,
                dossier=dossier,
                context="submission",
                choices={
                    "processing": True,
                    "notifications": data.get("consent_notifications", False),
                    "data_reuse": data.get("consent_data_reuse", False),
                },
            )
        return submitted


@_citizen_action(s.WithdrawSerializer, "Rút hồ sơ", "Chỉ khi hồ sơ chưa được tiếp nhận.")
class DossierWithdrawView(CitizenActionView):
    request_serializer = s.WithdrawSerializer

    def perform(self, dossier, user, version, data):
        services.dossier_withdraw(dossier=dossier, user=user, reason=data.get("reason", ""), expected_version=version)


@_citizen_action(
    s.StopRequestSerializer,
    "Đề nghị dừng giải quyết",
    "Sau khi hồ sơ đã được tiếp nhận, trước khi có kết quả (Nghị định 118/2025 Điều 21); Bộ phận Một cửa quyết định.",
)
class DossierRequestStopView(CitizenActionView):
    request_serializer = s.StopRequestSerializer

    def perform(self, dossier, user, version, data):
        services.dossier_request_stop(dossier=dossier, user=user, reason=data["reason"], expected_version=version)


@_citizen_action(s.SupplementSerializer, "Gửi bổ sung hồ sơ", "Giấy tờ bổ sung được tải lên trước qua /files/.")
class DossierSupplementView(CitizenActionView):
    request_serializer = s.SupplementSerializer

    def perform(self, dossier, user, version, data):
        services.dossier_supplement(dossier=dossier, user=user, note=data.get("note", ""), expected_version=version)


class DossierRatingView(ApiView):
    @extend_schema(
        summary="Đánh giá mức độ hài lòng",
        tags=["dossiers"],
        request=s.RatingRequestSerializer,
        responses={201: s.RatingSerializer, **_errors(400, 403, 404, 409)},
    )
    def post(self, request, public_id):
        dossier = _citizen_dossier(request, public_id)
        data = _valid(s.RatingRequestSerializer, request)
        rating = services.dossier_rate(
            dossier=dossier, user=request.user, scores=dict(data["scores"]), comment=data.get("comment", "")
        )
        return Response(s.RatingSerializer(rating).data, status=status.HTTP_201_CREATED)


class _AnyAccept(BaseContentNegotiation):
    """A download answers whatever the client accepts; errors on it are still JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class FileDownloadView(ApiView):
    content_negotiation_class = _AnyAccept

    @extend_schema(
        summary="Tải tệp của hồ sơ",
        description=(
            "Tệp được trả dưới dạng tệp đính kèm. Lần đầu người nộp tải kết quả điện tử, kết quả được ghi "
            "nhận là đã trả."
        ),
        tags=["files"],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **_errors(403, 404)},
    )
    def get(self, request, public_id):
        file = selectors.file_get_for_user(user=request.user, public_id=public_id)
        dossier = file.dossier
        if (
            file.kind == FileKind.RESULT
            and dossier.state == S.RESULT_READY
            and dossier.channel_out == ResultChannel.DOWNLOAD
            and dossier.owner_id == request.user.pk
        ):
            # A concurrent download may have returned it first.
            with contextlib.suppress(services.NotAllowedError):
                services.dossier_return_result(dossier=dossier, actor=request.user, channel=ResultChannel.DOWNLOAD)
        response = FileResponse(
            file.file.open("rb"), as_attachment=True, filename=file.original_name, content_type=file.content_type
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


# --- public ------------------------------------------------------------------------------------


class TrackThrottle(BaseThrottle):
    """Codes are sequential: limit how fast anyone can walk through them.

    The rate is settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["dossier_track"]; the address is
    the one every limit uses (portal.client_ip), never a forwarded header the client wrote. Counted
    by one atomic upsert (portal/ratelimit.py): SimpleRateThrottle reads and rewrites the list of
    every request time of the window through the cache, four queries per request on the database
    cache and a list as long as the limit.
    """

    scope = "dossier_track"

    def allow_request(self, request, view):
        rate = api_settings.DEFAULT_THROTTLE_RATES[self.scope]  # read per request: tests override it
        self.hit = rate_hit(scope=self.scope, ident=self.get_ident(request), rate=rate)
        return not self.hit.limited

    def get_ident(self, request):
        return client_ip(request)

    def wait(self):
        return self.hit.retry_after()


class TrackView(ApiView):
    permission_classes = [AllowAny]
    throttle_classes = [TrackThrottle]

    @extend_schema(
        summary="Tra cứu tình trạng hồ sơ theo mã",
        description="Không cần đăng nhập; không có thông tin cá nhân của người nộp.",
        tags=["tracking"],
        auth=[],
        responses={200: s.TrackSerializer, **_errors(404, 429)},
    )
    def get(self, request, code):
        dossier = selectors.dossier_track_public(code=code)
        if dossier is None:
            raise Http404
        return Response(s.track_payload(dossier))  # TrackSerializer's JSON, written without its machinery


# --- officer -----------------------------------------------------------------------------------

QUEUE_PAGE_SIZE = 25
QUEUE_PAGE_MAX = 100


def _encode_cursor(cursor: str | None) -> str | None:
    # The selector's cursor holds a "+07:00" offset that a query string would turn into a space.
    return base64.urlsafe_b64encode(cursor.encode("ascii")).decode("ascii").rstrip("=") if cursor else None


def _page_size(value: str | None) -> int:
    if value in (None, ""):
        return QUEUE_PAGE_SIZE
    if not value.isdigit() or not 1 <= int(value) <= QUEUE_PAGE_MAX:
        raise exceptions.ValidationError({"size": [_("Số hồ sơ một trang phải từ 1 đến 100.")]})
    return int(value)


def _decode_cursor(value: str | None) -> str | None:
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
        due_text, separator, pk_text = raw.partition("~")
        if not separator or not pk_text.isdigit():
            raise ValueError(raw)
        if due_text and dt.datetime.fromisoformat(due_text).tzinfo is None:
            raise ValueError(raw)
    except ValueError:
        raise exceptions.ValidationError({"after": [_("Con trỏ trang không hợp lệ.")]}) from None
    return raw


class OfficerQueueView(ApiView):
    permission_classes = [IsOfficer]

    @extend_schema(
        summary="Hàng đợi hồ sơ của cán bộ",
        description="25 hồ sơ một trang, hạn gần nhất trước; trang sau lấy bằng `after` = `next`.",
        tags=["officer"],
        parameters=[
            OpenApiParameter("tab", OpenApiTypes.STR, enum=list(selectors.QUEUE_TABS), default="new"),
            OpenApiParameter("after", OpenApiTypes.STR, description=gettext_lazy("Con trỏ `next` của trang trước.")),
            OpenApiParameter(
                "size",
                OpenApiTypes.INT,
                default=QUEUE_PAGE_SIZE,
                description=gettext_lazy("Số hồ sơ một trang, từ 1 đến 100."),
            ),
            *(
                OpenApiParameter(name, OpenApiTypes.STR, description=str(QueueFilterSet.base_filters[name].label))
                for name in FILTER_KEYS
            ),
        ],
        responses={200: s.QueuePageSerializer, **_errors(400, 403)},
    )
    def get(self, request):
        tab = request.query_params.get("tab", "new")
        if tab not in selectors.QUEUE_TABS:
            raise exceptions.ValidationError({"tab": [_("Ngăn hàng đợi không hợp lệ.")]})
        after = _decode_cursor(request.query_params.get("after"))
        size = _page_size(request.query_params.get("size"))
        now = timezone.now()
        base = None
        # Without a filter parameter the FilterSet filters nothing: building and validating it (its
        # filters and form fields copied, dossiers.filters) is then skipped.
        if any(key in request.query_params for key in FILTER_KEYS):
            agency_ids = selectors.officer_agency_ids(request.user)
            filterset = QueueFilterSet(request.query_params, agency_ids=agency_ids, now=now)
            if not filterset.is_valid():
                raise exceptions.ValidationError(filterset.errors)
            base = filterset.qs
        rows, cursor = selectors.queue_page_rows(
            request.user, tab, s.QUEUE_ITEM_VALUES, base=base, after=after, size=size, now=now
        )
        # Plain dicts in QueueItemSerializer's shape (the schema above), without the serializer's
        # per-field work on model instances.
        rows = s.queue_items(rows)
        return Response({"results": rows, "next": _encode_cursor(cursor)})


def _officer_response(request, pk: int, *, dossier=None) -> Response:
    dossier = dossier or selectors.dossier_get_for_officer(user=request.user, pk=pk)
    return Response(s.OfficerDossierSerializer(dossier, context={"request": request}).data)


class OfficerDossierView(ApiView):
    permission_classes = [IsOfficer]

    @extend_schema(
        summary="Chi tiết hồ sơ (cán bộ)",
        tags=["officer"],
        responses={200: s.OfficerDossierSerializer, **_errors(403, 404)},
    )
    def get(self, request, pk):
        dossier = selectors.dossier_get_for_officer(user=request.user, pk=pk)
        personal_data_access_record(dossier=dossier, viewer=request.user, channel="api")
        return _officer_response(request, pk, dossier=dossier)


class OfficerActionView(ApiView):
    """One officer action: fetch through the selector (404 outside the officer's agencies), then one service."""

    permission_classes = [IsOfficer]
    request_serializer: type[s.VersionSerializer]

    def post(self, request, pk):
        dossier = selectors.dossier_get_for_officer(user=request.user, pk=pk)
        data = dict(_valid(self.request_serializer, request))
        self.perform(dossier, request.user, data.pop("version"), data)
        return _officer_response(request, pk)

    def perform(self, dossier, officer, version: int, data: dict) -> None:
        raise NotImplementedError


def _officer_action(request_serializer, summary: str, description: str = ""):
    return extend_schema_view(
        post=extend_schema(
            summary=summary,
            description=description,
            tags=["officer"],
            request=request_serializer,
            responses={200: s.OfficerDossierSerializer, **_errors(400, 403, 404, 409)},
        )
    )


@_officer_action(s.NoteActionSerializer, "Tiếp nhận hồ sơ", "Cấp mã hồ sơ, ngày hẹn trả và Mẫu 01.")
class ReceiveView(OfficerActionView):
    request_serializer = s.NoteActionSerializer

    def perform(self, dossier, officer, version, data):
        services.dossier_receive(dossier=dossier, officer=officer, expected_version=version, note=data.get("note", ""))


@_officer_action(s.RequestSupplementSerializer, "Yêu cầu bổ sung hồ sơ", "Mẫu 02; tạm dừng tính thời hạn.")
class RequestSupplementView(OfficerActionView):
    request_serializer = s.RequestSupplementSerializer

    def perform(self, dossier, officer, version, data):
        services.dossier_request_supplement(
            dossier=dossier, officer=officer, items=data["items"], reason=data["reason"], expected_version=version
        )


@_officer_action(
    s.RefuseSerializer,
    "Từ chối hồ sơ",
    "Mẫu 03: khi tiếp nhận (một cửa) hoặc sau thẩm định (lãnh đạo); quá hạn thì phải ghi lateness_reason.",
)
class RefuseView(OfficerActionView):
    request_serializer = s.RefuseSerializer

    def perform(self, dossier, officer, version, data):
        services.dossier_refuse(
            dossier=dossier,
            officer=officer,
            reason=data["reason"],
            expected_version=version,
            lateness_reason=data.get("lateness_reason", ""),
        )


@_officer_action(s.RecordPaymentSerializer, "Ghi nhận nộp phí tại quầy")
class RecordPaymentView(OfficerActionView):
    request_serializer = s.RecordPaymentSerializer

    def perform(self, dossier, officer, version, data):
        from payments.services import payment_record_counter

        payment_record_counter(
            dossier=dossier,
            officer=officer,
            amount=data["amount"],
            receipt_number=data["receipt_number"],
            method=data.get("method") or "cash",
            expected_version=version,
        )


@_officer_action(s.AssignSerializer, "Phân công chuyên viên xử lý")
class AssignView(OfficerActionView):
    request_serializer = s.AssignSerializer

    def perform(self, dossier, officer, version, data):
        services.dossier_assign(
            dossier=dossier,
            actor=officer,
            assignee=data["assignee"],
            note=data.get("note", ""),
            expected_version=version,
        )


@_officer_action(s.NoteActionSerializer, "Chuyển bước xử lý tiếp theo")
class ForwardView(OfficerActionView):
    request_serializer = s.NoteActionSerializer

    def perform(self, dossier, officer, version, data):
        services.dossier_forward(dossier=dossier, officer=officer, note=data.get("note", ""), expected_version=version)


@_officer_action(s.ConsultSerializer, "Lấy ý kiến cơ quan phối hợp")
class ConsultView(OfficerActionView):
    request_serializer = s.ConsultSerializer

    def perform(self, dossier, officer, version, data):
        services.dossier_consult(
            dossier=dossier,
            officer=officer,
            agency=data["agency"],
            question=data["question"],
            deadline=data["deadline"],
            expected_version=version,
        )


@_officer_action(s.SubmitForApprovalSerializer, "Trình phê duyệt", "Gửi kèm dự thảo kết quả (multipart/form-data).")
class SubmitForApprovalView(OfficerActionView):
    request_serializer = s.SubmitForApprovalSerializer
    parser_classes = [MultiPartParser, FormParser]

    def perform(self, dossier, officer, version, data):
        services.dossier_submit_for_approval(
            dossier=dossier,
            officer=officer,
            result_upload=data.get("result"),
            note=data.get("note", ""),
            expected_version=version,
        )


@_officer_action(s.ReasonActionSerializer, "Trả lại chuyên viên để xử lý lại")
class SendBackView(OfficerActionView):
    request_serializer = s.ReasonActionSerializer

    def perform(self, dossier, officer, version, data):
        services.dossier_send_back(dossier=dossier, officer=officer, reason=data["reason"], expected_version=version)


@_officer_action(s.NoteActionSerializer, "Phê duyệt kết quả")
class ApproveView(OfficerActionView):
    request_serializer = s.NoteActionSerializer

    def perform(self, dossier, officer, version, data):
        services.dossier_approve(dossier=dossier, officer=officer, note=data.get("note", ""), expected_version=version)


@_officer_action(s.ReturnResultSerializer, "Trả kết quả")
class ReturnResultView(OfficerActionView):
    request_serializer = s.ReturnResultSerializer

    def perform(self, dossier, officer, version, data):
        services.dossier_return_result(
            dossier=dossier, actor=officer, channel=data.get("channel"), expected_version=version
        )


@_officer_action(s.ApologiseSerializer, "Xin lỗi, hẹn lại ngày trả", "Mẫu 04; chỉ một lần cho mỗi hồ sơ.")
class ApologiseView(OfficerActionView):
    request_serializer = s.ApologiseSerializer

    def perform(self, dossier, officer, version, data):
        services.dossier_apologise(
            dossier=dossier,
            officer=officer,
            new_due_at=data["new_due_at"],
            reason=data["reason"],
            expected_version=version,
        )


@_officer_action(s.ReasonActionSerializer, "Dừng giải quyết theo đề nghị của người nộp", "Mẫu 05.")
class StopView(OfficerActionView):
    request_serializer = s.ReasonActionSerializer

    def perform(self, dossier, officer, version, data):
        services.dossier_stop(dossier=dossier, officer=officer, reason=data["reason"], expected_version=version)


OFFICER_ACTIONS = {
    "receive": ReceiveView,
    "request-supplement": RequestSupplementView,
    "refuse": RefuseView,
    "record-payment": RecordPaymentView,
    "assign": AssignView,
    "forward": ForwardView,
    "consult": ConsultView,
    "submit-for-approval": SubmitForApprovalView,
    "send-back": SendBackView,
    "approve": ApproveView,
    "return-result": ReturnResultView,
    "apologise": ApologiseView,
    "stop": StopView,
}
