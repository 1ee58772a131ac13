"""WebSockets: a project's page listens for its jobs' progress; the library for every project's.

Both push the ``job.progress`` events of ``domain/events.py`` with the same fields; the one
value that is words, ``user_error`` (stored in English by the worker, as a message id), is sent
in the language of the user's pages: their saved language, else the handshake's
``django_language`` cookie, else its Accept-Language (the rules of the HTTP side).

Close codes: 4401 for a visitor who is not signed in (library), 4404 for a project that is not
the user's (whether it exists or not, as the REST API's 404). Both close before accepting, which
the web server answers with an HTTP 403 to the handshake (the ASGI rule): a client over the
network sees the 403, never the code. docs/asyncapi.yaml is the contract.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http.cookie import parse_cookie
from django.utils import translation

from business.selectors import account_language_for_user
from domain.events import project_group, user_group
from domain.models import Project


def socket_language(*, scope: dict[str, Any], saved: str) -> str:
    """The language for a socket: ``saved`` (the account's) when set, else what Django's
    LocaleMiddleware would pick from the handshake's cookie and Accept-Language."""
    if saved:
        return saved
    headers = {name.lower(): value.decode("latin-1") for name, value in scope.get("headers") or []}
    # get_language_from_request reads only COOKIES and META from the request it is given.
    handshake = SimpleNamespace(
        COOKIES=parse_cookie(headers.get(b"cookie", "")),
        META={"HTTP_ACCEPT_LANGUAGE": headers.get(b"accept-language", "")},
    )
    return translation.get_language_from_request(handshake, check_path=False)


def shown_event(event: dict[str, Any], *, language: str) -> dict[str, Any]:
    """``event`` with its ``user_error`` in ``language`` (every other field as sent)."""
    if not event.get("user_error"):
        return event
    with translation.override(language):
        return {**event, "user_error": translation.gettext(event["user_error"])}


class _ProgressConsumer(AsyncJsonWebsocketConsumer):
    """Joins one group on connect (``self.group``, set by ``join``) and forwards its events."""

    group: str
    language: str

    async def join(self, group: str, *, user: Any) -> None:
        saved = await database_sync_to_async(account_language_for_user)(user=user)
        self.language = socket_language(scope=self.scope, saved=saved)
        self.group = group
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """Clients send nothing (docs/asyncapi.yaml): a frame is dropped undecoded, so a stray one
        (binary, or text that is not JSON) cannot end the socket with a server error."""

    async def job_progress(self, event: dict[str, Any]) -> None:
        await self.send_json(shown_event(event, language=self.language))


def _signed_in(scope: dict[str, Any]) -> Any:
    user = scope.get("user")
    return user if user is not None and user.is_authenticated else None


class ProjectProgressConsumer(_ProgressConsumer):
    """Pushes ``job.progress`` events of one project to its owner; anyone else is refused."""

    async def connect(self) -> None:
        user = _signed_in(self.scope)
        project_id = self.scope["url_route"]["kwargs"]["project_id"]
        if user is None or not await self._owns(user, project_id):
            await self.close(code=4404)
            return
        await self.join(project_group(project_id), user=user)

    @database_sync_to_async
    def _owns(self, user, project_id) -> bool:
        return Project.objects.filter(id=project_id, owner=user).exists()


class LibraryProgressConsumer(_ProgressConsumer):
    """Pushes the ``job.progress`` events of every project of the signed-in user (group
    ``user.<id>``), including projects created after the socket opened."""

    async def connect(self) -> None:
        user = _signed_in(self.scope)
        if user is None:
            await self.close(code=4401)
            return
        await self.join(user_group(user.pk), user=user)


class NoSuchSocketConsumer(AsyncJsonWebsocketConsumer):
    """Any other ``/ws/…`` path: refused with 4404 (without a route Channels raises, a 500 and a
    logged traceback for every such handshake)."""

    async def connect(self) -> None:
        await self.close(code=4404)
