import pytest

from tests.payments.helpers import SECRET, TMN


@pytest.fixture(autouse=True)
def _vnpay_settings(settings):
    settings.VNPAY_TMN_CODE = TMN
    settings.VNPAY_HASH_SECRET = SECRET
    settings.VNPAY_URL = "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html"


@pytest.fixture(autouse=True)
def _cheap_forms(monkeypatch):
    """Forms are a fixed small PDF here: rendering them is the form tests' business and slow."""
    from tests.dossiers.builders import PDF_BYTES

    monkeypatch.setattr("dossiers.pdf.render_dossier_form", lambda dossier, number, **extra: PDF_BYTES)
