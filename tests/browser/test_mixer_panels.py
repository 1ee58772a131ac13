"""The mixer's panels in a real browser: the saved mix, the reset button and named presets.

- A change on the mixer is saved for its owner (``PUT /mix/``, debounced) and restored on
  reload; leaving the page sends a change still waiting at once; a failed save is shown and
  goes again with the next change.
- "Reset mixer" returns every control to its default and forgets the saved state.
- A preset is saved under a name, loaded back onto the mixer, and deleted.
- The panels fit a 1280 px desktop and a 390 px phone (no sideways scroll; touch-sized
  controls on the phone).

One project is uploaded and separated for the module; each test starts from a clean slate
(no saved mix, no presets) and opens it in a fresh browser context of the same user.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import soundfile as sf
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.conftest import watched_page
from tests.browser.test_mixer_live import ReadyProject, open_mixer
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

SONG_DURATION_S = 6.0
AT_REST = {"gain_db": 0, "mute": False, "solo": False, "pan": 0}
MIX_PUT = re.compile(r".*/api/v1/projects/[0-9a-f-]{36}/mix/$")
PRESETS = re.compile(r".*/api/v1/projects/[0-9a-f-]{36}/presets/$")
#: The smallest touch target on a phone (WCAG 2.5.5), in CSS pixels.
TOUCH_MIN_PX = 44
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def panel_project(chromium_browser: Browser, studio_server, tmp_path_factory: pytest.TempPathFactory) -> ReadyProject:
    """A separated project of a new user, and that user's cookies for later contexts."""
    song = tmp_path_factory.mktemp("panel-song") / "Panel Song.wav"
    sf.write(song, render_song(duration_s=SONG_DURATION_S), SAMPLE_RATE, subtype="PCM_16")
    context = chromium_browser.new_context(base_url=studio_server.base_url)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        sign_up(page, unique_name("panels"))
        project_id = upload(page, song)
        expect(page.get_by_test_id("mixer")).to_be_visible(timeout=SEPARATION_TIMEOUT_MS)
        return ReadyProject(project_id=project_id, storage_state=context.storage_state())
    finally:
        context.close()


def api(page: Page, method: str, path: str, json: Any = None) -> Any:
    """Call the API as the page's user (session cookie + CSRF header); returns the JSON or None."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.fetch(path, method=method, data=json, headers={"X-CSRFToken": token})
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json() if response.status != 204 else None


@pytest.fixture
def page(chromium_browser: Browser, studio_server, panel_project: ReadyProject, page_errors) -> Iterator[Page]:
    """A desktop page signed in as the owner, with no saved mix and no presets."""
    context = chromium_browser.new_context(
        base_url=studio_server.base_url, storage_state=panel_project.storage_state, viewport=DESKTOP
    )
    page = watched_page(context, page_errors)
    clean_slate(page, panel_project)
    yield page
    context.close()


def clean_slate(page: Page, project: ReadyProject) -> None:
    api(page, "DELETE", mix_url(project))
    for preset in api(page, "GET", presets_url(project))["results"]:
        api(page, "DELETE", f"/api/v1/presets/{preset['id']}/")


def mix_url(project: ReadyProject) -> str:
    return f"/api/v1/projects/{project.project_id}/mix/"


def presets_url(project: ReadyProject) -> str:
    return f"/api/v1/projects/{project.project_id}/presets/"


def settings(page: Page) -> dict[str, Any]:
    return page.evaluate("window.isomixMixer.settings()")


def saved(page: Page) -> bool:
    """Wait for the page's last change to reach the server; whether it did."""
    return page.evaluate("window.isomixMixer.saved")


def defaults(kinds) -> dict[str, Any]:
    return {
        "master_gain_db": 0,
        "stems": {kind: AT_REST for kind in kinds},
        "tempo": 1,
        "transpose": 0,
        "loop": None,
    }


def answer(method: str, *, status: int, body: dict[str, Any]) -> Callable[[Route], None]:
    """A route handler answering ``method`` with this house error; other methods go on."""

    def handle(route: Route) -> None:
        if route.request.method == method:
            route.fulfill(status=status, json=body)
        else:
            route.fallback()

    return handle


def test_a_change_is_saved_and_comes_back_after_a_reload(page: Page, panel_project, page_errors) -> None:
    # Given the mixer of a project with nothing saved
    open_mixer(page, panel_project)
    assert api(page, "GET", mix_url(panel_project))["updated_at"] is None

    # When the vocals are turned down and the drums muted
    page.get_by_test_id("gain-vocals").fill("-12")
    page.get_by_test_id("mute-drums").click()

    # Then the change reaches the server, as the page holds it
    assert saved(page) is True
    stored = api(page, "GET", mix_url(panel_project))
    assert stored["updated_at"] is not None
    assert stored["settings"]["stems"]["vocals"] == {**AT_REST, "gain_db": -12}
    assert stored["settings"]["stems"]["drums"] == {**AT_REST, "mute": True}
    assert stored["settings"] == settings(page)

    # When the page is reloaded
    page.reload()
    expect(page.get_by_test_id("mixer")).to_have_attribute("data-state", "ready", timeout=60_000)

    # Then the mixer is as it was left: its state, the fader, the button and the strip
    page.wait_for_function("window.isomixMixer.settings().stems.drums.mute === true")
    assert settings(page) == stored["settings"]
    expect(page.get_by_test_id("gain-vocals")).to_have_value("-12")
    expect(page.get_by_test_id("mute-drums")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("stem-drums")).to_have_attribute("data-audible", "false")
    assert page_errors == []


def test_leaving_the_page_sends_a_waiting_change_at_once(page: Page, panel_project, page_errors) -> None:
    # Given the mixer
    open_mixer(page, panel_project)

    # When a pan is moved and the page is left in the same moment (long before the save's delay)
    sent = page.evaluate(
        """() => {
          const calls = [];
          const fetchBefore = window.fetch;
          window.fetch = (url, init = {}) => {
            calls.push({ url: String(url), method: init.method, keepalive: Boolean(init.keepalive), body: init.body });
            return fetchBefore(url, init);
          };
          const pan = document.querySelector('[data-testid="pan-bass"]');
          pan.value = "-0.5";
          pan.dispatchEvent(new Event("input", { bubbles: true }));
          pan.dispatchEvent(new Event("change", { bubbles: true }));
          const before = calls.length;
          window.dispatchEvent(new PageTransitionEvent("pagehide", { persisted: false }));
          return { before, during: calls.slice(before) };
        }"""
    )

    # Then the change went out during the pagehide, as a request that outlives the page
    assert sent["before"] == 0
    assert [(c["method"], c["keepalive"]) for c in sent["during"]] == [("PUT", True)]
    assert sent["during"][0]["url"] == mix_url(panel_project)
    assert json.loads(sent["during"][0]["body"])["settings"]["stems"]["bass"]["pan"] == -0.5
    # And it reached the server
    assert saved(page) is True
    assert api(page, "GET", mix_url(panel_project))["settings"]["stems"]["bass"]["pan"] == -0.5
    assert page_errors == []


def test_a_failed_save_is_shown_and_goes_again_with_the_next_change(page: Page, panel_project, page_errors) -> None:
    # Given the mixer, with the server refusing saves for now
    open_mixer(page, panel_project)
    refusal = {"code": "server_error", "message": "The server had a problem.", "extra": None}
    page.route(
        MIX_PUT,
        lambda route: route.fulfill(status=500, json=refusal) if route.request.method == "PUT" else route.fallback(),
    )

    # When the master is turned down
    page.get_by_test_id("master-gain").fill("-6")

    # Then the page says it is not saved (and playback is not blocked)
    assert saved(page) is False
    status = page.get_by_test_id("mix-save-status")
    expect(status).to_be_visible()
    expect(status).to_have_text("Not saved: The server had a problem.")
    expect(page.get_by_test_id("play")).to_be_enabled()
    assert api(page, "GET", mix_url(panel_project))["updated_at"] is None

    # When the server is back and the next change is made
    page.unroute(MIX_PUT)
    page.get_by_test_id("mute-other").click()

    # Then both changes are saved and the message goes
    assert saved(page) is True
    stored = api(page, "GET", mix_url(panel_project))["settings"]
    assert stored["master_gain_db"] == -6
    assert stored["stems"]["other"]["mute"] is True
    expect(status).to_be_hidden()
    assert page_errors == []


def test_reset_returns_every_control_to_its_default_and_forgets_the_saved_mix(page: Page, panel_project, page_errors):
    # Given a mixer with a saved mix of its own
    open_mixer(page, panel_project)
    page.get_by_test_id("gain-bass").fill("-20")
    page.get_by_test_id("solo-vocals").click()
    page.get_by_test_id("pan-other").fill("0.5")
    assert saved(page) is True
    kinds = list(settings(page)["stems"])

    # When "Reset mixer" is pressed
    page.get_by_test_id("mixer-reset").click()

    # Then every control is back at rest, on the page and on the server
    expect(page.get_by_test_id("presets-status")).to_have_text("Mixer reset to its defaults.")
    assert saved(page) is True
    assert settings(page) == defaults(kinds)
    expect(page.get_by_test_id("gain-bass")).to_have_value("0")
    expect(page.get_by_test_id("solo-vocals")).to_have_attribute("aria-pressed", "false")
    stored = api(page, "GET", mix_url(panel_project))
    assert stored["updated_at"] is None
    assert stored["settings"]["stems"] == {kind: AT_REST for kind in kinds}

    # And a reload opens the defaults
    page.reload()
    expect(page.get_by_test_id("mixer")).to_have_attribute("data-state", "ready", timeout=60_000)
    assert settings(page) == defaults(kinds)
    assert page_errors == []


def save_preset(page: Page, name: str) -> dict[str, Any]:
    """Save the mix as a preset from the panel (Save as…, type, Enter); returns the POST's answer."""
    page.get_by_test_id("preset-save-as").click()
    expect(page.get_by_test_id("preset-name")).to_be_focused()
    page.get_by_test_id("preset-name").fill(name)
    with page.expect_response(lambda r: bool(PRESETS.match(r.url)) and r.request.method == "POST") as info:
        page.get_by_test_id("preset-name").press("Enter")
    assert info.value.status in (200, 201), info.value.text()
    return info.value.json()


def test_a_preset_is_saved_loaded_and_deleted(page: Page, panel_project, page_errors) -> None:
    # Given a mix: vocals down, bass solo
    open_mixer(page, panel_project)
    page.get_by_test_id("gain-vocals").fill("-6")
    page.get_by_test_id("solo-bass").click()
    practice = settings(page)

    # When it is saved as a preset
    created = save_preset(page, "  Bass practice  ")

    # Then the project has it, trimmed, with the mix, and the list offers it
    expect(page.get_by_test_id("presets-status")).to_have_text("Preset “Bass practice” saved.")
    assert created["name"] == "Bass practice"
    listed = api(page, "GET", presets_url(panel_project))["results"]
    assert [(p["name"], p["settings"]) for p in listed] == [("Bass practice", practice)]
    select = page.get_by_test_id("preset-select")
    expect(select).to_have_value(str(created["id"]))
    expect(page.get_by_test_id("preset-form")).to_be_hidden()

    # When the mix is changed, then the preset is loaded
    page.get_by_test_id("solo-bass").click()
    page.get_by_test_id("gain-vocals").fill("0")
    page.get_by_test_id("mute-drums").click()
    assert settings(page) != practice
    page.get_by_test_id("preset-load").click()

    # Then the mixer is the preset again, controls included, and that is saved
    expect(page.get_by_test_id("presets-status")).to_have_text("Preset “Bass practice” loaded.")
    assert settings(page) == practice
    expect(page.get_by_test_id("solo-bass")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("gain-vocals")).to_have_value("-6")
    assert saved(page) is True
    assert api(page, "GET", mix_url(panel_project))["settings"] == practice

    # When it is deleted (and the question confirmed)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("preset-delete").click()

    # Then it is gone from the project and from the list
    expect(page.get_by_test_id("presets-status")).to_have_text("Preset “Bass practice” deleted.")
    assert api(page, "GET", presets_url(panel_project))["results"] == []
    expect(select.locator("option")).to_have_text(["No presets yet"])
    expect(page.get_by_test_id("preset-load")).to_be_disabled()
    assert page_errors == []


def test_a_preset_without_a_name_or_refused_by_the_api_is_explained(page: Page, panel_project, page_errors) -> None:
    # Given the mixer, counting the presets it posts
    open_mixer(page, panel_project)
    posts = []
    page.on("request", lambda r: posts.append(r) if PRESETS.match(r.url) and r.method == "POST" else None)

    # When "Save as…" is sent with a blank name
    page.get_by_test_id("preset-save-as").click()
    page.get_by_test_id("preset-name").fill("   ")
    page.get_by_test_id("preset-name").press("Enter")

    # Then it asks for a name and sends nothing
    expect(page.get_by_test_id("presets-error")).to_have_text("Give the preset a name.")
    assert posts == []

    # When the API refuses one (the project is at its limit)
    limit = {"code": "preset_limit", "message": "A project keeps at most 50 presets.", "extra": {"max": 50}}
    page.route(
        PRESETS,
        lambda route: route.fulfill(status=400, json=limit) if route.request.method == "POST" else route.fallback(),
    )
    page.get_by_test_id("preset-name").fill("One too many")
    page.get_by_test_id("preset-name").press("Enter")

    # Then its message is shown, and the project holds no preset
    expect(page.get_by_test_id("presets-error")).to_have_text("A project keeps at most 50 presets.")
    assert api(page, "GET", presets_url(panel_project))["results"] == []
    assert page_errors == []


PANEL_CONTROLS = (
    "[data-presets] :is(button, select, input[type=text]):visible, "
    "[data-export-form] :is(button, select, a.btn, .export-choice):visible"
)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop-1280", "phone-390"])
def test_the_panels_fit_the_screen_with_touch_sized_controls_on_a_phone(
    chromium_browser: Browser, studio_server, panel_project, page_errors, viewport
) -> None:
    # Given the mixer at this width, with the preset name field open and MP3 chosen
    phone = viewport == PHONE
    context = chromium_browser.new_context(
        base_url=studio_server.base_url,
        storage_state=panel_project.storage_state,
        viewport=viewport,
        has_touch=phone,
        is_mobile=phone,
    )
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        open_mixer(page, panel_project)
        page.get_by_test_id("preset-save-as").click()
        if page.locator("[data-testid=export-format] option[value=mp3]").count():
            page.get_by_test_id("export-format").select_option("mp3")
            expect(page.get_by_test_id("export-bitrate")).to_be_visible()

        screenshot(page, f"mixer-panels-{viewport['width']}")

        # Then nothing scrolls sideways, and every panel control lies inside the screen
        width = page.evaluate("document.documentElement.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        boxes = page.locator(PANEL_CONTROLS).evaluate_all(
            "els => els.map(e => { const r = e.getBoundingClientRect();"
            " return {id: e.dataset.testid || e.textContent.trim(), left: r.left, right: r.right, height: r.height}; })"
        )
        assert len(boxes) >= 10, boxes
        assert [b for b in boxes if b["left"] < 0 or b["right"] > width + 0.5] == []
        # And on a phone each one is at least a fingertip tall
        if phone:
            assert [b for b in boxes if b["height"] < TOUCH_MIN_PX - 0.5] == []
    finally:
        context.close()
    assert page_errors == []
