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
    from .constants import FeeChannel
    from .fees import exemptions_offered, fee_quote
    from .services import procedure_to_dict

    procedure = procedure_get_public(code=code)
    snapshot = procedure_to_dict(procedure)
    agency = procedure.agencies.first()
    enabled = {
        FeeChannel.ONLINE: procedure.channel_online,
        FeeChannel.COUNTER: procedure.channel_counter,
        FeeChannel.POSTAL: procedure.channel_postal,
    }
    # Unconditional lines only (no answers yet): what every applicant of a channel pays at least.
    quotes = [
        {
            "label": channel.label.lower(),
            "breakdown": fee_quote(snapshot=snapshot, procedure=procedure, agency=agency, channel=channel).as_dict(),
        }
        for channel, on in enabled.items()
        if on
    ]
    return render(
        request,
        "procedures/procedure_detail.html",
        {
            "procedure": procedure,
            "quotes": quotes,
            "exemptions": exemptions_offered(procedure=procedure),
            "total_fee": sum(fee.amount for fee in procedure.fees.all() if not fee.condition_field),
        },
    )
