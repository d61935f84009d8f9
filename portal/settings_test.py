"""Test settings: the real settings with fast password hashing and no network."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")

from .settings import *  # noqa: F403
from .settings import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests that need a worker start one against Redis themselves; the rest publish nowhere.
CELERY_BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "memory://")
CELERY_RESULT_BACKEND = "cache+memory://"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["NAME"] = ":memory:"
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
STATIC_ROOT = None  # no collected files in tests; whitenoise serves from the finders
# pytest-django runs with DEBUG off, which would stop whitenoise from finding app static files.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Officer and admin tests that are not about the second factor log in without one; the tests of
# tests/accounts/test_second_factor.py turn it back on. The production default stays required.
OTP_REQUIRED = False
