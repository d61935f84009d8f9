"""The officers' queue filters and search, one FilterSet for the page and the API (GET parameters).

It filters DossierHolding rows (dossiers.selectors.queue_page reads them tab by tab), so that a
filter narrows each index range of the tab instead of scanning dossiers. The search `q` finds a
dossier by its exact code (unique index), the applicant's full CCCD number (index; a part of a
number finds nothing, so that nobody lists other people's dossiers by guessing digits), or a part of
the applicant's name with or without diacritics (Dossier.search_text: on PostgreSQL a trigram index of
the held dossiers only, dossier_held_search_trgm_idx, since a queue lists nothing else).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.accounts.constants import Role
from procedures.models import Field, Procedure
from procedures.selectors import procedure_offered
from procedures.text import normalize_search

from .constants import Channel, DossierState
from .forms_rendering import FastFormRenderer, truncated_note
from .holdings import UNHELD_STATES
from .models import Dossier, DossierHolding

S = DossierState
User = get_user_model()
# The filters a queue URL carries, in the order they are written back into links.
FILTER_KEYS = ("q", "procedure", "field", "channel_in", "state", "assignee", "received_from", "received_to", "overdue")
# A filter select lists at most this many options (plus the selected one): a province-level agency's
# lists of procedures or specialists can run into thousands, and a page must not render them all.
OPTION_LIMIT = 200


def start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class QueueFilterForm(forms.Form):
    # Django's markup, written without a template render per option (dossiers.forms_rendering).
    default_renderer = FastFormRenderer

    def clean(self):
        data = super().clean()
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", _("Ngày kết thúc phải sau ngày bắt đầu."))
        return data


# The states in which a dossier has holdings (the only ones a queue lists), in a fixed order: the
# predicate of the partial trigram index (migration 0008_held_search_index) is this same list, so
# that PostgreSQL proves the name search's condition implies it.
HELD_STATES = tuple(sorted(set(DossierState.values) - set(UNHELD_STATES)))


def dossier_search(text: str) -> Q:
    """Held dossiers matching the search text: exact code, full CCCD number, or part of the name.

    Only for the queues (their holdings exist for held dossiers only): the name part is limited to
    HELD_STATES so that it reads the partial trigram index of the few held dossiers (about 6% of a
    province) instead of the trigram lists of every dossier ever submitted.
    """
    text = text.strip()
    match = Q(code__in={text, text.upper()}) | Q(applicant_id_number=text)
    name = normalize_search(text)
    if any(ch.isalpha() for ch in name):
        match |= Q(search_text__contains=name, state__in=HELD_STATES)
    return match


class _ListedChoiceIterator(django_filters.fields.ModelChoiceIterator):
    """The options from one ordinary query: Django's iterator opens a server-side cursor on PostgreSQL
    (DECLARE, FETCH, CLOSE) for each of the queue's short lists, three round trips each.

    The query reads at most the widget's `limit` + 1 rows (BoundedSelect tells the page the list was
    cut). The field's queryset is read when the options are (Django's iterator reads it when made),
    so that a field whose queryset is built on first use (_ListedModelChoiceField.defer_queryset)
    builds it only for a page that lists the options.
    """

    def __init__(self, field):
        self.field = field

    @property
    def queryset(self):
        return self.field.queryset

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.null_label is not None:
            yield (self.field.null_value, self.field.null_label)
        limit = getattr(self.field.widget, "limit", None)
        source = self.field.preset_options
        if source is None:  # read now: the field's queryset, at most the widget's limit + 1 rows
            source = self.queryset if limit is None else self.queryset[: limit + 1]
        elif limit is not None:
            source = source[: limit + 1]
        for obj in source:
            yield self.choice(obj)


class BoundedSelect(forms.Select):
    """A select of at most `limit` model options, the selected one always among them.

    When the list is longer, the first `limit` are shown with a note (linked by aria-describedby)
    saying so; the search box narrows the queue instead. The filter in the URL keeps working for any
    value: only the rendering is bounded.
    """

    template_name = "dossiers/widgets/bounded_select.html"

    def __init__(self, attrs=None, choices=(), *, limit: int | None = None):
        super().__init__(attrs, choices)
        self._limit = limit

    @property
    def limit(self) -> int:
        # Read when rendering: QueueFilterSet's widgets are made once per process (its form class).
        return OPTION_LIMIT if self._limit is None else self._limit

    def shown_choices(self, value) -> tuple[list, bool]:
        """The options to write for this value, and whether the list was cut at the limit.

        Also read by dossiers.forms_rendering.field_group_html, which writes the select directly.
        """
        source = self.choices
        listed = list(iter(source))  # not list(source): its __len__ would COUNT the queryset
        real = [choice for choice in listed if choice[0] != ""]
        truncated = len(real) > self.limit
        if truncated:
            keep = {id(choice) for choice in itertools.islice(real, self.limit)}
            listed = [choice for choice in listed if choice[0] == "" or id(choice) in keep]
            selected = {str(v) for v in self.format_value(value)} - {""}
            shown = {str(choice[0]) for choice in listed}
            field = getattr(source, "field", None)
            for missing in selected - shown:
                obj = field.queryset.filter(pk=missing).first() if field is not None and missing.isdigit() else None
                if obj is not None:
                    listed.append(source.choice(obj))
        return listed, truncated

    def get_context(self, name, value, attrs):
        source = self.choices
        listed, truncated = self.shown_choices(value)
        self.choices = listed
        try:
            context = super().get_context(name, value, attrs)
        finally:
            self.choices = source
        if truncated:
            note_id = f"{context['widget']['attrs'].get('id') or name}_more"
            attrs = context["widget"]["attrs"]
            described = attrs.get("aria-describedby")
            attrs["aria-describedby"] = f"{described} {note_id}" if described else note_id
            context["widget"]["truncated_note"] = {"id": note_id, "text": truncated_note(limit=self.limit)}
        return context


class _ListedModelChoiceField(django_filters.fields.ModelChoiceField):
    """django-filter's ModelChoiceField whose options' queryset can be built on first use.

    A queue request that does not use a list (an API search, a filter by procedure only) then builds
    none of its querysets; and a chosen value can be checked by one indexed lookup (`find`) instead of
    a get() over the options' DISTINCT join.
    """

    iterator = _ListedChoiceIterator
    widget = BoundedSelect
    _build_queryset: Callable[[], QuerySet] | None = None
    _find: Callable[[int], object | None] | None = None
    # The options as already read (queue_options), in the order of the queryset: listed instead of it.
    preset_options: list | None = None

    def defer_queryset(self, build: Callable[[], QuerySet], *, find: Callable[[int], object | None] | None = None):
        """Options from `build()`, called once when first needed.

        `find(pk)`, when given, returns the option with that primary key or None, as
        `build().get(pk=pk)` would, in one indexed query: it validates a chosen value.
        """
        self._model = self.queryset.model
        self._queryset = None
        self._build_queryset = build
        self._find = find
        self.widget.choices = self.choices

    @property
    def queryset(self):
        if self._queryset is None and self._build_queryset is not None:
            self._queryset = self._build_queryset()
        return self._queryset

    @queryset.setter
    def queryset(self, queryset):
        self._build_queryset = self._find = None
        forms.ModelChoiceField.queryset.fset(self, queryset)

    def to_python(self, value):
        if self._find is None or value in self.empty_values or self.to_field_name:
            return super().to_python(value)
        if self.null_label is not None and value == self.null_value:
            return value
        self.validate_no_null_characters(value)
        if isinstance(value, self._model):
            value = value.pk
        pk_field = self._model._meta.pk
        found = None
        try:
            # The conversion get(pk=value) applies (int(), so " 7 " and "+7" are 7), and a number out
            # of the column's range matches nothing, as in Django's lookups.
            pk = pk_field.get_prep_value(value)
        except (ValueError, TypeError):
            pk = None
        if pk is not None:
            low, high = connection.ops.integer_field_range(pk_field.get_internal_type())
            if (low is None or pk >= low) and (high is None or pk <= high):
                found = self._find(pk)
        if found is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return found


class ListedModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = _ListedModelChoiceField


def _shallow_copy(obj):
    """copy.copy of a filter, form field or widget, without copy's __reduce_ex__ round trip."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    return new


def _bound_filter(declared: django_filters.Filter, parent, model) -> django_filters.Filter:
    """A FilterSet instance's own copy of a declared filter, as django-filter's deep copy makes it.

    Every attribute an instance may change is its own: `extra` (Filter.field writes the queryset into
    it), the field built from it, the parent; a `method` filter gets a FilterMethod of its own, bound
    to this copy (the declaration's is bound to the declaration, which has no parent).
    """
    bound = _shallow_copy(declared)
    bound.extra = declared.extra.copy()
    bound.__dict__.pop("_field", None)
    bound.model = model
    bound.parent = parent
    if declared.method is not None:
        bound.method = declared.method
    return bound


def _form_field_copy(field: forms.Field) -> forms.Field:
    """A form's own copy of a field, as Field.__deepcopy__ (and ChoiceField's, ModelChoiceField's)
    makes it for BaseForm: the widget with its attrs, error messages and validators copied.

    Differences, none of which a form of this module changes: a ChoiceField's choices are shared
    with the declaration (constant lists of TextChoices) instead of deep-copied.
    """
    new = _shallow_copy(field)
    widget = new.widget = _shallow_copy(field.widget)
    widget.attrs = field.widget.attrs.copy()
    new.error_messages = field.error_messages.copy()
    new.validators = field.validators[:]
    if isinstance(field, forms.ModelChoiceField):
        if field._queryset is not None:
            new.queryset = field._queryset  # the setter clones it and binds the options to this copy
        else:  # a queryset built on first use (defer_queryset), by each copy for itself
            widget.choices = new.choices
    elif isinstance(field, forms.ChoiceField):
        choices = field._choices
        if isinstance(choices, django_filters.fields.ChoiceIterator):
            choices = django_filters.fields.ChoiceIterator(new, choices.choices)
        new._choices = widget.choices = choices
    return new


class _FieldsCopiedPerForm(dict):
    """A form class's base_fields, which BaseForm.__init__ deep-copies for each form: copied by
    _form_field_copy instead, field by field (copy.deepcopy of the queue filters' nine fields was
    about 1,300 Python calls per request)."""

    def __deepcopy__(self, memo):
        return {name: _form_field_copy(field) for name, field in self.items()}


class QueueFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=gettext_lazy("Tìm theo mã hồ sơ, họ tên hoặc số CCCD"),
        method="filter_q",
        max_length=100,
        help_text=gettext_lazy("Số CCCD phải nhập đủ 12 chữ số."),
    )
    procedure = ListedModelChoiceFilter(
        label=gettext_lazy("Thủ tục"),
        field_name="dossier__procedure",
        queryset=Procedure.objects.none(),
        empty_label=gettext_lazy("Tất cả"),
    )
    field = ListedModelChoiceFilter(
        label=gettext_lazy("Lĩnh vực"),
        field_name="dossier__procedure__field",
        queryset=Field.objects.none(),
        empty_label=gettext_lazy("Tất cả"),
    )
    channel_in = django_filters.ChoiceFilter(
        label=gettext_lazy("Hình thức nộp"),
        field_name="dossier__channel_in",
        choices=Channel.choices,
        empty_label=gettext_lazy("Tất cả"),
    )
    state = django_filters.ChoiceFilter(
        label=gettext_lazy("Trạng thái"),
        choices=[c for c in S.choices if c[0] != S.DRAFT],
        empty_label=gettext_lazy("Tất cả"),
    )
    assignee = ListedModelChoiceFilter(
        label=gettext_lazy("Cán bộ xử lý"),
        field_name="dossier__assignee",
        queryset=User.objects.none(),
        empty_label=gettext_lazy("Tất cả"),
    )
    received_from = django_filters.DateFilter(
        label=gettext_lazy("Tiếp nhận từ ngày"),
        method="filter_received_from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    received_to = django_filters.DateFilter(
        label=gettext_lazy("Tiếp nhận đến ngày"),
        method="filter_received_to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    overdue = django_filters.BooleanFilter(
        label=gettext_lazy("Quá hạn"), method="filter_overdue", widget=forms.CheckboxInput
    )

    class Meta:
        model = DossierHolding
        fields: list[str] = []
        form = QueueFilterForm

    def __init__(
        self,
        data=None,
        queryset=None,
        *,
        agency_ids: set[int],
        now: dt.datetime | None = None,
        request=None,
        prefix=None,
    ):
        # django-filter's BaseFilterSet.__init__, with each declared filter copied by _bound_filter
        # instead of deep-copied (the declared querysets' SQL trees with them): that copy, the form
        # class made per instance and its fields' deep copy were most of a filtered queue request.
        if queryset is None:
            queryset = DossierHolding.objects.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        model = queryset.model
        self.filters = {name: _bound_filter(declared, self, model) for name, declared in self.base_filters.items()}
        self.now = now or timezone.now()
        self._agency_ids = set(agency_ids)

    @classmethod
    def _prototype_form_class(cls) -> type[forms.Form]:
        """The form class django-filter's get_form_class makes, made once per FilterSet class: its
        fields are those of the declared filters (the lists' querysets are set per form, see form)."""
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            fields = {
                name: _bound_filter(declared, None, cls._meta.model).field
                for name, declared in cls.base_filters.items()
            }
            form_class = type(f"{cls.__name__}Form", (cls._meta.form,), fields)
            form_class.base_fields = _FieldsCopiedPerForm(form_class.base_fields)
            cls._form_class = form_class
        return form_class

    def get_form_class(self):
        return self._prototype_form_class()

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            fields = form.fields
            fields["procedure"].defer_queryset(self._procedures, find=self._procedure_offered)
            fields["field"].defer_queryset(self._fields)
            fields["assignee"].defer_queryset(self._specialists)
        return self._form

    # The lists' options, built when a form validates a chosen value or renders the list. Only the
    # columns an option shows (its __str__): DISTINCT over every column, the procedures' legal texts
    # included, cost more than the options themselves.
    def _procedures(self) -> QuerySet[Procedure]:
        return (
            Procedure.objects.filter(agencies__in=self._agency_ids)
            .distinct()
            .order_by("name", "pk")
            .only("pk", "national_code", "name")
        )

    def _procedure_offered(self, pk: int) -> Procedure | None:
        return procedure_offered(pk=pk, agency_ids=self._agency_ids)

    def _fields(self) -> QuerySet[Field]:
        return (
            Field.objects.filter(procedures__agencies__in=self._agency_ids)
            .distinct()
            .order_by("name", "pk")
            .only("pk", "name")
        )

    def _specialists(self) -> QuerySet:
        return specialists_of(self._agency_ids).only("pk", "full_name", "username")

    def use_options(self, options: QueueOptions) -> None:
        """List the options read by queue_options (for these agencies) instead of querying each list."""
        fields = self.form.fields
        fields["procedure"].preset_options = options.procedures
        fields["field"].preset_options = options.fields
        fields["assignee"].preset_options = options.specialists

    def filter_q(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(dossier_id__in=Dossier.objects.filter(dossier_search(value)).values("pk"))

    def filter_received_from(self, queryset, name, value):
        return queryset.filter(dossier__received_at__gte=start_of(value))

    def filter_received_to(self, queryset, name, value):
        return queryset.filter(dossier__received_at__lt=start_of(value + dt.timedelta(days=1)))

    def filter_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(is_running=True, due_at__lt=self.now)

    def active(self) -> dict[str, str]:
        """The valid filters as given, to write back into links (tabs, pages)."""
        if not self.is_bound:
            return {}
        self.form.is_valid()  # an invalid filter is shown with its error and left out
        data = self.form.cleaned_data
        return {
            key: str(self.data.get(key, "")).strip() for key in FILTER_KEYS if data.get(key) not in (None, "", False)
        }


def specialists_of(agency_ids):
    return (
        User.objects.filter(memberships__role=Role.SPECIALIST, memberships__agency_id__in=set(agency_ids))
        .distinct()
        .order_by("full_name", "username", "pk")
    )


def _specialists_sql() -> str:
    """specialists_of as SQL (PostgreSQL): the role and the agency ids as parameters, not ordered."""
    user, membership = User._meta.db_table, User.memberships.rel.related_model._meta.db_table
    return (
        f"SELECT DISTINCT u.id, u.full_name, u.username FROM {user} u"  # noqa: S608 - table names from _meta
        f" JOIN {membership} m ON m.user_id = u.id WHERE m.role = %s AND m.agency_id = ANY(%s::bigint[])"
    )


@functools.cache
def _specialist_options_sql() -> str:
    return f"{_specialists_sql()} ORDER BY u.full_name, u.username, u.id"


def _option_users(rows) -> list:
    """Users with the columns an option shows, from (pk, full_name, username) rows."""
    return [User(pk=pk, full_name=full_name, username=username) for pk, full_name, username in rows]


def specialist_options(agency_ids) -> list:
    """specialists_of(agency_ids) as the options of a select: in its order, with the columns an option
    shows (pk, full_name, username). One hand-written statement on PostgreSQL: compiling the ORM's
    DISTINCT over memberships cost more than running it (the officer's dossier page, issue 6)."""
    ids = sorted(set(agency_ids))
    if connection.vendor != "postgresql":
        return list(specialists_of(ids).only("pk", "full_name", "username"))
    with connection.cursor() as cursor:
        cursor.execute(_specialist_options_sql(), [Role.SPECIALIST, ids])
        return _option_users(cursor.fetchall())


@dataclass(frozen=True)
class QueueOptions:
    """The queue page's option lists, as the filter form's and the bulk form's querysets list them.

    Instances with the columns an option shows only (its __str__). `procedures`, `fields` and
    `specialists` hold at most `limit` rows (the widget's limit + 1, so that it knows the list was cut);
    `bulk_specialists` all of them, or None when not asked for.
    """

    procedures: list[Procedure]
    fields: list[Field]
    specialists: list
    bulk_specialists: list | None


@functools.cache
def _options_sql() -> str:
    """The four lists in one statement (PostgreSQL): each a JSON array in the querysets' order.
    Written once per process.

    The querysets are QueueFilterSet._procedures, _fields, _specialists and specialists_of: compiling
    them cost more than running them, and each was a round trip of its own (issue 6).
    """
    procedure, field = Procedure._meta.db_table, Field._meta.db_table
    offered = Procedure.agencies.through._meta.db_table
    specialists = _specialists_sql()
    return (
        "SELECT"  # noqa: S608 - table names from _meta, values as parameters
        " (SELECT COALESCE(json_agg(json_build_array(o.id, o.national_code, o.name) ORDER BY o.name, o.id), '[]')"
        f" FROM (SELECT DISTINCT p.id, p.national_code, p.name FROM {procedure} p"
        f" JOIN {offered} a ON a.procedure_id = p.id WHERE a.agency_id = ANY(%s::bigint[])"
        " ORDER BY p.name, p.id LIMIT %s) o),"
        " (SELECT COALESCE(json_agg(json_build_array(o.id, o.name) ORDER BY o.name, o.id), '[]')"
        f" FROM (SELECT DISTINCT f.id, f.name FROM {field} f JOIN {procedure} p ON p.field_id = f.id"
        f" JOIN {offered} a ON a.procedure_id = p.id WHERE a.agency_id = ANY(%s::bigint[])"
        " ORDER BY f.name, f.id LIMIT %s) o),"
        " (SELECT COALESCE(json_agg(json_build_array(o.id, o.full_name, o.username)"
        " ORDER BY o.full_name, o.username, o.id), '[]')"
        f" FROM ({specialists} ORDER BY u.full_name, u.username, u.id LIMIT %s) o),"
        " (SELECT json_agg(json_build_array(o.id, o.full_name, o.username) ORDER BY o.full_name, o.username, o.id)"
        f" FROM ({specialists}) o WHERE %s)"
    )


def queue_options(agency_ids, *, bulk_agency_ids=None, limit: int = OPTION_LIMIT + 1) -> QueueOptions:
    """The option lists of the queue page's filter form (the officer's agencies) and, when
    `bulk_agency_ids` is given, of its bulk assignment form: one statement on PostgreSQL."""
    agencies, bulk = sorted(set(agency_ids)), sorted(set(bulk_agency_ids or ()))
    if connection.vendor != "postgresql":
        queries = QueueFilterSet(agency_ids=agencies)
        return QueueOptions(
            procedures=list(queries._procedures()[:limit]),
            fields=list(queries._fields()[:limit]),
            specialists=list(queries._specialists()[:limit]),
            bulk_specialists=(
                list(specialists_of(bulk).only("pk", "full_name", "username")) if bulk_agency_ids is not None else None
            ),
        )
    with connection.cursor() as cursor:
        cursor.execute(
            _options_sql(),
            [
                agencies,
                limit,
                agencies,
                limit,
                Role.SPECIALIST,
                agencies,
                limit,
                Role.SPECIALIST,
                bulk,
                bulk_agency_ids is not None,
            ],
        )
        procedures, fields, specialists, bulk_specialists = (
            json.loads(v) if isinstance(v, str) else v for v in cursor.fetchone()
        )

    return QueueOptions(
        procedures=[Procedure(pk=pk, national_code=code, name=name) for pk, code, name in procedures],
        fields=[Field(pk=pk, name=name) for pk, name in fields],
        specialists=_option_users(specialists),
        bulk_specialists=None if bulk_agency_ids is None else _option_users(bulk_specialists or []),
    )
