"""Request bodies over the limit are refused where the bytes arrive, before Django reads them.

Django's ASGI handler reads the whole body (into a spooled temporary file) before any
middleware or view runs, so a limit checked in Django has already paid for the body.
This wrapper sits between the server and Django and answers 413 in the house error shape:

- a declared ``Content-Length`` over the limit is refused before ``receive()`` is called,
  so none of the body is read;
- an undeclared (chunked) body is counted as it arrives and cut off once it passes the
  limit: Django is told the client left, the 413 goes out with ``Connection: close``, and
  the server stops reading.

It relies on the server reading a body only as fast as the app asks for it. uvicorn
(``manage.py runstudio``) does: it pauses reading past 64 KiB until ``receive()`` is
called again, and sends ``100 Continue`` only on the first ``receive()``, so a refused
client that waits for it never sends the body at all. A server that reads the whole body
before calling the app (daphne) would defeat it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest
from django.utils import translation

from application.api.errors import error_body, request_too_large
from domain.exceptions import IsoMixError

__all__ = ["BodyLimit", "BodyLimitMiddleware", "BodyLimits", "body_limits_from_settings", "request_too_large"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class BodyLimit:
    """At most ``max_bytes`` of request body (the whole body, envelope included).

    ``refusal`` makes the error answered past it; it is called with the language of the
    request active, so its message is translated.
    """

    max_bytes: int
    refusal: Callable[[], IsoMixError]
    #: Where the limit depends on who asks (an upload: the plan of the user the request names):
    #: the limit for the request's headers, at most ``max_bytes``. Called in a thread (it queries).
    for_headers: Callable[[list[tuple[bytes, bytes]]], BodyLimit] | None = None


@dataclass(frozen=True)
class BodyLimits:
    """The limit of each ``(method, path)`` that takes more than ``default``, else ``default``."""

    default: BodyLimit
    routes: Mapping[tuple[str, str], BodyLimit] = field(default_factory=dict)

    def for_request(self, *, method: str, path: str) -> BodyLimit:
        return self.routes.get((method, path), self.default)


def _upload_limit(max_file_bytes: int) -> BodyLimit:
    from application.api.uploads import MULTIPART_OVERHEAD, too_large

    # The same answer as the view's own declared-size check: the file's limit, not the envelope's.
    return BodyLimit(max_bytes=max_file_bytes + MULTIPART_OVERHEAD, refusal=lambda: too_large(max_file_bytes))


def body_limits_from_settings() -> BodyLimits:
    """Uploads get the upload limit (plus the multipart envelope), every other request the small one.

    The upload limit is the plan's of the user the request names (by its token or session
    cookie), and never more than ``ISOMIX_MAX_UPLOAD_MB``: a Free user's 150 MB upload is
    refused from its headers, like anyone's 300 MB one. Call after ``django.setup()``: it
    reverses a URL.
    """
    from django.conf import settings
    from django.urls import reverse

    from application.api.uploads import MULTIPART_OVERHEAD, styles_too_large, upload_cap_for_headers
    from domain.remix import STYLE_REQUEST_MAX_BYTES

    upload_bytes = settings.ISOMIX_MAX_UPLOAD_MB * 1_000_000
    small = settings.ISOMIX_MAX_BODY_BYTES

    def for_headers(headers: list[tuple[bytes, bytes]]) -> BodyLimit:
        return _upload_limit(min(upload_bytes, upload_cap_for_headers(headers) or upload_bytes))

    return BodyLimits(
        default=BodyLimit(max_bytes=small, refusal=lambda: request_too_large(small)),
        routes={
            ("POST", reverse("api:projects")): replace(_upload_limit(upload_bytes), for_headers=for_headers),
            # Style sounds: several files in one request, each checked as it streams in (StyleUploadHandler).
            ("POST", reverse("api:styles")): BodyLimit(
                max_bytes=STYLE_REQUEST_MAX_BYTES + MULTIPART_OVERHEAD,
                refusal=lambda: styles_too_large(STYLE_REQUEST_MAX_BYTES),
            ),
        },
    )


def _declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:  # the server refuses a malformed length; count the bytes all the same
                return None
    return None


def _language(headers: list[tuple[bytes, bytes]]) -> str:
    request = HttpRequest()
    for name, value in headers:
        if name == b"accept-language":
            request.META["HTTP_ACCEPT_LANGUAGE"] = value.decode("latin-1")
    return translation.get_language_from_request(request)


async def _refuse(send: Send, *, scope: Scope, limit: BodyLimit) -> None:
    with translation.override(_language(scope["headers"])):
        error = limit.refusal()
    body = json.dumps(error_body(error)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The rest of the body is not wanted: the server closes instead of reading it to find the next request.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


class BodyLimitMiddleware:
    """Pure ASGI: refuses HTTP request bodies over their :class:`BodyLimit`; other scopes pass through."""

    def __init__(self, app: ASGIApp, *, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_request(method=scope["method"], path=scope["path"])
        if limit.for_headers is not None:
            limit = await sync_to_async(limit.for_headers)(scope["headers"])
        declared = _declared_length(scope["headers"])
        if declared is not None and declared > limit.max_bytes:
            await _refuse(send, scope=scope, limit=limit)  # before receive(): not a byte of the body is read
            return

        received = 0
        exceeded = False
        response_started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    # The app is told the client left, so it drops what it spooled; the refusal follows.
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if exceeded:
                return  # the app believes the client is gone; only the refusal below may answer
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, counted_receive, guarded_send)
        if exceeded and not response_started:
            await _refuse(send, scope=scope, limit=limit)
