from rest_framework import viewsets

from ..filters import ProcedureFilter
from ..selectors import procedure_get_public, procedure_list_public
from .serializers import ProcedureDetailSerializer, ProcedureListSerializer


class ProcedureViewSet(viewsets.ReadOnlyModelViewSet):
    """The public catalogue: search (`q`, with or without diacritics), agency, field and level."""

    lookup_field = "national_code"
    lookup_value_regex = r"[0-9A-Z.]+"
    filterset_class = ProcedureFilter

    def get_queryset(self):
        return procedure_list_public()

    def get_object(self):
        return procedure_get_public(code=self.kwargs["national_code"])

    def get_serializer_class(self):
        return ProcedureDetailSerializer if self.action == "retrieve" else ProcedureListSerializer
