"""Request ids from clients are sanitised; every answer carries a strict Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
import logging
import re

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from storages.backends.s3 import S3Storage

from application.middleware import (
    ContentSecurityPolicyMiddleware,
    RequestIdMiddleware,
    content_security_policy,
    storage_origins_for,
)
from domain.log_context import request_id_var
from isomix.logs import ContextFilter
from tests.factories import PASSWORD, project_create_ready, user_create

GENERATED_ID = re.compile(r"[0-9a-f]{32}")

# ---------------------------------------------------------------- request ids


def _through_request_id_middleware(given: str | None) -> tuple[HttpResponse, list[logging.LogRecord], list[str]]:
    """Run a request with ``X-Request-ID: given`` and return the answer, its log records and the ids it saw."""
    seen: list[str] = []
    records: list[logging.LogRecord] = []
    logger = logging.getLogger("tests.request_id")
    handler = logging.Handler()
    handler.addFilter(ContextFilter())
    handler.emit = records.append
    logger.addHandler(handler)

    def view(request) -> HttpResponse:
        seen.append(request_id_var.get())
        logger.warning("handled")
        return HttpResponse("ok")

    headers = {} if given is None else {"HTTP_X_REQUEST_ID": given}
    try:
        response = RequestIdMiddleware(view)(RequestFactory().get("/", **headers))
    finally:
        logger.removeHandler(handler)
    return response, records, seen


def test_a_well_formed_request_id_is_kept():
    response, records, seen = _through_request_id_middleware("req-2024.abc_DEF")

    assert response["X-Request-ID"] == "req-2024.abc_DEF"
    assert seen == ["req-2024.abc_DEF"]
    assert [r.request_id for r in records] == ["req-2024.abc_DEF"]


@pytest.mark.parametrize(
    "given",
    [
        "abcdefgh\n",  # "$" would have let a final newline through
        "abcdefgh\nINFO forged log line",
        "abcd\r\nSet-Cookie: x=1",
        "a" * 1000,
        "a" * 65,
        "short",
        "ünïcødé-request-id",
        "１２３４５６７８９",  # full-width digits: \d would take them
        "abcdefgh ijk",
        "",
    ],
)
def test_a_malformed_request_id_is_replaced_everywhere(given):
    response, records, seen = _through_request_id_middleware(given)

    new_id = response["X-Request-ID"]
    assert GENERATED_ID.fullmatch(new_id)
    assert new_id != given
    assert seen == [new_id]
    assert [r.request_id for r in records] == [new_id]
    assert request_id_var.get() == ""  # nothing leaks to what runs next


def test_the_request_id_is_echoed_by_the_whole_stack():
    response = Client().get("/accounts/login/", HTTP_X_REQUEST_ID="x" * 1000)

    assert GENERATED_ID.fullmatch(response["X-Request-ID"])


# ---------------------------------------------------------------- Content-Security-Policy


def _policy(response: HttpResponse) -> dict[str, list[str]]:
    directives = [d.strip().split() for d in response["Content-Security-Policy"].split(";")]
    return {d[0]: d[1:] for d in directives}


def _sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _early_decode_hash() -> str:
    """The CSP source for the mixer's inline script, from the template file's bytes."""
    from django.template.loader import get_template

    return _sha256_source(get_template("projects/_early_decode.js").template.source)


STRICT = {
    "default-src": ["'self'"],
    "script-src": ["'self'", _early_decode_hash()],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "media-src": ["'self'", "blob:"],
    "connect-src": ["'self'", "ws://testserver"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "object-src": ["'none'"],
}
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.DOTALL)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/accounts/signup/", "/no-such-page/", "/health"])
def test_pages_carry_the_strict_policy(url):
    response = Client().get(url)

    assert _policy(response) == STRICT


@pytest.mark.django_db
def test_the_mixer_and_library_pages_carry_the_strict_policy_and_only_the_hashed_inline_script():
    user = user_create()
    project = project_create_ready(owner=user, duration_s=0.5)
    client = Client()
    client.login(username=user.username, password=PASSWORD)

    inline = {}
    for url in ("/projects/", f"/projects/{project.id}/"):
        response = client.get(url)
        html = response.content.decode()

        assert response.status_code == 200
        assert _policy(response) == STRICT
        assert "<style" not in html and " style=" not in html
        inline[url] = _INLINE_SCRIPT.findall(html)
    assert inline["/projects/"] == []
    # The mixer's one inline script is, as rendered, byte for byte what the policy's hash allows
    [early] = inline[f"/projects/{project.id}/"]
    assert _sha256_source(early) in STRICT["script-src"]
    assert "window.isomixEarly" in early


def test_a_secure_request_allows_wss_only(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    request = RequestFactory().get("/", HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="studio.example.com")
    settings.ALLOWED_HOSTS = ["studio.example.com"]

    policy = content_security_policy(request=request)

    assert "connect-src 'self' wss://studio.example.com;" in policy
    assert "ws://" not in policy


def test_a_disallowed_host_still_gets_a_policy_without_a_socket_source(settings):
    settings.ALLOWED_HOSTS = ["studio.example.com"]

    response = Client().get("/accounts/login/", HTTP_HOST="evil.example.net")

    assert response.status_code == 400
    assert _policy(response)["connect-src"] == ["'self'"]


def test_a_view_that_sets_its_own_policy_keeps_it():
    def view(request) -> HttpResponse:
        response = HttpResponse("embed")
        response["Content-Security-Policy"] = "frame-ancestors 'self'"
        return response

    response = ContentSecurityPolicyMiddleware(view)(RequestFactory().get("/"))

    assert response["Content-Security-Policy"] == "frame-ancestors 'self'"


@pytest.mark.django_db
def test_files_in_s3_add_the_endpoint_to_media_and_connect(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": "isomix", "endpoint_url": "https://objects.example.com:9000"},
        },
    }

    policy = _policy(Client().get("/accounts/login/"))

    assert policy["media-src"] == ["'self'", "blob:", "https://objects.example.com:9000"]
    assert policy["connect-src"] == ["'self'", "ws://testserver", "https://objects.example.com:9000"]
    assert policy["img-src"] == ["'self'", "data:"]


@pytest.mark.parametrize("endpoint", [None, "http://minio:9000", "https://s3.example.com"])
@pytest.mark.parametrize("style", [None, "auto", "path", "virtual"])
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_storage_origins_cover_the_presigned_urls_botocore_makes(endpoint, style, region):
    options = {
        "bucket_name": "isomix-media",
        "endpoint_url": endpoint,
        "region_name": region,
        "addressing_style": style,
        "signature_version": "s3v4",
        "access_key": "test-key",  # explicit: presigning then never looks for credentials
        "secret_key": "test-secret",
    }
    url = S3Storage(**options).url("previews/p/vocals.mp3")  # signed locally, no request made
    origin = re.match(r"^[a-z]+://[^/]+", url).group(0)

    origins = storage_origins_for(storage={"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options})

    assert origin in origins


def test_local_files_need_no_storage_origin():
    storage = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": "/srv"}}

    assert storage_origins_for(storage=storage) == []


# The Swagger UI with its script served as a file, as drf-spectacular recommends for a strict CSP.
urlpatterns = [
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_swagger_ui_route_allows_its_inline_style_by_hash_and_no_inline_script(admin_client):
    response = admin_client.get("/api/docs/")
    html = response.content.decode()
    styles = re.findall(r"<style>(.*?)</style>", html, re.DOTALL)
    script = admin_client.get("/api/docs/?script=")

    assert response.status_code == 200
    assert len(styles) == 1
    policy = _policy(response)
    assert policy["style-src"] == ["'self'", _sha256_source(styles[0])]
    assert policy["script-src"] == STRICT["script-src"]  # only the mixer's script, which this page lacks
    assert re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", html) == []
    assert script.status_code == 200 and script["Content-Type"] == "application/javascript"
    assert b"SwaggerUIBundle" in script.content


@pytest.mark.django_db
def test_other_pages_do_not_get_the_swagger_style_hash():
    assert _policy(Client().get("/accounts/login/"))["style-src"] == ["'self'"]


# ---------------------------------------------------------------- languages


def test_the_language_middleware_sit_where_they_can_work():
    from django.conf import settings

    order = settings.MIDDLEWARE.index
    session = order("django.contrib.sessions.middleware.SessionMiddleware")
    locale = order("django.middleware.locale.LocaleMiddleware")
    common = order("django.middleware.common.CommonMiddleware")
    auth = order("django.contrib.auth.middleware.AuthenticationMiddleware")
    account = order("application.middleware.AccountLanguageMiddleware")

    # Django's documented place for LocaleMiddleware; the account's language needs the user,
    # and must come after (inside) LocaleMiddleware so that it has the last word.
    assert session < locale < common
    assert auth < account and locale < account
