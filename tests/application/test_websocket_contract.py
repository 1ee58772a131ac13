"""The WebSocket protocol against its contract, docs/asyncapi.yaml.

The server side runs for real (the ASGI application with its Origin check and session
middleware, the consumers, the actors, the domain services that publish) and every message it
sends is checked against the documented schema of its channel; every documented message must
have been sent. The refusals are checked in-process (the close code) and over the network
through uvicorn as ``runstudio`` configures it (the handshake's status). The pages' JavaScript
and ``domain/events.py`` must use the documented names, and docs/websocket.md must agree.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import io
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import soundfile as sf
import yaml
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from domain import events
from domain.events import project_group
from domain.mix import MixSettings
from domain.models import Job, Project
from model.engines.base import EngineError
from tests.audio import song, style_wav
from tests.factories import project_create_ready, user_create

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACT_PATH = REPO_ROOT / "docs" / "asyncapi.yaml"
PAGE_PATH = REPO_ROOT / "docs" / "websocket.md"
JS_ROOT = REPO_ROOT / "static" / "js"
ORIGIN = (b"origin", b"http://testserver")  # "testserver" is in the test settings' ALLOWED_HOSTS


# ---------------------------------------------------------------- the contract, read


@functools.cache
def contract() -> dict[str, Any]:
    return yaml.safe_load(CONTRACT_PATH.read_text(encoding="utf-8"))


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """``node``, or what its local ``$ref`` (``#/a/b``) points to, followed to the end."""
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"only local references are used: {ref}"
        node = contract()
        for part in ref[2:].split("/"):
            node = node[part]
    return node


def channel_messages(channel: str) -> dict[str, dict[str, Any]]:
    """The payload schema of every message the server sends on ``channel``, by its ``type``."""
    doc = contract()
    found: dict[str, dict[str, Any]] = {}
    for operation in doc["operations"].values():
        if operation["action"] != "send" or resolve(operation["channel"]) is not doc["channels"][channel]:
            continue
        for ref in operation["messages"]:
            message = resolve(ref)
            payload = resolve(message["payload"])
            event_type = payload["properties"]["type"]["const"]
            assert message["name"] == event_type, f"message {message['name']!r} carries type {event_type!r}"
            found[event_type] = payload
    return found


def server_message_types() -> set[str]:
    return {t for channel in contract()["channels"] for t in channel_messages(channel)}


def job_progress_schema() -> dict[str, Any]:
    return resolve(contract()["components"]["messages"]["jobProgress"]["payload"])


def validation_errors(schema: dict[str, Any], instance: Any) -> list[str]:
    # AsyncAPI 3.0's default schema format is a superset of JSON Schema draft 07.
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


def refusals(channel: str) -> list[dict[str, Any]]:
    return contract()["channels"][channel]["x-refusals"]


def refusal_cases() -> list[tuple[str, dict[str, Any]]]:
    return [(name, refusal) for name in contract()["channels"] for refusal in refusals(name)]


# ---------------------------------------------------------------- the document itself


def test_the_document_is_asyncapi_3_with_valid_payload_schemas():
    doc = contract()

    assert doc["asyncapi"] == "3.0.0"
    assert {c["address"] for c in doc["channels"].values()} == {"/ws/projects/{project_id}/", "/ws/library/"}
    for channel in doc["channels"]:
        assert channel_messages(channel), f"channel {channel} documents no message"
        for schema in channel_messages(channel).values():
            jsonschema.Draft7Validator.check_schema(schema)
            # Exact: every field required, nothing else allowed.
            assert schema["additionalProperties"] is False
            assert set(schema["required"]) == set(schema["properties"])
    for message in doc["components"]["messages"].values():
        for example in message.get("examples", []):
            assert validation_errors(resolve(message["payload"]), example["payload"]) == [], example["name"]


def test_the_documented_names_are_the_ones_python_publishes():
    schema = job_progress_schema()
    constants = {
        value for name, value in vars(events).items() if name.isupper() and isinstance(value, str)
    }  # the module's constants are its event types

    assert constants == server_message_types()
    assert events.JOB_PROGRESS == schema["properties"]["type"]["const"]
    # The enums are the model's choices: a new kind, state or status is documented, or this fails.
    assert schema["properties"]["kind"]["enum"] == list(Job.Kind.values)
    assert schema["properties"]["state"]["enum"] == list(Job.State.values)
    assert schema["properties"]["project_status"]["enum"] == [*Project.Status.values, None]  # null: a style's job


def test_the_documented_authentication_is_the_servers():
    schemes = contract()["components"]["securitySchemes"]

    assert (schemes["session"]["in"], schemes["session"]["name"]) == ("cookie", settings.SESSION_COOKIE_NAME)
    assert (schemes["token"]["in"], schemes["token"]["name"]) == ("header", "Authorization")
    assert "Token <key>" in schemes["token"]["description"]


def test_the_documented_keepalive_is_uvicorns_as_runstudio_starts_it():
    import uvicorn

    from application.management.commands.runstudio import server_options

    config = uvicorn.Config(app=None, **server_options(host="127.0.0.1", port=0, workers=1))
    for server in contract()["servers"].values():
        assert server["x-keepalive"] == {
            "ping-interval-s": config.ws_ping_interval,
            "ping-timeout-s": config.ws_ping_timeout,
            "max-client-frame-bytes": config.ws_max_size,
        }


# ---------------------------------------------------------------- what the server sends


def _signed_in_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def _socket(path: str, *, cookie: bytes | None = None, origin: bool = True) -> WebsocketCommunicator:
    """A socket on the whole ASGI application (Origin check, session middleware, router)."""
    from isomix.asgi import application

    headers = ([ORIGIN] if origin else []) + ([(b"cookie", cookie)] if cookie else [])
    return WebsocketCommunicator(application, path, headers=headers)


async def _drain(socket_: WebsocketCommunicator) -> list[dict[str, Any]]:
    """Every message that has arrived (and arrives within a moment), as JSON."""
    received = []
    while not await socket_.receive_nothing(timeout=0.3):
        received.append(await socket_.receive_json_from(timeout=1))
    return received


def _wav(seed: int) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    sf.write(buffer, song(duration_s=1.0, seed=seed).T, 44100, format="WAV", subtype="PCM_16")
    return SimpleUploadedFile("song.wav", buffer.getvalue(), content_type="audio/wav")


class _Engine:
    """A separation engine that reports progress like a real one (the engine is not what is tested)."""

    name = "offline"
    model_name = "contract-1"
    stems = ("vocals", "drums", "bass", "other")

    def __init__(self, fail_with: BaseException | None = None) -> None:
        self.fail_with = fail_with

    def separate(self, audio, *, sr, progress=None):
        if self.fail_with is not None:
            raise self.fail_with
        for step in range(4):
            if progress is not None:
                progress((step + 1) / 4)
        return {kind: audio * 0.25 for kind in self.stems}


class _Whisper:
    """A lyrics engine that hears one word and reports progress like a real one."""

    model_name = "contract-whisper"

    def transcribe(self, audio, *, language=None, languages=None, progress=None):
        from model.pipelines.lyrics.types import Line, Transcript, Word

        if progress is not None:
            progress(0.5)
            progress(1.0)
        return Transcript(language="en", language_probability=0.9, lines=[Line(0.1, 0.6, "la", [Word("la", 0.1, 0.6)])])


def _use_engine(monkeypatch, engine: _Engine) -> None:
    monkeypatch.setattr("model.engines.get_engine", lambda *args, **kwargs: engine)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_every_message_the_server_sends_is_documented_and_every_documented_one_is_sent(monkeypatch, empty_broker):
    from model.actors import MAX_ATTEMPTS, export_mix, separate_stems
    from model.actors.karaoke import analyse_song, lyrics_song
    from model.services import export_start, job_retry, jobs_sweep, lyrics_start, project_upload

    # Given a signed-in user on the library socket
    owner = await sync_to_async(user_create)()
    cookie = await sync_to_async(_signed_in_cookie)(owner)
    library = await _socket("/ws/library/", cookie=cookie)
    assert (await library.connect())[0]
    received: dict[str, list[dict[str, Any]]] = {"library": [], "project": []}
    project_sockets: dict[str, WebsocketCommunicator] = {}

    async def upload(seed: int) -> Job:
        project = await sync_to_async(project_upload)(owner=owner, upload=_wav(seed))
        project_socket = await _socket(f"/ws/projects/{project.id}/", cookie=cookie)
        assert (await project_socket.connect())[0]
        project_sockets[str(project.id)] = project_socket
        return await sync_to_async(Job.objects.get)(project=project, kind=Job.Kind.SEPARATE)

    async def collect() -> list[dict[str, Any]]:
        """What arrived since the last call; the library's messages."""
        got_by_library = await _drain(library)
        received["library"] += got_by_library
        for project_id, project_socket in project_sockets.items():
            got = await _drain(project_socket)
            assert {e.get("project") for e in got} <= {project_id}, "a project socket carries only its project"
            received["project"] += got
        return got_by_library

    async def says_what_was_committed(job: Job, *, project_status: bool = True) -> None:
        """The last event of ``job`` is what REST reads now (nothing else moved it since)."""
        last = [e for e in await collect() if e["job"] == str(job.id)][-1]
        row = await sync_to_async(Job.objects.select_related("project").get)(id=job.id)
        assert (last["state"], last["progress"], last["stage"]) == (row.state, row.progress, row.stage)
        if project_status:
            assert last["project_status"] == row.project.status, last

    def run(actor, job: Job, *, transient: bool = False) -> None:
        if not transient:
            actor.fn(str(job.id))
            return
        with pytest.raises(RuntimeError):  # raised for Dramatiq to retry; the job is queued again
            actor.fn(str(job.id))

    # When a song is uploaded; its first separation attempt fails on a transient error and the
    # retry separates it; then its mix is exported
    job = await upload(seed=1)
    _use_engine(monkeypatch, _Engine(fail_with=RuntimeError("CUDA out of memory (simulated)")))
    await sync_to_async(run)(separate_stems, job, transient=True)
    await says_what_was_committed(job)
    _use_engine(monkeypatch, _Engine())
    await sync_to_async(run)(separate_stems, job)
    await says_what_was_committed(job)
    project = await sync_to_async(Project.objects.get)(id=job.project_id)
    assert project.status == Project.Status.READY
    export = await sync_to_async(export_start)(project=project, fmt="mp3", mix=MixSettings())
    await sync_to_async(run)(export_mix, export.job)
    await says_what_was_committed(export.job)

    # And the separation's analysis runs; the user asks for the lyrics and they are transcribed
    analysis = await sync_to_async(Job.objects.get)(project=project, kind=Job.Kind.ANALYSE)
    await sync_to_async(run)(analyse_song, analysis)
    await says_what_was_committed(analysis)
    monkeypatch.setattr("model.actors.karaoke.whisper_engine", _Whisper)
    lyrics = await sync_to_async(lyrics_start)(project=project, user=owner)
    await sync_to_async(run)(lyrics_song, lyrics)
    await says_what_was_committed(lyrics)

    # And the user uploads a style sound (its job's events reach the library socket only), its
    # grains are made, and the song's bass is re-voiced with it
    from model.actors.remix import remix_song, style_grains
    from model.services.remix import remix_start, styles_upload

    sound = SimpleUploadedFile("kit.wav", style_wav())
    styles = await sync_to_async(styles_upload)(owner=owner, uploads=[sound])
    grains = await sync_to_async(Job.objects.get)(style=styles[0])
    await sync_to_async(run)(style_grains, grains)
    await says_what_was_committed(grains, project_status=False)
    remix = await sync_to_async(remix_start)(
        project=project, user=owner, stems={"bass": {"style": str(styles[0].id)}}, settings={}
    )
    remix_job = await sync_to_async(Job.objects.get)(id=remix.job_id)
    await sync_to_async(run)(remix_song, remix_job)
    await says_what_was_committed(remix_job)

    # And another song fails for good (an engine that cannot run it); an operator retries it, a
    # worker starts it and dies on its last attempt, and the stale-job sweep fails it
    failing = await upload(seed=2)
    _use_engine(monkeypatch, _Engine(fail_with=EngineError("No Demucs weights found (simulated)")))
    await sync_to_async(run)(separate_stems, failing)
    # (its project_status lags here: test_a_failed_separation_says_its_project_failed)
    await says_what_was_committed(failing, project_status=False)
    await sync_to_async(lambda: job_retry(job=Job.objects.get(id=failing.id)))()
    await says_what_was_committed(failing)

    def worker_dies_on_its_last_attempt() -> None:
        from domain.services import job_set_state

        job_set_state(
            job=Job.objects.select_related("project").get(id=failing.id), state=Job.State.RUNNING, stage="decode"
        )
        Job.objects.filter(id=failing.id).update(
            attempts=MAX_ATTEMPTS, heartbeat_at=timezone.now() - timedelta(hours=1)
        )
        jobs_sweep(stale_after_s=60)

    await sync_to_async(worker_dies_on_its_last_attempt)()
    await says_what_was_committed(failing)

    for socket_ in [library, *project_sockets.values()]:
        await socket_.disconnect()

    # Then every message on each channel is one it documents, exactly as documented
    for channel, messages in received.items():
        documented = channel_messages(channel)
        for message in messages:
            assert message.get("type") in documented, f"undocumented message on {channel}: {message}"
            assert validation_errors(documented[message["type"]], message) == [], message
    # And every message the document says the server sends was sent, on every channel
    for channel, messages in received.items():
        assert {m["type"] for m in messages} == set(channel_messages(channel)), channel
    # And the library saw what each project socket saw, and the style sound's job besides
    of_projects = [m for m in received["library"] if m["project"] is not None]
    assert sorted(map(repr, received["project"])) == sorted(map(repr, of_projects))
    assert {m["kind"] for m in received["library"] if m["project"] is None} == {Job.Kind.STYLE}
    # And the scenario went through every branch of the schema it can reach
    seen = received["library"]
    assert {m["state"] for m in seen} == set(Job.State.values) - {Job.State.CANCELLED}  # nothing cancels yet
    assert {m["kind"] for m in seen} == set(Job.Kind.values)
    assert {m["project_status"] for m in seen} == {*Project.Status.values, None}


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_failed_separation_says_its_project_failed(monkeypatch, empty_broker):
    from model.actors import separate_stems
    from model.services import project_upload

    owner = await sync_to_async(user_create)()
    project = await sync_to_async(project_upload)(owner=owner, upload=_wav(seed=3))
    job = await sync_to_async(Job.objects.get)(project=project)
    socket_ = await _socket(f"/ws/projects/{project.id}/", cookie=await sync_to_async(_signed_in_cookie)(owner))
    assert (await socket_.connect())[0]
    _use_engine(monkeypatch, _Engine(fail_with=EngineError("No Demucs weights found (simulated)")))

    await sync_to_async(separate_stems.fn)(str(job.id))

    failed = [e for e in await _drain(socket_) if e["state"] == "failed"]
    await socket_.disconnect()
    assert [e["project_status"] for e in failed] == ["failed"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_what_a_client_sends_is_dropped_and_the_socket_stays_open():
    owner = await sync_to_async(user_create)()
    project = await sync_to_async(project_create_ready)(owner=owner, duration_s=0.5)
    job = await sync_to_async(lambda: Job.objects.select_related("project").get(project=project))()
    socket_ = await _socket(f"/ws/projects/{project.id}/", cookie=await sync_to_async(_signed_in_cookie)(owner))
    assert (await socket_.connect())[0]

    for frame in ({"text_data": "not json"}, {"bytes_data": b"\x00\xff"}, {"text_data": '{"type": "job.progress"}'}):
        await socket_.send_to(**frame)
    await get_channel_layer().group_send(project_group(project.id), events.job_progress_payload(job))

    assert (await socket_.receive_json_from(timeout=2))["job"] == str(job.id)  # nothing answered, still open
    assert await socket_.receive_nothing(timeout=0.3)
    await socket_.disconnect()


# ---------------------------------------------------------------- refusals


def _refused_situation(channel: str, case: str, *, owner, stranger, project) -> tuple[str, Any, bool | str]:
    """(path, who connects or None, the Origin: True for the site's own, False for none, or one) for a
    documented refusal case."""
    path = f"/ws/projects/{project.id}/" if channel == "project" else "/ws/library/"
    situations = {
        "not-signed-in": (path, None, True),
        "not-the-owner": (path, stranger, True),
        "no-such-project": (f"/ws/projects/{uuid.uuid4()}/", owner, True),
        "no-origin": (path, owner, False),
        "foreign-origin": (path, owner, "http://evil.example"),
    }
    assert case in situations, f"the contract documents a refusal this test cannot set up: {case}"
    return situations[case]


#: The refusals the consumers and the Origin check make, by channel: each must be documented.
REFUSALS_MADE = {
    "project": {"not-signed-in", "not-the-owner", "no-such-project", "no-origin", "foreign-origin"},
    "library": {"not-signed-in", "no-origin", "foreign-origin"},
}


def test_every_refusal_the_server_makes_is_documented():
    assert {name: {r["case"] for r in refusals(name)} for name in contract()["channels"]} == REFUSALS_MADE


async def _handshake_headers(user, origin: bool | str) -> list[tuple[bytes, bytes]]:
    headers = []
    if origin:
        headers.append((b"origin", origin.encode() if isinstance(origin, str) else ORIGIN[1]))
    if user is not None:
        headers.append((b"cookie", await sync_to_async(_signed_in_cookie)(user)))
    return headers


@pytest.mark.parametrize(("channel", "refusal"), refusal_cases(), ids=lambda v: v if isinstance(v, str) else v["case"])
@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_refused_socket_is_closed_with_the_documented_code(channel, refusal):
    from isomix.asgi import application

    owner, stranger = await sync_to_async(user_create)(), await sync_to_async(user_create)()
    project = await sync_to_async(project_create_ready)(owner=owner, duration_s=0.5)
    path, who, origin = _refused_situation(channel, refusal["case"], owner=owner, stranger=stranger, project=project)
    socket_ = WebsocketCommunicator(application, path, headers=await _handshake_headers(who, origin))

    connected, code = await socket_.connect()

    assert not connected
    # No code documented: refused before the consumer, by Channels' Origin check (a plain close).
    assert code == (refusal["close-code"] if refusal["close-code"] is not None else 1000)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_owner_signed_in_with_an_origin_is_accepted_on_both_channels():
    # The refusals above fail for the documented reason, not for any reason.
    owner = await sync_to_async(user_create)()
    project = await sync_to_async(project_create_ready)(owner=owner, duration_s=0.5)
    cookie = await sync_to_async(_signed_in_cookie)(owner)

    for path in (f"/ws/projects/{project.id}/", "/ws/library/"):
        socket_ = await _socket(path, cookie=cookie)
        assert (await socket_.connect())[0], path
        await socket_.disconnect()


@pytest.mark.skipif(
    importlib.util.find_spec("application.ws_auth") is None, reason="token auth for sockets is not in yet"
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_program_signs_in_with_its_token():
    from rest_framework.authtoken.models import Token

    from isomix.asgi import application

    owner = await sync_to_async(user_create)()
    key = (await sync_to_async(Token.objects.create)(user=owner)).key
    library_refusal = {r["case"]: r for r in refusals("library")}["not-signed-in"]

    with_token = WebsocketCommunicator(
        application, "/ws/library/", headers=[ORIGIN, (b"authorization", f"Token {key}".encode())]
    )
    wrong_token = WebsocketCommunicator(
        application, "/ws/library/", headers=[ORIGIN, (b"authorization", b"Token nope")]
    )

    assert (await with_token.connect())[0]
    await with_token.disconnect()
    assert await wrong_token.connect() == (False, library_refusal["close-code"])


# ---------------------------------------------------------------- refusals over the network


@pytest.fixture
def studio_socket_server() -> Iterator[str]:
    """The ASGI application under uvicorn as ``runstudio`` configures it, in a thread: its ws:// base."""
    import uvicorn

    from application.management.commands.runstudio import server_options
    from isomix.asgi import application

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    options = server_options(host="127.0.0.1", port=port, workers=1)
    server = uvicorn.Server(uvicorn.Config(application, **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"ws://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()


def _cookie_header(user) -> str:
    cookie = SimpleCookie()
    cookie.load(_signed_in_cookie(user).decode())
    return "; ".join(f"{k}={v.value}" for k, v in cookie.items())


def _wire_connect(url: str, headers: dict[str, str]) -> int:
    """The handshake's HTTP status (101 when the socket opened)."""
    import websockets
    from websockets.exceptions import InvalidStatus

    async def connect() -> int:
        try:
            async with websockets.connect(url, additional_headers=headers, origin=None, open_timeout=5):
                return 101
        except InvalidStatus as refused:
            return refused.response.status_code

    return asyncio.run(connect())


@pytest.mark.django_db(transaction=True)
def test_over_the_network_a_refusal_is_the_documented_handshake_status(studio_socket_server):
    owner, stranger = user_create(), user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    statuses = {}

    for channel, refusal in refusal_cases():
        path, who, origin = _refused_situation(
            channel, refusal["case"], owner=owner, stranger=stranger, project=project
        )
        headers = {}
        if origin:
            headers["Origin"] = origin if isinstance(origin, str) else "http://127.0.0.1"
        if who is not None:
            headers["Cookie"] = _cookie_header(who)
        statuses[(channel, refusal["case"])] = (_wire_connect(studio_socket_server + path, headers), refusal)

    for (channel, case), (status, refusal) in statuses.items():
        assert status == refusal["handshake-status"], (channel, case)
    # And the same handshake with nothing wrong opens: 403 is the refusal, not the server
    accepted = {"Origin": "http://127.0.0.1", "Cookie": _cookie_header(owner)}
    assert _wire_connect(f"{studio_socket_server}/ws/projects/{project.id}/", accepted) == 101
    assert _wire_connect(f"{studio_socket_server}/ws/library/", accepted) == 101


@pytest.mark.django_db(transaction=True)
def test_over_the_network_a_client_frame_over_the_limit_ends_the_socket(studio_socket_server):
    import websockets
    from websockets.exceptions import ConnectionClosed

    owner = user_create()
    limit = contract()["servers"]["embedded"]["x-keepalive"]["max-client-frame-bytes"]
    headers = {"Origin": "http://127.0.0.1", "Cookie": _cookie_header(owner)}

    async def send(size: int) -> int | None:
        async with websockets.connect(
            f"{studio_socket_server}/ws/library/", additional_headers=headers, origin=None
        ) as ws:
            await ws.send("x" * size)
            try:
                await asyncio.wait_for(ws.recv(), timeout=1)
            except TimeoutError:
                return None  # still open: the frame was dropped, as every client frame is
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
        return None

    assert asyncio.run(send(limit)) is None
    assert asyncio.run(send(limit + 1)) == 1009


# ---------------------------------------------------------------- the pages' JavaScript


def _js_files() -> list[Path]:
    return sorted(JS_ROOT.rglob("*.js"))


_TYPE_COMPARED = re.compile(
    r"""(?P<subject>[\w$.?]+?)\??\.type\s*[!=]==?\s*["'](?P<a>[^"']+)["']"""
    r"""|["'](?P<b>[^"']+)["']\s*[!=]==?\s*(?P<subject2>[\w$.?]+?)\??\.type\b"""
)
_SWITCH_CASES = re.compile(r"switch\s*\(\s*(?P<subject>[\w$.?]+?)\??\.type\s*\)\s*\{(?P<body>.*?)\n\s*\}", re.S)


def _socket_type_literals() -> dict[str, set[Path]]:
    """Every string a `.type` is compared with in the pages' JS, by literal, where the object is a
    socket event; `X.data.type` is a worklet's MessagePort message (pitch-shift), not a socket's."""
    found: dict[str, set[Path]] = {}
    for path in _js_files():
        text = path.read_text(encoding="utf-8")
        pairs = [(m["subject"] or m["subject2"], m["a"] or m["b"]) for m in _TYPE_COMPARED.finditer(text)] + [
            (m["subject"], literal)
            for m in _SWITCH_CASES.finditer(text)
            for literal in re.findall(r"""case\s+["']([^"']+)["']""", m["body"])
        ]
        for subject, literal in pairs:
            if subject.rstrip("?").split(".")[-1].rstrip("?") == "data":
                continue
            found.setdefault(literal, set()).add(path)
    return found


def test_the_pages_javascript_uses_exactly_the_documented_types():
    literals = _socket_type_literals()

    assert set(literals) == server_message_types()
    # Each page that follows a socket checks the type: the project page, the library, the export panel.
    handlers = {p.relative_to(JS_ROOT).as_posix() for paths in literals.values() for p in paths}
    assert handlers >= {"project.js", "library.js", "mixer/export.js"}


def test_the_pages_javascript_reads_only_documented_fields():
    fields = set(job_progress_schema()["properties"])
    for literal, paths in _socket_type_literals().items():
        for path in paths:
            read = set(re.findall(r"\bevent\.(\w+)\b(?!\s*\()", path.read_text(encoding="utf-8")))
            assert read, path
            assert read <= fields, f"{path.name} reads {sorted(read - fields)} from a {literal} event"


def test_the_socket_module_documents_the_same_fields():
    header = (JS_ROOT / "mixer" / "socket.js").read_text(encoding="utf-8").split("*/", 1)[0]
    sent = re.search(r"`\{\"type\": \"([^\"]+)\", (.*?)\}`", header, re.S)

    assert sent, "mixer/socket.js names the message it receives"
    assert {sent[1]} == server_message_types()
    assert set(re.findall(r'"(\w+)"', sent[2])) | {"type"} == set(job_progress_schema()["properties"])


# ---------------------------------------------------------------- the readable page


def test_the_readable_page_agrees_with_the_contract():
    page = PAGE_PATH.read_text(encoding="utf-8")
    sections = re.split(r"^### `([^`]+)`\s*$", page, flags=re.M)
    events_on_page = dict(zip(sections[1::2], sections[2::2], strict=True))

    assert set(events_on_page) == server_message_types()
    for event_type, section in events_on_page.items():
        rows = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
        assert rows == list(channel_messages("project")[event_type]["properties"]), event_type
    documented_codes = {r["close-code"] for _, r in refusal_cases() if r["close-code"] is not None}
    assert set(map(int, re.findall(r"\*\*(\d{4})\*\*", page))) == documented_codes
    assert "asyncapi.yaml" in page and "Authorization: Token <key>" in page
