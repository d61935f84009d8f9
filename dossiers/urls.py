from django.urls import path

from .views import public

app_name = "dossiers"
urlpatterns = [
    path("tra-cuu/", public.track, name="track"),
    path("tra-cuu/<str:code>/", public.track, name="track_code"),
]
