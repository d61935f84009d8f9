"""The citizen's journey: start a dossier, fill it in page by page, upload, submit, follow, rate."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path


@login_required
def my_dossiers(request):
    return render(request, "base.html")


urlpatterns = [
    path("ho-so/", my_dossiers, name="my_dossiers"),
]
