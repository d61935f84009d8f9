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
import itertools

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.accounts.constants import Role
from procedures.models import Field, Procedure
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
    cut); validating a submitted value still reads the whole queryset (ModelChoiceField.to_python).
    """

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.null_label is not None:
            yield (self.field.null_value, self.field.null_label)
        queryset = self.queryset
        limit = getattr(self.field.widget, "limit", None)
        if limit is not None:
            queryset = queryset[: limit + 1]
        for obj in queryset:
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
        self.limit = OPTION_LIMIT if limit is None else limit

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
    iterator = _ListedChoiceIterator
    widget = BoundedSelect


class ListedModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = _ListedModelChoiceField


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

    def __init__(self, data=None, queryset=None, *, agency_ids: set[int], now: dt.datetime | None = None, **kwargs):
        super().__init__(data, queryset if queryset is not None else DossierHolding.objects.all(), **kwargs)
        self.now = now or timezone.now()
        self._agency_ids = set(agency_ids)
        # Only the columns an option shows (its __str__): DISTINCT over every column, the procedures'
        # legal texts included, cost more than the options themselves.
        self.filters["procedure"].queryset = (
            Procedure.objects.filter(agencies__in=self._agency_ids)
            .distinct()
            .order_by("name")
            .only("pk", "national_code", "name")
        )
        self.filters["field"].queryset = (
            Field.objects.filter(procedures__agencies__in=self._agency_ids)
            .distinct()
            .order_by("name")
            .only("pk", "name")
        )
        self.filters["assignee"].queryset = specialists_of(self._agency_ids).only("pk", "full_name", "username")

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
        .order_by("full_name", "username")
    )
