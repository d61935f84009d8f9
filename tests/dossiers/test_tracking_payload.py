"""The tracking API's JSON (track_payload) is TrackSerializer's, written without the serializer.

Compared as data and as the bytes the API renders, in both languages, for a dossier at each stage
(no step yet, steps running, steps completed, returned), by code and by submission reference.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils import translation
from rest_framework.renderers import JSONRenderer

from dossiers.api.serializers import TrackSerializer, track_payload
from dossiers.selectors import dossier_track_public
from tests.dossiers import builders

pytestmark = pytest.mark.django_db

STAGES = [builders.submitted, builders.received, builders.in_processing, builders.awaiting_approval, builders.returned]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("stage", STAGES, ids=lambda stage: stage.__name__)
def test_the_payload_is_the_serializers_output(stage, language):
    dossier = stage(builders.make_world())
    public = dossier_track_public(code=dossier.code or dossier.reference)
    assert public is not None

    with translation.override(language):
        expected = TrackSerializer(public).data
        written = track_payload(public)

    assert written == expected
    assert JSONRenderer().render(written) == JSONRenderer().render(expected)


def test_the_api_answers_the_payload(client):
    dossier = builders.in_processing(builders.make_world())

    response = client.get(f"/api/track/{dossier.code}/")

    assert response.status_code == 200
    assert response.json() == TrackSerializer(dossier_track_public(code=dossier.code)).data
    assert response.json()["steps"]  # started steps are shown
