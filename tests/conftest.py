import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploads of each test go to a folder of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def admin_user(db):
    from tests.factories import UserFactory

    return UserFactory(username="quantri", is_staff=True, is_superuser=True, full_name="Quản trị hệ thống")


@pytest.fixture(autouse=True)
def _vietnamese_after_each_test():
    """A test that asks for English must not leave English active for the next one."""
    yield
    from django.utils import translation

    translation.deactivate()
