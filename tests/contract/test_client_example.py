"""The README's Python client (examples/isomix_client.py) works against the running studio.

It runs as a user would run it, in a subprocess, against the product as ``make run`` starts it
(``studio_server``: runstudio and its workers): a generated song goes up, the client waits on the
project's WebSocket with its token, and the stems it writes are real audio of the song's length,
one per stem the project lists. A bad token ends it with the server's message. In-process, its
wait also survives a socket that is down at first, and stops on a refused one. The README shows
parts of the file, and they are the file's text, verbatim.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import requests
import soundfile as sf

from tests.audio import write_song

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "isomix_client.py"
README = REPO_ROOT / "README.md"
SONG_DURATION_S = 3.0
SAMPLE_RATE = 44_100
RUN_TIMEOUT_S = 300
PASSWORD = "Client-example-2024!"


@pytest.fixture(scope="module")
def client() -> Iterator[ModuleType]:
    """The example, imported from its file (``examples/`` is not a package)."""
    spec = importlib.util.spec_from_file_location("isomix_client", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def _token(studio_server) -> str:
    return studio_server.user_token(f"client-{uuid.uuid4().hex[:12]}", PASSWORD)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def _projects(base_url: str, token: str) -> list[dict]:
    response = requests.get(f"{base_url}/api/v1/projects/", headers={"Authorization": f"Token {token}"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["results"]


@pytest.mark.e2e
def test_the_example_uploads_waits_and_downloads_every_stem(studio_server, tmp_path: Path) -> None:
    # Given a user's token and a generated 3-s stereo song
    token = _token(studio_server)
    song = write_song(tmp_path / "song.wav", duration_s=SONG_DURATION_S, sr=SAMPLE_RATE)
    out = tmp_path / "stems"

    # When the example runs as the README says
    started = time.monotonic()
    run = _run("--url", studio_server.base_url, "--token", token, str(song), "--out", str(out))
    took_s = time.monotonic() - started
    print(f"the example took {took_s:.1f} s (upload, separation, download)")
    assert run.returncode == 0, f"{run.stderr}\n{studio_server.log()[-3000:]}"

    # Then it wrote one FLAC per stem of the project, printed their paths, and left no partial file
    (project,) = _projects(studio_server.base_url, token)
    detail = requests.get(
        f"{studio_server.base_url}/api/v1/projects/{project['id']}/",
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    ).json()
    assert detail["status"] == "ready"
    kinds = [stem["kind"] for stem in detail["stems"]]
    assert sorted(kinds) == ["bass", "drums", "other", "vocals"]
    assert sorted(path.name for path in out.iterdir()) == sorted(f"{kind}.flac" for kind in kinds)
    assert run.stdout.split() == [str(out / f"{kind}.flac") for kind in kinds]
    # And each is real audio of the song's length, with the song's rate and channels
    mix = np.zeros((int(SONG_DURATION_S * SAMPLE_RATE), 2))
    for kind in kinds:
        info = sf.info(out / f"{kind}.flac")
        assert (info.format, info.samplerate, info.channels) == ("FLAC", SAMPLE_RATE, 2)
        assert info.duration == pytest.approx(SONG_DURATION_S, abs=0.05)
        audio, _ = sf.read(out / f"{kind}.flac", dtype="float64", always_2d=True)
        mix[: len(audio)] += audio[: len(mix)]
    # The stems add back up to something like the song (not silence, not noise)
    original, _ = sf.read(song, dtype="float64", always_2d=True)
    residual = np.sqrt(np.mean((mix - original) ** 2)) / np.sqrt(np.mean(original**2))
    assert residual < 0.5, residual
    # The progress events it received went to stderr, ending with the separation done
    assert re.search(r"^separate: done 100%", run.stderr, re.M), run.stderr


@pytest.mark.e2e
def test_a_bad_token_exits_non_zero_with_the_servers_message(studio_server, tmp_path: Path) -> None:
    song = write_song(tmp_path / "song.wav", duration_s=SONG_DURATION_S, sr=SAMPLE_RATE)
    out = tmp_path / "stems"
    bad = "0" * 40
    refused = requests.get(
        f"{studio_server.base_url}/api/v1/projects/", headers={"Authorization": f"Token {bad}"}, timeout=30
    )
    assert refused.status_code == 401

    run = _run("--url", studio_server.base_url, "--token", bad, str(song), "--out", str(out))

    assert run.returncode == 1
    assert run.stderr.strip() == f"isomix_client: {refused.json()['message']}"
    assert run.stdout == ""
    assert not out.exists()


@pytest.mark.e2e
def test_the_wait_reads_rest_while_the_socket_is_down_and_again_on_connect(
    studio_server, tmp_path: Path, client: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an upload, and a socket that cannot connect the first time (a restart, a proxy)
    api = client.Api(studio_server.base_url, _token(studio_server))
    project = client.project_upload(api, write_song(tmp_path / "song.wav", duration_s=SONG_DURATION_S))
    calls: list[str] = []
    real_socket, real_get = client.Api.socket, client.project_get

    def flaky_socket(self, path: str):
        calls.append("socket")
        if calls.count("socket") == 1:
            raise ConnectionRefusedError("the studio is restarting")
        return real_socket(self, path)

    def counted_get(api, project_id: str):
        calls.append("rest")
        return real_get(api, project_id)

    monkeypatch.setattr(client.Api, "socket", flaky_socket)
    monkeypatch.setattr(client, "project_get", counted_get)

    # When the client waits on it
    ready = client.project_wait(api, project["id"], timeout_s=120)

    # Then it read REST while the socket was down; unless that read already saw the project
    # ready, it connected again and read REST first thing on that connection
    assert ready["status"] == "ready"
    assert calls[:2] == ["socket", "rest"]
    if len(calls) > 2:
        assert calls[2:4] == ["socket", "rest"]


@pytest.mark.e2e
def test_a_refused_socket_stops_the_wait_with_a_message(studio_server, client: ModuleType) -> None:
    # A project that is not the user's (here: none at all) is refused, as REST answers it 404
    api = client.Api(studio_server.base_url, _token(studio_server))

    with pytest.raises(client.ApiError) as refused:
        client.project_wait(api, str(uuid.uuid4()), timeout_s=30)

    assert refused.value.code == "socket_refused"
    assert refused.value.status == 403


# ---------------------------------------------------------------- the README


def _readme_section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_the_readme_shows_the_example_verbatim() -> None:
    section = _readme_section("Python client")
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    example = EXAMPLE.read_text()

    assert blocks, "the README's Python client section shows no code"
    for block in blocks:
        assert block in example, f"not in {EXAMPLE.name} verbatim:\n{block}"
    # The command line it gives is the example's own
    assert "python examples/isomix_client.py --url " in section
