from django.urls import path

from . import views

urlpatterns = [
    path("fees/quote/", views.FeeQuoteView.as_view(), name="api-fee-quote"),
    path("payments/", views.PaymentStartView.as_view(), name="api-payment-start"),
    path("payments/<uuid:public_id>/", views.PaymentStatusView.as_view(), name="api-payment-status"),
    path("payments/<slug:provider>/ipn/", views.IpnView.as_view(), name="api-payment-ipn"),
]
