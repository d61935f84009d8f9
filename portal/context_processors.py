from django.conf import settings


def site(request):
    """Values every page shows: the province served and the hotline."""
    return {"PORTAL_PROVINCE_NAME": settings.PORTAL_PROVINCE_NAME, "PORTAL_HOTLINE": settings.PORTAL_HOTLINE}
