"""The mixer holds to the server's own figures, and follows its export over the WebSocket.

- The faders, tempo and key span exactly domain/mix.py's ranges (the ones the export API
  validates with), and a fader dragged past its end exports a setting the API accepts.
- An export is followed through its job's ``job.progress`` events on the project's socket:
  REST is read once when an event says it finished, once when the socket reconnects, and
  every few seconds only while the socket is down; never once a second.
- An upload over the plan's limit is refused in the page, in bytes, with the server's MB.

One project is uploaded and separated for the module (``ready_project``); each test opens
it in a fresh browser context of the same user. Exports that must stall or finish on cue
are answered by Playwright routes (REST) and a mocked WebSocket, never by the worker.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

import pytest
import soundfile as sf
from playwright.sync_api import Page, expect

from application.api.uploads import too_large
from domain import mix
from tests.browser.conftest import watched_page
from tests.browser.test_studio import (
    EXPORT_TIMEOUT_MS,
    MIXER_LOAD_TIMEOUT_MS,
    SAMPLE_RATE,
    SEPARATION_TIMEOUT_MS,
    plan_set,
    render_song,
    sign_up,
    unique_name,
    upload,
)

pytestmark = pytest.mark.browser

SONG_DURATION_S = 6.0
EXPORT_READ = re.compile(r"/api/v1/exports/(?P<id>[0-9a-f-]{36})/$")
EXPORTS_CREATE = re.compile(r".*/api/v1/projects/[0-9a-f-]{36}/exports/$")
PROJECT_SOCKET = re.compile(r".*/ws/projects/[0-9a-f-]{36}/$")
#: A made-up export and its job, answered by routes: no worker ever sees them.
FAKE_EXPORT = "00000000-0000-4000-8000-00000000e001"
FAKE_JOB = "00000000-0000-4000-8000-00000000b001"
OTHER_JOB = "00000000-0000-4000-8000-00000000b002"
#: export.js's fallback while the socket is down (5 s), with room for a slow machine below it.
FALLBACK_MIN_S = 4.0
#: How soon the page re-reads after its socket reconnects (the first retry is after 1 s).
RECONNECT_READ_MAX_S = 4.0
#: 1 s polling would read this many times while the tests below wait and watch.
QUIET_WAIT_MS = 3_500


@dataclass(frozen=True)
class ReadyProject:
    project_id: str
    storage_state: dict[str, Any]


@pytest.fixture(scope="module")
def ready_project(chromium_browser, studio_server, tmp_path_factory: pytest.TempPathFactory) -> ReadyProject:
    """A separated project of a new user, and that user's cookies for later contexts."""
    song = tmp_path_factory.mktemp("mixer-song") / "song.wav"
    sf.write(song, render_song(duration_s=SONG_DURATION_S), SAMPLE_RATE, subtype="PCM_16")
    context = chromium_browser.new_context(base_url=studio_server.base_url)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        username = unique_name("mix")
        sign_up(page, username)
        plan_set(studio_server, username, "pro")  # the tests below export WAV, a Pro format
        project_id = upload(page, song)
        expect(page.get_by_test_id("mixer")).to_be_visible(timeout=SEPARATION_TIMEOUT_MS)
        return ReadyProject(project_id=project_id, storage_state=context.storage_state())
    finally:
        context.close()


@pytest.fixture
def owner_page(chromium_browser, studio_server, ready_project: ReadyProject, page_errors):
    """A page (not yet navigated) signed in as the ready project's owner."""
    context = chromium_browser.new_context(base_url=studio_server.base_url, storage_state=ready_project.storage_state)
    page = watched_page(context, page_errors)
    yield page
    context.close()


def open_mixer(page: Page, project: ReadyProject) -> None:
    page.goto(f"/projects/{project.project_id}/")
    expect(page.get_by_test_id("mixer")).to_have_attribute("data-state", "ready", timeout=MIXER_LOAD_TIMEOUT_MS)


def drag_past_end(page: Page, slider_test_id: str, *, direction: int) -> None:
    """Press on the slider's middle and drag well past its top/right (+1) or bottom/left (-1) end.

    A fader taller than wide (a desktop stem strip's) travels up and down, louder up.
    """
    slider = page.get_by_test_id(slider_test_id)
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    assert box is not None
    x = box["x"] + box["width"] / 2
    y = box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    if box["height"] > box["width"]:
        page.mouse.move(x, y - direction * box["height"], steps=12)
    else:
        page.mouse.move(x + direction * box["width"], y, steps=12)
    page.mouse.up()


def export_and_wait(page: Page) -> dict[str, Any]:
    """Export as WAV from the page; returns the POST's answer once the panel shows done."""
    page.get_by_test_id("export-format").select_option("wav")
    with page.expect_response(lambda r: bool(EXPORTS_CREATE.match(r.url)) and r.request.method == "POST") as info:
        page.get_by_test_id("export-submit").click()
    assert info.value.status == 202, info.value.text()
    expect(page.get_by_test_id("export-status")).to_have_attribute("data-state", "done", timeout=EXPORT_TIMEOUT_MS)
    expect(page.get_by_test_id("export-download")).to_be_visible()
    return info.value.json()


def test_the_faders_span_the_api_ranges_and_stop_at_their_ends(owner_page: Page, ready_project, page_errors) -> None:
    # Given the mixer
    page = owner_page
    open_mixer(page, ready_project)

    # Then it was served domain/mix.py's ranges, and every fader spans exactly them
    assert page.evaluate("window.isomixMixer.ranges") == mix.mixer_ranges()
    sliders = page.locator("[data-mixer] input[type=range]").evaluate_all(
        "inputs => inputs.map(i => [i.dataset.control, Number(i.min), Number(i.max), Number(i.step)])"
    )
    expected = {
        "master-gain": [mix.GAIN_DB_MIN, mix.GAIN_DB_MAX, mix.GAIN_DB_STEP],
        "gain": [mix.GAIN_DB_MIN, mix.GAIN_DB_MAX, mix.GAIN_DB_STEP],
        "metronome-gain": [mix.GAIN_DB_MIN, mix.GAIN_DB_MAX, mix.GAIN_DB_STEP],
        "guide-gain": [mix.GAIN_DB_MIN, mix.GAIN_DB_MAX, mix.GAIN_DB_STEP],  # the karaoke view's vocals level
        "pan": [mix.PAN_MIN, mix.PAN_MAX, mix.PAN_STEP],
        "tempo": [mix.TEMPO_MIN, mix.TEMPO_MAX, mix.TEMPO_STEP],
        "transpose": [mix.TRANSPOSE_MIN, mix.TRANSPOSE_MAX, mix.TRANSPOSE_STEP],
    }
    assert {control for control, *_ in sliders} == set(expected)
    assert all(bounds == expected[control] for control, *bounds in sliders)

    # When the master fader is dragged far past its top, a stem's past its bottom, a pan past right
    drag_past_end(page, "master-gain", direction=+1)
    drag_past_end(page, "gain-vocals", direction=-1)
    drag_past_end(page, "pan-drums", direction=+1)

    # Then each stops at the end of the range
    settings = page.evaluate("window.isomixMixer.settings()")
    assert settings["master_gain_db"] == mix.GAIN_DB_MAX
    assert settings["stems"]["vocals"]["gain_db"] == mix.GAIN_DB_MIN
    assert settings["stems"]["drums"]["pan"] == mix.PAN_MAX
    expect(page.get_by_test_id("master-gain")).to_have_value(f"{mix.GAIN_DB_MAX:g}")

    # When that mix is exported
    created = export_and_wait(page)

    # Then the API took it as set, and what it saved is a valid MixSettings
    saved = page.request.get(f"/api/v1/exports/{created['id']}/").json()["settings"]
    assert saved["master_gain_db"] == mix.GAIN_DB_MAX
    assert saved["stems"]["vocals"]["gain_db"] == mix.GAIN_DB_MIN
    assert saved["stems"]["drums"]["pan"] == mix.PAN_MAX
    mix.MixSettings.from_json(saved)  # raises ValueError for anything out of range
    assert page_errors == []


def test_an_export_reaches_done_driven_by_its_socket_events(owner_page: Page, ready_project, page_errors) -> None:
    # Given the mixer, recording its socket's frames and its reads of exports, in order
    page = owner_page
    seen: list[tuple[str, Any]] = []

    def on_socket(socket) -> None:
        if PROJECT_SOCKET.match(socket.url):
            socket.on("framereceived", lambda payload: seen.append(("event", json.loads(payload))))

    def on_request(request) -> None:
        read = EXPORT_READ.search(request.url)
        if request.method == "GET" and read:
            seen.append(("read", read.group("id")))

    page.on("websocket", on_socket)
    page.on("request", on_request)
    open_mixer(page, ready_project)
    expect(page.get_by_test_id("mixer")).to_have_attribute("data-socket", "live")

    # When an export is started from the page and runs on the worker
    created = export_and_wait(page)

    # Then its job's events came over the socket, from running to done
    job_events = [item for kind, item in seen if kind == "event" and item.get("job") == created["job"]]
    assert {event["kind"] for event in job_events} == {"export"}
    assert {"running", "done"} <= {event["state"] for event in job_events}
    # And the export was read over REST only once it was done (at most one more read, e.g. a
    # reconnect), never on a timer while it rendered
    reads = [index for index, (kind, item) in enumerate(seen) if kind == "read" and item == created["id"]]
    done_at = next(
        index
        for index, (kind, item) in enumerate(seen)
        if kind == "event" and item.get("job") == created["job"] and item["state"] == "done"
    )
    assert 1 <= len(reads) <= 2, seen
    assert reads[0] > done_at, seen
    assert page_errors == []


def fake_export(project: ReadyProject, *, state: str, progress: int) -> dict[str, Any]:
    """The API's export shape, for the made-up export the routes answer for."""
    return {
        "id": FAKE_EXPORT,
        "project": project.project_id,
        "job": FAKE_JOB,
        "format": "wav",
        "settings": {},
        "state": state,
        "progress": progress,
        "error": "",
        "download_url": "/fake-mix.wav" if state == "done" else None,
        "created_at": "2024-01-01T00:00:00Z",
    }


def job_event(job: str, *, state: str, progress: int) -> str:
    """A ``job.progress`` frame as domain/events.py writes it."""
    return json.dumps(
        {
            "type": "job.progress",
            "project": "",
            "job": job,
            "kind": "export",
            "state": state,
            "progress": progress,
            "stage": "render",
            "project_status": "ready",
            "user_error": "",
        }
    )


class FakeExportRoutes:
    """Answer the page's export POST with the fake export, and its reads with ``answer``."""

    def __init__(self, page: Page, project: ReadyProject) -> None:
        self.project = project
        self.answer = fake_export(project, state="queued", progress=0)
        self.reads: list[float] = []
        page.route(EXPORTS_CREATE, self.on_create)
        page.route(re.compile(rf".*/api/v1/exports/{FAKE_EXPORT}/$"), self.on_read)

    def on_create(self, route) -> None:
        if route.request.method != "POST":
            route.fallback()
            return
        route.fulfill(status=202, json=fake_export(self.project, state="queued", progress=0))

    def on_read(self, route) -> None:
        self.reads.append(time.monotonic())
        route.fulfill(json=self.answer)

    def set(self, *, state: str, progress: int) -> None:
        self.answer = fake_export(self.project, state=state, progress=progress)


def test_a_live_socket_drives_the_panel_and_a_reconnect_rereads_once(owner_page: Page, ready_project, page_errors):
    # Given the mixer with a socket the test plays the server of, and an export that stalls
    page = owner_page
    sockets = []

    def on_socket(socket) -> None:
        sockets.append(socket)  # never connected on to the server: mocked, it opens at once

    page.route_web_socket(PROJECT_SOCKET, on_socket)
    routes = FakeExportRoutes(page, ready_project)
    open_mixer(page, ready_project)
    mixer = page.get_by_test_id("mixer")
    status = page.get_by_test_id("export-status")
    expect(mixer).to_have_attribute("data-socket", "live")

    # When the export is started and nothing is heard for a while
    page.get_by_test_id("export-submit").click()
    expect(status).to_have_attribute("data-state", "queued")
    page.wait_for_timeout(QUIET_WAIT_MS)
    # Then the page has not read it (1 s polling would have, three times)
    assert routes.reads == []

    # When its job's progress arrives, and another job of the project finishes
    sockets[-1].send(job_event(FAKE_JOB, state="running", progress=40))
    expect(status).to_contain_text("40%")
    sockets[-1].send(job_event(OTHER_JOB, state="done", progress=100))
    page.wait_for_timeout(300)
    # Then the panel shows the export's progress, unmoved by the other job, still unread
    expect(status).to_have_attribute("data-state", "running")
    expect(page.locator("[data-export-progress]")).to_have_js_property("value", 40)
    assert routes.reads == []

    # When the socket drops (events sent meanwhile are lost) and the page reconnects
    routes.set(state="running", progress=60)
    dropped_at = time.monotonic()
    sockets[-1].close()
    # Then it re-reads the export once, at the reconnect, well before any fallback timer
    expect(status).to_contain_text("60%", timeout=RECONNECT_READ_MAX_S * 1000)
    expect(mixer).to_have_attribute("data-socket", "live")
    assert len(sockets) == 2
    assert len(routes.reads) == 1 and routes.reads[0] - dropped_at < RECONNECT_READ_MAX_S

    # When the event says done
    routes.set(state="done", progress=100)
    sockets[-1].send(job_event(FAKE_JOB, state="done", progress=100))
    # Then REST is read once more, and the panel offers its download
    expect(status).to_have_attribute("data-state", "done")
    expect(page.get_by_test_id("export-download")).to_have_attribute("href", "/fake-mix.wav")
    assert len(routes.reads) == 2
    assert page_errors == []


def test_without_a_socket_the_panel_reads_the_export_every_few_seconds(owner_page: Page, ready_project, page_errors):
    # Given a browser without WebSocket, and an export the routes finish on the second read
    page = owner_page
    page.add_init_script("delete window.WebSocket;")
    routes = FakeExportRoutes(page, ready_project)
    open_mixer(page, ready_project)
    status = page.get_by_test_id("export-status")
    expect(page.get_by_test_id("mixer")).to_have_attribute("data-socket", "polling")

    # When the export is started
    routes.set(state="running", progress=50)
    started_at = time.monotonic()
    page.get_by_test_id("export-submit").click()

    # Then REST is read every few seconds, not every second, until the export is done
    expect(status).to_contain_text("50%", timeout=10_000)
    routes.set(state="done", progress=100)
    expect(status).to_have_attribute("data-state", "done", timeout=10_000)
    assert len(routes.reads) == 2
    assert routes.reads[0] - started_at >= FALLBACK_MIN_S
    assert routes.reads[1] - routes.reads[0] >= FALLBACK_MIN_S
    assert page_errors == []


_CHOOSE_FILE_OF_SIZE = """(size) => {
  const input = document.querySelector("[data-upload-input]");
  const transfer = new DataTransfer();
  transfer.items.add(new File([new Uint8Array(size)], "too-big.wav", { type: "audio/wav" }));
  input.files = transfer.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
}"""


def test_an_upload_over_the_limit_is_refused_in_the_page_with_the_servers_mb(new_page, page_errors) -> None:
    # Given a user on their library, and the limit the page was served, in bytes
    page = new_page()
    sign_up(page, unique_name("big"))
    zone = page.get_by_test_id("upload")
    max_bytes = int(zone.get_attribute("data-max-upload-bytes"))
    server_mb = int(re.search(r"(\d+) MB", str(too_large(max_bytes))).group(1))
    # (one byte over is still under the same figure in MiB: a MiB check would let it through)
    assert max_bytes + 1 < server_mb * 1024 * 1024
    uploads = []
    page.on("request", lambda request: uploads.append(request.url) if request.method == "POST" else None)

    # When they choose a file one byte over the limit
    page.evaluate(_CHOOSE_FILE_OF_SIZE, max_bytes + 1)

    # Then the page refuses it with the server's figure, and sends nothing
    error = page.get_by_test_id("upload-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text(f"the limit is {server_mb} MB")
    expect(zone).to_have_attribute("data-state", "error")
    assert uploads == []
    expect(page.get_by_test_id("project-list-empty")).to_be_visible()
    assert page_errors == []


PREVIEW_FILE = re.compile(r".*/files/[^/]+/$")


def test_a_preview_the_server_refuses_is_named_in_the_mixer_in_its_words(owner_page: Page, ready_project, page_errors):
    """The decodes start in the page's inline script; its failures still read as the API's own."""
    # Given the server answers the first stem's preview with a house-shape 404
    refused: list[str] = []

    def gone(route) -> None:
        if refused:
            route.continue_()
            return
        refused.append(route.request.url)
        body = {"code": "not_found", "message": "The file is gone.", "extra": None}
        route.fulfill(status=404, content_type="application/json", body=json.dumps(body))

    owner_page.route(PREVIEW_FILE, gone)
    # When the mixer opens
    owner_page.goto(f"/projects/{ready_project.project_id}/")
    # Then it stops with that message, and the inline script is what fetched it
    mixer = owner_page.get_by_test_id("mixer")
    expect(mixer).to_have_attribute("data-state", "error", timeout=MIXER_LOAD_TIMEOUT_MS)
    expect(mixer.locator("[data-mixer-error]")).to_contain_text("Could not load the stems: The file is gone.")
    assert len(refused) == 1
    assert owner_page.evaluate("() => window.isomixEarly.decoding.size") == 4
    assert page_errors == []


def test_a_preview_lost_on_the_network_says_so(owner_page: Page, ready_project, page_errors):
    owner_page.route(PREVIEW_FILE, lambda route: route.abort("connectionreset"))
    owner_page.goto(f"/projects/{ready_project.project_id}/")
    mixer = owner_page.get_by_test_id("mixer")
    expect(mixer).to_have_attribute("data-state", "error", timeout=MIXER_LOAD_TIMEOUT_MS)
    expect(mixer.locator("[data-mixer-error]")).to_contain_text("The server could not be reached.")
    assert page_errors == []
