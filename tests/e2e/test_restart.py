"""The embedded studio killed mid-separation (SIGKILL) finishes the job once it is started again."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.audio import write_song

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _env(var_dir: Path) -> dict[str, str]:
    # The embedded default, whatever the surrounding suite runs on.
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "ISOMIX_BROKER_URL")}
    return {**base, "ISOMIX_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "isomix.settings",
            "ISOMIX_SEPARATION_ENGINE": "offline"}  # fmt: skip


def _manage(var_dir: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=_env(var_dir), capture_output=True,
                            text=True, timeout=120, check=True)  # fmt: skip
    return result.stdout


def _start(var_dir: Path, port: int) -> subprocess.Popen:
    log = (var_dir / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runstudio", "--port", str(port)],
        cwd=ROOT, env=_env(var_dir), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError((var_dir / "server.log").read_text()[-3000:])


def _request(port: int, method: str, path: str, token: str, body: bytes = b"", ctype: str = "") -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}"}
    if ctype:
        headers["Content-Type"] = ctype
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return {**json.loads(response.read() or b"{}"), "http_status": response.status}


def test_killed_mid_job_resumes_after_restart(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    _manage(var_dir, "migrate", "--noinput")
    token = _manage(
        var_dir, "shell", "-c",
        "from django.contrib.auth.models import User; from rest_framework.authtoken.models import Token;"
        "print(Token.objects.create(user=User.objects.create_user('ada', password='x' * 20)).key)",
    ).strip().splitlines()[-1]  # fmt: skip
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    song = write_song(tmp_path / "song.flac", duration_s=150.0)
    boundary = "restart7e3"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="song.flac"\r\n\r\n'.encode()
            + song.read_bytes() + f"\r\n--{boundary}--\r\n".encode())  # fmt: skip

    server = _start(var_dir, port)
    try:
        created = _request(port, "POST", "/api/v1/projects/", token, body, f"multipart/form-data; boundary={boundary}")
        assert created["http_status"] == 202, created
        path = f"/api/v1/projects/{created['id']}/"
        deadline = time.monotonic() + 60
        while (job := _request(port, "GET", path, token)["jobs"][0])["state"] != "running":
            assert time.monotonic() < deadline, job
            time.sleep(0.05)
        os.killpg(server.pid, signal.SIGKILL)  # no clean-up, no goodbye
        server.wait(timeout=10)

        server = _start(var_dir, port)
        deadline = time.monotonic() + 120
        while (project := _request(port, "GET", path, token))["status"] not in ("ready", "failed"):
            assert time.monotonic() < deadline, project
            time.sleep(0.3)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=15)

    assert project["status"] == "ready", project
    job = project["jobs"][0]
    assert job["state"] == "done"
    assert [s["kind"] for s in project["stems"]] == ["vocals", "drums", "bass", "other"]
    stems = sorted(p.name for p in (var_dir / "media" / "stems" / created["id"]).iterdir())
    assert stems == ["bass.flac", "drums.flac", "other.flac", "vocals.flac"]  # once each, no leftovers
