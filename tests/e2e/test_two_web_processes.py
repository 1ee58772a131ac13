"""Two web processes on one Redis: a browser on one sees the progress of a job uploaded on the other."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.e2e.stack import WORKER_QUEUES, Stack, free_port, wait_health

pytestmark = pytest.mark.e2e

_SESSION = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
user = User.objects.get(username="ada")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(session.session_key)
"""


async def _listen(port: int, project_id: str, session: str, *, until_state: str, timeout_s: float) -> list[dict]:
    import websockets

    events = []
    uri = f"ws://127.0.0.1:{port}/ws/projects/{project_id}/"
    headers = {"Cookie": f"sessionid={session}", "Origin": f"http://127.0.0.1:{port}"}
    async with websockets.connect(uri, additional_headers=headers) as ws:
        async with asyncio.timeout(timeout_s):
            while not events or events[-1]["state"] != until_state:
                events.append(json.loads(await ws.recv()))
    return events


def test_progress_reaches_a_browser_on_another_web_process(tmp_path):
    stack = Stack(tmp_path)
    try:
        other_port = free_port()
        stack.spawn("runstudio", "--no-worker", "--port", str(other_port), log="web2.log")
        wait_health(other_port, 200, 60)
        session = stack.manage("shell", "-c", _SESSION).strip().splitlines()[-1]
        project_id = stack.upload(duration_s=30.0)  # on the first web process; no worker yet

        async def scenario() -> list[dict]:
            listener = asyncio.ensure_future(
                _listen(other_port, project_id, session, until_state="done", timeout_s=120)
            )
            await asyncio.sleep(1.0)  # subscribed before the worker starts
            stack.spawn("rundramatiq", "--queues", *WORKER_QUEUES, log="worker.log")
            return await listener

        events = asyncio.run(scenario())
    finally:
        stack.close()

    assert {e["type"] for e in events} == {"job.progress"}
    assert {e["project"] for e in events} == {project_id}
    assert events[0]["state"] == "running"
    assert events[-1]["state"] == "done" and events[-1]["progress"] == 100
    stages = [e["stage"] for e in events]
    assert "separate" in stages and "encode" in stages
    assert [e["progress"] for e in events] == sorted(e["progress"] for e in events)


def test_websocket_from_another_origin_is_refused(tmp_path):
    stack = Stack(tmp_path)
    try:
        session = stack.manage("shell", "-c", _SESSION).strip().splitlines()[-1]

        async def connect() -> None:
            import websockets

            await websockets.connect(
                f"ws://127.0.0.1:{stack.port}/ws/projects/00000000-0000-0000-0000-000000000000/",
                additional_headers={"Cookie": f"sessionid={session}", "Origin": "http://evil.example"},
            )

        with pytest.raises(Exception) as refused:
            asyncio.run(connect())
    finally:
        stack.close()

    assert "403" in str(refused.value)
