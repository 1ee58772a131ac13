"""The product as real processes on loopback, and the clients that talk to it.

One helper for the benchmarks (``bench.run``) and the end-to-end and fault tests
(``tests/e2e/stack.py`` adds uploads of rendered songs):

- ``Stack(workdir)`` is the production path: throw-away PostgreSQL and Redis servers
  (``scripts/services.sh``) and a web process without a worker (callers spawn workers).
- ``Stack(workdir, compose=True)``: the same, with the web processes exactly as
  ``compose.yaml``'s ``web`` service starts them (:func:`compose_web_command`).
- ``Stack(workdir, embedded=True)`` is ``make run``: SQLite, the SQLite broker, and
  ``runstudio`` with its in-process worker (``worker=False`` leaves it out).

No Django here: the stack drives ``manage.py`` in subprocesses, and this module stays
importable before Django is set up (``tests/helpers.py`` takes :func:`free_port` from it).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
#: What points a process at PostgreSQL and Redis; left out of an embedded stack's environment.
PRODUCTION_VARS = ("DATABASE_URL", "REDIS_URL", "ISOMIX_BROKER_URL")
USERNAME = "ada"
#: What a worker consumes in compose.yaml (the gpu and the cpu worker's queues, each with its
#: priority twin), for the one worker process a test or bench stack runs.
WORKER_QUEUES = ("gpu", "gpu-priority", "cpu", "cpu-priority")

#: The stack's user, on Pro (the largest uploads, the most jobs at once), and its API token.
_TOKEN_SEED = (
    "from django.contrib.auth.models import User;"
    "from rest_framework.authtoken.models import Token;"
    "from business.models import Account, Plan;"
    f"user = User.objects.create_user({USERNAME!r}, password='x' * 20);"
    "Account.objects.create(user=user, plan=Plan.objects.get(slug='pro'), applied_plan=Plan.objects.get(slug='pro'));"
    "print(Token.objects.create(user=user).key)"
)


# ---------------------------------------------------------------- clients


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def multipart_post(url: str, *, token: str, filename: str, payload: bytes) -> tuple[int, float]:
    """POST ``payload`` as the upload form's file; the status and the seconds until the whole answer was read."""
    boundary = "isomixbench7d1f"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: audio/mpeg\r\n\r\n"
    ).encode()
    body = head + payload + f"\r\n--{boundary}--\r\n".encode()
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    start = time.perf_counter()
    conn.request(
        "POST",
        parts.path,
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Authorization": f"Token {token}"},
    )
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - start
    conn.close()
    return response.status, elapsed


# ---------------------------------------------------------------- processes


def compose_web_command(*, port: int) -> tuple[list[str], dict[str, str]]:
    """``compose.yaml``'s web command and its ``ISOMIX_WEB_PROCESSES``, on 127.0.0.1:``port`` here.

    Read from the file, so that the bench measures what production runs. ``${VAR:-default}``
    takes the variable from this environment, else the default, as compose does.
    """
    import yaml

    web = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["web"]

    def value(text: str) -> str:
        return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: os.environ.get(m[1]) or m[2], str(text))

    command = [value(part) for part in web["command"]]
    command[0] = sys.executable if command[0] == "python" else command[0]
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    return command, {"ISOMIX_WEB_PROCESSES": value(web["environment"]["ISOMIX_WEB_PROCESSES"])}


class Stack:
    """The studio's processes on loopback: a migrated database, one user with an API token, a web process.

    Logs go to ``workdir`` (``web.log``, one file per spawned process); the services' data
    to ``workdir / "services"``; the studio's var folder (SQLite, media) to ``var_dir``
    (default ``workdir / "var"``). Variables in ``env`` override the stack's own
    (``ISOMIX_SEPARATION_ENGINE`` is ``offline`` unless given). Every process the stack
    starts is in a session of its own and is stopped by :meth:`close`, which a caller
    must call; a stack that fails to start closes itself.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        embedded: bool = False,
        worker: bool | None = None,
        compose: bool = False,
        var_dir: Path | None = None,
        **env: str,
    ) -> None:
        if compose and embedded:
            raise ValueError("compose runs the web tier on PostgreSQL and Redis, not embedded")
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.embedded = embedded
        self.worker = embedded if worker is None else worker
        self.compose = compose
        self.var_dir = var_dir or workdir / "var"
        self.services = workdir / "services"
        self.ports = {"ISOMIX_TEST_PG_PORT": str(free_port()), "ISOMIX_TEST_REDIS_PORT": str(free_port())}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        #: With ``compose``, how many web processes compose's command starts.
        self.web_processes = 1
        self.processes: list[subprocess.Popen] = []
        self.web: subprocess.Popen | None = None
        urls = {}
        if not embedded:
            urls = dict(line.removeprefix("export ").split("=", 1) for line in self.services_cmd("start").splitlines())
        self.env = {**{k: v for k, v in os.environ.items() if k not in PRODUCTION_VARS}, **urls,
                    "ISOMIX_VAR_DIR": str(self.var_dir), "DJANGO_SETTINGS_MODULE": "isomix.settings",
                    "ISOMIX_SEPARATION_ENGINE": "offline", **env}  # fmt: skip
        try:
            self.manage("migrate", "--noinput")
            self.token = self.manage("shell", "-c", _TOKEN_SEED).strip().splitlines()[-1]
            self.web = self.start_web()
        except BaseException:  # a half-started stack would keep its servers (and the next run's data) behind
            self.close()
            raise

    def start_web(self) -> subprocess.Popen:
        """The web process (with its worker when ``worker``), once /health answers 200."""
        if self.compose:
            command, web_env = compose_web_command(port=self.port)
            self.web_processes = int(web_env["ISOMIX_WEB_PROCESSES"])
            web = self.popen(command, log="web.log", env={**self.env, **web_env})
        else:
            web = self.spawn("runstudio", "--port", str(self.port), *([] if self.worker else ["--no-worker"]),
                             log="web.log")  # fmt: skip
        wait_health(self.port, 200, 60)
        return web

    def services_cmd(self, action: str) -> str:
        """``scripts/services.sh ACTION`` on this stack's services (``start``, ``stop``, ``destroy``)."""
        return subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), action, str(self.services)],
                              env={**os.environ, **self.ports}, capture_output=True, text=True, timeout=120,
                              check=True).stdout  # fmt: skip

    def manage(self, *args: str) -> str:
        """``manage.py ARGS`` on this stack's settings, to completion; its standard output."""
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=120, check=False)  # fmt: skip
        if done.returncode != 0:  # what it said, in the failure: a bare exit status tells nothing
            raise RuntimeError(f"manage.py {' '.join(args)} exited {done.returncode}:\n{done.stderr[-4000:]}")
        return done.stdout

    def spawn(self, *args: str, log: str) -> subprocess.Popen:
        """``manage.py ARGS`` in the background, output appended to ``workdir / log``; stopped by :meth:`close`."""
        return self.popen([sys.executable, "manage.py", *args], log=log)

    def popen(self, command: list[str], *, log: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """``command`` in the background, in its own session, on ``env`` (default the stack's); see :meth:`spawn`."""
        with (self.workdir / log).open("ab") as out:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(command, cwd=ROOT, env=env or self.env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)  # fmt: skip
        self.processes.append(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        """SIGKILL the process and what it started: no clean-up, no goodbye."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    @staticmethod
    def stop(process: subprocess.Popen, *, timeout_s: float = 30) -> None:
        """SIGTERM the process and what it started (a supervisor and its web processes); SIGKILL if slow."""
        if process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            Stack.kill(process)

    def api(self, method: str, path: str, body: bytes = b"", ctype: str = "") -> dict:
        return request(self.port, method, path, self.token, body, ctype)

    def upload_file(self, song: Path) -> str:
        """Upload ``song`` through the API as this stack's user; the new project's id."""
        boundary = "stack5f"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{song.name}"\r\n\r\n'
                .encode() + song.read_bytes() + f"\r\n--{boundary}--\r\n".encode())  # fmt: skip
        created = self.api("POST", "/api/v1/projects/", body, f"multipart/form-data; boundary={boundary}")
        assert created["http_status"] == 202, created
        return created["id"]

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
        return sorted(p.name for p in (self.var_dir / "media" / "stems" / project_id).iterdir())

    def close(self) -> None:
        for process in self.processes:
            self.stop(process)
        if not self.embedded:
            self.services_cmd("destroy")
