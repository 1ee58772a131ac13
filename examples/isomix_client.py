"""A typed client of IsoMix Studio: upload a song, wait on its WebSocket, download its stems.

    python examples/isomix_client.py --url http://127.0.0.1:8000 --token TOKEN song.wav --out stems/

Get a token with ``POST /api/v1/auth/token/`` (username and password); ``--token`` may be left
out when ``ISOMIX_TOKEN`` holds it. Prints the path of each stem it wrote; on an error, prints the
server's message and exits with 1. Needs ``requests`` and ``websockets`` (`make test` installs both).

The REST API is the source of truth and the socket only says when to look (docs/websocket.md):
the client re-reads the project over REST every time the socket (re)connects, since events sent
while it was down are lost, and every 15 s while it is up, since one can be dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.sync.connection import Connection
from websockets.typing import Origin

HTTP_TIMEOUT_S = 60.0  # connect, and then each read: not the whole transfer
RESYNC_S = 15.0  # re-read REST this often while the socket is quiet
RECONNECT_FIRST_S, RECONNECT_MAX_S = 1.0, 30.0  # the socket's retry delay doubles between these
CHUNK_BYTES = 256 * 1024
SOCKET_REFUSED = "The studio refused the project's WebSocket: the project is gone, or {url} is not an allowed host."

ProjectStatus = Literal["pending", "processing", "ready", "failed"]
JobState = Literal["queued", "running", "done", "failed", "cancelled"]
FINAL_STATUSES: tuple[ProjectStatus, ...] = ("ready", "failed")
FINAL_JOB_STATES: tuple[JobState, ...] = ("done", "failed", "cancelled")


class ErrorBody(TypedDict):
    """Every API error: ``{"code", "message", "extra"}``; ``message`` is meant for people."""

    code: str
    message: str
    extra: dict[str, Any]


class Job(TypedDict):
    id: str
    kind: str
    state: JobState
    progress: int
    stage: str
    user_error: str
    engine: str
    model_name: str
    started_at: str | None
    finished_at: str | None
    duration_s: float | None


class Stem(TypedDict):
    kind: str
    duration_s: float
    download_url: str  # a path: the lossless FLAC, through a redirect to a signed link
    preview_url: str
    peaks_url: str


class Project(TypedDict):
    id: str
    name: str
    status: ProjectStatus
    error: str
    original_filename: str
    format: str
    duration_s: float
    sample_rate: int
    channels: int
    size_bytes: int
    sha256: str
    engine: str
    engine_label: str
    model_name: str
    created_at: str
    updated_at: str
    expires_at: str | None
    jobs: list[Job]
    stems: list[Stem]


class JobProgress(TypedDict):
    """The one event type of ``/ws/projects/{id}/``."""

    type: Literal["job.progress"]
    project: str
    job: str
    kind: str
    state: JobState
    progress: int
    stage: str
    project_status: ProjectStatus
    user_error: str


class ApiError(Exception):
    """The studio said no (``code``/``message`` of the error body), or could not be used."""

    def __init__(self, message: str, *, code: str = "error", status: int | None = None) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


@dataclass
class Api:
    """A studio at ``base_url`` (``http://host:port``), used with one API token."""

    base_url: str
    token: str
    http: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        # requests drops this header when a redirect leaves the host (a presigned S3 link
        # refuses a second credential), and keeps it on the studio's own signed links.
        self.http.headers["Authorization"] = f"Token {self.token}"

    def url(self, path: str) -> str:
        return urljoin(self.base_url + "/", path)

    def socket(self, path: str) -> ClientConnection:
        parts = urlsplit(self.base_url)
        return connect(
            urlunsplit(("wss" if parts.scheme == "https" else "ws", parts.netloc, path, "", "")),
            additional_headers={"Authorization": f"Token {self.token}"},
            # The studio checks every socket's Origin against its own hosts, token or not.
            origin=Origin(f"{parts.scheme}://{parts.netloc}"),
            open_timeout=HTTP_TIMEOUT_S,
        )


def checked(response: requests.Response) -> requests.Response:
    """``response`` if it is a success, else :class:`ApiError` with the server's message."""
    if response.ok:
        return response
    try:
        body: ErrorBody = response.json()
        message, code = body["message"], body["code"]
    except (ValueError, KeyError, TypeError):  # not the house shape (a proxy's page)
        message, code = f"HTTP {response.status_code} from {response.url}", "error"
    raise ApiError(message, code=code, status=response.status_code)


def project_upload(api: Api, song: Path) -> Project:
    """Upload ``song``; the answer (202) is the new project, its separation queued."""
    with song.open("rb") as file:
        response = api.http.post(
            api.url("/api/v1/projects/"), files={"file": (song.name, file)}, timeout=HTTP_TIMEOUT_S
        )
    project: Project = checked(response).json()
    return project


def project_get(api: Api, project_id: str) -> Project:
    response = api.http.get(api.url(f"/api/v1/projects/{project_id}/"), timeout=HTTP_TIMEOUT_S)
    project: Project = checked(response).json()
    return project


def project_wait(api: Api, project_id: str, *, timeout_s: float) -> Project:
    """The project once it is ``ready`` or ``failed``, followed on its socket (REST when it is down)."""
    deadline = time.monotonic() + timeout_s
    delay_s = RECONNECT_FIRST_S
    while True:
        try:
            with api.socket(f"/ws/projects/{project_id}/") as socket:
                delay_s = RECONNECT_FIRST_S
                project = project_get(api, project_id)  # what happened while the socket was down
                while project["status"] not in FINAL_STATUSES:
                    if look_again(socket, deadline=deadline):
                        project = project_get(api, project_id)
                return project
        except InvalidStatus as exc:
            if exc.response.status_code == 403:  # a refusal (the consumer's close, before the handshake)
                raise ApiError(SOCKET_REFUSED.format(url=api.base_url), code="socket_refused", status=403) from exc
        except (OSError, InvalidHandshake, ConnectionClosed):
            pass  # the socket is down (a restart, a proxy): REST still answers
        project = project_get(api, project_id)
        if project["status"] in FINAL_STATUSES:
            return project
        time.sleep(min(delay_s, seconds_left(deadline)))
        delay_s = min(2 * delay_s, RECONNECT_MAX_S)


def look_again(socket: Connection, *, deadline: float) -> bool:
    """Wait for the next event (shown on stderr). True when the project is to be read again: a job
    or the project is finished, or ``RESYNC_S`` passed without an event (one can be dropped)."""
    try:
        event: JobProgress = json.loads(socket.recv(timeout=min(RESYNC_S, seconds_left(deadline))))
    except TimeoutError:
        return True
    print(f"{event['kind']}: {event['state']} {event['progress']}% {event['stage']}".rstrip(), file=sys.stderr)
    return event["state"] in FINAL_JOB_STATES or event["project_status"] in FINAL_STATUSES


def seconds_left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise ApiError("The project was not ready in time.", code="timeout")
    return left


def stems_download(api: Api, project: Project, out: Path) -> list[Path]:
    """Write each stem of ``project`` to ``out/<kind>.flac``, whole or not at all."""
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for stem in project["stems"]:
        path = out / f"{stem['kind']}.flac"
        partial = path.with_name(path.name + ".part")
        # The API redirects to a short-lived signed link; requests follows it.
        with api.http.get(api.url(stem["download_url"]), stream=True, timeout=HTTP_TIMEOUT_S) as response:
            checked(response)
            with partial.open("wb") as file:
                for chunk in response.iter_content(CHUNK_BYTES):
                    file.write(chunk)
        partial.replace(path)
        paths.append(path)
    return paths


def separate(api: Api, song: Path, *, out: Path, timeout_s: float) -> list[Path]:
    """Upload ``song``, wait for its stems and download them into ``out``."""
    project = project_wait(api, project_upload(api, song)["id"], timeout_s=timeout_s)
    if project["status"] == "failed":
        raise ApiError(project["error"] or "The separation failed.", code="failed")
    return stems_download(api, project, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Separate a song into stems with IsoMix Studio.")
    parser.add_argument("--url", required=True, help="the studio, e.g. http://127.0.0.1:8000")
    token = os.environ.get("ISOMIX_TOKEN")
    parser.add_argument("--token", default=token, required=token is None, help="an API token (or ISOMIX_TOKEN)")
    parser.add_argument("song", type=Path, help="the song to upload")
    parser.add_argument("--out", type=Path, required=True, help="the folder for the stems")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the stems (600)")
    args = parser.parse_args(argv)
    try:
        paths = separate(Api(args.url, args.token), args.song, out=args.out, timeout_s=args.timeout)
    except ApiError as exc:
        print(f"isomix_client: {exc.message}", file=sys.stderr)
        return 1
    except requests.ConnectionError:
        print(f"isomix_client: cannot reach {args.url}", file=sys.stderr)
        return 1
    except (requests.RequestException, OSError) as exc:  # a timeout, a local file
        print(f"isomix_client: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
