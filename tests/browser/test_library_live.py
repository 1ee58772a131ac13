"""The library in a real browser: rows follow their project live, and the page fits a phone.

- A song uploaded in one tab appears in the library open in another, shows its progress, and
  turns Ready with a link to the mixer: a real upload, separated by the product's worker, the
  row moved by the `/ws/library/` socket alone (the page is never reloaded).
- Progress and a failure with its reason, driven by a mocked socket and REST (Playwright
  routes), so that the test decides what the server says and when.
- With the socket down, the list is polled every few seconds until no project is unfinished.
- At 1280 px and at 390 px: no horizontal overflow, the name and the Delete button whole,
  touch targets of 44 px on the phone, and the top bar (language switcher included) inside.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.test_studio import (
    SAMPLE_RATE,
    SEPARATION_TIMEOUT_MS,
    render_song,
    screenshot,
    sign_up,
    unique_name,
    upload,
)

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
TOUCH_MIN_PX = 44
LIBRARY_SOCKET = re.compile(r".*/ws/library/$")
PROJECT_LIST = re.compile(r".*/api/v1/projects/(\?.*)?$")
PROJECT_DETAIL = re.compile(r".*/api/v1/projects/[0-9a-f-]{36}/$")
FAKE_PROJECT = "00000000-0000-4000-8000-0000000000a1"
FAKE_JOB = "00000000-0000-4000-8000-0000000000b1"
#: library.js polls every 3 s while the socket is down; room for a slow machine on both sides.
POLL_WAIT_MS = 10_000
QUIET_WAIT_MS = 4_000

OpenContext = Callable[..., BrowserContext]


@pytest.fixture
def open_context(chromium_browser, studio_server) -> Iterator[OpenContext]:
    """Fresh browser contexts at a viewport (and locale); uncaught page errors fail the test."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def make(*, viewport: str = "desktop", locale: str | None = None) -> BrowserContext:
        options: dict[str, Any] = {"base_url": studio_server.base_url, "viewport": VIEWPORTS[viewport]}
        if viewport == "phone":
            options.update(has_touch=True, is_mobile=True, device_scale_factor=2)
        if locale:
            options["locale"] = locale
        context = chromium_browser.new_context(**options)
        context.set_default_timeout(15_000)
        context.set_default_navigation_timeout(30_000)
        context.on("page", lambda page: page.on("pageerror", lambda error: errors.append(str(error))))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert errors == [], errors


@pytest.fixture(scope="module")
def song_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("library-songs") / "library-song.wav"
    sf.write(path, render_song(duration_s=8.0), SAMPLE_RATE, subtype="PCM_16")
    return path


# Records what the list shows as it changes: each row's status and percent, and the stage.
WATCH_ROWS = """() => {
  window.__libraryDocument = true;
  const seen = (window.__librarySeen = { statuses: [], percents: [], stages: [] });
  const note = () => {
    for (const row of document.querySelectorAll("[data-project-list] [data-project-id]")) {
      const status = row.dataset.status;
      if (status && seen.statuses.at(-1) !== status) seen.statuses.push(status);
      const percent = row.querySelector('[data-field="percent"]').textContent;
      if (percent && seen.percents.at(-1) !== percent) seen.percents.push(percent);
      const stage = row.querySelector('[data-field="stage"]').textContent;
      if (stage && seen.stages.at(-1) !== stage) seen.stages.push(stage);
    }
  };
  new MutationObserver(note).observe(document.querySelector("[data-project-list]"), {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
}"""


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_song_uploaded_in_another_tab_appears_and_turns_ready_live(open_context, song_path, viewport):
    # Given a new user's library, live on its socket
    context = open_context(viewport=viewport)
    library = context.new_page()
    sign_up(library, unique_name("live"))
    expect(library.get_by_test_id("library")).to_have_attribute("data-mode", "live")
    expect(library.get_by_test_id("project-list-empty")).to_be_visible()
    library.evaluate(WATCH_ROWS)

    # When a song is uploaded from another tab
    uploader = context.new_page()
    uploader.goto("/projects/")
    project_id = upload(uploader, song_path)

    # Then the library shows it, processing, and then Ready with a link to the mixer
    row = library.locator(f'[data-testid="project-row"][data-project-id="{project_id}"]')
    expect(row).to_be_visible(timeout=15_000)
    expect(row).to_have_attribute("data-status", "ready", timeout=SEPARATION_TIMEOUT_MS)
    expect(row.get_by_test_id("project-status")).to_have_text("Ready")
    expect(row.get_by_test_id("project-open")).to_be_visible()
    expect(row.get_by_test_id("project-open")).to_have_attribute("href", f"/projects/{project_id}/")
    expect(row.get_by_test_id("project-progress")).to_be_hidden()
    # And says in plain words how it was separated and how long it is kept
    expect(row.get_by_test_id("project-engine")).to_have_text("Fast separation (built in)")
    expect(row.get_by_test_id("project-expires")).to_have_text(re.compile(r"^Kept until \w+ \d{1,2}, \d{4}$"))
    expect(library.get_by_test_id("project-list-empty")).to_be_hidden()
    seen = library.evaluate("window.__librarySeen")
    assert seen["statuses"][0] in {"pending", "processing"} and seen["statuses"][-1] == "ready", seen
    assert any(re.fullmatch(r"\d{1,3}%", percent) for percent in seen["percents"]), seen
    assert set(seen["stages"]) & {"Waiting to start", "Reading the audio", "Separating the stems", "Saving the stems"}
    # And all of it without a reload
    assert library.evaluate("window.__libraryDocument") is True


# ---------------------------------------------------------------- a server the test plays


def fake_project(*, status: str, error: str = "", progress: int = 10, stage: str = "decode") -> dict[str, Any]:
    job_state = {"ready": "done", "failed": "failed"}.get(status, "running")
    return {
        "id": FAKE_PROJECT,
        "name": "Garage take 3",
        "status": status,
        "error": error,
        "duration_s": 183.4,
        "engine": "offline" if status == "ready" else "",
        "engine_label": "Fast separation (built in)" if status == "ready" else "",
        "model_name": "",
        "created_at": "2026-03-05T14:07:00Z",
        "expires_at": "2026-04-04T14:07:00Z",
        "jobs": [{"id": FAKE_JOB, "kind": "separate", "state": job_state, "progress": progress, "stage": stage}],
        "stems": [],
    }


class FakeLibraryServer:
    """Answers the library's list and detail reads with one made-up project, counting the reads."""

    def __init__(self, page: Page, **project: Any) -> None:
        self.project = fake_project(**project)
        self.list_reads: list[float] = []
        self.detail_reads: list[float] = []
        page.route(PROJECT_LIST, self.on_list)
        page.route(PROJECT_DETAIL, self.on_detail)

    def on_list(self, route) -> None:
        if route.request.method != "GET":
            route.fallback()
            return
        self.list_reads.append(time.monotonic())
        listed = {key: self.project[key] for key in self.project if key not in {"jobs", "stems", "error"}}
        route.fulfill(json={"count": 1, "next": None, "previous": None, "results": [listed]})

    def on_detail(self, route) -> None:
        self.detail_reads.append(time.monotonic())
        route.fulfill(json=self.project)

    def set(self, **project: Any) -> None:
        self.project = fake_project(**project)


def job_event(*, state: str, progress: int, stage: str, project_status: str, user_error: str = "") -> str:
    return json.dumps(
        {
            "type": "job.progress",
            "project": FAKE_PROJECT,
            "job": FAKE_JOB,
            "kind": "separate",
            "state": state,
            "progress": progress,
            "stage": stage,
            "project_status": project_status,
            "user_error": user_error,
        }
    )


def test_a_row_shows_its_progress_then_the_reason_it_failed(open_context):
    # Given a library whose server (REST and socket) the test plays, with one processing project
    page = open_context().new_page()
    sign_up(page, unique_name("fail"))
    sockets = []
    page.route_web_socket(LIBRARY_SOCKET, lambda socket: sockets.append(socket))  # mocked: opens at once
    server = FakeLibraryServer(page, status="processing")
    page.goto("/projects/")
    expect(page.get_by_test_id("library")).to_have_attribute("data-mode", "live")
    row = page.locator(f'[data-project-id="{FAKE_PROJECT}"]')
    expect(row).to_have_attribute("data-status", "processing")
    expect(row.get_by_test_id("project-status")).to_have_text("Processing")
    expect(row.get_by_test_id("project-progress")).to_contain_text("10%")
    expect(row.get_by_test_id("project-progress")).to_contain_text("Reading the audio")

    # When the socket says the separation is at 40 %
    sockets[-1].send(job_event(state="running", progress=40, stage="separate", project_status="processing"))

    # Then the row shows it
    expect(row.get_by_test_id("project-progress")).to_contain_text("40%")
    expect(row.get_by_test_id("project-progress")).to_contain_text("Separating the stems")
    expect(row.locator("progress")).to_have_js_property("value", 40)

    # When it fails
    reason = "The song could not be decoded."
    server.set(status="failed", error=reason, progress=40, stage="separate")
    sockets[-1].send(
        job_event(state="failed", progress=40, stage="separate", project_status="failed", user_error=reason)
    )

    # Then the row says Failed, and why, with no mixer link and no progress bar
    expect(row).to_have_attribute("data-status", "failed")
    expect(row.get_by_test_id("project-status")).to_have_text("Failed")
    expect(row.get_by_test_id("project-error")).to_have_text(reason)
    expect(row.get_by_test_id("project-open")).to_be_hidden()
    expect(row.get_by_test_id("project-progress")).to_be_hidden()
    # And the details come from REST (the list is re-read once it finished)
    expect(row).to_have_attribute("data-detail-read", "true")


def test_while_the_socket_is_down_the_list_is_polled_until_nothing_is_unfinished(open_context):
    # Given a library whose socket never stays up, and a processing project
    page = open_context().new_page()
    sign_up(page, unique_name("poll"))
    page.route_web_socket(LIBRARY_SOCKET, lambda socket: socket.close())
    server = FakeLibraryServer(page, status="processing")
    page.goto("/projects/")
    expect(page.get_by_test_id("library")).to_have_attribute("data-mode", "polling")
    expect(page.get_by_test_id("library-live-status")).to_have_text(
        "Live connection unavailable; checking every few seconds."
    )
    row = page.locator(f'[data-project-id="{FAKE_PROJECT}"]')
    expect(row).to_have_attribute("data-status", "processing")
    # (the first read, list then detail, is over: only a later poll can see what changes next)
    deadline = time.monotonic() + POLL_WAIT_MS / 1000
    while not server.detail_reads and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert server.detail_reads, "the unfinished project's detail was never read"
    page.wait_for_timeout(100)
    reads_before = len(server.list_reads)

    # When the project is ready on the server
    server.set(status="ready", progress=100, stage="encode")

    # Then a poll finds it, and the row turns Ready
    expect(row).to_have_attribute("data-status", "ready", timeout=POLL_WAIT_MS)
    expect(row.get_by_test_id("project-engine")).to_have_text("Fast separation (built in)")
    # And with nothing unfinished, the polling stops
    reads = len(server.list_reads)
    page.wait_for_timeout(QUIET_WAIT_MS)
    assert len(server.list_reads) == reads
    assert reads > reads_before


# ---------------------------------------------------------------- fitting the screen

LONG_NAME = "Sunday-rehearsal-full-band-take-with-the-new-drummer-and-the-horn-section-v2-final"


def api_upload(page: Page, song: Path, name: str) -> str:
    """Upload through the API with the page's session (as upload.js does); the new project's id."""
    token = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "csrftoken")
    response = page.request.post(
        "/api/v1/projects/",
        multipart={
            "file": {"name": song.name, "mimeType": "audio/wav", "buffer": song.read_bytes()},
            "name": name,
        },
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )
    assert response.status == 202, response.text()
    return response.json()["id"]


def layout_problems(page: Page, *, width: int, touch: bool) -> list[str]:
    """What does not fit at ``width``: overflow, things cut off, targets smaller than 44 px."""
    return page.evaluate(
        """([width, touch, minimum]) => {
          const problems = [];
          const scroll = document.documentElement.scrollWidth;
          if (scroll > width) problems.push(`page scrolls sideways: ${scroll}px`);
          const inside = (element, label) => {
            const box = element.getBoundingClientRect();
            if (box.left < 0 || box.right > width + 0.5) {
              problems.push(`${label} is cut off: ${box.left}..${box.right}`);
            }
            return box;
          };
          const target = (element, label) => {
            const box = inside(element, label);
            if (touch && (box.width < minimum || box.height < minimum)) {
              problems.push(`${label} is ${box.width}x${box.height}px`);
            }
          };
          for (const element of document.querySelectorAll(".topbar a, .topbar button")) {
            if (element.offsetParent !== null && !element.classList.contains("skip-link")) {
              target(element, `top bar "${element.textContent.trim()}"`);
            }
          }
          for (const row of document.querySelectorAll("[data-project-list] [data-project-id]")) {
            const card = row.getBoundingClientRect();
            const name = row.querySelector('[data-field="name"]');
            const box = inside(name, "name");
            if (box.right > card.right + 0.5) problems.push(`name overflows its card: ${box.right} > ${card.right}`);
            for (const element of row.querySelectorAll("a.btn, button")) {
              if (element.offsetParent !== null) target(element, `row "${element.textContent.trim()}"`);
            }
          }
          return problems;
        }""",
        [width, touch, TOUCH_MIN_PX],
    )


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_library_fits_the_screen_with_a_long_name(open_context, tmp_path, viewport):
    # Given a library with a long-named project (a short song: the worker has little to do)
    song = tmp_path / "short.wav"
    t = np.arange(int(2.0 * SAMPLE_RATE)) / SAMPLE_RATE
    sf.write(song, np.stack([0.3 * np.sin(2 * np.pi * 220 * t)] * 2, axis=1), SAMPLE_RATE, subtype="PCM_16")
    page = open_context(viewport=viewport).new_page()
    sign_up(page, unique_name("fit"))
    project_id = api_upload(page, song, LONG_NAME)

    # When the library is shown
    page.goto("/projects/")
    row = page.locator(f'[data-project-id="{project_id}"]')
    expect(row).to_be_visible()
    width = VIEWPORTS[viewport]["width"]

    # Then nothing is cut off or scrolls sideways, and on the phone every target is 44 px
    assert layout_problems(page, width=width, touch=viewport == "phone") == []
    row.scroll_into_view_if_needed()  # below the upload box on a phone: in view once scrolled to, not cut off
    expect(row.get_by_test_id("project-delete")).to_be_in_viewport()
    expect(page.get_by_test_id("language-switch")).to_be_in_viewport()
    # And once separated (its Open button shown) it still fits
    expect(row).to_have_attribute("data-status", "ready", timeout=SEPARATION_TIMEOUT_MS)
    assert layout_problems(page, width=width, touch=viewport == "phone") == []
    screenshot(page, f"library-{viewport}")
