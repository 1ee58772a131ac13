"""Project status polls answered again without Django while nothing they show has changed.

``GET /api/v1/projects/{id}/`` is what every client polls while a job runs. Through Django
and DRF an answer costs ~7 ms of CPU on a 2-core test machine (four ORM queries compiled
afresh, DRF building its serializer fields, the middleware), about 150 answers a second
at most. This pure ASGI
wrapper keeps, per web process, the last answer Django gave to each exact poll and sends
it again while the database shows that nothing behind it changed. The check is one SQL
query per poll; it reads:

- the token and its user (the token still exists, the user is active and owns the project),
- the row version (PostgreSQL's ``xmin``) of the project, of each of its jobs and stems, of
  the token and of the user.

Any write to any of those rows, by any process (a worker, housekeeping, the admin), or a
job or stem added or removed, gives a different fingerprint, and the poll goes to Django.
So an answer is never older than the database: it is reused only for the identical state
it was computed from (the fingerprint is read before Django computes the answer, so an
answer stored under a fingerprint is never older than that fingerprint's state).

The contract this relies on: the status answer is a function of those rows and of the
request's headers only. A change to ``ProjectDetailApi`` or its serializer that reads
anything else must extend :data:`_FINGERPRINT_SQL` (``tests/isomix/test_status_cache.py``
compares the two paths after each kind of write).

Only polls with an ``Authorization: Token`` header, no cookie, no query string and no
body are taken; an answer is reused only for a request with the same headers (the
token included), minus ``X-Request-ID``, which is issued afresh as Django would. A replay
sends Django's own status, headers and body, and counts in the request metrics.
Only on PostgreSQL (row versions); elsewhere every request goes to Django.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from isomix.body_limit import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

#: Larger answers are not kept (a project's answer is ~2 KB; each of its jobs adds ~0.3 KB).
MAX_BODY_BYTES = 64 * 1024
#: All answers a web process keeps, together: the oldest go first past it.
MAX_KEPT_BYTES = 16 * 1024 * 1024
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_NOT_KEYED = {b"x-request-id"}

_FINGERPRINT_SQL = """
SELECT t.xmin::text || '.' || u.xmin::text || '.' || p.xmin::text
    || '|' || COALESCE((SELECT string_agg(j.id::text || '.' || j.xmin::text, ',' ORDER BY j.id)
                        FROM {job} j WHERE j.{job_project} = p.id), '')
    || '|' || COALESCE((SELECT string_agg(s.id::text || '.' || s.xmin::text, ',' ORDER BY s.id)
                        FROM {stem} s WHERE s.{stem_project} = p.id), '')
FROM {token} t
JOIN {user} u ON u.{user_pk} = t.user_id AND u.is_active
JOIN {project} p ON p.{owner} = t.user_id
WHERE t.key = %s AND p.id = %s
"""


@dataclass(frozen=True)
class _Answer:
    fingerprint: str
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def _fingerprint_sql() -> str:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from domain.models import Job, Project, Stem

    user = get_user_model()._meta
    return _FINGERPRINT_SQL.format(
        job=Job._meta.db_table,
        job_project=Job._meta.get_field("project").column,
        stem=Stem._meta.db_table,
        stem_project=Stem._meta.get_field("project").column,
        token=Token._meta.db_table,
        user=user.db_table,
        user_pk=user.pk.column,
        project=Project._meta.db_table,
        owner=Project._meta.get_field("owner").column,
    )


class StatusCacheMiddleware:
    """Pure ASGI, around the Django app. See the module docstring for what is reused and when."""

    def __init__(self, app: ASGIApp, *, entries: int) -> None:
        from django.urls import reverse

        self.app = app
        self.entries = entries
        sample = "00000000-0000-0000-0000-000000000000"
        prefix, suffix = reverse("api:project-detail", kwargs={"project_id": sample}).split(sample)
        self._path = re.compile(re.escape(prefix) + f"({_UUID})" + re.escape(suffix))
        self._sql = _fingerprint_sql()
        self._answers: OrderedDict[bytes, _Answer] = OrderedDict()
        self._kept_bytes = 0
        self._pool: Any = None

    @classmethod
    def wrap(cls, app: ASGIApp) -> ASGIApp:
        """``app`` behind the cache where it can work (PostgreSQL, a size set), else ``app`` itself."""
        from django.conf import settings
        from django.db import connection

        if connection.vendor != "postgresql" or settings.ISOMIX_STATUS_CACHE_ENTRIES <= 0:
            return app
        return cls(app, entries=settings.ISOMIX_STATUS_CACHE_ENTRIES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        poll = self._poll(scope) if scope["type"] == "http" else None
        if poll is None:
            await self.app(scope, receive, send)
            return
        project_id, token, key = poll
        fingerprint = await self._fingerprint(token=token, project_id=project_id)
        if fingerprint is None:  # no such token, user or project: Django gives the refusal
            await self.app(scope, receive, send)
            return
        answer = self._answers.get(key)
        if answer is not None and answer.fingerprint == fingerprint:
            self._answers.move_to_end(key)
            await self._replay(answer, scope=scope, send=send)
            return
        await self.app(scope, receive, self._recorder(send, key=key, fingerprint=fingerprint))

    def _poll(self, scope: Scope) -> tuple[str, str, bytes] | None:
        """``(project id, token, key)`` for a request this cache may answer, else ``None``."""
        if scope["method"] != "GET" or scope["query_string"]:
            return None
        match = self._path.fullmatch(scope["path"])
        if match is None:
            return None
        token = ""
        for name, value in scope["headers"]:
            if name in (b"cookie", b"transfer-encoding") or (name == b"content-length" and value != b"0"):
                return None  # a session (DRF would try it first) or a body: Django decides
            if name == b"authorization":
                parts = value.split()
                if token or len(parts) != 2 or parts[0].lower() != b"token":
                    return None
                token = parts[1].decode("latin-1")
        if not token:
            return None
        digest = hashlib.sha256(scope.get("scheme", "http").encode() + b"\0" + scope["path"].encode())
        for name, value in sorted(scope["headers"]):
            if name not in _NOT_KEYED:
                digest.update(b"\0" + name + b":" + value)
        return match[1], token, digest.digest()

    async def _fingerprint(self, *, token: str, project_id: str) -> str | None:
        try:
            pool = await self._open_pool()
            async with pool.connection() as conn:
                cursor = await conn.execute(self._sql, (token, project_id))
                row = await cursor.fetchone()
        except Exception:  # the database is out of reach: Django answers (and reports) it
            logger.warning("status cache: fingerprint query failed", exc_info=True)
            return None
        return None if row is None else row[0]

    async def _open_pool(self) -> Any:
        if self._pool is None:
            from django.db import connection
            from psycopg_pool import AsyncConnectionPool

            params = connection.get_connection_params()
            for django_only in ("cursor_factory", "context"):
                params.pop(django_only, None)
            # Opened in the web process's own event loop, on first use (a forked or spawned
            # process must not share a parent's connections).
            # A short wait for a connection: past it the poll goes to Django, which reports the outage.
            pool = AsyncConnectionPool(
                kwargs={**params, "autocommit": True}, min_size=1, max_size=4, timeout=5, open=False
            )
            await pool.open()
            if self._pool is None:
                self._pool = pool
            else:  # another poll opened one meanwhile
                await pool.close()
        return self._pool

    async def aclose(self) -> None:
        """Close the connections the fingerprint query holds (at shutdown, and between tests)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def _replay(self, answer: _Answer, *, scope: Scope, send: Send) -> None:
        from application.metrics import LATENCY, REQUESTS
        from application.middleware import request_id_from

        start = time.perf_counter()
        given = next((v for n, v in scope["headers"] if n == b"x-request-id"), b"").decode("latin-1")
        headers = [*answer.headers, (b"x-request-id", request_id_from(given).encode())]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body, "more_body": False})
        # The same counters Django's RequestMetricsMiddleware keeps, so /metrics still counts every poll.
        LATENCY.labels("GET").observe(time.perf_counter() - start)
        REQUESTS.labels("GET", str(answer.status)).inc()

    def _recorder(self, send: Send, *, key: bytes, fingerprint: str) -> Send:
        """``send``, keeping a copy of a 200 answer that may be sent again."""
        start: Message = {}
        body: list[bytes] = []

        async def record(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body" or start.get("status") != 200:
                return
            body.append(message.get("body", b""))
            if sum(map(len, body)) > MAX_BODY_BYTES:
                start["status"] = 0  # too large to keep
            elif not message.get("more_body", False):
                self._keep(key, fingerprint=fingerprint, start=start, body=b"".join(body))

        return record

    def _keep(self, key: bytes, *, fingerprint: str, start: Message, body: bytes) -> None:
        headers = list(start.get("headers", []))
        if any(n.lower() == b"set-cookie" for n, _ in headers):
            return  # an answer that changes client state is never sent twice
        kept = [(n, v) for n, v in headers if n.lower() not in _NOT_KEYED]
        self._forget(key)
        self._answers[key] = _Answer(fingerprint=fingerprint, status=start["status"], headers=kept, body=body)
        self._kept_bytes += len(body)
        while len(self._answers) > self.entries or self._kept_bytes > MAX_KEPT_BYTES:
            self._forget(next(iter(self._answers)))

    def _forget(self, key: bytes) -> None:
        answer = self._answers.pop(key, None)
        if answer is not None:
            self._kept_bytes -= len(answer.body)
