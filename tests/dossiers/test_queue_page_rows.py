"""The officer queue's rows are plain values (issue 6): the table reads exactly as it did with model rows.

The reference is the template and the view code the page used before, kept here verbatim: each row a
Dossier instance from selectors.queue_page, its cells resolved in the template (`d.procedure.name`,
`d.assignee.get_full_name`, `mask_cccd`...). Every tab of every role's page must give the same <tbody>.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines
from django.urls import reverse
from django.utils import timezone, translation

from dossiers.constants import DossierState
from dossiers.filters import QueueFilterSet
from dossiers.models import Dossier, DossierHolding
from dossiers.selectors import QUEUE_TABS, queue_page
from dossiers.views.officer import PAGE_SIZE, OfficerRoles, _deadline_badge, _row_time, _time_left_of
from portal.accounts.constants import Role
from tests.dossiers import builders
from tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db

S = DossierState
QUEUE = reverse("dossiers:officer_queue")

# dossiers/templates/dossiers/officer/queue.html's table body before issue 6 (its rows loop, verbatim).
BEFORE = (Path(__file__).parent / "queue_rows_before.html").read_text(encoding="utf-8")


def tbody_before(user, params: dict[str, str], now: dt.datetime) -> str:
    """The table body as the view and template before issue 6 wrote it, from model instances."""
    roles = OfficerRoles(user)
    filterset = QueueFilterSet(params, agency_ids=roles.all, now=now)
    rows, _cursor = queue_page(
        user, params["tab"], base=filterset.qs, after=params.get("after"), size=PAGE_SIZE, now=now
    )
    can_assign = bool(roles.leader | roles.reception)
    state_labels = {value: str(label) for value, label in S.choices}
    items = [
        {
            "dossier": d,
            "state_label": state_labels.get(d.state, d.state),
            "received": _row_time(d.received_at),
            "due": _row_time(d.current_due_at),
            "badge": _deadline_badge(d, now),
            "time_left": _time_left_of(d.state, d.current_due_at, now),
            "selectable": can_assign and d.state == S.RECEIVED,
        }
        for d in rows
    ]
    return engines["django"].from_string(BEFORE).render({"items": items})


def normalised(markup: str) -> str:
    return re.sub(r"\s+", " ", markup).strip()


def tbody_of(response) -> str:
    found = re.search(r"<tbody>.*?</tbody>", response.content.decode(), re.DOTALL)
    return found.group(0) if found else ""


@pytest.fixture
def varied_world():
    """Dossiers in every open state, overdue and due soon, with odd applicants and assignees."""
    world = builders.make_world()
    received = [builders.received(world) for _ in range(3)]
    submitted = [builders.submitted(world) for _ in range(2)]
    processing = builders.in_processing(world)
    builders.awaiting_approval(world)
    builders.result_ready(world)
    # A specialist with no full name: get_full_name falls back to first and last name, then the username.
    plain = OfficerFactory(role=Role.SPECIALIST, membership__agency=world.agency, full_name="", first_name="Thị")
    plain.last_name = "Bình"
    plain.save(update_fields=["last_name"])
    Dossier.objects.filter(pk=processing.pk).update(assignee=plain)
    now = timezone.now()
    late, soon = received[0], received[1]
    for dossier, due in ((late, now - dt.timedelta(hours=30)), (soon, now + dt.timedelta(hours=20))):
        Dossier.objects.filter(pk=dossier.pk).update(current_due_at=due)
        DossierHolding.objects.filter(dossier=dossier).update(due_at=due)
    # An applicant without a name and with a short number; another with markup in the name (escaped).
    Dossier.objects.filter(pk=submitted[0].pk).update(applicant_name="", applicant_id_number="12345")
    Dossier.objects.filter(pk=submitted[1].pk).update(applicant_name='Trần <b>"Ánh"</b> & Co', code="")
    Dossier.objects.filter(pk=received[2].pk).update(applicant_id_number="")
    return world


def test_queue_rows_read_as_the_model_rendering_did_on_every_tab_for_every_role(client, varied_world):
    world = varied_world
    compared = 0
    for user in (world.reception, world.specialist, world.leader):
        client.force_login(user)
        for tab in QUEUE_TABS:
            for extra in ({}, {"q": "Trần"}):
                params = {"tab": tab, **extra}
                response = client.get(QUEUE, params)
                assert response.status_code == 200
                expected = tbody_before(user, params, timezone.now())
                if response.context["items"]:
                    assert normalised(tbody_of(response)) == normalised(expected), (user.username, params)
                else:  # no table at all, and the old rendering had no row either
                    assert tbody_of(response) == "", (user.username, params)
                    assert "<tr>" not in expected, (user.username, params)
                compared += len(response.context["items"])
    # The comparison covered real rows, selectable ones, badges, a missing code and each fallback.
    assert compared >= 20


def test_queue_rows_cells_show_badges_fallbacks_and_escaped_names(client, varied_world):
    client.force_login(varied_world.leader)
    body = tbody_of(client.get(QUEUE, {"tab": "all"}))
    assert 'class="badge error">Quá hạn' in body
    assert 'class="badge">Sắp đến hạn' in body
    assert "Hồ sơ chưa cấp mã (số " in body
    assert "Trần &lt;b&gt;&quot;Ánh&quot;&lt;/b&gt; &amp; Co" in body
    assert "— (*****)" in body
    assert "Thị Bình" in body
    assert 'type="checkbox" name="dossiers"' in body


def test_queue_rows_in_english_read_as_the_model_rendering_did(client, varied_world):
    client.force_login(varied_world.leader)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(QUEUE, {"tab": "all"})
    assert response.status_code == 200
    with translation.override("en"):
        expected = tbody_before(varied_world.leader, {"tab": "all"}, timezone.now())
    assert "Received" in expected  # the reference is English indeed
    assert normalised(tbody_of(response)) == normalised(expected)
