"""The OpenAPI schema describes every answer the API gives, errors included.

drf-spectacular documents the successful answer a view declares. Every operation can also
answer in the house error shape (:class:`ErrorSerializer`, ``code`` from
:class:`~domain.exceptions.ErrorCode`), and which error statuses it can give follows from
what the view is, so :class:`IsoMixAutoSchema` adds them from that, the same way for every
view that exists now and every one added later:

- 400 ``invalid_input``/``parse_error``/…: it takes a body or query parameters;
- 401 ``not_authenticated``/``authentication_failed`` with ``WWW-Authenticate: Token``: it
  needs a signed-in user (the token authenticator comes first, so DRF answers 401, not 403);
- 403 ``permission_denied``: an unsafe method, which the session's CSRF check guards;
- 404 ``not_found``: it names an object in its path (another user's objects are 404 too);
- 413 ``request_too_large``/``file_too_large`` and 415 ``unsupported_media_type``: it takes a body;
- 429 ``throttled``/``too_many_attempts`` with ``Retry-After``: an unsafe method of a throttled
  view (the throttles count work, never reads), or the
  token endpoint (the login guard locks an account out);
- 402 ``quota_exceeded``/``plan_required``, 503 ``billing_disabled``…: what only the view
  knows, from its ``error_responses`` (method → status → description);
- whatever a view declares itself (``extend_schema(responses=...)``) is kept as declared.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from domain.exceptions import ErrorCode

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: Every error code, as the schema's ``ErrorCodeEnum`` (settings.SPECTACULAR_SETTINGS names it).
ERROR_CODE_CHOICES = [(code.value, code.value) for code in ErrorCode]


class ErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=ERROR_CODE_CHOICES, help_text=_("For programs."))
    message = serializers.CharField(help_text=_("For people, in the request's language."))
    extra = serializers.DictField(help_text=_("Details of this code (a field's errors, a limit, …); may be empty."))

    class Meta:
        ref_name = "Error"


def _header(description: str) -> dict[str, Any]:
    return {"schema": {"type": "string"}, "description": description, "required": True}


class IsoMixAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction=direction)
        for status, (description, headers) in self._error_statuses().items():
            if status in responses:
                continue
            response = self._get_response_for_code(ErrorSerializer, status, direction=direction)
            response["description"] = description
            if headers:
                response["headers"] = headers
            responses[status] = response
        return responses

    def _error_statuses(self) -> dict[str, tuple[str, dict[str, Any]]]:
        method = self.method.upper()
        takes_body = method in _UNSAFE and method != "DELETE"
        statuses: dict[str, tuple[str, dict[str, Any]]] = {}
        if takes_body or self._has_query_parameters():
            statuses["400"] = ("The request is not valid (`extra.fields` names each field's errors).", {})
        auth = self.get_auth()
        if auth and {} not in auth:  # {}: signing in is optional here (the token endpoint)
            statuses["401"] = (
                "Not signed in, or the token is not valid.",
                {"WWW-Authenticate": _header("`Token`: send `Authorization: Token <key>`.")},
            )
            if method in _UNSAFE:
                statuses["403"] = ("Signed in by session cookie without the CSRF token.", {})
        if "{" in self.path:
            statuses["404"] = ("No such object of this user's (another user's objects are not found either).", {})
        if takes_body:
            statuses["413"] = ("The request body (or the uploaded file) is over its limit.", {})
            statuses["415"] = ("The body is not in one of the accepted media types.", {})
        # The house throttles count work (uploads), never reads.
        if (self.view.get_throttles() and method in _UNSAFE) or self._is_token_endpoint():
            statuses["429"] = (
                "Too many requests: retry after the given seconds.",
                {"Retry-After": _header("Seconds to wait.")},
            )
        # What only the view knows: a limit of the plan (402), billing being off (503)...
        for status, description in getattr(self.view, "error_responses", {}).get(method, {}).items():
            statuses[status] = (description, {})
        return statuses

    def _has_query_parameters(self) -> bool:
        return any(p.get("in") == "query" for p in self._get_parameters())

    def _is_token_endpoint(self) -> bool:
        from application.api.auth import AuthTokenCreateApi

        return isinstance(self.view, AuthTokenCreateApi)
