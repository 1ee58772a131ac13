"""Faders, meters and waveforms in a real browser, and the mixer at desktop and phone width.

- Desktop stem faders are long and vertical, over the served dB range with a fader law
  that gives −20…+6 dB most of the travel; a dB scale; a typed level (refused when it is
  not a number); double-click (double-tap) back to 0 dB.
- Meters follow what each strip plays; the master's clip indicator latches at 0 dBFS until
  it is clicked. Waveforms grow with their fader and dim when their stem is not heard.
- At 390 px (a phone, touch): the transport stays on screen, every control is at least
  44 px, the hints speak of taps, and nothing is wider than the screen.

The project is test_mixer_live's ``ready_project`` (one upload for the module); each test
starts from the defaults (the saved state forgotten).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from domain import mix
from tests.browser import test_mixer_live
from tests.browser.conftest import watched_page
from tests.browser.test_mixer_live import ReadyProject
from tests.browser.test_mixer_practice import fresh_mixer, listen, settings

pytestmark = pytest.mark.browser

#: test_mixer_live's fixtures: one project uploaded for this module, and its owner's page.
ready_project = test_mixer_live.ready_project
owner_page = test_mixer_live.owner_page

PHONE = {"width": 390, "height": 844}
#: The fader law (static/js/mixer/faders.js FADER_LAW): the place on the travel of some levels.
LAW = {-60: 0.0, -40: 0.1, -20: 0.35, -12: 0.52, -6: 0.68, 0: 0.84, 6: 1.0}
TOUCH_TARGET_PX = 44
#: Pixels painted in a waveform's canvas, as a count (its envelope's area).
_PAINTED = """(testId) => {
  const canvas = document.querySelector(`[data-testid="${testId}"]`);
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted += 1;
  return painted;
}"""


@pytest.fixture
def phone_page(chromium_browser, studio_server, ready_project: ReadyProject, page_errors):
    """A phone (390 px, touch) signed in as the ready project's owner."""
    context = chromium_browser.new_context(
        base_url=studio_server.base_url,
        storage_state=ready_project.storage_state,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    page = watched_page(context, page_errors)
    yield page
    context.close()


def box(page: Page, test_id: str) -> dict[str, float]:
    found = page.get_by_test_id(test_id).bounding_box()
    assert found is not None, test_id
    return found


def type_level(page: Page, fader: str, text: str) -> None:
    """Click a fader's dB readout, type `text` and press Enter."""
    page.get_by_test_id(f"{fader}-readout").click()
    entry = page.get_by_test_id(f"{fader}-entry")
    expect(entry).to_be_focused()
    entry.fill(text)
    entry.press("Enter")


def test_stem_faders_are_long_with_a_db_scale_a_typed_level_and_a_reset(owner_page: Page, ready_project, page_errors):
    # Given the mixer at desktop width
    page = owner_page
    page.set_viewport_size({"width": 1280, "height": 900})
    fresh_mixer(page, ready_project)

    # Then each stem's fader is vertical and long
    track = box(page, "gain-vocals")
    assert track["height"] >= 140 and track["height"] > 4 * track["width"]

    # And its scale marks +6, 0, −6, −12, −24, −40, −60 where the law puts them
    ticks: list[dict[str, Any]] = (
        page.get_by_test_id("fader-vocals")
        .locator(".fader-tick")
        .evaluate_all(
            "ticks => ticks.map(t => ({db: Number(t.dataset.db), text: t.textContent,"
            " box: t.getBoundingClientRect().toJSON()}))"
        )
    )
    assert [tick["db"] for tick in ticks] == [6, 0, -6, -12, -24, -40, -60]
    assert [tick["text"] for tick in ticks] == ["+6", "0", "\u22126", "\u221212", "\u221224", "\u221240", "\u221260"]
    bottom = track["y"] + track["height"]
    for tick in ticks:
        if tick["db"] in LAW:
            centre = tick["box"]["y"] + tick["box"]["height"] / 2
            assert (bottom - centre) / track["height"] == pytest.approx(LAW[tick["db"]], abs=0.03), tick

    # When the travel is clicked at 35 % of its height, then at 84 %
    x = track["x"] + track["width"] / 2
    page.mouse.click(x, bottom - 0.35 * track["height"])
    # Then the level is −20 dB, then 0 dB: −20…+6 dB is the top 65 % of the travel
    assert settings(page)["stems"]["vocals"]["gain_db"] == pytest.approx(-20, abs=0.5)
    page.mouse.click(x, bottom - 0.84 * track["height"])
    assert settings(page)["stems"]["vocals"]["gain_db"] == pytest.approx(0, abs=0.5)

    # When a level is typed
    type_level(page, "gain-vocals", "-3.5")
    # Then the fader takes it, and says it
    assert settings(page)["stems"]["vocals"]["gain_db"] == -3.5
    expect(page.get_by_test_id("gain-vocals-readout")).to_contain_text("\u22123.5 dB")
    expect(page.get_by_test_id("gain-vocals")).to_have_value("-3.5")
    expect(page.get_by_test_id("gain-vocals-readout")).to_be_focused()

    # When something that is not a level is typed
    type_level(page, "gain-vocals", "loud")
    # Then it is refused: the field stays open, marked invalid, and the level is kept
    entry = page.get_by_test_id("gain-vocals-entry")
    expect(entry).to_be_visible()
    expect(entry).to_have_attribute("aria-invalid", "true")
    assert settings(page)["stems"]["vocals"]["gain_db"] == -3.5
    entry.press("Escape")
    expect(entry).to_be_hidden()
    expect(page.get_by_test_id("gain-vocals-readout")).to_contain_text("\u22123.5 dB")

    # When a typed level is past the range, the fader stops at its end
    type_level(page, "gain-vocals", "+20")
    assert settings(page)["stems"]["vocals"]["gain_db"] == mix.GAIN_DB_MAX

    # When the fader is double-clicked
    page.mouse.dblclick(x, bottom - 0.5 * track["height"])
    # Then it is back at 0 dB
    assert settings(page)["stems"]["vocals"]["gain_db"] == 0
    expect(page.get_by_test_id("gain-vocals-readout")).to_have_text(re.compile(r"(^|\s)0\.0 dB$"))

    # And dragging the cap moves it by the drag: up to the top of the travel is +6 dB
    cap = page.get_by_test_id("fader-vocals").locator("[data-fader-thumb]").bounding_box()
    page.mouse.move(cap["x"] + cap["width"] / 2, cap["y"] + cap["height"] / 2)
    page.mouse.down()
    page.mouse.move(x, track["y"] - 20, steps=6)
    page.mouse.up()
    assert settings(page)["stems"]["vocals"]["gain_db"] == mix.GAIN_DB_MAX
    assert page_errors == []


def test_meters_follow_each_strip_and_the_master_clip_latches_until_cleared(
    owner_page: Page, ready_project, page_errors
):
    # Given the mixer, playing
    page = owner_page
    fresh_mixer(page, ready_project)
    page.evaluate("window.isomixMixer.play()")
    listen(page, 0.5)

    # Then every strip's meter and the master's read a signal, and nothing clipped (a drum
    # stem is quiet between hits: its meter is read once it has had one, on a busy machine too)
    page.wait_for_function("() => Object.values(window.isomixMixer.levels().stems).every((p) => p > 1e-3)")
    levels = page.evaluate("window.isomixMixer.levels()")
    assert all(peak > 1e-3 for peak in levels["stems"].values()), levels
    assert 0 < levels["master"]["peak"] < 1 and levels["master"]["clipped"] is False
    level = page.get_by_test_id("meter-drums").evaluate(
        "m => 1 - Number(m.querySelector('.meter-cover').style.transform.match(/scale[XY]\\(([^)]+)\\)/)[1])"
    )
    assert 0 < level < 1

    # When the vocals are muted
    page.get_by_test_id("mute-vocals").click()
    # Then their meter falls silent while the others still play
    page.wait_for_function("() => window.isomixMixer.levels().stems.vocals < 1e-4")
    others = page.evaluate("window.isomixMixer.levels().stems")
    assert max(peak for kind, peak in others.items() if kind != "vocals") > 1e-3, others

    # When every fader and the master are pushed to +6 dB
    for fader in ("master-gain", "gain-drums", "gain-bass", "gain-other"):
        type_level(page, fader, "6")
    # Then the master clips, and its indicator lights and stays lit after the level comes down
    clip = page.get_by_test_id("clip")
    page.wait_for_function("() => window.isomixMixer.levels().master.clipped === true")
    expect(clip).to_have_attribute("data-clipped", "true")
    type_level(page, "master-gain", "-40")
    listen(page, 0.3)
    assert page.evaluate("window.isomixMixer.levels().master.peak") < 1
    expect(clip).to_have_attribute("data-clipped", "true")

    # When it is clicked
    clip.click()
    # Then it is clear
    expect(clip).to_have_attribute("data-clipped", "false")
    assert page.evaluate("window.isomixMixer.levels().master.clipped") is False
    page.evaluate("window.isomixMixer.pause()")
    assert page_errors == []


def test_waveforms_follow_their_fader_and_dim_when_not_heard(owner_page: Page, ready_project, page_errors):
    # Given the mixer with its waveforms drawn
    page = owner_page
    fresh_mixer(page, ready_project)
    page.wait_for_function(f"() => ({_PAINTED})('waveform-drums') > 0")
    at_unity = page.evaluate(_PAINTED, "waveform-drums")

    # When the drums' fader goes down 20 dB, then up to +6 dB
    type_level(page, "gain-drums", "-20")
    quiet = page.evaluate(_PAINTED, "waveform-drums")
    type_level(page, "gain-drums", "6")
    loud = page.evaluate(_PAINTED, "waveform-drums")
    # Then its envelope shrinks and grows with it
    assert quiet < at_unity < loud, (quiet, at_unity, loud)

    # When the bass is soloed
    page.get_by_test_id("solo-bass").click()
    # Then the other stems' waveforms are dimmed, the bass' is not
    opacity = "(testId) => Number(getComputedStyle(document.querySelector(`[data-testid='${testId}']`)).opacity)"
    expect(page.get_by_test_id("stem-drums")).to_have_attribute("data-audible", "false")
    assert page.evaluate(opacity, "waveform-drums") < 0.5
    assert page.evaluate(opacity, "waveform-bass") == 1
    # And muting the soloed bass dims it too
    page.get_by_test_id("mute-bass").click()
    expect(page.get_by_test_id("stem-bass")).to_have_attribute("data-audible", "false")
    assert page.evaluate(opacity, "waveform-bass") < 0.5
    assert page_errors == []


def test_desktop_width_speaks_of_keys_and_fits(owner_page: Page, ready_project, page_errors):
    page = owner_page
    page.set_viewport_size({"width": 1280, "height": 900})
    fresh_mixer(page, ready_project)

    expect(page.get_by_test_id("hint-keys")).to_be_visible()
    expect(page.get_by_test_id("hint-touch")).to_be_hidden()
    expect(page.get_by_test_id("mixer-status")).to_contain_text("space bar")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # The ruler and the waveforms share their left and right edges: a time is at one x
    ruler = box(page, "ruler")
    wave = box(page, "waveform-vocals")
    assert ruler["x"] == pytest.approx(wave["x"], abs=1)
    assert ruler["width"] == pytest.approx(wave["width"], abs=1)
    assert page_errors == []


def test_at_phone_width_the_transport_stays_and_every_control_is_touch_sized(
    phone_page: Page, ready_project, page_errors
):
    # Given the mixer on a 390 px touch screen
    page = phone_page
    fresh_mixer(page, ready_project)

    # Then nothing is wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # And the hints speak of tapping, not of keys
    expect(page.get_by_test_id("hint-touch")).to_be_visible()
    expect(page.get_by_test_id("hint-keys")).to_be_hidden()
    expect(page.get_by_test_id("mixer-status")).to_contain_text("Tap")
    expect(page.get_by_test_id("shortcuts-open")).to_be_hidden()

    # And every control is a target of at least 44 px, the faders running across the screen
    targets = ["play", "loop-toggle", "tempo-down", "tempo-up", "transpose-down", "transpose-up", "clip",
               "gain-vocals-readout", "tempo", "pan-vocals", "ruler"]  # fmt: skip
    for kind in ("vocals", "drums", "bass", "other"):
        targets += [f"mute-{kind}", f"solo-{kind}", f"download-{kind}", f"gain-{kind}"]
    small = {
        t: (b["width"], b["height"])
        for t in targets
        if min((b := box(page, t))["width"], b["height"]) < TOUCH_TARGET_PX
    }
    assert small == {}
    # ... and none is cut off at the side (a container that clips hides overflow from scrollWidth)
    offscreen = {
        t: (b["x"], b["width"])
        for t in [*targets, "master-gain", "master-gain-readout"]
        if (b := box(page, t))["x"] < 0 or b["x"] + b["width"] > PHONE["width"]
    }
    assert offscreen == {}
    fader = box(page, "gain-vocals")
    assert fader["width"] > 4 * fader["height"]

    # When the page is scrolled to its end
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function("() => window.scrollY > 500")
    # Then the play button is still on screen, and a tap plays
    play = box(page, "play")
    assert play["y"] >= 0 and play["y"] + play["height"] <= PHONE["height"]
    page.get_by_test_id("play").tap()
    expect(page.get_by_test_id("mixer")).to_have_attribute("data-state", "playing")
    page.get_by_test_id("play").tap()
    expect(page.get_by_test_id("mixer")).to_have_attribute("data-state", "paused")

    # And a level typed on the phone, then a double-tap on the fader, puts it back to 0 dB
    page.evaluate("window.scrollTo(0, 0)")
    type_level(page, "gain-bass", "-9")
    assert settings(page)["stems"]["bass"]["gain_db"] == -9
    page.get_by_test_id("fader-bass").locator("[data-fader-track]").tap()
    page.get_by_test_id("fader-bass").locator("[data-fader-track]").tap()
    assert settings(page)["stems"]["bass"]["gain_db"] == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page_errors == []
