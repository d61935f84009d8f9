"""URLs of the dossier pages; each audience's views live in a module of their own."""

from .views import citizen, helper, officer, public

app_name = "dossiers"
urlpatterns = [*public.urlpatterns, *citizen.urlpatterns, *officer.urlpatterns, *helper.urlpatterns]
