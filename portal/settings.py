"""Settings for Cổng dịch vụ công, read from the environment.

Every value has a commented default that suits a developer's machine (`make run`): SQLite and a
Celery broker that needs no server. Production sets DEBUG=false, SECRET_KEY, ALLOWED_HOSTS,
DATABASE_URL and REDIS_URL; with DEBUG off the secure transport settings switch on so that
`manage.py check --deploy` passes. No secret has a production default.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# Local development (DEBUG on) gets a fixed, clearly marked key; production must set its own.
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
VAR_DIR = Path(env("VAR_DIR", str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "portal.apps.PortalConfig",
    "portal.accounts",
    "procedures",
    "dossiers",
    "payments",
    "notifications",
    "dossiers.postal",
    "dossiers.national",
    "django_celery_beat",
    "dossiers.privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before whitenoise, so that static files carry the policy too: every response does.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Vietnamese unless the person chose English (never from the browser's Accept-Language).
    "portal.language.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # django.contrib.auth's, taking the user read with the session row (portal/accounts/sessions.py).
    "portal.accounts.middleware.SessionUserAuthenticationMiddleware",
    # request.user.is_verified() (django-otp's OTPMiddleware, its device check folded into the
    # session user's query), then: staff pass the second factor before admin, officer pages, API.
    "portal.accounts.otp.SessionOTPMiddleware",
    "portal.accounts.otp.StaffSecondFactorMiddleware",
    "portal.middleware.PrivateResponseMiddleware",
    # django.contrib.messages' middleware, its storage built only when a request uses it.
    "portal.middleware.LazyMessageMiddleware",
    "portal.accounts.middleware.IdleSessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees the outcome of every authentication attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.site",
            ],
        },
    },
]

# SQLite under var/ unless DATABASE_URL names a server. Persistent connections with health checks:
# a new PostgreSQL connection per request costs 7.5x (platform notes), and health checks let the
# pool heal after a database restart.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite: wait for the lock rather than fail when web and worker write at once.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses locked-out credentials before any password check.
    "axes.backends.AxesStandaloneBackend",
    # Then the slower limit on the account alone, whatever the address (portal/accounts/lockout.py).
    "portal.accounts.lockout.AccountLockoutBackend",
    "portal.accounts.backends.IdentifierBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# ASVS 2.1.1 / 2.1.7: 12 characters or more, not common, not like the user's own data.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login lockout in two tiers, so that a stranger cannot lock a citizen or officer out (their CCCD
# or phone number is no secret) while guessing stays slow (ASVS 2.2.1):
# - django-axes: AXES_FAILURE_LIMIT failures on one account *from one address* lock that pair for
#   an hour;
# - portal.accounts.lockout: LOGIN_ACCOUNT_FAILURE_LIMIT failures an hour on one account from
#   anywhere lock its password login; the owner still gets in by VNeID or a reset link.
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "10"))
LOGIN_ACCOUNT_FAILURE_LIMIT = int(env("LOGIN_ACCOUNT_FAILURE_LIMIT", "100"))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# Every spelling of an identifier (CCCD, phone, e-mail in any case) counts against one account.
AXES_USERNAME_CALLABLE = "portal.accounts.forms.axes_username"
AXES_ENABLED = env_bool("AXES_ENABLED", True)

# Second factor (TOTP, django-otp) for every staff account (portal/accounts/otp.py). Required unless
# explicitly turned off; only the test settings turn it off, for tests that are not about it.
OTP_REQUIRED = env_bool("OTP_REQUIRED", True)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "Cổng dịch vụ công")
# Five wrong codes in a row slow further tries down exponentially (django-otp's throttling).
OTP_TOTP_THROTTLE_FACTOR = 1

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Tiếng Việt")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The choice made with the language switcher is kept for a year (the cookie is the only input of
# portal.language; a browser's own language is never used).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = not DEBUG
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True
# dd/mm/yyyy and HH:MM dd/mm/yyyy in every page and language, officers' and admin's included.
FORMAT_MODULE_PATH = ["portal.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Uploads live outside the web root and are served only through authorising views.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"
# Antivirus scanning of uploads (dossiers/scanning.py): clamd over TCP, e.g. tcp://clamd:3310.
# Required whenever DEBUG is off: without a reachable scanner uploads are refused, never accepted
# unscanned (ASVS 12.4.2). A development machine without clamd may leave it off.
CLAMAV_URL = env("CLAMAV_URL", "")
UPLOAD_SCAN_REQUIRED = env_bool("UPLOAD_SCAN_REQUIRED", not DEBUG)
# Per-citizen quotas (dossiers/quota.py): open drafts, and bytes of uploads stored in all.
CITIZEN_MAX_DRAFTS = int(env("CITIZEN_MAX_DRAFTS", "20"))
CITIZEN_MAX_STORED_BYTES = int(env("CITIZEN_MAX_STORED_MB", "200")) * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Cache: Redis when available, else a table in the database. Never per-process memory: rate-limit
# counters must be shared by every web worker, or n workers let n times the limit through.
# The table is made by a migration (portal 0002) and `manage.py createcachetable`.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "portal_cache"}}

# Celery. Without REDIS_URL, kombu's filesystem transport gives a real worker and beat with no
# server at all; `make run` creates its folders. Every setting below is global, hence the reasons.
CELERY_FS_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # An unacknowledged message (its worker died) is redelivered after this long. We use no
        # countdowns or ETAs at all (retries wait in SideEffect.next_attempt_at and the sweeper
        # re-publishes), so nothing is delivered twice because of it; lost messages are recovered by
        # the sweeper well before it.
        "visibility_timeout": 3600,
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_RESULT_BACKEND = f"file://{CELERY_FS_DIR / 'results'}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FS_DIR / "queue"),
        "data_folder_out": str(CELERY_FS_DIR / "queue"),
        "processed_folder": str(CELERY_FS_DIR / "processed"),
        "control_folder": str(CELERY_FS_DIR / "control"),
        "store_processed": False,
        # 0.05 s polling gives about half a second of latency (platform notes).
        "polling_interval": 0.05,
    }
CELERY_BROKER_URL = env("CELERY_BROKER_URL", CELERY_BROKER_URL)
# JSON only: pickle would let whoever reaches the broker run code in the worker.
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Acknowledge after the task ran and re-queue when its process dies: a killed worker loses nothing.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per process, so a long task does not hold others hostage.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Proves on /healthz that beat schedules and a worker executes.
    "worker-heartbeat": {"task": "portal.tasks.record_heartbeat", "schedule": float(env("HEARTBEAT_SECONDS", "60"))},
    # Re-publishes side effects whose message was lost (broker down at commit time).
    # Settles payments whose IPN never came (a lost notification must not leave a payer unpaid).
    "reconcile-payments": {"task": "payments.reconcile_pending", "schedule": 300.0},
    # Yesterday's report per agency, with the gateway's own figures beside ours (01:30 local time).
    "daily-payment-report": {
        "task": "payments.build_daily_reports",
        "schedule": crontab(hour=1, minute=30),
    },
    "sweep-side-effects": {"task": "dossiers.sweep_side_effects", "schedule": 60.0},
    # Ended rate-limit windows (portal/ratelimit.py): one row per address and scope otherwise stays.
    "purge-rate-counters": {"task": "portal.tasks.purge_rate_counters", "schedule": 3600.0},
    # Due-soon and overdue alerts to officers (notifications.selectors.alerts_due).
    "scan-deadlines": {"task": "notifications.scan_deadlines", "schedule": 900.0},
    "agency-digest": {"task": "notifications.daily_digest", "schedule": crontab(hour=7, minute=0)},
    # Daily comparison of what the national portal holds against ours.
    "national-portal-compare": {"task": "national.compare", "schedule": crontab(hour=2, minute=30)},
    # Dossiers citizens filed on the national portal, taken into our queues.
    "national-portal-pull": {"task": "national.pull", "schedule": 60.0},
    # Strips personal data past each procedure's retention period (privacy/services.py); daily is
    # enough for periods counted in years, and a re-run changes nothing twice.
    "purge-expired-personal-data": {"task": "privacy.purge_expired_dossiers", "schedule": 24 * 3600.0},
    # Unanswered consultations past their deadline go to the head of the one-stop unit (Decree 61/2018 Art 19(5)).
    "report-late-consultations": {"task": "dossiers.report_late_consultations", "schedule": 900.0},
}
CELERY_TASK_ALWAYS_EAGER = False
# Periodic schedules live in the database (django-celery-beat) so that administrators edit them in
# /admin/; CELERY_BEAT_SCHEDULE above only creates the rows missing at beat's start (portal/beat.py).
CELERY_BEAT_SCHEDULER = "portal.beat:PortalScheduler"

# Side effects (dossiers.SideEffect) and notifications: how long a published row may stay pending
# before the sweeper re-publishes it, how many attempts before it is marked failed, and the
# backoff between attempts (seconds, the last one repeated). The sweeper takes at most
# SIDE_EFFECT_SWEEP_BATCH rows a run, oldest due first, so a backlog drains in bounded steps.
SIDE_EFFECT_GRACE_SECONDS = int(env("SIDE_EFFECT_GRACE_SECONDS", "120"))
SIDE_EFFECT_MAX_ATTEMPTS = int(env("SIDE_EFFECT_MAX_ATTEMPTS", "6"))
SIDE_EFFECT_BACKOFF_SECONDS = [int(x) for x in env_list("SIDE_EFFECT_BACKOFF_SECONDS", "30,120,600,1800,7200")]
SIDE_EFFECT_SWEEP_BATCH = int(env("SIDE_EFFECT_SWEEP_BATCH", "500"))
# A notification being sent is leased for this long: a worker killed mid-send leaves it "sending",
# and only after the lease may another worker send it again (with the same Message-ID).
NOTIFICATION_LEASE_SECONDS = int(env("NOTIFICATION_LEASE_SECONDS", "120"))
# The right-hand side of every e-mail's Message-ID (<reference@domain>): stable across retries.
NOTIFICATION_MESSAGE_ID_DOMAIN = env("NOTIFICATION_MESSAGE_ID_DOMAIN", "dichvucong.local")
# Deadline alerts: "due soon" this many working days before a step's or a dossier's due date.
ALERT_DUE_SOON_WORKING_DAYS = int(env("ALERT_DUE_SOON_WORKING_DAYS", "1"))

# E-mail and SMS. The console backend prints messages in development; production sets SMTP.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Cổng dịch vụ công <no-reply@dichvucong.local>")
SMS_PROVIDER = env("SMS_PROVIDER", "sandbox")
SMS_API_URL = env("SMS_API_URL", "")
SMS_API_KEY = env("SMS_API_KEY", "")
# Where the file-based e-mail backend writes (EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend).
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))

# Payment gateways (payments/providers/). "sandbox" is a VNPay-like gateway inside the portal for the
# demo and tests; production names "vnpay" and sets its merchant credentials (no default secret).
PAYMENT_PROVIDER = env("PAYMENT_PROVIDER", "sandbox" if DEBUG else "vnpay")
VNPAY_TMN_CODE = env("VNPAY_TMN_CODE", "")
VNPAY_HASH_SECRET = env("VNPAY_HASH_SECRET", "")
VNPAY_URL = env("VNPAY_URL", "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html")
VNPAY_API_URL = env("VNPAY_API_URL", "https://sandbox.vnpayment.vn/merchant_webapi/api/transaction")
# The sandbox's own credentials: it runs inside the portal, so they protect nothing real.
SANDBOX_TMN_CODE = "SANDBOX1"
SANDBOX_HASH_SECRET = env("SANDBOX_HASH_SECRET", "SANDBOXSECRET0123456789ABCDEFGHIJ")
SANDBOX_IPN_DELAY_SECONDS = int(env("SANDBOX_IPN_DELAY_SECONDS", "20"))
# A payment left at the gateway this long expires; reconciliation queries those pending longer.
PAYMENT_EXPIRE_MINUTES = int(env("PAYMENT_EXPIRE_MINUTES", "15"))
PAYMENT_RECONCILE_AFTER_MINUTES = int(env("PAYMENT_RECONCILE_AFTER_MINUTES", "10"))

# Identity provider for the VNeID-style OpenID Connect login. The "sandbox" lets anyone log in as
# any demo identity, so it is the default only in development; production must name its provider.
IDENTITY_PROVIDER = env("IDENTITY_PROVIDER", "sandbox" if DEBUG else "oidc")
OIDC_ISSUER = env("OIDC_ISSUER", "")
OIDC_CLIENT_ID = env("OIDC_CLIENT_ID", "")
OIDC_CLIENT_SECRET = env("OIDC_CLIENT_SECRET", "")

# The province this installation serves: its name heads the site and the official forms.
PORTAL_PROVINCE_NAME = env("PORTAL_PROVINCE_NAME", "Tỉnh Ninh Bình")
PORTAL_HOTLINE = env("PORTAL_HOTLINE", "1900 1234")
# Public tracking by dossier code: requests per address (django-ratelimit syntax).
TRACKING_RATE_LIMIT = env("TRACKING_RATE_LIMIT", "30/m")
# Reverse proxies of our own in front of the app (docker-compose: 1, Caddy). X-Forwarded-For is
# believed only as far as they wrote it; 0 = no proxy, the socket's address is the client's.
TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", "0"))
# Every limit and lockout counts against the same address (portal/client_ip.py).
RATELIMIT_IP_META_KEY = "portal.client_ip.client_ip"
AXES_CLIENT_IP_CALLABLE = "portal.client_ip.client_ip"
# Tracking API requests per address (DRF rate syntax: 30/m, 500/h).
TRACKING_API_RATE_LIMIT = env("TRACKING_API_RATE_LIMIT", TRACKING_RATE_LIMIT)
# Public address of the portal, printed as a QR code on the official forms.
# The baseline views of the benchmark harness (bench/views.py, under /bench/). Off by default; only
# `make bench-province` turns it on for its own gunicorn on 127.0.0.1. Never set it in production.
BENCH_VIEWS = env_bool("BENCH_VIEWS", False)
# The port `make run` serves on (the Procfile's gunicorn binds it). In development the links and QR
# codes on forms follow it; production sets PORTAL_BASE_URL to the public address.
WEB_PORT = int(env("WEB_PORT", "8000"))
PORTAL_BASE_URL = env("PORTAL_BASE_URL", f"http://127.0.0.1:{WEB_PORT}")

# Office hours of state agencies (Decree 297/2025 Art 6(3) counts the cut-off from their end).
OFFICE_MORNING = ("07:30", "11:30")
OFFICE_AFTERNOON = ("13:30", "17:00")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_RATES": {"dossier_track": TRACKING_API_RATE_LIMIT},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    # One error shape for the whole API, procedures and dossiers alike.
    "EXCEPTION_HANDLER": "dossiers.api.views.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Cổng dịch vụ công API",
    "DESCRIPTION": "Thủ tục hành chính, hồ sơ và tra cứu.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files: no foreign CDN sees who reads the docs, and the
    # docs work on a closed network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "state" field with their own choices: each gets its own enum name.
    "ENUM_NAME_OVERRIDES": {
        "DossierStateEnum": "dossiers.constants.DossierState",
        "PaymentStateEnum": "payments.constants.PaymentState",
        "RefundStateEnum": "payments.constants.RefundState",
    },
}

# Sessions: idle sessions end after 30 minutes, none lives more than 12 hours (ASVS 3.3). Stored in
# the database with their user's id in a column, so that a request reads both in one statement.
SESSION_ENGINE = "portal.accounts.sessions"
SESSION_COOKIE_AGE = 12 * 3600
SESSION_IDLE_SECONDS = 30 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp) on every response: pages, API, admin, files, errors. Only our
# own origin; no inline script or style anywhere (the templates keep theirs in static/), so no
# 'unsafe-inline'. Swagger UI is served split (its start-up script is a file of its own).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Cross-origin isolation headers of ASVS 14.4 beside nosniff, Referrer-Policy and frame-ancestors.
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # /healthz is probed over plain HTTP inside the deployment network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # No CCCD number reaches the logs, whoever logs it (ASVS 7.1.1): the filter masks 12-digit numbers.
    "filters": {"mask_cccd": {"()": "dossiers.privacy.masking.MaskCCCDFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_cccd"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Public postal service (dịch vụ bưu chính công ích): the operator, the postage shown to citizens
# before they choose delivery by post, and the secret the operator signs status callbacks with.
POSTAL_PROVIDER = env("POSTAL_PROVIDER", "sandbox")
POSTAL_RESULT_FEE = int(env("POSTAL_RESULT_FEE", "25000"))
POSTAL_CALLBACK_SECRET = env("POSTAL_CALLBACK_SECRET", "sandbox-postal-secret" if DEBUG else "")
POSTAL_SANDBOX_DELAY_SECONDS = float(env("POSTAL_SANDBOX_DELAY_SECONDS", "0"))

# National public service portal (Cổng Dịch vụ công quốc gia) synchronisation.
NATIONAL_PORTAL = env("NATIONAL_PORTAL", "sandbox")
NATIONAL_PORTAL_URL = env("NATIONAL_PORTAL_URL", "")
NATIONAL_PORTAL_KEY = env("NATIONAL_PORTAL_KEY", "")
