from django.urls import path

from application.api import views
from application.api.auth import AuthTokenCreateApi

app_name = "api"

urlpatterns = [
    path("auth/token/", AuthTokenCreateApi.as_view(), name="auth-token"),
    path("account/", views.AccountApi.as_view(), name="account"),
    path("plans/", views.PlansApi.as_view(), name="plans"),
    path("billing/checkout/", views.CheckoutCreateApi.as_view(), name="billing-checkout"),
    path("billing/portal/", views.PortalCreateApi.as_view(), name="billing-portal"),
    path("projects/", views.ProjectsApi.as_view(), name="projects"),
    path("projects/<uuid:project_id>/", views.ProjectDetailApi.as_view(), name="project-detail"),
    path("projects/<uuid:project_id>/separation/", views.ProjectSeparateApi.as_view(), name="project-separate"),
    path("engines/", views.EnginesApi.as_view(), name="engines"),
    path("projects/<uuid:project_id>/mix/", views.MixStateApi.as_view(), name="mix-state"),
    path("projects/<uuid:project_id>/presets/", views.MixPresetsApi.as_view(), name="mix-presets"),
    path("presets/<uuid:preset_id>/", views.MixPresetDetailApi.as_view(), name="mix-preset-detail"),
    # Before stems/<str:kind>/, which would take "archive" for a stem kind.
    path("projects/<uuid:project_id>/stems/archive/", views.StemsArchiveApi.as_view(), name="stems-archive"),
    path("projects/<uuid:project_id>/stems/<str:kind>/", views.StemDownloadApi.as_view(), name="stem-download"),
    path("projects/<uuid:project_id>/stems/<str:kind>/preview/", views.StemPreviewApi.as_view(), name="stem-preview"),
    path("projects/<uuid:project_id>/stems/<str:kind>/peaks/", views.StemPeaksApi.as_view(), name="stem-peaks"),
    path("projects/<uuid:project_id>/analysis/", views.AnalysisApi.as_view(), name="analysis"),
    path("projects/<uuid:project_id>/lyrics/", views.LyricsApi.as_view(), name="lyrics"),
    path("projects/<uuid:project_id>/exports/", views.ExportCreateApi.as_view(), name="export-create"),
    path("exports/<uuid:export_id>/", views.ExportDetailApi.as_view(), name="export-detail"),
    path("exports/<uuid:export_id>/download/", views.ExportDownloadApi.as_view(), name="export-download"),
    path("styles/", views.StylesApi.as_view(), name="styles"),
    path("styles/<uuid:style_id>/", views.StyleDetailApi.as_view(), name="style-detail"),
    path("styles/<uuid:style_id>/audio/", views.StyleAudioApi.as_view(), name="style-audio"),
    path("styles/<uuid:style_id>/grains/<int:index>/", views.StyleGrainAudioApi.as_view(), name="style-grain"),
    path("projects/<uuid:project_id>/remixes/", views.RemixesApi.as_view(), name="remixes"),
    path("remixes/<uuid:remix_id>/", views.RemixDetailApi.as_view(), name="remix-detail"),
    path("remixes/<uuid:remix_id>/download/", views.RemixDownloadApi.as_view(), name="remix-download"),
    path("remixes/<uuid:remix_id>/stems/<str:kind>/", views.RemixStemDownloadApi.as_view(), name="remix-stem-download"),
    path(
        "remixes/<uuid:remix_id>/stems/<str:kind>/preview/",
        views.RemixStemPreviewApi.as_view(),
        name="remix-stem-preview",
    ),
    path("remixes/<uuid:remix_id>/stems/<str:kind>/peaks/", views.RemixStemPeaksApi.as_view(), name="remix-stem-peaks"),
]
