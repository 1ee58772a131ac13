"""The body-limit wrapper, around a fake ASGI app: what is refused, what is read, what the app sees."""

from __future__ import annotations

import json

import pytest

from application.api.uploads import MULTIPART_OVERHEAD
from isomix.body_limit import BodyLimit, BodyLimitMiddleware, BodyLimits, body_limits_from_settings, request_too_large

pytestmark = pytest.mark.asyncio

MB = 1_000_000
SMALL = 2_500_000
BIG = 10 * MB


class FakeApp:
    """Reads the whole body, then answers 200 with the number of bytes it got."""

    def __init__(self) -> None:
        self.called = False
        self.messages: list[dict] = []

    async def __call__(self, scope, receive, send) -> None:
        self.called = True
        size = 0
        while True:
            message = await receive()
            self.messages.append(message)
            if message["type"] == "http.disconnect":
                return  # as Django does: the client left, nothing to answer
            size += len(message.get("body", b""))
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(size).encode()})


class Client:
    """The server side of one request: the body as chunks, and what was sent back."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)
        self.read = 0
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        chunk = self.chunks.pop(0)
        self.read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return self.sent[0]["status"]

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.sent[0]["headers"])

    @property
    def json(self) -> dict:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent[1:]))


def _scope(*, method: str = "POST", path: str = "/accounts/login/", headers: list | None = None) -> dict:
    return {"type": "http", "method": method, "path": path, "headers": headers or []}


def _limits() -> BodyLimits:
    return BodyLimits(
        default=BodyLimit(max_bytes=SMALL, refusal=lambda: request_too_large(SMALL)),
        routes={("POST", "/upload/"): BodyLimit(max_bytes=BIG, refusal=lambda: request_too_large(BIG))},
    )


async def test_a_declared_length_over_the_limit_is_refused_before_any_of_the_body_is_read():
    app, client = FakeApp(), Client([b"x" * MB] * 3)
    middleware = BodyLimitMiddleware(app, limits=_limits())

    await middleware(_scope(headers=[(b"content-length", b"3000000")]), client.receive, client.send)

    assert client.status == 413
    assert client.json == {
        "code": "request_too_large",
        "message": "The request body is larger than 2.5 MB.",
        "extra": {"max_bytes": SMALL},
    }
    assert client.headers[b"connection"] == b"close"
    assert client.headers[b"content-type"] == b"application/json"
    assert client.read == 0
    assert app.called is False


async def test_an_undeclared_body_is_cut_off_once_it_passes_the_limit():
    app, client = FakeApp(), Client([b"x" * MB] * 10)
    middleware = BodyLimitMiddleware(app, limits=_limits())

    await middleware(_scope(headers=[(b"transfer-encoding", b"chunked")]), client.receive, client.send)

    assert client.status == 413
    assert client.json["code"] == "request_too_large"
    assert client.read == 3 * MB  # the third chunk passed the limit; nothing after it was read
    assert app.messages[-1] == {"type": "http.disconnect"}  # the app was told to drop what it had
    assert [m["type"] for m in client.sent] == ["http.response.start", "http.response.body"]


async def test_a_body_within_the_limit_reaches_the_app_whole():
    app, client = FakeApp(), Client([b"x" * MB, b"x" * MB])
    middleware = BodyLimitMiddleware(app, limits=_limits())

    await middleware(_scope(headers=[(b"transfer-encoding", b"chunked")]), client.receive, client.send)

    assert client.status == 200
    assert client.sent[1]["body"] == b"2000000"


async def test_a_route_with_its_own_limit_takes_more():
    app, client = FakeApp(), Client([b"x" * 5 * MB])
    middleware = BodyLimitMiddleware(app, limits=_limits())

    await middleware(_scope(path="/upload/", headers=[(b"content-length", b"5000000")]), client.receive, client.send)

    assert client.status == 200
    assert client.sent[1]["body"] == b"5000000"


async def test_the_route_limit_is_only_for_its_method():
    app, client = FakeApp(), Client([b"x" * 5 * MB])
    middleware = BodyLimitMiddleware(app, limits=_limits())

    await middleware(
        _scope(method="PUT", path="/upload/", headers=[(b"content-length", b"5000000")]), client.receive, client.send
    )

    assert client.status == 413
    assert app.called is False


async def test_websockets_pass_through_untouched():
    app = FakeApp()
    seen = []

    async def inner(scope, receive, send) -> None:
        seen.append(scope["type"])

    await BodyLimitMiddleware(inner, limits=_limits())({"type": "websocket", "path": "/ws/"}, None, None)

    assert seen == ["websocket"]
    assert app.called is False


async def test_uploads_get_the_upload_limit_and_every_other_request_the_small_one(settings):
    settings.ISOMIX_MAX_UPLOAD_MB = 100
    settings.ISOMIX_MAX_BODY_BYTES = 2_621_440

    limits = body_limits_from_settings()

    upload = limits.for_request(method="POST", path="/api/v1/projects/")
    assert upload.max_bytes == 100_000_000 + MULTIPART_OVERHEAD
    refusal = upload.refusal()
    assert (refusal.status_code, str(refusal.code), refusal.extra) == (413, "file_too_large", {"max_bytes": 10**8})
    for method, path in [("GET", "/api/v1/projects/"), ("POST", "/accounts/login/"), ("POST", "/api/v1/auth/token/")]:
        other = limits.for_request(method=method, path=path)
        assert other.max_bytes == 2_621_440
        assert str(other.refusal().code) == "request_too_large"
