import django_filters
from django.utils.translation import gettext_lazy as _

from .constants import ServiceLevel
from .models import Agency, Field, Procedure


class ProcedureFilter(django_filters.FilterSet):
    """Catalogue search: words with or without diacritics, agency (with its subunits), field, level."""

    q = django_filters.CharFilter(label=_("Tìm thủ tục"), method="filter_q")
    agency = django_filters.ModelChoiceFilter(
        field_name="agencies",
        label=_("Cơ quan thực hiện"),
        queryset=Agency.objects.filter(is_active=True),
        method="filter_agency",
        empty_label=_("Tất cả cơ quan"),
    )
    field = django_filters.ModelChoiceFilter(
        label=_("Lĩnh vực"), queryset=Field.objects.all(), empty_label=_("Tất cả lĩnh vực")
    )
    level = django_filters.ChoiceFilter(label=_("Mức độ"), choices=ServiceLevel.choices, empty_label=_("Tất cả mức độ"))

    class Meta:
        model = Procedure
        fields = ["q", "agency", "field", "level"]

    def filter_q(self, queryset, name, value):
        return queryset.search(value)

    def filter_agency(self, queryset, name, value):
        return queryset.filter(agencies__path__startswith=value.path).distinct()
