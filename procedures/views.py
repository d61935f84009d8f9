from django.core.paginator import Paginator
from django.shortcuts import render

from .filters import ProcedureFilter
from .selectors import procedure_get_public, procedure_list_public

PAGE_SIZE = 20


def procedure_list(request):
    """The public catalogue; works without JavaScript (a plain GET form)."""
    filterset = ProcedureFilter(request.GET, queryset=procedure_list_public())
    queryset = filterset.qs if filterset.is_valid() else procedure_list_public().none()
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "procedures/procedure_list.html",
        {
            "filter": filterset,
            "page": page,
            "querystring": query.urlencode(),
        },
    )


def procedure_detail(request, code: str):
    procedure = procedure_get_public(code=code)
    return render(
        request,
        "procedures/procedure_detail.html",
        {
            "procedure": procedure,
            "total_fee": sum(fee.amount for fee in procedure.fees.all() if not fee.condition_field),
        },
    )
