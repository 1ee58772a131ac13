"""Real-browser test fixtures: the product as `make run` starts it, and headless Chromium.

The server is started in a subprocess exactly as a user would (`migrate`, then
`runstudio`), with its database and media in a temporary `ISOMIX_VAR_DIR`. The browser is
Debian's Chromium at /usr/bin/chromium, driven by Playwright; no browser is downloaded.
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

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
SERVER_START_TIMEOUT_S = 60
SERVER_STOP_TIMEOUT_S = 15
MIGRATE_TIMEOUT_S = 180
LOG_TAIL_CHARS = 20_000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the running product with headless Chromium")


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local URL)
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _log_tail(path: Path) -> str:
    if not path.exists():
        return "(no server log)"
    text = path.read_text(errors="replace")
    return text[-LOG_TAIL_CHARS:]


class StudioServer:
    """A running `manage.py runstudio`: its base URL and its log file."""

    def __init__(self, base_url: str, log_path: Path, var_dir: Path) -> None:
        self.base_url = base_url
        self.log_path = log_path
        self.var_dir = var_dir

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def log(self) -> str:
        return _log_tail(self.log_path)


_SERVER_LOGS: list[Path] = []


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioServer]:
    """Start the product like `make run` does and yield it once `GET /health` answers 200."""
    var_dir = tmp_path_factory.mktemp("isomix-var")
    log_path = var_dir / "server.log"
    _SERVER_LOGS.append(log_path)
    env = {
        **os.environ,
        "ISOMIX_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "isomix.settings",
        "PYTHONUNBUFFERED": "1",
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
                log_tail = _log_tail(log_path)
                pytest.fail(f"runstudio exited with {process.returncode} before /health answered:\n{log_tail}")
            if time.monotonic() > deadline:
                pytest.fail(f"/health did not answer 200 within {SERVER_START_TIMEOUT_S} s:\n{_log_tail(log_path)}")
            time.sleep(0.25)
        yield StudioServer(base_url, log_path, var_dir)
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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # noqa: ARG001
    """Attach the server's log to a failed browser test's report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and "studio_server" in getattr(item, "fixturenames", ()) and _SERVER_LOGS:
        report.sections.append(("isomix server log (tail)", _log_tail(_SERVER_LOGS[-1])))


@pytest.fixture(scope="module")
def chromium_browser():
    """Headless Debian Chromium through Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install the Debian package `chromium` (the setup script does).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class BrowserErrors(list):
    """Uncaught JavaScript errors seen on the test's pages (a test asserts there are none)."""


@pytest.fixture
def page_errors() -> BrowserErrors:
    return BrowserErrors()


@pytest.fixture
def new_page(chromium_browser, studio_server: StudioServer, page_errors: BrowserErrors):
    """Open a page in a fresh browser context (one user each); all are closed after the test.

    Console output is printed (pytest shows it for a failed test); uncaught page errors are
    collected in `page_errors`.
    """
    contexts = []

    def open_page():
        context = chromium_browser.new_context(base_url=studio_server.base_url, accept_downloads=True)
        context.set_default_timeout(15_000)
        context.set_default_navigation_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: print(f"[browser {message.type}] {message.text}"))
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        return page

    yield open_page
    for context in contexts:
        context.close()
