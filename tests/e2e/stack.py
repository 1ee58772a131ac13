"""The production stack on loopback for fault tests: PostgreSQL, Redis, a web process, workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.audio import write_song
from tests.e2e.test_database_outage import _port, _wait_health
from tests.e2e.test_restart import _request

ROOT = Path(__file__).resolve().parents[2]


class Stack:
    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.tmp = tmp_path
        self.services = tmp_path / "services"
        self.ports = {"ISOMIX_TEST_PG_PORT": str(_port()), "ISOMIX_TEST_REDIS_PORT": str(_port())}
        self.processes: list[subprocess.Popen] = []
        urls = dict(line.removeprefix("export ").split("=", 1) for line in self.services_cmd("start").splitlines())
        self.env = {**{k: v for k, v in os.environ.items() if k != "ISOMIX_BROKER_URL"}, **urls,
                    "ISOMIX_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "isomix.settings",
                    "ISOMIX_SEPARATION_ENGINE": "offline", **env}  # fmt: skip
        self.manage("migrate", "--noinput")
        self.token = self.manage("shell", "-c", "from django.contrib.auth.models import User;"
                                 "from rest_framework.authtoken.models import Token;"
                                 "print(Token.objects.create(user=User.objects.create_user('ada', password='x' * 20))"
                                 ".key)").strip().splitlines()[-1]  # fmt: skip
        self.port = _port()
        self.spawn("runstudio", "--no-worker", "--port", str(self.port), log="web.log")
        _wait_health(self.port, 200, 60)

    def services_cmd(self, action: str) -> str:
        return subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), action, str(self.services)],
                              env={**os.environ, **self.ports}, capture_output=True, text=True, timeout=120,
                              check=True).stdout  # fmt: skip

    def manage(self, *args: str) -> str:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=120, check=True).stdout  # fmt: skip

    def spawn(self, *args: str, log: str) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                                   stdout=(self.tmp / log).open("wb"), stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
        self.processes.append(process)
        return process

    def upload(self, *, duration_s: float, seed: int = 0) -> str:
        song = write_song(self.tmp / f"song{seed}.flac", duration_s=duration_s, seed=seed)
        boundary = "stack5f"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="song.flac"\r\n\r\n'
                .encode() + song.read_bytes() + f"\r\n--{boundary}--\r\n".encode())  # fmt: skip
        created = self.api("POST", "/api/v1/projects/", body, f"multipart/form-data; boundary={boundary}")
        assert created["http_status"] == 202, created
        return created["id"]

    def api(self, method: str, path: str, body: bytes = b"", ctype: str = "") -> dict:
        return _request(self.port, method, path, self.token, body, ctype)

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
        self.services_cmd("destroy")
