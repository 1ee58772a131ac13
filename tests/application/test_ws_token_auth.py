"""The API token on the WebSockets, through the whole ASGI application (Origin check, session, token).

A valid token is its user, over any session cookie sent with it; a token header that names no
active user's token is anonymous (never the cookie's user); without the header, the session
works as before.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from rest_framework.authtoken.models import Token

from application.ws_auth import token_header_key
from domain.events import job_progress_payload, project_group, user_group
from domain.models import Job, Project
from isomix.asgi import application
from tests.factories import user_create

# In a transaction of its own: the consumers and the token lookup read the database in other threads.
pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")
NOT_FOUND = 4404  # the project socket: not signed in, or not the user's project
NOT_SIGNED_IN = 4401  # the library socket


def _project_of(owner) -> Project:
    return Project.objects.create(
        owner=owner,
        name="Song",
        original_key="",
        original_filename="song.wav",
        sha256="0" * 64,
        format="wav",
        duration_s=3.0,
        sample_rate=44100,
        channels=2,
        size_bytes=1000,
        status=Project.Status.PROCESSING,
    )


def _user_with_token():
    user = user_create()
    return user, Token.objects.create(user=user).key


def _session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def _socket(path: str, *, token: str | None = None, cookie: bytes | None = None, origin=ORIGIN):
    headers = [origin] if origin else []
    if token is not None:
        headers.append((b"authorization", f"Token {token}".encode()))
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, path, headers=headers)


@pytest.mark.asyncio
async def test_a_valid_token_is_accepted_and_receives_the_projects_events():
    # Given a user's token and their project being separated
    owner, key = await sync_to_async(_user_with_token)()
    project = await sync_to_async(_project_of)(owner)
    job = await sync_to_async(
        lambda: Job.objects.create(project=project, kind=Job.Kind.SEPARATE, state=Job.State.RUNNING, progress=42)
    )()
    socket = _socket(f"/ws/projects/{project.id}/", token=key)

    # When the socket opens with the token and the job reports progress
    connected, _ = await socket.connect()
    assert connected
    await get_channel_layer().group_send(project_group(project.id), job_progress_payload(job))

    # Then the event arrives, as it does on the page's session socket
    event = await socket.receive_json_from(timeout=2)
    assert event["type"] == "job.progress"
    assert event["project"] == str(project.id)
    assert event["job"] == str(job.id)
    assert event["progress"] == 42
    await socket.disconnect()


@pytest.mark.asyncio
async def test_a_valid_token_opens_the_library_socket_of_its_user():
    user, key = await sync_to_async(_user_with_token)()
    socket = _socket("/ws/library/", token=key)
    assert (await socket.connect())[0]

    await get_channel_layer().group_send(user_group(user.pk), {"type": "job.progress", "project": "p"})

    assert (await socket.receive_json_from(timeout=2))["project"] == "p"
    await socket.disconnect()


@pytest.mark.asyncio
async def test_another_users_project_with_a_valid_token_is_not_found():
    project = await sync_to_async(_project_of)(await sync_to_async(user_create)())
    _other, others_key = await sync_to_async(_user_with_token)()

    connected, code = await _socket(f"/ws/projects/{project.id}/", token=others_key).connect()

    assert not connected
    assert code == NOT_FOUND


@pytest.mark.asyncio
@pytest.mark.parametrize("header_key", ["0" * 40, "", "two words"])
async def test_a_bad_token_is_not_signed_in_even_with_the_owners_session(header_key):
    # Given the owner's own session cookie, sent with a token header that names no token
    owner = await sync_to_async(user_create)()
    project = await sync_to_async(_project_of)(owner)
    cookie = await sync_to_async(_session_cookie)(owner)

    # Then neither socket falls back to the session: both refuse, as for a visitor
    project_connected, project_code = await _socket(
        f"/ws/projects/{project.id}/", token=header_key, cookie=cookie
    ).connect()
    library_connected, library_code = await _socket("/ws/library/", token=header_key, cookie=cookie).connect()

    assert (project_connected, project_code) == (False, NOT_FOUND)
    assert (library_connected, library_code) == (False, NOT_SIGNED_IN)


@pytest.mark.asyncio
async def test_a_token_of_an_inactive_user_is_not_signed_in():
    user, key = await sync_to_async(_user_with_token)()
    await sync_to_async(lambda: type(user).objects.filter(pk=user.pk).update(is_active=False))()

    connected, code = await _socket("/ws/library/", token=key).connect()

    assert (connected, code) == (False, NOT_SIGNED_IN)


@pytest.mark.asyncio
async def test_the_token_wins_over_someone_elses_session_cookie():
    # Given Alice's token and project, and Bob's session cookie on the same handshake
    alice, alices_key = await sync_to_async(_user_with_token)()
    alices_project = await sync_to_async(_project_of)(alice)
    bob = await sync_to_async(user_create)()
    bobs_project = await sync_to_async(_project_of)(bob)
    bobs_cookie = await sync_to_async(_session_cookie)(bob)

    # Then the socket is Alice's: her project opens, Bob's is not found
    alices_socket = _socket(f"/ws/projects/{alices_project.id}/", token=alices_key, cookie=bobs_cookie)
    assert (await alices_socket.connect())[0]
    await alices_socket.disconnect()
    connected, code = await _socket(f"/ws/projects/{bobs_project.id}/", token=alices_key, cookie=bobs_cookie).connect()
    assert (connected, code) == (False, NOT_FOUND)


@pytest.mark.asyncio
async def test_without_a_token_the_session_works_as_before():
    owner = await sync_to_async(user_create)()
    project = await sync_to_async(_project_of)(owner)
    cookie = await sync_to_async(_session_cookie)(owner)

    socket = _socket(f"/ws/projects/{project.id}/", cookie=cookie)

    assert (await socket.connect())[0]
    await socket.disconnect()
    assert (await _socket(f"/ws/projects/{project.id}/").connect()) == (False, NOT_FOUND)


@pytest.mark.asyncio
async def test_a_valid_token_without_the_sites_origin_is_refused():
    owner, key = await sync_to_async(_user_with_token)()
    project = await sync_to_async(_project_of)(owner)

    no_origin = await _socket(f"/ws/projects/{project.id}/", token=key, origin=None).connect()
    other_site = await _socket(
        f"/ws/projects/{project.id}/", token=key, origin=(b"origin", b"https://evil.example")
    ).connect()

    assert not no_origin[0]
    assert not other_site[0]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], None),
        ([(b"authorization", b"Basic dXNlcjpwYXNz")], None),
        ([(b"authorization", b"Token abc")], "abc"),
        ([(b"Authorization", b"token abc")], "abc"),
        ([(b"authorization", b"Token")], ""),
        ([(b"authorization", b"Token a b")], ""),
        ([(b"authorization", b"Token a"), (b"authorization", b"Token b")], ""),
        ([(b"authorization", b"Token \xff")], ""),
    ],
)
def test_token_header_key_reads_the_header_as_drf_does(headers, expected):
    assert token_header_key(headers) == expected
