"""The WebSockets: the project page's and the library's. The owner gets progress events; anyone
else is refused, and no user receives another user's events."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import transaction

from application.routing import websocket_urlpatterns
from business.services import account_language_set
from domain.events import job_progress_payload, job_progress_publish, project_group, user_group
from domain.models import Job, Project
from tests.application.test_i18n_pages import compiled_catalogues  # noqa: F401  (autouse: the .mo files)
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
        "style": None,
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


@pytest.mark.parametrize("path", ["/ws/nope/", "/ws/projects/not-a-uuid/", "/ws/"])
async def test_a_path_no_socket_takes_is_refused_not_a_server_error(path):
    user = await sync_to_async(user_create)()
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    communicator.scope["user"] = user

    connected, code = await communicator.connect()

    assert (connected, code) == (False, 4404)


# ---------------------------------------------------------------- the library socket


def _library_communicator(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/library/")
    communicator.scope["user"] = user
    return communicator


def _running_separation(owner):
    """A processing project of ``owner`` whose separation job is running at 42 %."""
    project = project_create_ready(owner=owner, duration_s=0.5)
    Project.objects.filter(id=project.id).update(status=Project.Status.PROCESSING)
    job = Job.objects.select_related("project").get(project=project)
    job.state, job.progress, job.stage = Job.State.RUNNING, 42, "separate"
    job.save()
    return job


async def test_library_receives_every_own_project_and_no_one_elses(django_capture_on_commit_callbacks):
    # Given two users, each with a project being separated, and each on their library
    alice, bob = await sync_to_async(user_create)(), await sync_to_async(user_create)()
    alices_job = await sync_to_async(_running_separation)(alice)
    bobs_job = await sync_to_async(_running_separation)(bob)
    alice_socket, bob_socket = _library_communicator(alice), _library_communicator(bob)
    assert (await alice_socket.connect())[0]
    assert (await bob_socket.connect())[0]

    # When each job's progress is published, as the worker does (after commit)
    def publish() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            job_progress_publish(alices_job)
        with django_capture_on_commit_callbacks(execute=True):
            job_progress_publish(bobs_job)

    await sync_to_async(publish)()

    # Then each user gets the event of their own project, exactly as the project page does
    alices_event = await alice_socket.receive_json_from(timeout=2)
    bobs_event = await bob_socket.receive_json_from(timeout=2)
    assert alices_event == {
        "type": "job.progress",
        "project": str(alices_job.project_id),
        "style": None,
        "job": str(alices_job.id),
        "kind": "separate",
        "state": "running",
        "progress": 42,
        "stage": "separate",
        "project_status": "processing",
        "user_error": "",
    }
    assert bobs_event["project"] == str(bobs_job.project_id)
    # And nothing else: not the other user's event
    assert await alice_socket.receive_nothing(timeout=0.3)
    assert await bob_socket.receive_nothing(timeout=0.3)
    await alice_socket.disconnect()
    await bob_socket.disconnect()


async def test_the_project_page_still_receives_the_event(django_capture_on_commit_callbacks):
    owner = await sync_to_async(user_create)()
    job = await sync_to_async(_running_separation)(owner)
    page_socket = _communicator(job.project_id, owner)
    assert (await page_socket.connect())[0]

    def publish() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            job_progress_publish(job)

    await sync_to_async(publish)()

    assert (await page_socket.receive_json_from(timeout=2))["job"] == str(job.id)
    await page_socket.disconnect()


async def test_an_event_of_a_rolled_back_transaction_is_never_sent():
    owner = await sync_to_async(user_create)()
    job = await sync_to_async(_running_separation)(owner)
    socket = _library_communicator(owner)
    assert (await socket.connect())[0]

    class RolledBack(Exception):
        pass

    def publish_then_roll_back() -> None:
        try:
            with transaction.atomic():
                job_progress_publish(job)
                raise RolledBack
        except RolledBack:
            pass

    await sync_to_async(publish_then_roll_back)()

    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_library_refuses_an_anonymous_visitor():
    from django.contrib.auth.models import AnonymousUser

    connected, code = await _library_communicator(AnonymousUser()).connect()

    assert not connected
    assert code == 4401


# ---------------------------------------------------------------- the language of user_error

FAILED_EVENT = {
    "type": "job.progress",
    "project": "p",
    "style": None,
    "job": "j",
    "kind": "separate",
    "state": "failed",
    "progress": 10,
    "stage": "decode",
    "project_status": "failed",
    "user_error": "The song could not be decoded.",
}


async def _received_on_the_library(user, headers: list[tuple[bytes, bytes]]) -> dict:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/library/", headers=headers)
    communicator.scope["user"] = user
    assert (await communicator.connect())[0]
    from channels.layers import get_channel_layer

    await get_channel_layer().group_send(user_group(user.pk), FAILED_EVENT)
    event = await communicator.receive_json_from(timeout=2)
    await communicator.disconnect()
    return event


@pytest.mark.parametrize(
    ("saved", "headers", "expected"),
    [
        ("pt-br", [(b"accept-language", b"en")], "Não foi possível decodificar a música."),
        ("en", [(b"cookie", b"django_language=pt-br")], "The song could not be decoded."),
        (
            "",
            [(b"cookie", b"django_language=pt-br"), (b"accept-language", b"en")],
            "Não foi possível decodificar a música.",
        ),
        ("", [(b"accept-language", b"pt-BR,pt;q=0.9")], "Não foi possível decodificar a música."),
        ("", [], "The song could not be decoded."),
    ],
)
async def test_the_reason_of_a_failure_comes_in_the_users_language(saved, headers, expected):
    user = await sync_to_async(user_create)()
    if saved:
        await sync_to_async(account_language_set)(user=user, language=saved)

    event = await _received_on_the_library(user, headers)

    assert event == {**FAILED_EVENT, "user_error": expected}
