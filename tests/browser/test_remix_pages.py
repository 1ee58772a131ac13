"""The granular remix in a real browser: style sounds, the remix page, the re-voiced stems in the mixer.

At 1280 px (a mouse) and at 390 px (a phone, touch):
- two style sounds, generated here (plucked notes at known pitches; noise hits), go in at once
  (dropped on the box on the desktop, chosen with the file picker on the phone), become ready
  through the embedded worker, show their grains' pitch/loudness plot, and a point of it plays
  its grain; each sound plays in its <audio>;
- the remix page of a separated song sets up a remix per stem, runs it (progress from the
  socket, REST after), and opens it in the mixer, where the re-voiced strips play beside the
  song's own with their own fader, mute and solo, saved with the mix; on the desktop the mix
  exports with them;
- nothing is wider than the screen, and no script fails.
A drop the page can tell is wrong (empty, not audio) is refused file by file with nothing sent;
one the server refuses (too long) is named from its answer, with nothing stored.
"""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import Page, expect

from tests.browser.conftest import watched_page
from tests.browser.test_studio import (
    EXPORT_TIMEOUT_MS,
    MIXER_LOAD_TIMEOUT_MS,
    SAMPLE_RATE,
    SEPARATION_TIMEOUT_MS,
    plan_set,
    render_song,
    screenshot,
    sign_up,
    unique_name,
    upload,
)

pytestmark = pytest.mark.browser

SONG_DURATION_S = 6.0
STYLE_SR = 22_050
#: The notes of the plucked sound (Hz): its grains' pitches.
PLUCK_HZ = (110.0, 165.0, 220.0, 330.0, 440.0, 660.0)
STYLE_READY_TIMEOUT_MS = 90_000
REMIX_TIMEOUT_MS = 180_000
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "device_scale_factor": 2},
}
STYLES_CREATE = re.compile(r".*/api/v1/styles/$")
REMIXES_CREATE = re.compile(r".*/api/v1/projects/[0-9a-f-]{36}/remixes/$")
EXPORTS_CREATE = re.compile(r".*/api/v1/projects/[0-9a-f-]{36}/exports/$")
GRAIN = re.compile(r".*/api/v1/styles/(?P<style>[0-9a-f-]{36})/grains/(?P<index>\d+)/$")
REVOICED = ("remix_drums", "remix_bass", "remix_other")


# ---------------------------------------------------------------- generated style sounds


def wav_bytes(audio: np.ndarray, sr: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, audio, sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def pluck_sound() -> bytes:
    """Six plucked notes of known pitch, each 0.3 s with 0.2 s of silence after it."""
    sr = STYLE_SR
    t = np.arange(int(0.3 * sr)) / sr
    gap = np.zeros(int(0.2 * sr))
    notes = []
    for hz in PLUCK_HZ:
        tone = sum(np.sin(2 * np.pi * hz * k * t) / k for k in (1, 2, 3)) * np.exp(-7 * t)
        notes += [0.6 * tone / np.abs(tone).max(), gap]
    return wav_bytes(np.concatenate([gap, *notes]).astype(np.float32), sr)


def hits_sound() -> bytes:
    """Eight noise hits (a drum kit of sorts), 0.12 s each with 0.2 s of silence after it."""
    sr = STYLE_SR
    rng = np.random.default_rng(5)
    t = np.arange(int(0.12 * sr)) / sr
    gap = np.zeros(int(0.2 * sr))
    hits = []
    for i in range(8):
        hit = rng.standard_normal(t.size) * np.exp(-(25 + 5 * i) * t)
        hits += [(0.3 + 0.07 * i) * hit / np.abs(hit).max(), gap]
    return wav_bytes(np.concatenate([gap, *hits]).astype(np.float32), sr)


def long_sound(seconds: float) -> bytes:
    """A quiet tone longer than a style sound may be (8 kHz mono: small for its length)."""
    sr = 8000
    t = np.arange(int(seconds * sr)) / sr
    return wav_bytes((0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr)


def as_file(name: str, data: bytes, mime: str = "audio/wav") -> dict[str, str]:
    return {"name": name, "mimeType": mime, "b64": base64.b64encode(data).decode("ascii")}


#: Drop files on the box as a user's drag from the desktop does (dragenter, dragover, drop).
_DROP = """([selector, files]) => {
  const zone = document.querySelector(selector);
  const transfer = new DataTransfer();
  for (const file of files) {
    const bytes = Uint8Array.from(atob(file.b64), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], file.name, { type: file.mimeType }));
  }
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
  }
}"""


def drop_files(page: Page, files: list[dict[str, str]]) -> None:
    page.evaluate(_DROP, ["[data-style-zone]", files])


# ---------------------------------------------------------------- fixtures


@dataclass(frozen=True)
class Studio:
    project_id: str
    storage_state: dict[str, Any]


@pytest.fixture(scope="module")
def studio(chromium_browser, studio_server, tmp_path_factory: pytest.TempPathFactory) -> Studio:
    """A Pro user (WAV exports) with one separated song, and their cookies for later contexts."""
    song = tmp_path_factory.mktemp("remix-song") / "song.wav"
    sf.write(song, render_song(duration_s=SONG_DURATION_S), SAMPLE_RATE, subtype="PCM_16")
    context = chromium_browser.new_context(base_url=studio_server.base_url)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        username = unique_name("remix")
        sign_up(page, username)
        plan_set(studio_server, username, "pro")
        project_id = upload(page, song)
        expect(page.get_by_test_id("mixer")).to_be_visible(timeout=SEPARATION_TIMEOUT_MS)
        return Studio(project_id=project_id, storage_state=context.storage_state())
    finally:
        context.close()


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def device(request) -> str:
    return request.param


@pytest.fixture
def page(chromium_browser, studio_server, studio: Studio, device: str, page_errors):
    context = chromium_browser.new_context(
        base_url=studio_server.base_url, storage_state=studio.storage_state, accept_downloads=True, **VIEWPORTS[device]
    )
    context.set_default_navigation_timeout(30_000)
    page = watched_page(context, page_errors)
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    page.unroute_all(behavior="ignoreErrors")
    context.close()


# ---------------------------------------------------------------- helpers


def sideways_scroll(page: Page) -> int:
    """How many px the page scrolls sideways (0 when it fits the screen)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def row_of(page: Page, name: str):
    return page.locator(f'[data-testid="style-row"][data-style-name="{name}"]')


def upload_styles(page: Page, device: str, names: tuple[str, str]) -> list[dict[str, Any]]:
    """Upload the two generated sounds (dropped on the desktop, picked on the phone); the API's results."""
    files = [as_file(f"{names[0]}.wav", pluck_sound()), as_file(f"{names[1]}.wav", hits_sound())]
    with page.expect_response(lambda r: bool(STYLES_CREATE.match(r.url)) and r.request.method == "POST") as answer:
        if device == "desktop":
            drop_files(page, files)
        else:
            page.get_by_test_id("style-input").set_input_files(
                [{"name": f["name"], "mimeType": f["mimeType"], "buffer": base64.b64decode(f["b64"])} for f in files]
            )
    assert answer.value.status == 202, answer.value.text()
    results = answer.value.json()["results"]
    assert len(results) == 2  # one request took both
    return results


def peak_levels(page: Page, kinds: tuple[str, ...], *, listen_ms: int = 2_500) -> dict[str, float]:
    """The loudest meter reading of each strip over ``listen_ms`` of playback."""
    return page.evaluate(
        """async ([kinds, ms]) => {
          const best = Object.fromEntries(kinds.map((k) => [k, 0]));
          const end = performance.now() + ms;
          while (performance.now() < end) {
            const { stems } = window.isomixMixer.levels();
            for (const kind of kinds) best[kind] = Math.max(best[kind], stems[kind] || 0);
            await new Promise((resolve) => setTimeout(resolve, 40));
          }
          return best;
        }""",
        [list(kinds), listen_ms],
    )


# ---------------------------------------------------------------- the tests


def test_style_sounds_remix_a_song_that_plays_in_the_mixer(page: Page, studio: Studio, device: str, page_errors):
    suffix = unique_name("")
    pluck, hits = f"Pluck {suffix}", f"Hits {suffix}"

    # Given the style library
    page.goto("/styles/")
    expect(page.get_by_test_id("style-zone")).to_be_visible()
    assert sideways_scroll(page) == 0

    # When two sounds go in at once
    results = upload_styles(page, device, (pluck, hits))

    # Then both are listed at once, pending, and become ready with their grains
    assert sorted(r["name"] for r in results) == sorted([pluck, hits])
    assert {r["status"] for r in results} == {"pending"}
    for name in (pluck, hits):
        row = row_of(page, name)
        expect(row).to_have_count(1)
        expect(row).to_have_attribute("data-status", "ready", timeout=STYLE_READY_TIMEOUT_MS)
        expect(row.get_by_test_id("style-status")).to_have_text("Ready")
        row.get_by_test_id("style-scatter").scroll_into_view_if_needed()  # its grains are read once in view
        expect(row.get_by_test_id("style-scatter")).to_have_attribute("data-state", "ready", timeout=15_000)
        assert int(row.get_by_test_id("style-grains").text_content()) > 0
    expect(page.get_by_test_id("style-files").locator('[data-state="uploaded"]')).to_have_count(2)

    # And the plucked sound's grains are plotted, one point each, with their pitches
    scatter = row_of(page, pluck).get_by_test_id("style-scatter")
    canvas = row_of(page, pluck).get_by_test_id("style-scatter-canvas")
    canvas.scroll_into_view_if_needed()
    points = canvas.evaluate("canvas => canvas.grainPoints()")
    assert len(points) == int(scatter.get_attribute("data-points")) >= len(PLUCK_HZ) - 1
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100
    assert all(0 <= p["x"] <= box["width"] and 0 <= p["y"] <= box["height"] for p in points)
    style_id = row_of(page, pluck).get_attribute("data-style-id")
    # (a higher grain is further right: x follows the grains' pitch, as the API gives it)
    pitch = {g["i"]: g["f0_hz"] for g in page.request.get(f"/api/v1/styles/{style_id}/").json()["scatter"]}
    voiced = sorted((pitch[p["i"]], p["x"]) for p in points if pitch.get(p["i"]))
    assert len(voiced) >= len(PLUCK_HZ) - 1
    assert [x for _hz, x in voiced] == sorted(x for _hz, x in voiced)

    # When a point is clicked, its grain is fetched and heard
    point = points[len(points) // 2]
    with page.expect_response(lambda r: bool(GRAIN.match(r.url))) as grain:
        canvas.click(position={"x": point["x"], "y": point["y"]})
    match = GRAIN.match(grain.value.url)
    assert grain.value.status == 200
    assert grain.value.headers["content-type"].startswith("audio/wav")
    assert match["style"] == style_id and int(match["index"]) == point["i"]
    expect(scatter).to_have_attribute("data-last-played", str(point["i"]), timeout=5_000)
    expect(row_of(page, pluck).get_by_test_id("style-scatter-readout")).to_contain_text(f"Grain {point['i'] + 1}")
    # (and from the keyboard: Home picks the lowest grain, Enter plays it)
    lowest = min(voiced)[0]
    lowest_index = next(i for i, hz in pitch.items() if hz == lowest)
    canvas.focus()
    page.keyboard.press("Home")
    with page.expect_response(lambda r: bool(GRAIN.match(r.url))) as grain:
        page.keyboard.press("Enter")
    assert int(GRAIN.match(grain.value.url)["index"]) == lowest_index
    expect(scatter).to_have_attribute("data-last-played", str(lowest_index), timeout=5_000)

    # And each sound plays in its own player
    playing = (
        row_of(page, hits)
        .get_by_test_id("style-audio")
        .evaluate("async (audio) => { await audio.play(); const ok = !audio.paused; audio.pause(); return ok; }")
    )
    assert playing is True
    assert sideways_scroll(page) == 0
    screenshot(page, f"styles-{device}")

    # Given the song's mixer: it offers the remix page
    page.goto(f"/projects/{studio.project_id}/")
    page.get_by_test_id("project-remix").click()
    page.wait_for_url(f"**/projects/{studio.project_id}/remix/")
    form = page.get_by_test_id("remix-form")
    expect(form).to_be_visible()
    assert sideways_scroll(page) == 0

    # When the drums are re-voiced with the hits, the bass and other with the plucks, and it runs
    hits_id = row_id(results, hits)
    pluck_id = row_id(results, pluck)
    page.get_by_test_id("remix-style-drums").select_option(hits_id)
    page.get_by_test_id("remix-style-bass").select_option(pluck_id)
    page.get_by_test_id("remix-style-other").select_option(pluck_id)
    page.get_by_test_id("remix-wet-other").fill("0.8")
    page.get_by_test_id("remix-gain-vocals").fill("-6")
    page.get_by_test_id("remix-grain-ms").fill("150")
    page.get_by_test_id("remix-seed").fill("7")
    with page.expect_response(lambda r: bool(REMIXES_CREATE.match(r.url)) and r.request.method == "POST") as answer:
        page.get_by_test_id("remix-submit").click()

    screenshot(page, f"remix-started-{device}")

    # Then the request says exactly that
    assert answer.value.status == 202, answer.value.text()
    sent = json.loads(answer.value.request.post_data)
    assert sent["stems"]["drums"] == {"gain_db": 0, "enabled": True, "style": hits_id, "wet": 1}
    assert sent["stems"]["bass"]["style"] == pluck_id
    assert sent["stems"]["other"] == {"gain_db": 0, "enabled": True, "style": pluck_id, "wet": 0.8}
    assert sent["stems"]["vocals"] == {"gain_db": -6, "enabled": True}
    assert sent["settings"]["grain_ms"] == 150 and sent["settings"]["seed"] == 7
    assert sent["settings"]["pitch_mapping"] is True and sent["settings"]["snap_to_beats"] is False
    remix_id = answer.value.json()["id"]

    # And the page follows it to done, in the list too, then offers the mixer and the file
    status = page.get_by_test_id("remix-status")
    expect(status).to_have_attribute("data-state", re.compile("done|failed|cancelled|error"), timeout=REMIX_TIMEOUT_MS)
    assert status.get_attribute("data-state") == "done", page.get_by_test_id("remix-error").text_content()
    expect(page.get_by_test_id("remix-download")).to_have_attribute("href", f"/api/v1/remixes/{remix_id}/download/")
    row = page.locator(f'[data-testid="remix-row"][data-remix-id="{remix_id}"]')
    expect(row).to_have_attribute("data-state", "done")
    expect(row.get_by_test_id("remix-row-state")).to_have_text("Done")
    expect(row).to_contain_text(f"Drums: {hits}")
    download = page.request.get(f"/api/v1/remixes/{remix_id}/download/")
    assert download.status == 200 and download.body()[:4] == b"fLaC"
    assert sideways_scroll(page) == 0
    screenshot(page, f"remix-done-{device}")

    # When the remix is opened in the mixer (from every fader at rest: the other viewport's run saved a mix)
    forget_the_saved_mix(page, studio)
    page.get_by_test_id("remix-open").click()
    mixer = page.get_by_test_id("mixer")
    expect(mixer).to_have_attribute("data-state", "ready", timeout=MIXER_LOAD_TIMEOUT_MS)

    # Then the re-voiced stems follow the song's own, each a strip of its own
    kinds = page.locator("[data-stem]").evaluate_all("strips => strips.map(s => s.dataset.stem)")
    assert kinds[-3:] == list(REVOICED) and {"vocals", "drums", "bass", "other"} <= set(kinds[:-3])
    expect(page.get_by_test_id("stem-remix_drums")).to_contain_text("Drums (re-voiced)")
    for kind in REVOICED:
        for control in ("gain", "mute", "solo", "pan", "waveform", "meter"):
            expect(page.get_by_test_id(f"{control}-{kind}")).to_have_count(1)
        expect(page.get_by_test_id(f"mute-{kind}")).to_be_visible()
        expect(page.get_by_test_id(f"solo-{kind}")).to_be_visible()
    settings = page.evaluate("window.isomixMixer.settings()")
    assert all(settings["stems"][kind] == {"gain_db": 0, "mute": False, "solo": False, "pan": 0} for kind in REVOICED)

    # And they play
    page.get_by_test_id("play").click()
    expect(mixer).to_have_attribute("data-state", "playing", timeout=5_000)
    heard = peak_levels(page, (*REVOICED, "vocals"))
    assert all(heard[kind] > 0.005 for kind in REVOICED), heard

    # When the re-voiced drums are muted, the re-voiced bass soloed, the re-voiced other turned down
    page.get_by_test_id("mute-remix_drums").click()
    page.get_by_test_id("solo-remix_bass").click()
    set_fader(page, "gain-remix_other", -12)

    # Then each acts on its own strip only, and that is what plays
    expect(page.get_by_test_id("mute-remix_drums")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("stem-remix_drums")).to_have_attribute("data-audible", "false")
    expect(page.get_by_test_id("stem-remix_bass")).to_have_attribute("data-audible", "true")
    for kind in ("vocals", "drums", "bass", "other", "remix_other"):
        expect(page.get_by_test_id(f"stem-{kind}")).to_have_attribute("data-audible", "false")
    settings = page.evaluate("window.isomixMixer.settings()")
    assert settings["stems"]["remix_drums"] == {"gain_db": 0, "mute": True, "solo": False, "pan": 0}
    assert settings["stems"]["remix_bass"] == {"gain_db": 0, "mute": False, "solo": True, "pan": 0}
    assert settings["stems"]["remix_other"]["gain_db"] == -12
    assert settings["stems"]["bass"] == {"gain_db": 0, "mute": False, "solo": False, "pan": 0}
    page.wait_for_timeout(300)  # the gates' ramps
    heard = peak_levels(page, ("remix_drums", "remix_bass", "bass", "vocals"), listen_ms=1_500)
    assert heard["remix_bass"] > 0.005, heard
    assert heard["remix_drums"] < 1e-4 and heard["bass"] < 1e-4 and heard["vocals"] < 1e-4, heard
    page.evaluate("window.isomixMixer.pause()")

    # And the mix with them is saved by the server, and comes back after a reload
    assert page.evaluate("window.isomixMixer.saved") is True
    page.reload()
    expect(mixer).to_have_attribute("data-state", "ready", timeout=MIXER_LOAD_TIMEOUT_MS)
    expect(page.get_by_test_id("mute-remix_drums")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("solo-remix_bass")).to_have_attribute("aria-pressed", "true")
    assert sideways_scroll(page) == 0
    screenshot(page, f"mixer-revoiced-{device}")

    if device == "desktop":
        # When the mix is exported, the re-voiced strips go with it and it renders
        page.get_by_test_id("export-format").select_option("wav")
        with page.expect_response(lambda r: bool(EXPORTS_CREATE.match(r.url)) and r.request.method == "POST") as info:
            page.get_by_test_id("export-submit").click()
        assert info.value.status == 202, info.value.text()
        body = json.loads(info.value.request.post_data)
        assert body["stems"]["remix_bass"]["solo"] is True and body["stems"]["remix_drums"]["mute"] is True
        expect(page.get_by_test_id("export-status")).to_have_attribute("data-state", "done", timeout=EXPORT_TIMEOUT_MS)
        link = page.get_by_test_id("export-download")
        with page.expect_download(timeout=30_000) as done:
            link.click()
        audio, _sr = sf.read(done.value.path(), always_2d=True)
        assert audio.shape[1] == 2 and np.abs(audio).max() > 0.005  # the re-voiced bass alone, heard

    # When a sound is deleted from the library, it is gone; the remix made with it keeps its files
    page.goto("/styles/")
    row_of(page, hits).get_by_test_id("style-delete").click()  # (the confirm is accepted)
    expect(row_of(page, hits)).to_have_count(0)
    assert page.request.get(f"/api/v1/styles/{hits_id}/").status == 404
    assert page.request.get(f"/api/v1/remixes/{remix_id}/download/").status == 200
    expect(row_of(page, pluck)).to_have_count(1)
    assert page_errors == []


def forget_the_saved_mix(page: Page, studio: Studio) -> None:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.delete(f"/api/v1/projects/{studio.project_id}/mix/", headers={"X-CSRFToken": token})
    assert response.status == 204, response.text()


def row_id(results: list[dict[str, Any]], name: str) -> str:
    return next(str(r["id"]) for r in results if r["name"] == name)


def set_fader(page: Page, test_id: str, db: float) -> None:
    """Move a fader's range input as a drag would end (its input event)."""
    page.get_by_test_id(test_id).evaluate(
        "(input, db) => { input.value = String(db); input.dispatchEvent(new Event('input', { bubbles: true })); }", db
    )


@pytest.mark.parametrize("device", ["desktop"], indirect=True)
def test_a_drop_with_bad_files_names_each_and_sends_nothing(page: Page, studio_server, page_errors):
    # Given the style library
    page.goto("/styles/")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and STYLES_CREATE.match(r.url) else None)
    rows_before = page.get_by_test_id("style-row").count()

    # When a good sound is dropped with an empty file and a text file
    drop_files(
        page,
        [
            as_file("good.wav", pluck_sound()),
            as_file("empty.wav", b""),
            as_file("notes.txt", b"not audio at all", "text/plain"),
        ],
    )

    # Then each bad one is named with its reason, the good one is not, and nothing was sent
    box = page.get_by_test_id("style-upload")
    expect(box).to_have_attribute("data-state", "error")
    expect(page.get_by_test_id("style-upload-error")).to_contain_text("Nothing was uploaded")
    files = page.get_by_test_id("style-file")
    expect(files).to_have_count(3)
    expect(files.nth(0)).to_have_attribute("data-state", "ok")
    expect(files.nth(1)).to_have_attribute("data-state", "refused")
    expect(files.nth(1)).to_contain_text("The file is empty.")
    expect(files.nth(2)).to_have_attribute("data-state", "refused")
    expect(files.nth(2)).to_contain_text("does not look like an audio file")
    assert posts == []

    # When a sound longer than a style sound may be is dropped with a good one
    with page.expect_response(lambda r: bool(STYLES_CREATE.match(r.url)) and r.request.method == "POST") as answer:
        drop_files(page, [as_file("fine.wav", hits_sound()), as_file("too-long.wav", long_sound(125.0))])

    # Then the server refuses the request, naming that file, and neither is kept
    assert 400 <= answer.value.status < 500, answer.value.text()
    assert answer.value.json()["extra"]["file"] == "too-long.wav"
    expect(box).to_have_attribute("data-state", "error")
    refused = page.locator('[data-testid="style-file"][data-file-name="too-long.wav"]')
    expect(refused).to_have_attribute("data-state", "refused")
    expect(page.locator('[data-testid="style-file"][data-file-name="fine.wav"]')).to_have_attribute("data-state", "ok")
    expect(page.get_by_test_id("style-upload-error")).to_contain_text("too-long.wav")
    listed = page.request.get("/api/v1/styles/?limit=100").json()
    assert not any(s["original_filename"] in ("fine.wav", "too-long.wav") for s in listed["results"])
    expect(page.get_by_test_id("style-row")).to_have_count(rows_before)
    assert page_errors == []
