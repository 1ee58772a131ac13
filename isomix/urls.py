from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from application import pages
from application.api.downloads import signed_file
from application.health import health
from application.metrics import metrics

urlpatterns = [
    path("", pages.home, name="home"),
    path("health", health, name="health"),
    path("metrics", metrics, name="metrics"),
    path("accounts/signup/", pages.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("projects/", pages.library, name="library"),
    path("projects/<uuid:project_id>/", pages.project_detail, name="project_detail"),
    path("projects/<uuid:project_id>/delete/", pages.project_delete, name="project_delete"),
    path("api/v1/", include("application.api.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("files/<str:token>/", signed_file, name="signed-file"),
    path("admin/", admin.site.urls),
]
