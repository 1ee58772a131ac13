"""The product as `make run` starts it, in a subprocess, for tests that drive it over HTTP.

The server is started exactly as a user would (`migrate`, then `runstudio`, workers
included), with its database and media in a temporary `ISOMIX_VAR_DIR`. The browser tests
and the API contract tests use it; `studio_server` is their session fixture.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVER_START_TIMEOUT_S = 60
SERVER_STOP_TIMEOUT_S = 15
MIGRATE_TIMEOUT_S = 180
LOG_TAIL_CHARS = 20_000


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local URL)
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def log_tail(path: Path) -> str:
    if not path.exists():
        return "(no server log)"
    text = path.read_text(errors="replace")
    return text[-LOG_TAIL_CHARS:]


class StudioServer:
    """A running `manage.py runstudio`: its base URL and its log file."""

    def __init__(self, base_url: str, log_path: Path, var_dir: Path, env: dict[str, str]) -> None:
        self.base_url = base_url
        self.log_path = log_path
        self.var_dir = var_dir
        self.env = env

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def log(self) -> str:
        return log_tail(self.log_path)

    def manage(self, *args: str, timeout_s: float = MIGRATE_TIMEOUT_S) -> str:
        """Run ``manage.py`` on this server's database and media; its stdout."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result.stdout

    def user_token(self, username: str, password: str, *, plan: str = "free") -> str:
        """A new user of this server (on ``plan``, as an operator assigns it) and their API token."""
        code = (
            "from django.contrib.auth.models import User;"
            "from rest_framework.authtoken.models import Token;"
            "from business.models import Account, Plan;"
            f"user = User.objects.create_user({username!r}, password={password!r});"
            f"plan = Plan.objects.get(slug={plan!r});"
            "Account.objects.create(user=user, plan=None if plan.is_default else plan, applied_plan=plan);"
            "print(Token.objects.create(user=user).key)"
        )
        return self.manage("shell", "-c", code).strip().splitlines()[-1]


SERVER_LOGS: list[Path] = []


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioServer]:
    """Start the product like `make run` does and yield it once `GET /health` answers 200."""
    var_dir = tmp_path_factory.mktemp("isomix-var")
    log_path = var_dir / "server.log"
    SERVER_LOGS.append(log_path)
    env = {
        **os.environ,
        "ISOMIX_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "isomix.settings",
        "PYTHONUNBUFFERED": "1",
        # The pages' tests upload many songs to one worker: their lyrics are made when a test asks
        # (tests/e2e runs the automatic transcription end to end).
        "ISOMIX_LYRICS_AUTO": "0",
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=MIGRATE_TIMEOUT_S,
        check=False,
    )
    if migrate.returncode != 0:
        pytest.fail(f"migrate failed ({migrate.returncode}):\n{migrate.stdout}\n{migrate.stderr}")

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        # Its own session, so that stopping it also stops the workers it starts.
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runstudio", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _health_ok(f"{base_url}/health"):
            if process.poll() is not None:
                tail = log_tail(log_path)
                pytest.fail(f"runstudio exited with {process.returncode} before /health answered:\n{tail}")
            if time.monotonic() > deadline:
                pytest.fail(f"/health did not answer 200 within {SERVER_START_TIMEOUT_S} s:\n{log_tail(log_path)}")
            time.sleep(0.25)
        yield StudioServer(base_url, log_path, var_dir, env)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=SERVER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=SERVER_STOP_TIMEOUT_S)
