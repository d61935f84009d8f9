from django.urls import path

from . import otp_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.PortalLoginView.as_view(), name="login"),
    path("logout/", views.PortalLogoutView.as_view(), name="logout"),
    path("register/", views.register, name="register"),
    path("me/", views.profile, name="profile"),
    path("password-reset/", views.PortalPasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PortalPasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PortalPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/done/", views.PortalPasswordResetCompleteView.as_view(), name="password_reset_complete"),
    # Second factor for staff (TOTP and recovery codes).
    path("2fa/", otp_views.otp_verify, name="otp_verify"),
    path("2fa/enrol/", otp_views.otp_enrol, name="otp_enrol"),
    path("2fa/recovery-codes/", otp_views.otp_recovery_codes, name="otp_recovery_codes"),
    # Identity provider (VNeID-style OpenID Connect).
    path("idp/login/", views.idp_login, name="idp_login"),
    path("idp/callback/", views.idp_callback, name="idp_callback"),
    # The local sandbox provider's own authorization page (404 unless IDENTITY_PROVIDER=sandbox).
    path("sandbox-idp/authorize/", views.sandbox_idp_authorize, name="sandbox_idp_authorize"),
    path("sandbox-idp/jwks.json", views.sandbox_idp_jwks, name="sandbox_idp_jwks"),
]
