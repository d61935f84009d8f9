"""QueueFilterSet, built cheaply, validates, filters and renders as django-filter's own machinery does.

QueueFilterSet stopped deep-copying its filters and form fields per request, makes its form class
once, builds the lists' querysets on first use and checks a chosen procedure by one indexed lookup.
These tests compare it, for good and bad input of every filter, with a plain django-filter FilterSet
of the same declaration built the ordinary way (deep copies, a form class per instance, the chosen
procedure found by ModelChoiceField's get() over the list's queryset).
"""

from __future__ import annotations

import copy
import datetime as dt

import django_filters
import pytest
import time_machine
from django.db import connection
from django.http import QueryDict
from django.utils import timezone, translation

from dossiers import selectors
from dossiers.constants import DossierState
from dossiers.filters import QueueFilterSet, queue_options, specialist_options, specialists_of
from dossiers.models import DossierHolding
from portal.accounts.constants import Role
from procedures.models import Field, Procedure
from tests.dossiers import builders
from tests.factories import AgencyFactory, FieldFactory, OfficerFactory, ProcedureFactory

pytestmark = pytest.mark.django_db
S = DossierState


def _plain_init(self, data=None, queryset=None, *, agency_ids, now=None, **kwargs):
    """QueueFilterSet.__init__ as it was, over django-filter's own BaseFilterSet.__init__."""
    django_filters.FilterSet.__init__(
        self, data, queryset if queryset is not None else DossierHolding.objects.all(), **kwargs
    )
    self.now = now or timezone.now()
    self._agency_ids = set(agency_ids)
    self.filters["procedure"].queryset = (
        Procedure.objects.filter(agencies__in=self._agency_ids)
        .distinct()
        .order_by("name")
        .only("pk", "national_code", "name")
    )
    self.filters["field"].queryset = (
        Field.objects.filter(procedures__agencies__in=self._agency_ids).distinct().order_by("name").only("pk", "name")
    )
    self.filters["assignee"].queryset = specialists_of(self._agency_ids).only("pk", "full_name", "username")


# The same declaration (deep copies of QueueFilterSet's filters, its Meta and filter methods), through
# django-filter's FilterSet alone: no override of __init__'s copies, get_form_class or form.
PlainQueueFilterSet = type(
    "PlainQueueFilterSet",
    (django_filters.FilterSet,),
    {
        **{name: copy.deepcopy(declared) for name, declared in QueueFilterSet.declared_filters.items()},
        "Meta": QueueFilterSet.Meta,
        "__init__": _plain_init,
        "__module__": __name__,
        **{
            name: QueueFilterSet.__dict__[name]
            for name in ("filter_q", "filter_received_from", "filter_received_to", "filter_overdue", "active")
        },
    },
)


@pytest.fixture
def world():
    world = builders.make_world()
    other_agency = AgencyFactory(name="UBND xã Khác")
    world.elsewhere = ProcedureFactory(name="Thủ tục nơi khác", agencies=[other_agency])
    world.second = ProcedureFactory(name="Cấp bản sao trích lục", agencies=[world.agency], field=FieldFactory())
    world.outsider = OfficerFactory(role=Role.SPECIALIST, membership__agency=other_agency)
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), tick=False):
        world.received = builders.received(world)
        world.processing = builders.in_processing(world)
    builders.submitted(world)
    return world


def _cases(world) -> list[str]:
    p, f = world.procedure.pk, world.procedure.field_id
    code = world.received.code
    return [
        "",
        f"procedure={p}",
        f"procedure={world.second.pk}",
        f"procedure=+{p}",
        f"procedure=%20{p}%20",
        f"procedure={p}.0",
        f"procedure={chr(0x0660 + p) if p < 10 else p}",  # an Arabic-Indic digit: int() reads it
        f"procedure=1_{p}",
        "procedure=abc",
        "procedure=%00",
        "procedure=-1",
        "procedure=0",
        "procedure=99999999999999999999999",
        f"procedure={world.elsewhere.pk}",  # offered by another agency only
        "procedure=987654",
        f"procedure={p}&procedure=abc",  # the last value counts
        f"field={f}",
        f"field={world.elsewhere.field_id}",
        "field=abc",
        f"assignee={world.specialist.pk}",
        f"assignee={world.leader.pk}",  # not a specialist
        f"assignee={world.outsider.pk}",
        "assignee=x",
        "channel_in=online",
        "channel_in=nowhere",
        f"state={S.RECEIVED}",
        f"state={S.DRAFT}",  # not offered
        "state=bogus",
        "received_from=2026-03-01",
        "received_to=2026-03-01",
        "received_from=2026-03-01&received_to=2026-03-03",
        "received_from=2026-03-10&received_to=2026-03-01",
        "received_from=2026-13-45",
        "overdue=true",
        "overdue=on",
        "overdue=1",
        "overdue=false",
        "overdue=maybe",
        f"q={code}",
        f"q={code.lower()}",
        "q=le+van+cong",
        "q=Lê+Văn",
        "q=037090001234",
        "q=0370900",
        "q=+++",
        "q=" + "x" * 101,
        f"q={code}&procedure={p}&state={S.RECEIVED}&overdue=on&received_from=2026-03-01",
        f"procedure={p}&field=abc&state=bogus&received_from=2026-03-10&received_to=2026-03-01",
    ]


def _outcome(filterset) -> dict:
    valid = filterset.is_valid()
    outcome = {
        "valid": valid,
        "errors": filterset.errors.get_json_data(),
        "cleaned": {
            name: (type(value), getattr(value, "pk", value), str(value))
            for name, value in filterset.form.cleaned_data.items()
        },
        "active": filterset.active(),
    }
    if valid:
        outcome["sql"] = str(filterset.qs.query)
        outcome["rows"] = sorted(filterset.qs.values_list("pk", flat=True))
    return outcome


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_queue_filterset_validates_and_filters_as_a_plain_django_filter_filterset(world, language):
    now = timezone.now()
    with translation.override(language):
        for officer in (world.reception, world.specialist, world.leader):
            agency_ids = selectors.officer_agency_ids(officer)
            # Query strings as the page and the API get them, and plain dicts as a caller may pass.
            datas = [QueryDict(case) for case in _cases(world)] + [
                {"procedure": world.procedure},
                {"procedure": world.elsewhere},
                {"procedure": world.procedure.pk, "assignee": world.specialist.pk},
                {"procedure": None, "state": S.RECEIVED},
            ]
            for data in datas:
                case = data.urlencode() if isinstance(data, QueryDict) else repr(data)
                ours = _outcome(QueueFilterSet(data, agency_ids=agency_ids, now=now))
                plain = _outcome(PlainQueueFilterSet(data, agency_ids=agency_ids, now=now))
                assert ours == plain, (officer.username, case)


def test_the_filters_are_what_they_were_for_some_inputs(world):
    """Anchors independent of the plain FilterSet: a chosen procedure, and the errors of bad values."""
    agency_ids = selectors.officer_agency_ids(world.leader)
    chosen = QueueFilterSet(QueryDict(f"procedure={world.procedure.pk}"), agency_ids=agency_ids)
    assert chosen.is_valid()
    assert chosen.form.cleaned_data["procedure"] == world.procedure
    assert set(chosen.qs.values_list("dossier_id", flat=True)) == {world.received.pk, world.processing.pk} | set(
        DossierHolding.objects.filter(dossier__procedure=world.procedure).values_list("dossier_id", flat=True)
    )
    for case in (f"procedure={world.elsewhere.pk}", "procedure=abc", "procedure=%00", "procedure=99999999999999999999"):
        bad = QueueFilterSet(QueryDict(case), agency_ids=agency_ids)
        assert not bad.is_valid()
        assert list(bad.errors) == ["procedure"]


def test_the_forms_render_as_the_plain_filtersets_forms(world):
    """The page renders QueueFilterSet's form: its fields, copied cheaply, render the same markup."""
    agency_ids = selectors.officer_agency_ids(world.leader)
    for language in ("vi", "en"):
        with translation.override(language):
            for case in (
                None,
                "",
                f"procedure={world.procedure.pk}&state=bogus",
                "received_from=2026-03-10&received_to=1",
            ):
                data = None if case is None else QueryDict(case)
                ours, plain = (cls(data, agency_ids=agency_ids) for cls in (QueueFilterSet, PlainQueueFilterSet))
                assert ours.is_valid() == plain.is_valid()
                assert str(ours.form) == str(plain.form), (language, case)


def test_filter_instances_and_forms_share_no_state(world):
    """Each FilterSet has its own filters, form fields and widgets: nothing set on one leaks to another."""
    agency_ids = selectors.officer_agency_ids(world.leader)
    first = QueueFilterSet(QueryDict(f"procedure={world.procedure.pk}"), agency_ids=agency_ids)
    second = QueueFilterSet(QueryDict(""), agency_ids=selectors.officer_agency_ids(world.outsider))
    assert first.is_valid() and second.is_valid()
    for name in first.filters:
        assert first.filters[name] is not second.filters[name]
        assert first.filters[name] is not QueueFilterSet.base_filters[name]
        assert first.filters[name].parent is first and second.filters[name].parent is second
        assert first.form.fields[name] is not second.form.fields[name]
        assert first.form.fields[name].widget is not second.form.fields[name].widget
        assert first.form.fields[name].widget.attrs is not second.form.fields[name].widget.attrs
    first.form.fields["q"].widget.attrs["data-x"] = "1"
    assert "data-x" not in second.form.fields["q"].widget.attrs
    assert "data-x" not in QueueFilterSet(QueryDict(""), agency_ids=agency_ids).form.fields["q"].widget.attrs
    assert list(second.form.fields["procedure"].queryset) == [world.elsewhere]
    assert world.procedure in list(first.form.fields["procedure"].queryset)


def test_validating_reads_no_list_and_a_chosen_procedure_in_one_indexed_query(world, django_assert_num_queries):
    """A search or an unused list builds no options' query; a chosen procedure is one lookup."""
    agency_ids = selectors.officer_agency_ids(world.leader)
    with django_assert_num_queries(0):
        assert QueueFilterSet(QueryDict("q=le+van&state=received&overdue=on"), agency_ids=agency_ids).is_valid()
    with django_assert_num_queries(1) as captured:
        assert QueueFilterSet(QueryDict(f"procedure={world.procedure.pk}"), agency_ids=agency_ids).is_valid()
    sql = captured.captured_queries[0]["sql"]
    assert "DISTINCT" not in sql and "procedures_procedure_agencies" in sql


def test_the_options_read_in_one_statement_are_the_querysets_lists(world, django_assert_num_queries):
    """queue_options (one statement on PostgreSQL) lists what the filter's and the bulk form's querysets
    list, in their order and cut at the same limit, and the form renders the same with them."""
    agency_ids = selectors.officer_agency_ids(world.leader)
    everywhere = {*agency_ids, world.outsider.memberships.get().agency_id}
    reference = QueueFilterSet(agency_ids=everywhere)
    for limit in (1, 2, 201):
        with django_assert_num_queries(1 if connection.vendor == "postgresql" else 4):
            options = queue_options(everywhere, bulk_agency_ids=agency_ids, limit=limit)
        expected = {
            "procedures": list(reference._procedures()[:limit]),
            "fields": list(reference._fields()[:limit]),
            "specialists": list(reference._specialists()[:limit]),
        }
        for name, rows in expected.items():
            listed = getattr(options, name)
            assert [(o.pk, str(o)) for o in listed] == [(o.pk, str(o)) for o in rows], (name, limit)
        assert [(u.pk, str(u)) for u in options.bulk_specialists] == [
            (u.pk, str(u)) for u in specialists_of(agency_ids)
        ]
    assert len(expected["procedures"]) >= 2 and len(expected["specialists"]) >= 2  # the cut was tested
    assert queue_options(agency_ids).bulk_specialists is None
    for language in ("vi", "en"):
        with translation.override(language):
            for case in (None, f"procedure={world.procedure.pk}&assignee={world.specialist.pk}"):
                data = None if case is None else QueryDict(case)
                plain, preset = (QueueFilterSet(data, agency_ids=agency_ids) for _ in range(2))
                preset.use_options(queue_options(agency_ids))
                assert preset.is_valid() == plain.is_valid()
                with django_assert_num_queries(0):
                    rendered = str(preset.form)
                assert rendered == str(plain.form), (language, case)


def test_the_specialist_options_read_by_hand_are_the_querysets_list(world, django_assert_max_num_queries):
    """specialist_options (the dossier page's assignment select) lists specialists_of, in its order."""
    OfficerFactory(role=Role.SPECIALIST, membership__agency=world.agency, full_name="An Văn A")
    OfficerFactory(role=Role.SPECIALIST, membership__agency=world.agency, full_name="An Văn A")  # a tie
    agency_ids = selectors.officer_agency_ids(world.leader)
    for ids in (agency_ids, {world.outsider.memberships.get().agency_id}, set()):
        with django_assert_max_num_queries(1):
            listed = specialist_options(ids)
        assert [(u.pk, str(u)) for u in listed] == [(u.pk, str(u)) for u in specialists_of(ids)]
    assert len(specialist_options(agency_ids)) >= 3
