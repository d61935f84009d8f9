"""Routes of the dossier API, included under /api/ next to the procedures catalogue."""

from django.urls import path

from . import views

app_name = "dossiers_api"

urlpatterns = [
    # The citizen's own dossiers, addressed by their public UUID.
    path("dossiers/", views.DossierListCreateView.as_view(), name="dossier-list"),
    path("dossiers/submissions/", views.DossierSubmissionView.as_view(), name="dossier-submission"),
    path("dossiers/<uuid:public_id>/", views.DossierDetailView.as_view(), name="dossier-detail"),
    path("dossiers/<uuid:public_id>/answers/", views.DossierAnswersView.as_view(), name="dossier-answers"),
    path("dossiers/<uuid:public_id>/files/", views.DossierFilesView.as_view(), name="dossier-files"),
    path(
        "dossiers/<uuid:public_id>/files/<uuid:file_id>/",
        views.DossierFileDetailView.as_view(),
        name="dossier-file-detail",
    ),
    path("dossiers/<uuid:public_id>/delivery/", views.DossierDeliveryView.as_view(), name="dossier-delivery"),
    path("dossiers/<uuid:public_id>/submit/", views.DossierSubmitView.as_view(), name="dossier-submit"),
    path("dossiers/<uuid:public_id>/withdraw/", views.DossierWithdrawView.as_view(), name="dossier-withdraw"),
    path(
        "dossiers/<uuid:public_id>/stop-request/", views.DossierRequestStopView.as_view(), name="dossier-stop-request"
    ),
    path("dossiers/<uuid:public_id>/supplement/", views.DossierSupplementView.as_view(), name="dossier-supplement"),
    path("dossiers/<uuid:public_id>/rating/", views.DossierRatingView.as_view(), name="dossier-rating"),
    path("files/<uuid:public_id>/", views.FileDownloadView.as_view(), name="file-download"),
    # Anyone holding a dossier code.
    path("track/<str:code>/", views.TrackView.as_view(), name="track"),
    # Officers: queue, dossier, one route per action.
    path("officer/queue/", views.OfficerQueueView.as_view(), name="officer-queue"),
    path("officer/dossiers/<int:pk>/", views.OfficerDossierView.as_view(), name="officer-dossier"),
    *[
        path(f"officer/dossiers/<int:pk>/{action}/", view.as_view(), name=f"officer-{action}")
        for action, view in views.OFFICER_ACTIONS.items()
    ],
]
