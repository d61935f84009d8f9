"""The person's data through the API: GET the export, POST an erasure request."""

from __future__ import annotations

from django.contrib.auth import logout
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services


class MyDataView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Toàn bộ dữ liệu cá nhân của tôi", tags=["privacy"], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        response = Response(services.personal_data_export_record(user=request.user, fmt="api"))
        response["Cache-Control"] = "no-store"
        return response


class MyErasureView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Yêu cầu xóa dữ liệu tài khoản", tags=["privacy"], request=None, responses={200: OpenApiTypes.OBJECT}
    )
    def post(self, request):
        try:
            outcome = services.account_erase(user=request.user)
        except services.PrivacyError as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        logout(request._request)
        return Response(outcome)


urlpatterns = [
    path("me/data/", MyDataView.as_view(), name="my-data"),
    path("me/erasure/", MyErasureView.as_view(), name="my-erasure"),
]
