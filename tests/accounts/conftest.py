import datetime

import pytest
from django.core.cache import cache

from portal.accounts.constants import Gender
from tests.factories import UserFactory

CITIZEN_CCCD = "037090001234"  # 037 Ninh Bình, 1900s male, born 1990
CITIZEN_PHONE = "0912000001"
CITIZEN_EMAIL = "nguyen.van.an@example.vn"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters and the OIDC discovery document live in the cache: none leaks between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def citizen(db):
    return UserFactory(
        username=CITIZEN_CCCD,
        cccd=CITIZEN_CCCD,
        phone=CITIZEN_PHONE,
        email=CITIZEN_EMAIL,
        full_name="Nguyễn Văn An",
        date_of_birth=datetime.date(1990, 5, 12),
        gender=Gender.MALE,
    )
