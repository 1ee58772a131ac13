"""The studio in a real browser: sign up, upload, watch it separate, mix, export.

Runs against the product started by `studio_server` (conftest) with headless Chromium.
The song is generated here: 12 s of stereo 44.1 kHz with a kick on every beat at
120 BPM, a bass line, a chord pad and a vibrato "voice" tone.

Set ISOMIX_SCREENSHOT_DIR to keep screenshots of the library and the mixer.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

SONG_DURATION_S = 12.0
SAMPLE_RATE = 44_100
PASSWORD = "Mix-the-stems-2024!"
PROJECT_URL = re.compile(r".*/projects/(?P<id>[0-9a-f-]{36})/$")
CORE_STEMS = {"vocals", "drums", "bass", "other"}

UPLOAD_TIMEOUT_MS = 60_000
SEPARATION_TIMEOUT_MS = 120_000
MIXER_LOAD_TIMEOUT_MS = 60_000
EXPORT_TIMEOUT_MS = 120_000


def render_song(*, duration_s: float = SONG_DURATION_S, sr: int = SAMPLE_RATE) -> np.ndarray:
    """A short stereo song, shape (samples, 2), peak 0.8."""
    t = np.arange(int(duration_s * sr)) / sr
    beat_s = 0.5  # 120 BPM
    bar = (t // (4 * beat_s)).astype(int) % 4

    # Kick: a 110→50 Hz sweep with a fast decay on every beat, plus a short click.
    tb = t % beat_s
    kick = np.sin(2 * np.pi * (50 * tb + 2.0 * (1 - np.exp(-30 * tb)))) * np.exp(-18 * tb)
    kick += 0.3 * np.sin(2 * np.pi * 3000 * tb) * np.exp(-600 * tb)

    # Bass: one note per bar (A1, F1, C2, G1), plucked on each beat.
    bass_hz = np.array([55.0, 43.65, 65.41, 49.0])[bar]
    bass = np.sin(2 * np.pi * np.cumsum(bass_hz) / sr) * (0.35 + 0.65 * np.exp(-4 * tb))

    # Pad: a triad per bar (Am, F, C, G), slightly detuned between the channels.
    chords = np.array(
        [[220.0, 261.63, 329.63], [174.61, 220.0, 261.63], [261.63, 329.63, 392.0], [196.0, 246.94, 293.66]]
    )
    pad_left = sum(np.sin(2 * np.pi * np.cumsum(chords[bar, i]) / sr) for i in range(3)) / 3
    pad_right = sum(np.sin(2 * np.pi * np.cumsum(chords[bar, i] * 1.003) / sr) for i in range(3)) / 3
    bar_phase = (t % (4 * beat_s)) / (4 * beat_s)
    pad_env = np.minimum(1.0, bar_phase * 6)

    # Voice: a melody with 5.5 Hz vibrato and a few harmonics, sung in phrases.
    melody_hz = np.array([440.0, 392.0, 523.25, 493.88])[bar]
    voice_hz = melody_hz * (1 + 0.015 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(voice_hz) / sr
    voice = np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.25 * np.sin(3 * phase)
    voice *= np.clip(np.sin(np.pi * bar_phase) * 1.5, 0, 1)

    centre = 0.9 * kick + 0.6 * bass + 0.35 * voice
    song = np.stack([centre + 0.25 * pad_left * pad_env, centre + 0.25 * pad_right * pad_env], axis=1)
    return (0.8 * song / np.abs(song).max()).astype(np.float32)


@pytest.fixture(scope="module")
def song_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("songs") / "test-song.wav"
    sf.write(path, render_song(), SAMPLE_RATE, subtype="PCM_16")
    return path


def screenshot(page: Page, name: str) -> None:
    directory = os.environ.get("ISOMIX_SCREENSHOT_DIR")
    if directory:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(Path(directory) / f"isomix-{name}.png"), full_page=True)


def sign_up(page: Page, username: str) -> None:
    page.goto("/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_email", f"{username}@example.com")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_test_id("signup-submit").click()
    page.wait_for_url("**/projects/", timeout=15_000)
    expect(page.get_by_test_id("nav-user")).to_contain_text(username)


#: Puts a user on a plan as an operator does in the admin (``plan_set``'s shell code).
_PLAN_SET = """
from django.contrib.auth import get_user_model
from business.models import Plan
from business.services import account_get_or_create, account_plan_sync
account = account_get_or_create(user=get_user_model().objects.get(username={username!r}))
account.plan = Plan.objects.get(slug={plan!r})
account.save()
account_plan_sync(account=account)
"""


def plan_set(studio_server, username: str, plan: str) -> None:
    """Put ``username`` of the running studio on ``plan`` ("free" or "pro"), as an operator's
    assignment in the admin does: the exports, archive and limits of that plan apply at once."""
    studio_server.manage("shell", "-c", _PLAN_SET.format(username=username, plan=plan))


def upload(page: Page, song: Path) -> str:
    """Upload from the library page; returns the new project's id (fails with the shown error)."""
    page.get_by_test_id("upload-input").set_input_files(str(song))
    outcome = page.locator(
        "[data-testid=upload-error]:visible, [data-testid=project-progress], [data-testid=mixer]"
    ).first
    expect(outcome).to_be_visible(timeout=UPLOAD_TIMEOUT_MS)
    error = page.get_by_test_id("upload-error")
    if error.count() and error.is_visible():
        pytest.fail(f"The upload was refused: {error.text_content()}")
    match = PROJECT_URL.match(page.url)
    assert match, page.url
    return match.group("id")


def unique_name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def test_upload_separate_mix_and_export(new_page, page_errors, studio_server, song_path: Path, tmp_path: Path) -> None:
    # Given a new user on their library, on Pro (which exports WAV)
    page = new_page()
    username = unique_name("ana")
    sign_up(page, username)
    plan_set(studio_server, username, "pro")
    expect(page.get_by_test_id("upload-zone")).to_be_visible()

    # When they upload a song
    upload(page, song_path)

    # Then the project page shows its steps (or, if separation was that quick, the mixer)
    progress_or_mixer = page.locator("[data-testid=project-steps], [data-testid=mixer]").first
    expect(progress_or_mixer).to_be_visible(timeout=15_000)
    if page.get_by_test_id("project-progress").count():
        expect(page.get_by_test_id("job-step").first).to_be_visible(timeout=15_000)
        expect(page.get_by_test_id("job-step").first.locator("progress")).to_be_attached()

    # And it reloads into the mixer when the stems are ready
    mixer = page.get_by_test_id("mixer")
    expect(mixer).to_be_visible(timeout=SEPARATION_TIMEOUT_MS)
    expect(mixer).to_have_attribute("data-state", "ready", timeout=MIXER_LOAD_TIMEOUT_MS)
    kinds = set(page.locator("[data-stem]").evaluate_all("strips => strips.map(s => s.dataset.stem)"))
    assert CORE_STEMS <= kinds
    duration = page.evaluate("window.isomixMixer.duration")
    assert abs(duration - SONG_DURATION_S) < 0.5
    expect(page.get_by_test_id("download-vocals")).to_have_attribute("href", re.compile(r".+"))

    # When they press play, the audio clock runs
    page.get_by_test_id("play").click()
    expect(mixer).to_have_attribute("data-state", "playing", timeout=5_000)
    clock_before = page.evaluate("window.isomixMixer.audioContext.currentTime")
    page.wait_for_timeout(1_000)
    clock_after = page.evaluate("window.isomixMixer.audioContext.currentTime")
    assert clock_after - clock_before > 0.3
    assert page.evaluate("window.isomixMixer.position") > 0.3
    screenshot(page, "mixer-playing")

    # And the space bar pauses (when focus is not in a control that uses it)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Space")
    expect(mixer).to_have_attribute("data-state", "paused", timeout=5_000)

    # And a click on a waveform seeks there
    waveform = page.get_by_test_id("waveform-drums")
    box = waveform.bounding_box()
    waveform.click(position={"x": box["width"] * 0.5, "y": box["height"] / 2})
    position = page.evaluate("window.isomixMixer.position")
    assert abs(position - duration / 2) < 0.5

    # When they mute the vocals
    page.get_by_test_id("mute-vocals").click()
    expect(page.get_by_test_id("mute-vocals")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("stem-vocals")).to_have_attribute("data-audible", "false")
    settings = page.evaluate("window.isomixMixer.settings()")
    assert settings["stems"]["vocals"] == {"gain_db": 0, "mute": True, "solo": False, "pan": 0}
    assert settings["master_gain_db"] == 0

    # And export the mix as WAV
    page.get_by_test_id("export-format").select_option("wav")
    page.get_by_test_id("export-submit").click()
    download_link = page.get_by_test_id("export-download")
    expect(download_link).to_be_visible(timeout=EXPORT_TIMEOUT_MS)
    expect(page.get_by_test_id("export-status")).to_have_attribute("data-state", "done")
    screenshot(page, "mixer-exported")

    # Then the downloaded file is a stereo WAV of the song
    with page.expect_download(timeout=30_000) as download_info:
        download_link.click()
    mix_path = tmp_path / "mix.wav"
    download_info.value.save_as(mix_path)
    mix, mix_sr = sf.read(mix_path, always_2d=True)
    assert mix.shape[0] > 0
    assert mix.shape[1] == 2
    assert abs(mix.shape[0] / mix_sr - SONG_DURATION_S) < 0.5

    # And the library lists the ready project
    page.goto("/projects/")
    expect(page.get_by_test_id("project-row").first).to_have_attribute("data-status", "ready")
    screenshot(page, "library")
    assert page_errors == []


def test_other_user_cannot_open_project(new_page, page_errors, song_path: Path) -> None:
    # Given a project uploaded by its owner
    owner = new_page()
    sign_up(owner, unique_name("own"))
    project_id = upload(owner, song_path)
    project_path = f"/projects/{project_id}/"

    # When another user opens its page and its API
    other = new_page()
    sign_up(other, unique_name("eve"))
    response = other.goto(project_path)
    api_response = other.request.get(f"/api/v1/projects/{project_id}/")

    # Then both are 404, and the project is not in their library
    assert response is not None and response.status == 404
    assert api_response.status == 404
    other.goto("/projects/")
    expect(other.locator(f'[data-project-id="{project_id}"]')).to_have_count(0)
    # And the owner still sees it
    assert owner.goto(project_path).status == 200
    assert page_errors == []
