from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from .models import Agency, Procedure


def procedure_list_public() -> QuerySet[Procedure]:
    return Procedure.objects.published().select_related("field").order_by("national_code")


def procedure_get_public(*, code: str) -> Procedure:
    """A published procedure with everything its public page shows, or 404."""
    queryset = (
        Procedure.objects.published()
        .select_related("field")
        .prefetch_related(
            "documents",
            "form_fields",
            "fees",
            "steps__agency",
            Prefetch("agencies", queryset=Agency.objects.filter(is_active=True).order_by("path")),
        )
    )
    return get_object_or_404(queryset, national_code=code)
