"""The practice mixer in a real browser: space bar, keyboard shortcuts, loop, tempo and key.

One project is uploaded and separated for the module (``ready_project``, a 6 s song, from
test_mixer_live); every test opens it in a fresh context of its owner after forgetting
the saved mixer state, so each starts from the defaults. Times are read from the page's
audio clock (``audioContext.currentTime``), never from the wall clock.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser import test_mixer_live
from tests.browser.test_mixer_live import ReadyProject, open_mixer

pytestmark = pytest.mark.browser

#: test_mixer_live's fixtures: one project uploaded for this module, and its owner's page.
ready_project = test_mixer_live.ready_project
owner_page = test_mixer_live.owner_page

#: Audio-clock seconds a test lets play before it looks (not a timing assertion: a wait).
LISTEN_S = 1.5


def fresh_mixer(page: Page, project: ReadyProject) -> None:
    """Forget the saved mixer state, then open the mixer (at its defaults)."""
    token = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "csrftoken")
    response = page.request.delete(f"/api/v1/projects/{project.project_id}/mix/", headers={"X-CSRFToken": token})
    assert response.status == 204, response.text()
    open_mixer(page, project)


def settings(page: Page) -> dict[str, Any]:
    return page.evaluate("window.isomixMixer.settings()")


def listen(page: Page, seconds: float) -> None:
    """Wait until the audio clock has run `seconds` further."""
    start = page.evaluate("window.isomixMixer.audioContext.currentTime")
    page.wait_for_function("(until) => window.isomixMixer.audioContext.currentTime >= until", arg=start + seconds)


def blur(page: Page) -> None:
    page.evaluate("document.activeElement && document.activeElement.blur()")


def test_space_plays_and_pauses_after_a_click_on_mute_which_enter_still_presses(
    owner_page: Page, ready_project, page_errors
):
    # Given the mixer, and a click on the vocals' Mute button (which keeps the focus)
    page = owner_page
    fresh_mixer(page, ready_project)
    mixer = page.get_by_test_id("mixer")
    mute = page.get_by_test_id("mute-vocals")
    mute.click()
    expect(mute).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("document.activeElement.dataset.testid") == "mute-vocals"

    # When Space is pressed, twice
    page.keyboard.press("Space")
    # Then it plays, and Mute was not pressed again
    expect(mixer).to_have_attribute("data-state", "playing")
    expect(mute).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Space")
    expect(mixer).to_have_attribute("data-state", "paused")
    expect(mute).to_have_attribute("aria-pressed", "true")

    # When Enter is pressed on the focused Mute button
    page.keyboard.press("Enter")
    # Then it is a button still
    expect(mute).to_have_attribute("aria-pressed", "false")
    assert settings(page)["stems"]["vocals"]["mute"] is False

    # When Space is typed in a text field (a fader's typed level)
    page.get_by_test_id("gain-vocals-readout").click()
    entry = page.get_by_test_id("gain-vocals-entry")
    expect(entry).to_be_focused()
    entry.press_sequentially("1 2")
    # Then it is typed there, and the transport does not move
    expect(entry).to_have_value("1 2")
    expect(mixer).to_have_attribute("data-state", "paused")
    entry.press("Escape")
    assert page_errors == []


def test_the_keyboard_shortcuts_and_their_sheet(owner_page: Page, ready_project, page_errors):
    # Given the mixer with the focus on nothing in particular
    page = owner_page
    fresh_mixer(page, ready_project)
    blur(page)
    duration = page.evaluate("window.isomixMixer.duration")
    position = lambda: page.evaluate("window.isomixMixer.position")  # noqa: E731

    # Seeking: → 5 s, Shift+← 1 s back, Home to the start
    page.keyboard.press("ArrowRight")
    assert position() == pytest.approx(min(5.0, duration))
    page.keyboard.press("Shift+ArrowLeft")
    assert position() == pytest.approx(min(5.0, duration) - 1.0)
    page.keyboard.press("Home")
    assert position() == 0

    # Tempo: ] faster, [ slower, by the served step; key: - down, + and = up; 0 resets both
    page.keyboard.press("]")
    assert settings(page)["tempo"] == 1.05
    page.keyboard.press("[")
    page.keyboard.press("[")
    assert settings(page)["tempo"] == 0.95
    expect(page.get_by_test_id("tempo-value")).to_have_text("95%")
    page.keyboard.press("-")
    page.keyboard.press("-")
    page.keyboard.press("+")
    assert settings(page)["transpose"] == -1
    page.keyboard.press("=")
    page.keyboard.press("=")
    assert settings(page)["transpose"] == 1
    expect(page.get_by_test_id("transpose-value")).to_have_text("+1")
    page.keyboard.press("0")
    assert (settings(page)["tempo"], settings(page)["transpose"]) == (1, 0)

    # 1–6 focus a stem strip; M and S act on the focused one
    page.keyboard.press("1")
    assert page.evaluate("document.activeElement.dataset.stem") == "vocals"
    page.keyboard.press("m")
    expect(page.get_by_test_id("mute-vocals")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("2")
    assert page.evaluate("document.activeElement.dataset.stem") == "drums"
    page.keyboard.press("s")
    expect(page.get_by_test_id("solo-drums")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("stem-bass")).to_have_attribute("data-audible", "false")
    page.keyboard.press("s")
    page.keyboard.press("1")
    page.keyboard.press("m")
    mix = settings(page)["stems"]
    assert not any(strip["mute"] or strip["solo"] for strip in mix.values())

    # On a focused fader the arrows move the fader, not the playhead
    page.get_by_test_id("gain-bass").focus()
    page.keyboard.press("ArrowUp")
    assert settings(page)["stems"]["bass"]["gain_db"] == 0.5
    assert position() == 0
    blur(page)

    # Loop: B at 5 s makes 0..5 s and turns it on, L turns it off and on, A at 1 s moves its start
    page.keyboard.press("ArrowRight")
    page.keyboard.press("b")
    assert settings(page)["loop"] == {
        "start_s": 0,
        "end_s": pytest.approx(min(5.0, duration), abs=1e-3),
        "enabled": True,
    }
    expect(page.get_by_test_id("loop-toggle")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("l")
    assert settings(page)["loop"]["enabled"] is False
    expect(page.get_by_test_id("loop-toggle")).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("l")
    page.keyboard.press("Home")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("a")
    assert settings(page)["loop"] == {
        "start_s": 1,
        "end_s": pytest.approx(min(5.0, duration), abs=1e-3),
        "enabled": True,
    }

    # ? opens the shortcuts sheet, Escape closes it
    dialog = page.get_by_test_id("shortcuts-dialog")
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Play or pause")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # While typing in a text field no shortcut fires
    before = settings(page)
    page.get_by_test_id("gain-drums-readout").click()
    entry = page.get_by_test_id("gain-drums-entry")
    entry.press_sequentially("ml0]-ab")
    assert settings(page) == before
    entry.press("Escape")
    assert page_errors == []


def test_a_loop_dragged_on_the_ruler_is_drawn_on_every_waveform_and_played_in_a_loop(
    owner_page: Page, ready_project, page_errors
):
    # Given the mixer
    page = owner_page
    fresh_mixer(page, ready_project)
    duration = page.evaluate("window.isomixMixer.duration")
    ruler = page.get_by_test_id("ruler")
    box = ruler.bounding_box()
    y = box["y"] + box["height"] / 2
    at = lambda fraction: box["x"] + fraction * box["width"]  # noqa: E731

    # When a region is dragged across the ruler from 20 % to 45 % of the song
    page.mouse.move(at(0.2), y)
    page.mouse.down()
    page.mouse.move(at(0.45), y, steps=8)
    page.mouse.up()

    # Then it is the loop, switched on, and the page says so
    loop = settings(page)["loop"]
    assert loop["enabled"] is True
    assert loop["start_s"] == pytest.approx(0.2 * duration, abs=0.05)
    assert loop["end_s"] == pytest.approx(0.45 * duration, abs=0.05)
    expect(page.get_by_test_id("loop-toggle")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("loop-clear")).to_be_visible()
    expect(page.get_by_test_id("loop-readout")).not_to_have_text("No loop")

    # And every waveform shades it: its top row is painted inside the region, not outside
    # (outside at 79 %, 4.74 s of the 120 BPM song: between two of the beat lines drawn there)
    shaded = page.evaluate(
        """([inside, outside]) => [...document.querySelectorAll("[data-waveform]")].map((canvas) => {
          const context = canvas.getContext("2d");
          const alpha = (fraction) => context.getImageData(Math.floor(fraction * canvas.width), 1, 1, 1).data[3];
          return [alpha(inside), alpha(outside)];
        })""",
        [0.32, 0.79],
    )
    assert shaded and all(inside > 0 and outside == 0 for inside, outside in shaded), shaded

    # When its end is dragged to 60 %
    page.mouse.move(at(0.45), y)
    page.mouse.down()
    page.mouse.move(at(0.6), y, steps=6)
    page.mouse.up()
    loop = settings(page)["loop"]
    assert loop["start_s"] == pytest.approx(0.2 * duration, abs=0.05)
    assert loop["end_s"] == pytest.approx(0.6 * duration, abs=0.05)

    # When it plays from the start for longer than the way to the loop's end and once round
    page.keyboard.press("Home")
    page.evaluate("window.isomixMixer.play()")
    listen(page, 0.6 * duration + 1.0)
    # Then the playhead is inside the loop
    here = page.evaluate("window.isomixMixer.position")
    assert loop["start_s"] <= here < loop["end_s"], (here, loop)
    listen(page, LISTEN_S)
    here = page.evaluate("window.isomixMixer.position")
    assert loop["start_s"] <= here < loop["end_s"], (here, loop)

    # When the Loop button is clicked, it is off, and on again
    page.get_by_test_id("loop-toggle").click()
    expect(page.get_by_test_id("loop-toggle")).to_have_attribute("aria-pressed", "false")
    assert settings(page)["loop"]["enabled"] is False
    page.get_by_test_id("loop-toggle").click()
    assert settings(page)["loop"]["enabled"] is True

    # When the loop is turned off (L) and a short press on the ruler seeks
    blur(page)
    page.keyboard.press("l")
    page.mouse.click(at(0.8), y)
    # Then the playhead goes there and the region stays, off
    assert page.evaluate("window.isomixMixer.position") == pytest.approx(0.8 * duration, abs=0.3)
    assert settings(page)["loop"]["enabled"] is False
    page.evaluate("window.isomixMixer.pause()")

    # When it is cleared
    page.get_by_test_id("loop-clear").click()
    # Then there is no loop
    assert settings(page)["loop"] is None
    expect(page.get_by_test_id("loop-clear")).to_be_hidden()
    expect(page.get_by_test_id("loop-readout")).to_contain_text("No loop")
    assert page_errors == []


def test_tempo_and_key_controls_change_the_playback(owner_page: Page, ready_project, page_errors):
    # Given the mixer, where this browser runs the pitch shifter
    page = owner_page
    fresh_mixer(page, ready_project)
    practice = page.get_by_test_id("practice")
    expect(practice).to_have_attribute("data-supported", "true")

    # When tempo is stepped down four times and the key twice
    for _ in range(4):
        page.get_by_test_id("tempo-down").click()
    for _ in range(2):
        page.get_by_test_id("transpose-down").click()

    # Then the mix is at 80 % and two semitones down, and the page shows it
    assert (settings(page)["tempo"], settings(page)["transpose"]) == (0.8, -2)
    expect(page.get_by_test_id("tempo-value")).to_have_text("80%")
    expect(page.get_by_test_id("transpose-value")).to_have_text("\u22122")
    expect(page.get_by_test_id("tempo")).to_have_value("0.8")

    # And the song's clock runs at 0.8 of the audio clock while it plays
    page.evaluate("window.isomixMixer.play()")
    listen(page, 0.3)
    start = page.evaluate("[window.isomixMixer.position, window.isomixMixer.audioContext.currentTime]")
    listen(page, LISTEN_S)
    end = page.evaluate("[window.isomixMixer.position, window.isomixMixer.audioContext.currentTime]")
    assert (end[0] - start[0]) / (end[1] - start[1]) == pytest.approx(0.8, abs=0.03)

    # When tempo changes while playing (the handle, as the bench does), the playhead stays continuous
    before = page.evaluate("window.isomixMixer.position")
    assert page.evaluate("window.isomixMixer.setTempo(1.2)") is True
    after = page.evaluate("window.isomixMixer.position")
    assert 0 <= after - before < 0.1
    listen(page, 0.3)
    start = page.evaluate("[window.isomixMixer.position, window.isomixMixer.audioContext.currentTime]")
    listen(page, LISTEN_S)
    end = page.evaluate("[window.isomixMixer.position, window.isomixMixer.audioContext.currentTime]")
    assert (end[0] - start[0]) / (end[1] - start[1]) == pytest.approx(1.2, abs=0.04)
    page.evaluate("window.isomixMixer.pause()")

    # When "Original" is pressed
    page.get_by_test_id("practice-reset").click()
    # Then tempo and key are back
    assert (settings(page)["tempo"], settings(page)["transpose"]) == (1, 0)
    expect(page.get_by_test_id("tempo-value")).to_have_text("100%")
    # And the handle refuses values off the served range by clamping to it
    assert page.evaluate("window.isomixMixer.setTranspose(30)") is True
    assert settings(page)["transpose"] == 12
    assert page_errors == []


def test_without_audioworklet_tempo_and_key_are_off_with_a_message(owner_page: Page, ready_project, page_errors):
    # Given a browser without AudioWorklet
    page = owner_page
    page.add_init_script("delete window.AudioWorkletNode;")
    fresh_mixer(page, ready_project)

    # Then the controls are off, saying why, and the mixer plays at the song's own tempo
    practice = page.get_by_test_id("practice")
    expect(practice).to_have_attribute("data-supported", "false")
    expect(page.get_by_test_id("practice-note")).to_be_visible()
    expect(page.get_by_test_id("practice-note")).to_contain_text("AudioWorklet")
    expect(page.get_by_test_id("tempo")).to_be_disabled()
    expect(page.get_by_test_id("transpose-up")).to_be_disabled()
    blur(page)
    page.keyboard.press("]")
    assert page.evaluate("window.isomixMixer.setTempo(0.8)") is False
    assert (settings(page)["tempo"], settings(page)["transpose"]) == (1, 0)
    page.get_by_test_id("play").click()
    expect(page.get_by_test_id("mixer")).to_have_attribute("data-state", "playing")
    assert page_errors == []


def test_the_mix_comes_back_after_a_reload_and_the_reset_forgets_it(owner_page: Page, ready_project, page_errors):
    # Given the mixer, changed by hand: a typed level, a mute, tempo, key and a loop
    page = owner_page
    fresh_mixer(page, ready_project)
    page.get_by_test_id("gain-bass-readout").click()
    page.get_by_test_id("gain-bass-entry").fill("-6")
    page.get_by_test_id("gain-bass-entry").press("Enter")
    page.get_by_test_id("mute-drums").click()
    page.evaluate("window.isomixMixer.setTempo(0.9)")
    page.evaluate("window.isomixMixer.setTranspose(3)")
    page.evaluate("window.isomixMixer.setLoop(1, 2.5)")
    changed = settings(page)
    assert page.evaluate("window.isomixMixer.saved") is True

    # When the page is opened again
    open_mixer(page, ready_project)

    # Then the whole mix is as it was left, on the controls too
    assert settings(page) == changed
    expect(page.get_by_test_id("gain-bass-readout")).to_contain_text("\u22126.0 dB")
    expect(page.get_by_test_id("mute-drums")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("stem-drums")).to_have_attribute("data-audible", "false")
    expect(page.get_by_test_id("tempo-value")).to_have_text("90%")
    expect(page.get_by_test_id("transpose-value")).to_have_text("+3")
    expect(page.get_by_test_id("loop-toggle")).to_have_attribute("aria-pressed", "true")

    # When the mixer is reset
    page.get_by_test_id("mixer-reset").click()
    # Then everything is at rest, and stays so after another reload
    defaults = {
        "master_gain_db": 0,
        "stems": {kind: {"gain_db": 0, "mute": False, "solo": False, "pan": 0} for kind in changed["stems"]},
        "tempo": 1,
        "transpose": 0,
        "loop": None,
    }
    page.wait_for_function("() => window.isomixMixer.settings().loop === null")
    assert settings(page) == defaults
    expect(page.get_by_test_id("mute-drums")).to_have_attribute("aria-pressed", "false")
    assert page.evaluate("window.isomixMixer.saved") is True
    open_mixer(page, ready_project)
    assert settings(page) == defaults
    assert page_errors == []
