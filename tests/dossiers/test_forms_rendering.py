"""The officer pages' forms written by FastFormRenderer: the same markup as Django's templates, bounded selects."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.forms.renderers import DjangoTemplates
from django.template import Context, Template
from django.test.html import parse_html
from django.urls import reverse

from dossiers.filters import QueueFilterSet
from dossiers.forms_rendering import FastFormRenderer, form_fields_html
from dossiers.models import Dossier
from dossiers.views.officer import ACTIONS, BulkAssignForm, OfficerRoles, _row_time
from portal.accounts.constants import Role
from tests.dossiers import builders
from tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db
QUEUE = reverse("dossiers:officer_queue")


@pytest.fixture
def world():
    return builders.make_world()


@pytest.fixture(autouse=True)
def fast_pdf(monkeypatch):
    """Forms 01–06 as a fixed PDF: these tests never read them."""
    monkeypatch.setattr("dossiers.pdf.render_dossier_form", lambda *args, **kwargs: builders.PDF_BYTES)


def _markup(form) -> str:
    """Every field of a form as the officer templates write it: hidden fields, then field groups."""
    parts = [str(field) for field in form.hidden_fields()]
    parts += [str(form.non_field_errors())]
    parts += [str(field.as_field_group()) for field in form.visible_fields()]
    return "\n".join(parts)


def assert_same_markup(make_form):
    fast, django = make_form(FastFormRenderer()), make_form(DjangoTemplates())
    fast.is_bound and fast.is_valid()
    django.is_bound and django.is_valid()
    assert parse_html(_markup(fast)) == parse_html(_markup(django))
    return _markup(fast)


def _states(world):
    return [
        builders.submitted(world),
        builders.received(world),
        builders.in_processing(world),
        builders.awaiting_approval(world),
        builders.result_ready(world),
    ]


def _action_form(spec, dossier, user, data, renderer):
    """The action form as the dossier page builds it (views.officer._action_form), with this renderer."""
    form = spec.form_class(
        data,
        None,
        dossier=dossier,
        user=user,
        initial={"version": dossier.version},
        auto_id=f"id_{spec.name}_%s",
        renderer=renderer,
    )
    for name, label in spec.labels:
        form.fields[name].label = label
    return form


def test_every_officer_action_form_has_djangos_markup_unbound_and_with_errors(world):
    dossiers = _states(world)
    checked = set()
    for dossier in dossiers:
        dossier = Dossier.objects.get(pk=dossier.pk)
        for spec in ACTIONS.values():
            for data in (None, {"version": "x", "note": "<b>ghi chú</b>", "reason": "", "deadline": "hôm qua"}):

                def make(renderer, spec=spec, dossier=dossier, data=data):
                    return _action_form(spec, dossier, world.leader, data, renderer)

                markup = assert_same_markup(make)
                assert "&lt;b&gt;" in markup or data is None or "note" not in make(None).fields
            checked.add(spec.name)
    assert checked == set(ACTIONS)


VISIBLE_LOOP = Template(
    '{% for field in form.visible_fields %}<div class="form-row">{{ field.as_field_group }}</div>{% endfor %}'
)


def test_the_action_forms_visible_fields_written_in_one_call_read_as_the_pages_old_loop(world):
    """The dossier page writes each action form's visible fields with form_fields_html: the same bytes."""
    OfficerFactory(role=Role.SPECIALIST, membership__agency=world.agency, full_name='Viên <b>"Hai"</b>')
    written = set()
    for dossier in _states(world):
        dossier = Dossier.objects.get(pk=dossier.pk)
        for spec in ACTIONS.values():
            for data in (None, {"version": "x", "note": "<b>ghi chú</b>", "reason": "", "deadline": "hôm qua"}):
                made = [_action_form(spec, dossier, world.leader, data, FastFormRenderer()) for _copy in range(2)]
                fast = form_fields_html(made[0], row_class="form-row", visible_only=True)
                assert fast == VISIBLE_LOOP.render(Context({"form": made[1]})), (spec.name, data)
                assert 'type="hidden"' not in fast
                written.add(spec.name)
    assert written == set(ACTIONS)


def test_the_queue_filter_and_bulk_forms_have_djangos_markup(world):
    roles = OfficerRoles(world.leader)
    for data in (
        None,
        {"q": 'Lê "Văn"', "procedure": str(world.procedure.pk), "state": "received", "overdue": "on"},
        {"received_from": "2026-03-10", "received_to": "2026-03-01", "assignee": "9999", "channel_in": "x"},
    ):

        def make(renderer, data=data):
            form = QueueFilterSet(data, agency_ids=roles.all).form
            form.renderer = renderer
            return form

        assert_same_markup(make)
    assert_same_markup(lambda renderer: BulkAssignForm(roles=roles, renderer=renderer))
    assert_same_markup(lambda renderer: BulkAssignForm({"assignee": "0"}, roles=roles, renderer=renderer))


LOOP = Template("{% for field in form %}<div>{{ field.as_field_group }}</div>{% endfor %}")


@pytest.mark.parametrize("limit", [200, 1])
def test_the_queue_forms_written_in_one_call_read_as_their_template_loop(world, monkeypatch, limit):
    """form_fields_html writes each field itself: the same bytes as as_field_group, Django's markup."""
    monkeypatch.setattr("dossiers.filters.OPTION_LIMIT", limit)  # 1: every model select cut, with its note
    OfficerFactory(role=Role.SPECIALIST, membership__agency=world.agency, full_name='Viên <b>"Hai"</b>')
    roles = OfficerRoles(world.leader)
    for data in (
        None,
        {"q": 'Lê "Văn" <i>', "procedure": str(world.procedure.pk), "state": "received", "overdue": "on"},
        {"received_from": "2026-03-10", "received_to": "2026-03-01", "assignee": "9999", "channel_in": "x"},
        {"assignee": str(world.specialist.pk), "received_from": "2026-02-30", "overdue": "off"},
        {"q": "x" * 101, "field": "0", "state": "<b>"},  # an error beside the help text
    ):
        forms = {name: QueueFilterSet(data, agency_ids=roles.all).form for name in ("fast", "loop", "django")}
        forms["django"].renderer = DjangoTemplates()
        fast = form_fields_html(forms["fast"])
        assert fast == LOOP.render(Context({"form": forms["loop"]})), data
        assert parse_html(fast) == parse_html(LOOP.render(Context({"form": forms["django"]}))), data
    for data in (None, {"assignee": "0"}, {"assignee": str(world.specialist.pk)}):
        fast = form_fields_html(BulkAssignForm(data, roles=roles), row_class="form-row")
        loop = Template('{% for field in form %}<div class="form-row">{{ field.as_field_group }}</div>{% endfor %}')
        assert fast == loop.render(Context({"form": BulkAssignForm(data, roles=roles)}))
        django = BulkAssignForm(data, roles=roles, renderer=DjangoTemplates())
        assert parse_html(fast) == parse_html(loop.render(Context({"form": django})))


def _control(page: str, name: str) -> str:
    match = re.search(rf'<(input|select)[^>]*name="{name}"[^>]*>(.*?</select>)?', page, re.S)
    assert match, name
    return match.group(0)


def test_the_queue_page_carries_every_filter_with_its_label_and_the_values_of_the_get(client, world):
    dossier = builders.received(world)
    client.force_login(world.leader)
    params = {
        "tab": "all",
        "q": "Lê Văn",
        "procedure": str(world.procedure.pk),
        "field": "",
        "channel_in": "online",
        "state": "received",
        "assignee": str(world.specialist.pk),
        "received_from": "2026-01-01",
        "received_to": "2030-12-31",
        "overdue": "",
    }
    page = client.get(QUEUE, params).content.decode()
    for name in ("q", "procedure", "field", "channel_in", "state", "assignee", "received_from", "received_to"):
        assert f'<label for="id_{name}">' in page, name
        assert f'id="id_{name}"' in _control(page, name)
    assert 'value="Lê Văn"' in _control(page, "q")
    assert f'<option value="{world.procedure.pk}" selected>' in _control(page, "procedure")
    assert '<option value="online" selected>' in _control(page, "channel_in")
    assert '<option value="received" selected>' in _control(page, "state")
    assert f'<option value="{world.specialist.pk}" selected>Chuyên Viên</option>' in _control(page, "assignee")
    assert 'value="2026-01-01"' in _control(page, "received_from")
    assert 'type="checkbox"' in _control(page, "overdue") and "checked" not in _control(page, "overdue")
    assert 'aria-describedby="id_q_helptext"' in _control(page, "q")
    checked = client.get(QUEUE, {"tab": "all", "overdue": "on"}).content.decode()
    assert "checked" in _control(checked, "overdue")
    # The bulk assignment of received dossiers is offered to the leader, with its label.
    page = client.get(QUEUE, {"tab": "all"}).content.decode()
    assert f'name="dossiers" value="{dossier.pk}"' in page
    assert '<label for="id_bulk_assignee">' in page


def test_a_filter_select_lists_at_most_its_limit_and_always_the_selected_one(client, world, monkeypatch):
    monkeypatch.setattr("dossiers.filters.OPTION_LIMIT", 3)
    extra = [
        OfficerFactory(role=Role.SPECIALIST, membership__agency=world.agency, full_name=f"Chuyên Viên {n}")
        for n in range(1, 6)
    ]
    last = extra[-1]  # "Chuyên Viên 5": sorted after the first three
    builders.received(world)
    client.force_login(world.leader)

    page = client.get(QUEUE, {"tab": "all"}).content.decode()
    assignee = _control(page, "assignee")
    assert assignee.count("<option") == 1 + 3  # "Tất cả" and the first three
    assert 'aria-describedby="id_assignee_more"' in assignee
    assert 'id="id_assignee_more"' in page and "chỉ hiện 3 mục đầu tiên" in html.unescape(page)

    page = client.get(QUEUE, {"tab": "all", "assignee": str(last.pk)}).content.decode()
    assignee = _control(page, "assignee")
    assert assignee.count("<option") == 1 + 3 + 1
    assert f'<option value="{last.pk}" selected>Chuyên Viên 5</option>' in assignee
    # The filter itself still applies to any specialist of the agency (no dossier is assigned to them).
    assert "Không có hồ sơ nào." in page

    # A short list carries no note.
    assert "_more" not in _control(client.get(QUEUE, {"tab": "all"}).content.decode(), "procedure")


@pytest.mark.parametrize(
    ("role", "state", "offered"),
    [
        ("reception", "submitted", {"receive", "request_supplement", "refuse"}),
        ("leader", "received", {"assign", "apologise"}),
        ("specialist", "submitted", set()),
    ],
)
def test_the_dossier_page_renders_the_action_forms_of_the_officers_role_only(client, world, role, state, offered):
    dossier = {"submitted": builders.submitted, "received": builders.received}[state](world)
    client.force_login(getattr(world, role))
    page = client.get(reverse("dossiers:officer_dossier", args=[dossier.pk])).content.decode()
    prefix = reverse("dossiers:officer_dossier_action", args=[dossier.pk, "x"])[: -len("x/")]
    shown = re.findall(rf'<form method="post" action="{re.escape(prefix)}([a-z_-]+)/"', page)
    assert sorted(shown) == sorted(offered)  # each offered form once, no other
    for name in offered:  # each form carries the version the page was rendered with
        assert f'<input type="hidden" name="version" value="{dossier.version}" id="id_{name}_version">' in page


def test_queue_row_times_read_as_the_date_filter_writes_them():
    template = Template('{{ value|date:"H:i d/m/Y" }}')
    for value in (
        dt.datetime(2026, 3, 1, 17, 5, tzinfo=dt.UTC),  # 00:05 the next day in Vietnam
        dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 9, 2, 0, tzinfo=dt.UTC),
    ):
        assert _row_time(value) == template.render(Context({"value": value}))
    assert _row_time(None) == ""
