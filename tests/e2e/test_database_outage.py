"""PostgreSQL stopped under a running web process: /health answers 503, then recovers."""

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

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(port: int) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/health")
    response = conn.getresponse()
    return response.status, json.loads(response.read())


def _wait_health(port: int, status: int, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            got, body = _health(port)
            if got == status:
                return body
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"/health did not answer {status} within {timeout_s} s")
        time.sleep(0.3)


def test_health_is_503_while_postgres_is_down_and_recovers(tmp_path):
    services = tmp_path / "services"
    env_ports = {"ISOMIX_TEST_PG_PORT": str(_port()), "ISOMIX_TEST_REDIS_PORT": str(_port())}
    script = [str(ROOT / "scripts" / "services.sh")]

    def services_cmd(action: str) -> str:
        return subprocess.run(["bash", *script, action, str(services)], env={**os.environ, **env_ports},
                              capture_output=True, text=True, timeout=120, check=True).stdout  # fmt: skip

    exports = dict(line.removeprefix("export ").split("=", 1) for line in services_cmd("start").splitlines())
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "ISOMIX_BROKER_URL")}
    env = {**base, "DATABASE_URL": exports["DATABASE_URL"], "ISOMIX_VAR_DIR": str(tmp_path / "var"),
           "DJANGO_SETTINGS_MODULE": "isomix.settings"}  # fmt: skip
    port = _port()
    server = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=120)  # fmt: skip
        log = (tmp_path / "server.log").open("wb")
        server = subprocess.Popen([sys.executable, "manage.py", "runstudio", "--no-worker", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)  # fmt: skip
        _wait_health(port, 200, 60)

        services_cmd("stop")
        down = _wait_health(port, 503, 30)
        services_cmd("start")
        up = _wait_health(port, 200, 60)
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=15)
        services_cmd("destroy")

    assert down["checks"]["database"]["status"] == "error"
    assert down["checks"]["storage"]["status"] == "ok"
    assert up["checks"]["database"]["status"] == "ok"
