"""Production path: a Dramatiq worker SIGKILLed mid-separation; a new worker finishes the job once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.audio import write_song
from tests.e2e.test_database_outage import _port, _wait_health
from tests.e2e.test_restart import _request

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def test_killed_worker_job_completes_on_a_new_worker(tmp_path):
    services = tmp_path / "services"
    ports = {"ISOMIX_TEST_PG_PORT": str(_port()), "ISOMIX_TEST_REDIS_PORT": str(_port())}

    def services_cmd(action: str) -> str:
        return subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), action, str(services)],
                              env={**os.environ, **ports}, capture_output=True, text=True, timeout=120,
                              check=True).stdout  # fmt: skip

    urls = dict(line.removeprefix("export ").split("=", 1) for line in services_cmd("start").splitlines())
    env = {**{k: v for k, v in os.environ.items() if k != "ISOMIX_BROKER_URL"}, **urls,
           "ISOMIX_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "isomix.settings",
           "ISOMIX_SEPARATION_ENGINE": "offline", "ISOMIX_JOB_STALE_AFTER_S": "3"}  # fmt: skip

    def manage(*args: str) -> str:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120, check=True).stdout  # fmt: skip

    def spawn(*args: str, log: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                                stdout=(tmp_path / log).open("wb"), stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip

    processes: list[subprocess.Popen] = []
    try:
        manage("migrate", "--noinput")
        token = manage("shell", "-c", "from django.contrib.auth.models import User;"
                       "from rest_framework.authtoken.models import Token;"
                       "print(Token.objects.create(user=User.objects.create_user('ada', password='x' * 20)).key)",
                       ).strip().splitlines()[-1]  # fmt: skip
        port = _port()
        processes.append(spawn("runstudio", "--no-worker", "--port", str(port), log="web.log"))
        _wait_health(port, 200, 60)
        first = spawn("rundramatiq", "--queues", "gpu", "cpu", log="worker1.log")
        processes.append(first)
        song = write_song(tmp_path / "song.flac", duration_s=150.0)
        boundary = "kill9b"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="song.flac"\r\n\r\n'
                .encode() + song.read_bytes() + f"\r\n--{boundary}--\r\n".encode())  # fmt: skip
        created = _request(port, "POST", "/api/v1/projects/", token, body, f"multipart/form-data; boundary={boundary}")
        assert created["http_status"] == 202, created
        path = f"/api/v1/projects/{created['id']}/"
        deadline = time.monotonic() + 90
        while _request(port, "GET", path, token)["jobs"][0]["state"] != "running":
            assert time.monotonic() < deadline, (tmp_path / "worker1.log").read_text()[-2000:]
            time.sleep(0.05)

        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        processes.append(spawn("rundramatiq", "--queues", "gpu", "cpu", log="worker2.log"))
        time.sleep(4)  # past ISOMIX_JOB_STALE_AFTER_S: the dead worker's job stopped heartbeating
        swept = manage("housekeeping")
        deadline = time.monotonic() + 120
        while (project := _request(port, "GET", path, token))["status"] not in ("ready", "failed"):
            assert time.monotonic() < deadline, project
            time.sleep(0.3)
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
        services_cmd("destroy")

    assert "'requeued': 1" in swept
    assert project["status"] == "ready", project
    assert project["jobs"][0]["state"] == "done"
    stems = sorted(p.name for p in (tmp_path / "var" / "media" / "stems" / created["id"]).iterdir())
    assert stems == ["bass.flac", "drums.flac", "other.flac", "vocals.flac"]
