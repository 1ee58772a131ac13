"""Request middleware: a request id for every request, a signed-in user's own language, and a
Content-Security-Policy on every answer."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.template.loader import get_template
from django.utils import translation

from business.selectors import account_language_for_user
from domain.log_context import request_id_var

# fullmatch, not match with "$": "$" also matches before a final newline, and a newline in
# an id would split a log line (or make the response header raise BadHeaderError).
_VALID = re.compile(r"[A-Za-z0-9._-]{8,64}", re.ASCII)


def request_id_from(given: str) -> str:
    """The client's ``X-Request-ID`` when it is 8–64 of ``A-Z a-z 0-9 . _ -``, else a new id.

    A proxy's id ties our log lines to its own; anything else a client sends (newlines,
    control or non-ASCII characters, a kilobyte of text) would forge or flood the logs.
    """
    return given if _VALID.fullmatch(given) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Takes a well-formed ``X-Request-ID`` from the proxy, or makes one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get("X-Request-ID", ""))
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


# ---------------------------------------------------------------- the user's language


class AccountLanguageMiddleware:
    """Activates the language a signed-in user saved (``business.Account.language``).

    Sits after ``AuthenticationMiddleware`` (it needs ``request.user``) and inside Django's
    ``LocaleMiddleware``, which has already picked the cookie's or the browser's language: a
    saved choice wins over both, on every device. A blank choice leaves Django's pick.

    The answer also sets the ``django_language`` cookie to the saved language when the browser
    holds another, so that the studio keeps speaking it after logout. That includes the answer
    to the login itself (the user is known only once the view has run). An answer that sets
    the cookie itself (the language switcher) keeps its own.

    Token clients of the API are authenticated inside DRF's views, after this: they follow
    their Accept-Language, as the contract says.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        signed_in = _is_signed_in(request)
        language = account_language_for_user(user=request.user) if signed_in else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if not signed_in and _is_signed_in(request):  # this request logged in
            language = account_language_for_user(user=request.user)
        cookie = settings.LANGUAGE_COOKIE_NAME
        if language and request.COOKIES.get(cookie) != language and cookie not in response.cookies:
            language_cookie_set(response, language)
        return response


def _is_signed_in(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def language_cookie_set(response: HttpResponse, language: str) -> None:
    """Set Django's language cookie (its name, age, path, domain and flags from settings)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


# ---------------------------------------------------------------- Content-Security-Policy


class ContentSecurityPolicyMiddleware:
    """Every response gets a strict ``Content-Security-Policy`` (see :func:`content_security_policy`).

    Django 5.2 has none built in. A view that sets its own policy keeps it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(request=request)
        return response


def content_security_policy(*, request: HttpRequest) -> str:
    """The policy for the answer to ``request``.

    Scripts and styles come from our own origin only: the pages have no inline style and no
    ``style="..."`` attribute (the mixer sets element styles from JS, through the CSSOM,
    which style-src does not govern), and no inline script but those in
    :data:`INLINE_SCRIPTS`, each allowed by its hash. Audio comes from our origin, from ``blob:``
    URLs the mixer makes, and from the S3 endpoint when files live there (previews and
    downloads are presigned S3 URLs the browser fetches, through redirects that CSP checks
    too). The project page's socket is ``ws(s)://`` on this host, named explicitly because
    older browsers do not count it as ``'self'``. No page may be framed, change its base
    URL, post a form elsewhere or embed a plugin.

    The Swagger UI page (drf-spectacular's template) carries one inline ``<style>`` block:
    that route alone allows it by its hash. Its inline ``<script>`` is not allowed: the
    page needs ``SpectacularSwaggerSplitView``, which serves that script as a file.
    """
    storage = _storage_origins()
    connect = ["'self'", *_socket_origins(request), *storage]
    styles = ["'self'", *(_swagger_style_hashes() if _is_swagger_ui(request) else ())]
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *_inline_script_hashes()],
        "style-src": styles,
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'", "blob:", *storage],
        "connect-src": connect,
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "object-src": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def _socket_origins(request: HttpRequest) -> list[str]:
    try:
        host = request.get_host()
    except DisallowedHost:  # the answer is Django's 400; it opens no socket
        return []
    return [f"{'wss' if request.is_secure() else 'ws'}://{host}"]


def storage_origins_for(*, storage: dict) -> list[str]:
    """The origins a browser fetches stored files from, for one ``STORAGES`` entry.

    Empty for local files (they are served by us). For S3 it follows how botocore builds
    presigned URLs: a custom endpoint (MinIO) is used as is, with the bucket as a subdomain
    only in ``virtual`` addressing; AWS gets its global and regional host names.
    """
    if storage.get("BACKEND") != "storages.backends.s3.S3Storage":
        return []
    options = storage.get("OPTIONS", {})
    bucket = options.get("bucket_name") or ""
    style = options.get("addressing_style")
    endpoint = options.get("endpoint_url")
    if endpoint:
        parts = urlsplit(endpoint)
        host = f"{bucket}.{parts.netloc}" if style == "virtual" else parts.netloc
        return [f"{parts.scheme}://{host}"]
    region = options.get("region_name") or "us-east-1"
    if style == "path":
        return ["https://s3.amazonaws.com", f"https://s3.{region}.amazonaws.com"]
    return [f"https://{bucket}.s3.amazonaws.com", f"https://{bucket}.s3.{region}.amazonaws.com"]


def _storage_origins() -> list[str]:
    return storage_origins_for(storage=settings.STORAGES["default"])


def _is_swagger_ui(request: HttpRequest) -> bool:
    from drf_spectacular.views import SpectacularSwaggerView

    match = getattr(request, "resolver_match", None)
    view_class = getattr(getattr(match, "func", None), "view_class", None)
    return isinstance(view_class, type) and issubclass(view_class, SpectacularSwaggerView)


_STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.DOTALL)


@lru_cache(maxsize=1)
def _swagger_style_hashes() -> tuple[str, ...]:
    # Read from the template the page is rendered from (the installed package's, or an
    # override), so an upgrade that changes the block changes its hash with it. The block
    # holds no template tags: its rendered text is its source text.
    source = get_template("drf_spectacular/swagger_ui.html").template.source
    return tuple(csp_hash(text) for text in _STYLE_BLOCK.findall(source))


#: The pages' inline scripts (each a template holding no template tags, included between
#: ``<script>`` and ``</script>`` as it is): allowed by their hashes, as nothing else inline is.
INLINE_SCRIPTS = ("projects/_early_decode.js",)


@lru_cache(maxsize=1)
def _inline_script_hashes() -> tuple[str, ...]:
    return tuple(csp_hash(get_template(name).template.source) for name in INLINE_SCRIPTS)


def csp_hash(text: str) -> str:
    """A CSP source allowing the inline block whose content is exactly ``text``."""
    digest = hashlib.sha256(text.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"
