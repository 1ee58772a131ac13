"""One exception handler: every API error is ``{"code", "message", "extra"}``."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from domain.exceptions import IsoMixError


def _body(code: str, message: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "extra": extra or {}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, IsoMixError):
        return Response(_body(str(exc.code), exc.message, exc.extra), status=exc.status_code)
    if isinstance(exc, Http404):
        return Response(_body("not_found", "Not found."), status=status.HTTP_404_NOT_FOUND)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        first = next(iter(fields.values()), ["Invalid input."])
        message = str(first[0] if isinstance(first, list) and first else first)
        response.data = _body("invalid_input", message, {"fields": fields})
    elif isinstance(exc, exceptions.APIException):
        response.data = _body(str(exc.default_code), str(exc.detail))
    return response
