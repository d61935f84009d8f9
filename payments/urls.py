from django.urls import path

from . import views

app_name = "payments"
urlpatterns = [
    path("thanh-toan/ho-so/<uuid:public_id>/", views.pay, name="pay"),
    path("thanh-toan/thu-nghiem/", views.sandbox_pay, name="sandbox-pay"),
    path("thanh-toan/cong/<slug:provider>/tro-ve/", views.gateway_return, name="return"),
    path("thanh-toan/<uuid:public_id>/", views.payment_detail, name="detail"),
    path("thanh-toan/<uuid:public_id>/bien-lai.pdf", views.receipt, name="receipt"),
    path("can-bo/thanh-toan/<uuid:public_id>/hoan-tra/", views.refund_request, name="refund_request"),
    path("can-bo/hoan-tra/<uuid:public_id>/", views.refund_decide, name="refund_decide"),
    path("can-bo/doi-soat/", views.daily_report, name="daily_report"),
]
urlpatterns.append(path("thanh-toan/ho-so/<uuid:public_id>/mien-giam/", views.claim_exemption, name="exemption"))
