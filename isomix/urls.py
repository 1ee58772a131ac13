from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from application import pages
from application.api.downloads import signed_file
from application.api.webhooks import stripe_webhook
from application.health import health
from application.login_guard import AdminLoginForm, LoginForm, login_throttled
from application.metrics import metrics
from application.pages.forms import ThrottledPasswordResetForm

handler404 = "application.api.errors.api_or_page_not_found"

# The admin's login form goes through the login guard too (AdminSite.login_form is Django's hook).
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("", pages.home, name="home"),
    path("health", health, name="health"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("i18n/language/", pages.language_set, name="language_set"),
    path("metrics", metrics, name="metrics"),
    path("accounts/signup/", pages.signup, name="signup"),
    path(
        "accounts/login/",
        login_throttled(auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True)),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("pricing/", pages.pricing, name="pricing"),
    path("account/", pages.account, name="account"),
    path("account/email/", pages.account_email, name="account_email"),
    path("account/delete/", pages.account_delete, name="account_delete"),
    # Password reset by email: Django's own views (templates under registration/).
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(form_class=ThrottledPasswordResetForm),
        name="password_reset",
    ),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("billing/stripe/webhook/", stripe_webhook, name="stripe-webhook"),
    path("projects/", pages.library, name="library"),
    path("projects/<uuid:project_id>/", pages.project_detail, name="project_detail"),
    path("projects/<uuid:project_id>/delete/", pages.project_delete, name="project_delete"),
    path("projects/<uuid:project_id>/remix/", pages.project_remix, name="project_remix"),
    path("styles/", pages.styles_library, name="styles"),
    path("api/v1/", include("application.api.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("files/<str:token>/", signed_file, name="signed-file"),
    # Before admin.site.urls, so that /admin/login/ answers a lock-out with 429 (the
    # admin's own route would render it as 200); reversing "admin:login" still lands here.
    path("admin/login/", login_throttled(admin.site.login)),
    path("admin/", admin.site.urls),
]
