from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("", views.my_data, name="my_data"),
    path("tai-ve.json", views.export_json, name="export_json"),
    path("tai-ve.pdf", views.export_pdf, name="export_pdf"),
    path("xoa/", views.erase, name="erase"),
]
