import pytest

from dossiers.constants import DossierState
from tests.dossiers import builders

pytestmark = pytest.mark.django_db


def test_a_dossier_goes_from_draft_to_returned_through_the_services():
    world = builders.make_world()
    dossier = builders.returned(world)
    assert dossier.state == DossierState.RETURNED
    assert dossier.code.endswith("-0001")
    assert [e.action for e in dossier.events.all()] == [
        "create",
        "submit",
        "receive",
        "assign",
        "submit_for_approval",
        "approve",
        "return_result",
    ]
    assert dossier.files.filter(kind="form", form_number="01").exists()
