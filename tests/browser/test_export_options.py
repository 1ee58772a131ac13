"""The export panel's options in a real browser: MP3 bitrate, the loop region, the file's name,
and the zip of every stem.

- An export of the loop region at 128 kb/s renders only that region, at that rate, under a
  name that says what it holds (``<song>-instrumental-loop-0m01s-0m03s.mp3``); the download
  link carries that name.
- "Loop region only" is offered only while the mixer has a loop.
- "Download all stems" gives ``<song>-stems.zip``: one lossless FLAC per stem, stored.

One project is uploaded and separated for the module and exported by the real worker.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import watched_page
from tests.browser.test_mixer_live import ReadyProject, open_mixer
from tests.browser.test_mixer_panels import api
from tests.browser.test_studio import (
    EXPORT_TIMEOUT_MS,
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
#: "Export Song.wav" → the project "Export Song" → this slug in every file name.
SLUG = "export-song"
LOOP_START_S = 1.0
LOOP_END_S = 3.0
#: An MP3's length as read back: the encoder pads a frame or two (26 ms each at 44.1 kHz).
MP3_DURATION_TOLERANCE_S = 0.1


@pytest.fixture(scope="module")
def export_project(chromium_browser: Browser, studio_server, tmp_path_factory: pytest.TempPathFactory) -> ReadyProject:
    """A separated project of a new user, and that user's cookies for later contexts."""
    song = tmp_path_factory.mktemp("export-song") / "Export Song.wav"
    sf.write(song, render_song(duration_s=SONG_DURATION_S), SAMPLE_RATE, subtype="PCM_16")
    context = chromium_browser.new_context(base_url=studio_server.base_url)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        username = unique_name("exports")
        sign_up(page, username)
        plan_set(studio_server, username, "pro")  # WAV and the zip of the stems are Pro's
        project_id = upload(page, song)
        expect(page.get_by_test_id("mixer")).to_be_visible(timeout=SEPARATION_TIMEOUT_MS)
        return ReadyProject(project_id=project_id, storage_state=context.storage_state())
    finally:
        context.close()


@pytest.fixture
def page(chromium_browser: Browser, studio_server, export_project: ReadyProject, page_errors) -> Iterator[Page]:
    """A page (not yet navigated) signed in as the owner, accepting downloads; no saved mix."""
    context = chromium_browser.new_context(
        base_url=studio_server.base_url, storage_state=export_project.storage_state, accept_downloads=True
    )
    page = watched_page(context, page_errors)
    api(page, "DELETE", f"/api/v1/projects/{export_project.project_id}/mix/")  # each test mixes anew
    yield page
    context.close()


def ffprobe(path: Path) -> dict[str, Any]:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name,bit_rate", "-of", "json", path],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return json.loads(result.stdout)


def test_the_loop_region_exports_at_the_chosen_bitrate_under_its_own_name(
    page: Page, export_project, tmp_path, page_errors
):
    # Given the mixer, with no loop yet: only the whole song can be exported
    open_mixer(page, export_project)
    if not page.locator("[data-testid=export-format] option[value=mp3]").count():
        pytest.fail("The default plan offers no MP3 export")
    whole, loop_only = page.get_by_test_id("export-region-all"), page.get_by_test_id("export-region-loop")
    page.get_by_test_id("export-format").focus()
    expect(whole).to_be_checked()
    expect(loop_only).to_be_disabled()

    # When the vocals are muted, a loop is set from 1 s to 3 s, and MP3 at 128 kb/s of the loop is chosen
    page.get_by_test_id("mute-vocals").click()
    page.evaluate(f"window.isomixMixer.setLoop({LOOP_START_S}, {LOOP_END_S})")
    page.get_by_test_id("export-format").select_option("mp3")
    page.get_by_test_id("export-format").focus()
    expect(page.get_by_test_id("export-bitrate")).to_be_visible()
    expect(page.get_by_test_id("export-bitrate")).to_have_value("192")  # mixer_ranges()'s default
    page.get_by_test_id("export-bitrate").select_option("128")
    loop_only.check()
    expect(page.get_by_test_id("export-loop-range")).to_have_text("(0:01.0 to 0:03.0)")
    with page.expect_request(lambda r: r.url.endswith("/exports/") and r.method == "POST") as request_info:
        page.get_by_test_id("export-submit").click()

    # Then the request is the contract's body: the mix, format, bitrate and region
    body = request_info.value.post_data_json
    assert (body["format"], body["bitrate_kbps"], body["region"]) == ("mp3", 128, "loop")
    assert body["loop"]["start_s"] == LOOP_START_S and body["loop"]["end_s"] == LOOP_END_S
    assert body["stems"]["vocals"]["mute"] is True

    # And once rendered, the link offers the file under the name of what it holds
    expected = f"{SLUG}-instrumental-loop-0m01s-0m03s.mp3"
    expect(page.get_by_test_id("export-status")).to_have_attribute("data-state", "done", timeout=EXPORT_TIMEOUT_MS)
    link = page.get_by_test_id("export-download")
    expect(link).to_have_attribute("download", expected)
    expect(link).to_have_text(f"Download {expected}")
    with page.expect_download(timeout=30_000) as download_info:
        link.click()
    assert download_info.value.suggested_filename == expected

    # And the file is an MP3 at 128 kb/s, two seconds long (the loop, not the song)
    path = tmp_path / expected
    download_info.value.save_as(path)
    probed = ffprobe(path)
    assert [(s["codec_name"], int(s["bit_rate"])) for s in probed["streams"]] == [("mp3", 128_000)]
    assert abs(float(probed["format"]["duration"]) - (LOOP_END_S - LOOP_START_S)) < MP3_DURATION_TOLERANCE_S

    # When the loop is cleared, the panel offers the whole song again
    page.evaluate("window.isomixMixer.clearLoop()")
    page.get_by_test_id("export-format").focus()
    expect(loop_only).to_be_disabled()
    expect(whole).to_be_checked()
    assert page_errors == []


def test_a_lossless_format_takes_no_bitrate(page: Page, export_project, page_errors) -> None:
    # Given the mixer
    open_mixer(page, export_project)

    # When WAV is chosen
    page.get_by_test_id("export-format").select_option("wav")

    # Then the bitrate is not offered, and not sent
    expect(page.get_by_test_id("export-bitrate")).to_be_hidden()
    with page.expect_request(lambda r: r.url.endswith("/exports/") and r.method == "POST") as request_info:
        page.get_by_test_id("export-submit").click()
    body = request_info.value.post_data_json
    assert (body["format"], body["region"]) == ("wav", "all")
    assert "bitrate_kbps" not in body
    expect(page.get_by_test_id("export-status")).to_have_attribute("data-state", "done", timeout=EXPORT_TIMEOUT_MS)
    expect(page.get_by_test_id("export-download")).to_have_attribute("download", f"{SLUG}-mix.wav")
    assert page_errors == []


def test_download_all_stems_gives_one_flac_per_stem_in_a_zip(page: Page, export_project, tmp_path, page_errors):
    # Given the mixer and the project's stems
    open_mixer(page, export_project)
    kinds = [
        stem["kind"] for stem in page.request.get(f"/api/v1/projects/{export_project.project_id}/").json()["stems"]
    ]
    assert kinds

    # When "Download all stems" is clicked
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_test_id("stems-archive").click()

    # Then a zip named after the song arrives, holding each stem as a stored FLAC of the song's length
    download = download_info.value
    assert download.suggested_filename == f"{SLUG}-stems.zip"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        assert sorted(m.filename for m in members) == sorted(f"{SLUG}-{kind}.flac" for kind in kinds)
        assert {m.compress_type for m in members} == {zipfile.ZIP_STORED}
        archive.extractall(tmp_path / "stems")
    for kind in kinds:
        info = sf.info(str(tmp_path / "stems" / f"{SLUG}-{kind}.flac"))
        assert info.format == "FLAC"
        assert abs(info.duration - SONG_DURATION_S) < 0.1
    assert page_errors == []
