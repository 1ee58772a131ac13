"""One exception handler: every API error is ``{"code", "message", "extra"}``.

``code`` is always an :class:`~domain.exceptions.ErrorCode`: ours from an ``IsoMixError``,
DRF's own (``not_authenticated``, ``throttled``...) under the strings DRF gives them, and
the request-body refusals Django raises as ``SuspiciousOperation`` (which Django alone would
answer with an HTML page). Headers an error carries (``Retry-After``, ``WWW-Authenticate``)
go out with it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core import exceptions as django_exceptions
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from domain.exceptions import ErrorCode, IsoMixError, MalformedBody, RequestTooLarge


def _body(code: ErrorCode, message: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": str(code), "message": message, "extra": extra or {}}


def error_body(exc: IsoMixError) -> dict[str, Any]:
    """The house error shape of ``exc``, for answers written outside DRF (the ASGI body limit)."""
    return _body(exc.code, exc.message, exc.extra)


def request_too_large(max_bytes: int) -> RequestTooLarge:
    """A request body over ``max_bytes`` (any route but the upload, which says ``file_too_large``)."""
    return RequestTooLarge(
        _("The request body is larger than %(mb).1f MB.") % {"mb": max_bytes / 1_000_000},
        code=ErrorCode.REQUEST_TOO_LARGE,
        extra={"max_bytes": max_bytes},
    )


def api_or_page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: a path under the API that no route takes answers in the house shape.

    (A route that exists answers its own 404s through :func:`exception_handler`.)
    """
    if request.path.startswith("/api/"):
        return JsonResponse(_body(ErrorCode.NOT_FOUND, str(exceptions.NotFound.default_detail)), status=404)
    return page_not_found(request, exception)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, django_exceptions.SuspiciousOperation):
        exc = _from_suspicious_operation(exc, request=context.get("request"))
    if isinstance(exc, IsoMixError):
        set_rollback()
        return Response(error_body(exc), status=exc.status_code, headers=exc.headers)
    if isinstance(exc, Http404):
        # Not Http404's own text: get_object_or_404 names the model that was looked up.
        exc = exceptions.NotFound()
    elif isinstance(exc, django_exceptions.PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    # DRF's handler sets WWW-Authenticate and Retry-After (Throttled) and rolls back.
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        response.data = _body(ErrorCode.INVALID_INPUT, _first_message(fields), {"fields": fields})
    else:
        response.data = _body(_drf_code(exc), str(exc.detail))
    return response


def _drf_code(exc: exceptions.APIException) -> ErrorCode:
    # ErrorCode holds every code of DRF's exceptions under DRF's string; an APIException of
    # some other code (a library's) is answered as the generic one rather than off the enum.
    try:
        return ErrorCode(str(exc.default_code))
    except ValueError:
        return ErrorCode.ERROR


def _first_message(fields: dict[str, Any]) -> str:
    """The first message in a (possibly nested) DRF error detail: ``{"stems": {"vocals": {"pan": [...]}}}``."""
    node: Any = fields
    while isinstance(node, (dict, list)):
        if not node:
            return _("Invalid input.")
        node = next(iter(node.values())) if isinstance(node, dict) else node[0]
    return str(node)


def _from_suspicious_operation(exc: django_exceptions.SuspiciousOperation, *, request: Any) -> IsoMixError:
    """Django's refusals of a request body or query (over a size or count limit, malformed)."""
    # Logged as Django logs them (django.security.<Class>); the limits a client runs into
    # are warnings, anything else an error, as Django has it.
    logger = logging.getLogger(f"django.security.{type(exc).__name__}")
    expected = (
        django_exceptions.RequestDataTooBig,
        django_exceptions.TooManyFieldsSent,
        django_exceptions.TooManyFilesSent,
    )
    logger.log(
        logging.WARNING if isinstance(exc, expected) else logging.ERROR,
        "%s",
        exc,
        extra={
            "status_code": 413 if isinstance(exc, django_exceptions.RequestDataTooBig) else 400,
            "request": getattr(request, "_request", request),  # Django's HttpRequest, as its handlers expect
        },
    )
    if isinstance(exc, django_exceptions.RequestDataTooBig):
        return request_too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if isinstance(exc, django_exceptions.TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return IsoMixError(
            _("The request has more than %(max)d parameters or form fields.") % {"max": limit},
            code=ErrorCode.INVALID_INPUT,
            extra={"max_fields": limit},
        )
    if isinstance(exc, django_exceptions.TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return IsoMixError(
            _("The request has more than %(max)d files.") % {"max": limit},
            code=ErrorCode.INVALID_INPUT,
            extra={"max_files": limit},
        )
    if isinstance(exc, django_exceptions.SuspiciousMultipartForm):
        return MalformedBody(_("The multipart request body is malformed."), extra={"reason": "multipart"})
    return IsoMixError(_("The request was refused."), code=ErrorCode.INVALID_INPUT)
