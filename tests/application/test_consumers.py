"""The project WebSocket: the owner gets progress events, anyone else is refused."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from application.routing import websocket_urlpatterns
from domain.events import job_progress_payload, project_group
from domain.models import Job
from tests.factories import project_create_ready, user_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def _communicator(project_id, user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/projects/{project_id}/")
    communicator.scope["user"] = user
    return communicator


async def test_owner_receives_job_progress():
    owner = await sync_to_async(user_create)()
    project = await sync_to_async(project_create_ready)(owner=owner, duration_s=0.5)
    job = await sync_to_async(lambda: Job.objects.select_related("project").get(project=project))()
    job.state, job.progress, job.stage = Job.State.RUNNING, 42, "separate"
    communicator = _communicator(project.id, owner)

    connected, _ = await communicator.connect()
    assert connected
    from channels.layers import get_channel_layer

    await get_channel_layer().group_send(project_group(project.id), job_progress_payload(job))
    event = await communicator.receive_json_from(timeout=2)

    assert event == {
        "type": "job.progress",
        "project": str(project.id),
        "job": str(job.id),
        "kind": "separate",
        "state": "running",
        "progress": 42,
        "stage": "separate",
        "project_status": "ready",
        "user_error": "",
    }
    await communicator.disconnect()


async def test_other_user_is_refused():
    project = await sync_to_async(project_create_ready)(owner=await sync_to_async(user_create)(), duration_s=0.5)
    communicator = _communicator(project.id, await sync_to_async(user_create)())

    connected, code = await communicator.connect()

    assert not connected
    assert code == 4404


async def test_anonymous_is_refused():
    from django.contrib.auth.models import AnonymousUser

    project = await sync_to_async(project_create_ready)(owner=await sync_to_async(user_create)(), duration_s=0.5)
    communicator = _communicator(project.id, AnonymousUser())

    connected, _ = await communicator.connect()

    assert not connected
