"""Status polls answered again without Django: only while nothing behind the answer changed.

The cache sits in front of the real Django app here; a counting wrapper tells which polls
reached Django. Writes go straight through the ORM, as a worker, housekeeping or the admin
would make them: the cache must notice every kind. PostgreSQL only (row versions); on the
embedded SQLite default the cache is not installed at all.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token

from domain.models import Job, Project, Stem
from isomix.status_cache import StatusCacheMiddleware
from tests.factories import user_create

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="row versions are PostgreSQL's")


class CountingApp:
    def __init__(self, app) -> None:
        self.app = app
        self.calls = 0

    async def __call__(self, scope, receive, send) -> None:
        self.calls += 1
        await self.app(scope, receive, send)


async def _get(app, path: str, *, headers: list[tuple[bytes, bytes]]) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict] = []
    done = asyncio.Event()
    first = True

    async def receive() -> dict:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # Django listens for a disconnect until it has answered
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"testserver"), *headers], "client": ("127.0.0.1", 5000),
             "server": ("testserver", 80)}  # fmt: skip
    await app(scope, receive, send)
    done.set()
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return sent[0]["status"], {name.lower(): value for name, value in sent[0]["headers"]}, body


def _without_request_id(headers: dict[bytes, bytes]) -> dict[bytes, bytes]:
    return {k: v for k, v in headers.items() if k != b"x-request-id"}


def _polls(middleware: StatusCacheMiddleware, *requests: tuple) -> list[tuple[int, dict[bytes, bytes], bytes]]:
    """``(app, path, headers)`` requests in one event loop, then the cache's connections closed.

    Writes happen between two calls, in the test's own thread and transaction-free, as
    another process would commit them.
    """

    async def run() -> list:
        try:
            return [await _get(app, path, headers=headers) for app, path, headers in requests]
        finally:
            await middleware.aclose()

    return asyncio.run(run())


@pytest.fixture
def world(transactional_db):
    owner = user_create()
    token = Token.objects.create(user=owner)
    project = Project.objects.create(owner=owner, name="Song", original_key="uploads/x/original.wav", sha256="0" * 64,
                                     format="wav", duration_s=180, sample_rate=44100, channels=2, size_bytes=1,
                                     status=Project.Status.PROCESSING)  # fmt: skip
    job = Job.objects.create(project=project, kind=Job.Kind.SEPARATE, state=Job.State.RUNNING, progress=42,
                             stage="separate", started_at=timezone.now())  # fmt: skip
    auth = (b"authorization", f"Token {token.key}".encode())
    return {"owner": owner, "token": token, "project": project, "job": job, "auth": auth,
            "path": f"/api/v1/projects/{project.id}/"}  # fmt: skip


@pytest.fixture
def django_app():
    from isomix.asgi import django_asgi_app

    return django_asgi_app


@pytest.fixture
def cached(django_app) -> tuple[StatusCacheMiddleware, CountingApp]:
    inner = CountingApp(django_app)
    return StatusCacheMiddleware(inner, entries=16), inner


def test_the_cache_is_not_installed_off_postgresql(settings):
    if connection.vendor == "postgresql":
        pytest.skip("this is the SQLite default's case")

    def app(scope, receive, send):
        return None

    assert StatusCacheMiddleware.wrap(app) is app


def test_the_oldest_answers_go_first_past_the_count_or_the_byte_budget(monkeypatch):
    import isomix.status_cache as status_cache

    monkeypatch.setattr(status_cache, "MAX_KEPT_BYTES", 250)
    cache = StatusCacheMiddleware(CountingApp(None), entries=3)
    start = {"status": 200, "headers": [(b"Content-Type", b"application/json"), (b"X-Request-ID", b"abcdefgh")]}

    for key in (b"a", b"b", b"c", b"d"):
        cache._keep(key, fingerprint="f", start=start, body=b"x" * 10)
    assert list(cache._answers) == [b"b", b"c", b"d"]
    assert cache._answers[b"d"].headers == [(b"Content-Type", b"application/json")]  # no request id kept

    cache._keep(b"e", fingerprint="f", start=start, body=b"x" * 245)
    assert list(cache._answers) == [b"e"]
    assert cache._kept_bytes == 245


@on_postgresql
def test_a_repeated_poll_is_answered_again_without_django(world, cached):
    middleware, inner = cached
    poll = (middleware, world["path"], [world["auth"]])

    first, second = _polls(middleware, poll, poll)

    assert inner.calls == 1
    assert first[0] == second[0] == 200
    assert _without_request_id(first[1]) == _without_request_id(second[1])
    assert first[2] == second[2]
    assert json.loads(second[2])["jobs"][0]["progress"] == 42
    assert first[1][b"x-request-id"] != second[1][b"x-request-id"]  # issued afresh, as Django would


WRITES = {
    "job progress": lambda w: Job.objects.filter(id=w["job"].id).update(progress=43),
    "job done": lambda w: Job.objects.filter(id=w["job"].id).update(state=Job.State.DONE, finished_at=timezone.now()),
    "new job": lambda w: Job.objects.create(project=w["project"], kind=Job.Kind.EXPORT),
    "job deleted": lambda w: Job.objects.filter(id=w["job"].id).delete(),
    "stem added": lambda w: Stem.objects.create(
        project=w["project"],
        kind="vocals",
        file_key="stems/x/vocals.flac",
        preview_key="previews/x/vocals.mp3",
        duration_s=180.0,
    ),  # fmt: skip
    "project renamed": lambda w: Project.objects.filter(id=w["project"].id).update(name="Other"),
    "project ready": lambda w: Project.objects.filter(id=w["project"].id).update(status=Project.Status.READY),
}


@on_postgresql
@pytest.mark.parametrize("write", list(WRITES), ids=list(WRITES))
def test_after_any_write_behind_the_answer_the_next_poll_shows_it(world, cached, django_app, write):
    middleware, inner = cached
    poll = (middleware, world["path"], [world["auth"]])
    [before, _] = _polls(middleware, poll, poll)

    WRITES[write](world)
    after, truth = _polls(middleware, poll, (django_app, world["path"], [world["auth"]]))

    assert inner.calls == 2  # the first poll and the one after the write
    assert after[2] == truth[2]
    assert after[2] != before[2]


@on_postgresql
@pytest.mark.parametrize(
    ("change", "status"),
    [
        (lambda w: Project.objects.filter(id=w["project"].id).delete(), 404),
        (lambda w: Token.objects.filter(key=w["token"].key).delete(), 401),
        (lambda w: type(w["owner"]).objects.filter(id=w["owner"].id).update(is_active=False), 401),
    ],
    ids=["project deleted", "token deleted", "user deactivated"],
)
def test_an_answer_is_not_sent_again_once_the_poller_may_no_longer_see_it(world, cached, change, status):
    middleware, inner = cached
    poll = (middleware, world["path"], [world["auth"]])
    _polls(middleware, poll, poll)

    change(world)
    [after] = _polls(middleware, poll)

    assert after[0] == status
    assert inner.calls == 2


@on_postgresql
def test_another_users_token_never_gets_the_answer(world, cached):
    middleware, inner = cached
    stranger = Token.objects.create(user=user_create())
    theirs = (middleware, world["path"], [(b"authorization", f"Token {stranger.key}".encode())])

    answers = _polls(middleware, (middleware, world["path"], [world["auth"]]), theirs, theirs)

    assert [a[0] for a in answers] == [200, 404, 404]
    assert inner.calls == 3


@on_postgresql
@pytest.mark.parametrize(
    ("suffix", "extra"),
    [("", [(b"cookie", b"sessionid=x")]), ("?format=json", []), ("", [(b"accept", b"text/html")])],
    ids=["with a cookie", "with a query", "another Accept (its own entry)"],
)
def test_polls_that_differ_are_not_given_another_polls_answer(world, cached, suffix, extra):
    middleware, inner = cached

    _polls(middleware, (middleware, world["path"], [world["auth"]]),
           (middleware, world["path"] + suffix, [world["auth"], *extra]))  # fmt: skip

    assert inner.calls == 2


@on_postgresql
def test_a_replayed_answer_echoes_the_proxys_request_id(world, cached):
    middleware, _ = cached

    _, again = _polls(middleware, (middleware, world["path"], [world["auth"]]),
                      (middleware, world["path"], [world["auth"], (b"x-request-id", b"proxy-id-12345")]))  # fmt: skip

    assert again[1][b"x-request-id"] == b"proxy-id-12345"
