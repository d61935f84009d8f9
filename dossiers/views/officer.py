"""The one-stop shop and processing officers' pages: queues, reception, processing, approval."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path


@login_required
def queue(request):
    return render(request, "base.html")


urlpatterns = [
    path("can-bo/ho-so/", queue, name="officer_queue"),
]
