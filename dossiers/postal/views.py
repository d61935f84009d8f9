from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .services import CallbackError, shipment_callback


@csrf_exempt  # server to server: authenticated by the operator's HMAC signature, not a cookie
@require_POST
def callback(request):
    """The postal operator's status callback (signed body); answers what happened, never a page."""
    try:
        shipment = shipment_callback(body=request.body, signature=request.headers.get("X-Signature", ""))
    except CallbackError as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=exc.code)
    return JsonResponse({"ok": True, "status": shipment.status})


app_name = "postal"
urlpatterns = [path("buu-chinh/trang-thai/", callback, name="callback")]
