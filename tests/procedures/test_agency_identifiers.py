"""Each identifier scheme is its own value with its history, shown to administrators (issue 7 pt 14)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db


def test_the_agency_admin_page_shows_each_schemes_history(admin_client):
    agency = AgencyFactory(identifier="000.00.12.H56", centralised_identifier="H56.242")
    agency.centralised_identifier = "H56.300"
    agency.save()
    page = admin_client.get(reverse("admin:procedures_agency_change", args=[agency.pk])).content.decode()
    assert "QĐ 20/2020/QĐ-TTg: H56.242 (" in page and "QĐ 20/2020/QĐ-TTg: H56.300 (" in page
    assert "QCVN 102:2016/BTTTT: 000.00.12.H56 (" in page
