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


@pytest.fixture
def otp_login():
    """Log a test client in as a staff member who passed the second factor (for tests with OTP_REQUIRED on)."""

    def login(client, user):
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        device = device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return login
