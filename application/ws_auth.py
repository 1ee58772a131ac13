"""The API token on the WebSockets: programs authenticate a socket as they do a REST call.

A handshake that carries ``Authorization: Token <key>`` is the token's user, by DRF's own rules
(:class:`rest_framework.authentication.TokenAuthentication`: the keyword in any case, one key,
an active user). The token wins over a session cookie sent with it. A token header that does not
name an active user's token makes the socket anonymous: it never falls back to the session, so a
program with a revoked token is refused as a visitor is (the consumers close with 4401 on the
library, 4404 on a project; served by uvicorn, a close before the handshake reaches the client
as an HTTP 403) instead of running as whoever's cookie came along. A handshake without the
header (or with another scheme, which DRF's token authenticator also leaves alone) keeps the
session's user, as the pages use it.

The ``Origin`` check stays: ``isomix/asgi.py`` wraps this in ``AllowedHostsOriginValidator``, so
a program sends an ``Origin`` header whose host is in ``DJANGO_ALLOWED_HOSTS`` (the site's own,
e.g. ``https://studio.example``), token or not. A token is not a cookie, so a page on another
site cannot make a browser send it; the check is kept because the session still rides on the
same sockets, and one rule for every client is simpler to state and to test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

_KEYWORD = TokenAuthentication.keyword.lower().encode()

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]


def token_header_key(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The token key of an ``Authorization: Token <key>`` header; ``""`` for a token header
    that is malformed; ``None`` when there is no token header (none, or another scheme).

    Repeated ``Authorization`` headers are joined with a comma first, as Django does for a
    request's headers, so the WebSocket and the REST API read the same handshake alike.
    """
    values = [value for name, value in headers if name.lower() == b"authorization"]
    words = b",".join(values).split()
    if not words or words[0].lower() != _KEYWORD:
        return None
    if len(words) != 2:
        return ""
    try:
        return words[1].decode()
    except UnicodeError:
        return ""


def _token_user(key: str) -> Any:
    """The active user whose token is ``key``, else an anonymous user (a database read)."""
    if not key:
        return AnonymousUser()
    try:
        user, _token = TokenAuthentication().authenticate_credentials(key)
    except exceptions.AuthenticationFailed:
        return AnonymousUser()
    return user


class TokenAuthMiddleware:
    """Sets ``scope["user"]`` from an ``Authorization: Token`` handshake header.

    Sits inside ``AuthMiddlewareStack``, so that it sees (and replaces) the session's user.
    """

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        key = token_header_key(scope.get("headers") or [])
        if key is not None:
            scope = {**scope, "user": await database_sync_to_async(_token_user)(key)}
        await self.inner(scope, receive, send)
