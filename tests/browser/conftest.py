"""Real-browser test fixtures: the product as `make run` starts it, and headless Chromium.

The server is tests/live_server.py's `studio_server` (`migrate`, then `runstudio`, in a
temporary `ISOMIX_VAR_DIR`). The browser is Debian's Chromium at /usr/bin/chromium, driven
by Playwright; no browser is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live_server import SERVER_LOGS, StudioServer, log_tail

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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the running product with headless Chromium")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # noqa: ARG001
    """Attach the server's log to a failed browser test's report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and "studio_server" in getattr(item, "fixturenames", ()) and SERVER_LOGS:
        report.sections.append(("isomix server log (tail)", log_tail(SERVER_LOGS[-1])))


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


def watched_page(context, page_errors: BrowserErrors):
    """A new page of ``context`` (15 s default timeout): console output printed (pytest shows it
    for a failed test), uncaught page errors collected in ``page_errors``."""
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("console", lambda message: print(f"[browser {message.type}] {message.text}"))
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    return page


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
        context.set_default_navigation_timeout(30_000)
        contexts.append(context)
        return watched_page(context, page_errors)

    yield open_page
    for context in contexts:
        # A route handler still running (the page polls) would fail once its page is gone, and
        # its error would surface in the next test: drop the handlers first, ignoring theirs.
        for page in context.pages:
            page.unroute_all(behavior="ignoreErrors")
        context.unroute_all(behavior="ignoreErrors")
        context.close()
