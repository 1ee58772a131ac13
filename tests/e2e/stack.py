"""The product as real processes on loopback, for end-to-end and fault tests.

``Stack(tmp_path)`` is the production path: throw-away PostgreSQL and Redis servers
(``scripts/services.sh``) and a web process without a worker (tests spawn workers).
``Stack(tmp_path, embedded=True)`` is ``make run``: SQLite, the SQLite broker, and
``runstudio`` with its in-process worker.
"""

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

from tests.audio import write_song

ROOT = Path(__file__).resolve().parents[2]
STEMS = ["bass.flac", "drums.flac", "other.flac", "vocals.flac"]
_PRODUCTION_VARS = ("DATABASE_URL", "REDIS_URL", "ISOMIX_BROKER_URL")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, token: str = "", body: bytes = b"", ctype: str = "") -> dict:
    """An HTTP call to the studio; the JSON answer with its status under ``http_status``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}"} if token else {}
    if ctype:
        headers["Content-Type"] = ctype
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return {**json.loads(response.read() or b"{}"), "http_status": response.status}


def wait_health(port: int, status: int, timeout_s: float) -> dict:
    """Wait until ``GET /health`` answers ``status``; return its body."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            body = request(port, "GET", "/health")
            if body["http_status"] == status:
                return body
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"/health did not answer {status} within {timeout_s} s")
        time.sleep(0.3)


class Stack:
    def __init__(self, tmp_path: Path, *, embedded: bool = False, **env: str) -> None:
        self.tmp = tmp_path
        self.embedded = embedded
        self.services = tmp_path / "services"
        self.ports = {"ISOMIX_TEST_PG_PORT": str(free_port()), "ISOMIX_TEST_REDIS_PORT": str(free_port())}
        self.processes: list[subprocess.Popen] = []
        urls = {}
        if not embedded:
            urls = dict(line.removeprefix("export ").split("=", 1) for line in self.services_cmd("start").splitlines())
        self.env = {**{k: v for k, v in os.environ.items() if k not in _PRODUCTION_VARS}, **urls,
                    "ISOMIX_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "isomix.settings",
                    "ISOMIX_SEPARATION_ENGINE": "offline", **env}  # fmt: skip
        self.manage("migrate", "--noinput")
        self.token = self.manage("shell", "-c", "from django.contrib.auth.models import User;"
                                 "from rest_framework.authtoken.models import Token;"
                                 "print(Token.objects.create(user=User.objects.create_user('ada', password='x' * 20))"
                                 ".key)").strip().splitlines()[-1]  # fmt: skip
        self.port = free_port()
        self.web = self.start_web()

    def start_web(self) -> subprocess.Popen:
        """The web process (with its worker when embedded), once /health answers 200."""
        args = ["runstudio", "--port", str(self.port)] + ([] if self.embedded else ["--no-worker"])
        web = self.spawn(*args, log="web.log")
        wait_health(self.port, 200, 60)
        return web

    def services_cmd(self, action: str) -> str:
        return subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), action, str(self.services)],
                              env={**os.environ, **self.ports}, capture_output=True, text=True, timeout=120,
                              check=True).stdout  # fmt: skip

    def manage(self, *args: str) -> str:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=120, check=True).stdout  # fmt: skip

    def spawn(self, *args: str, log: str) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                                   stdout=(self.tmp / log).open("ab"), stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
        self.processes.append(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        """SIGKILL the process and what it started: no clean-up, no goodbye."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def upload(self, *, duration_s: float, seed: int = 0) -> str:
        song = write_song(self.tmp / f"song{seed}.flac", duration_s=duration_s, seed=seed)
        boundary = "stack5f"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="song.flac"\r\n\r\n'
                .encode() + song.read_bytes() + f"\r\n--{boundary}--\r\n".encode())  # fmt: skip
        created = self.api("POST", "/api/v1/projects/", body, f"multipart/form-data; boundary={boundary}")
        assert created["http_status"] == 202, created
        return created["id"]

    def api(self, method: str, path: str, body: bytes = b"", ctype: str = "") -> dict:
        return request(self.port, method, path, self.token, body, ctype)

    def project(self, project_id: str) -> dict:
        return self.api("GET", f"/api/v1/projects/{project_id}/")

    def wait_running(self, project_id: str, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while self.project(project_id)["jobs"][0]["state"] != "running":
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)

    def wait_finished(self, project_id: str, timeout_s: float = 120) -> dict:
        deadline = time.monotonic() + timeout_s
        while (project := self.project(project_id))["status"] not in ("ready", "failed"):
            assert time.monotonic() < deadline, project
            time.sleep(0.3)
        return project

    def stem_files(self, project_id: str) -> list[str]:
        return sorted(p.name for p in (self.tmp / "var" / "media" / "stems" / project_id).iterdir())

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
        if not self.embedded:
            self.services_cmd("destroy")
