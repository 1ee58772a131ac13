"""The mixer page's karaoke side in a real browser: the analysis, the beat grid, the metronome
and its count-in, the processing steps, and the karaoke bundle in the export panel.

- The header shows the song's tempo, key, meter and loudness as the analysis API has them
  (one test reads the real endpoint, for a song the worker analysed); while the job runs it
  says "Analysing…" with the events' percent, and when it failed, its plain reason.
- Every waveform draws a line at each beat and a stronger one at each downbeat.
- The metronome is muted by default; on, it schedules a click at each beat's time on the
  audio clock (downbeats accented), stretched by 1/tempo when the song plays slower; the
  count-in plays one bar of clicks and starts the song on the bar's end.
- The steps below the mixer turn done from the socket's events (times taken from REST).
- "Karaoke bundle" is offered only once the song has lyrics, and sends the mix as set.
- At 375 px nothing scrolls sideways and the new controls are fingertip-sized.

One project is uploaded and separated for the module (``ready_project``, test_mixer_live's
6 s, 120 BPM song, on Pro). Analyses, lyrics and events that must say something exact are
answered by Playwright routes and a mocked WebSocket; times are the page's audio-clock
schedule (`window.isomixMixer`), never the wall clock.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser import test_mixer_live
from tests.browser.test_csp import RECORD_VIOLATIONS, csp_violations
from tests.browser.test_mixer_live import PROJECT_SOCKET, ReadyProject, open_mixer
from tests.browser.test_studio import SEPARATION_TIMEOUT_MS, screenshot

pytestmark = pytest.mark.browser

#: test_mixer_live's fixtures: one project uploaded for this module, and its owner's page.
ready_project = test_mixer_live.ready_project
owner_page = test_mixer_live.owner_page

ANALYSIS = re.compile(r".*/api/v1/projects/[0-9a-f-]{36}/analysis/$")
LYRICS = re.compile(r".*/api/v1/projects/[0-9a-f-]{36}/lyrics/$")
PROJECT = re.compile(r".*/api/v1/projects/[0-9a-f-]{36}/$")
EXPORTS_CREATE = re.compile(r".*/api/v1/projects/[0-9a-f-]{36}/exports/$")
MINUS = "\u2212"
#: A grid the routes answer with: a beat every 0.5 s from 0.1 s, in bars of three (3/4).
FAKE_BEATS = [round(0.1 + 0.5 * i, 3) for i in range(11)]
FAKE_DOWNBEATS = FAKE_BEATS[::3]
FAKE_ANALYSE_JOB = "00000000-0000-4000-8000-0000000a0001"
FAKE_LYRICS_JOB = "00000000-0000-4000-8000-0000000a0002"
TOUCH_MIN_PX = 44
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
#: Numbers the page computes in doubles, compared here.
EPSILON = 1e-6


def analysis_body(**fields: Any) -> dict[str, Any]:
    """The analysis API's shape: a finished analysis of the fake grid, with ``fields`` over it."""
    body = {
        "status": "done",
        "progress": 100,
        "stage": "",
        "error": "",
        "tempo_bpm": 120.0,
        "beats": FAKE_BEATS,
        "downbeats": FAKE_DOWNBEATS,
        "time_signature": "3/4",
        "key": "F# minor",
        "key_confidence": 0.8,
        "loudness_lufs": -9.1,
        "peak_dbfs": -0.4,
    }
    body.update(fields)
    return body


def lyrics_body(*, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "status": "done" if lines else "none",
        "progress": 100 if lines else 0,
        "stage": "",
        "error": "",
        "language": "en" if lines else "",
        "source": "transcribed" if lines else "",
        "model": "whisper-base" if lines else "",
        "version": 1 if lines else 0,
        "versions": [],
        "lines": lines,
    }


LINE = {"start": 1.0, "end": 2.0, "text": "Hello friend", "words": [{"word": "Hello", "start": 1.0, "end": 1.4}]}


class Answer:
    """Answer GETs of a URL with ``body`` (changed by the test as it goes); other methods go on."""

    def __init__(self, page: Page, pattern: re.Pattern[str], body: dict[str, Any]) -> None:
        self.body = body
        self.reads = 0
        page.route(pattern, self.on_request)

    def on_request(self, route: Route) -> None:
        if route.request.method != "GET":
            route.fallback()
            return
        self.reads += 1
        route.fulfill(json=self.body)


class Socket:
    """The project socket, played by the test (the page's is never connected to the server)."""

    def __init__(self, page: Page) -> None:
        self.routes: list[Any] = []
        page.route_web_socket(PROJECT_SOCKET, self.on_socket)

    def on_socket(self, route: Any) -> None:
        self.routes.append(route)  # never connected on to the server: mocked, it opens at once

    def send(self, *, job: str, kind: str, state: str, progress: int, stage: str = "", user_error: str = "") -> None:
        assert self.routes, "the page has no socket yet"
        self.routes[-1].send(
            json.dumps(
                {
                    "type": "job.progress",
                    "project": "",
                    "job": job,
                    "kind": kind,
                    "state": state,
                    "progress": progress,
                    "stage": stage,
                    "project_status": "ready",
                    "user_error": user_error,
                }
            )
        )


def fresh_open(page: Page, project: ReadyProject) -> None:
    """Forget the saved mix (an earlier test's tempo or mutes), then open the mixer."""
    token = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "csrftoken")
    response = page.request.delete(f"/api/v1/projects/{project.project_id}/mix/", headers={"X-CSRFToken": token})
    assert response.status == 204, response.text()
    open_mixer(page, project)


def wait_live(page: Page) -> None:
    expect(page.get_by_test_id("mixer")).to_have_attribute("data-socket", "live")


def key_text(key: str) -> str:
    """The page's English words for an analysis key ("F# minor" → "F♯ minor")."""
    root, mode = key.split()
    return f"{root[0]}{root[1:].replace('#', '♯').replace('b', '♭')} {mode}"


# ---------------------------------------------------------------- the analysis


def test_the_real_analysis_is_shown_and_its_beats_drawn_on_every_waveform(
    owner_page: Page, ready_project: ReadyProject, page_errors
) -> None:
    # Given the song's analysis, as the worker made it (the real endpoint, waited for)
    page = owner_page
    url = f"/api/v1/projects/{ready_project.project_id}/analysis/"
    analysis = wait_analysed(page, url)
    assert analysis["status"] == "done", analysis
    print("the worker's analysis:", {k: v for k, v in analysis.items() if k not in ("beats", "downbeats")})

    # When the mixer opens
    fresh_open(page, ready_project)

    # Then the header shows its tempo, key, meter and loudness
    tempo = page.get_by_test_id("analysis-tempo")
    expect(tempo).to_be_visible()
    assert abs(float(tempo.text_content().removesuffix(" BPM")) - analysis["tempo_bpm"]) <= 0.05 + EPSILON
    # (a key or meter the analysis could not tell is not shown)
    if analysis["key"]:
        expect(page.get_by_test_id("analysis-key")).to_have_text(key_text(analysis["key"]))
    else:
        expect(page.get_by_test_id("analysis-key")).to_be_hidden()
    if analysis["time_signature"]:
        expect(page.get_by_test_id("analysis-meter")).to_have_text(analysis["time_signature"])
    else:
        expect(page.get_by_test_id("analysis-meter")).to_be_hidden()
    loudness = page.get_by_test_id("analysis-loudness").text_content()
    assert loudness.endswith(" LUFS")
    assert abs(float(loudness.removesuffix(" LUFS").replace(MINUS, "-")) - analysis["loudness_lufs"]) <= 0.05 + EPSILON
    expect(page.get_by_test_id("analysis")).to_have_attribute("data-state", "done")
    # And every waveform has a line at each of its beats
    duration = page.evaluate("window.isomixMixer.duration")
    beats = [t for t in analysis["beats"] if 0 <= t <= duration]
    for kind in page.locator("[data-stem]").evaluate_all("els => els.map(e => e.dataset.stem)"):
        grid = page.evaluate("(kind) => window.isomixMixer.beatGrid(kind)", kind)
        assert len(grid["beats"]) == len(beats)
        assert all(abs(x - t / duration * grid["width"]) <= 1 for x, t in zip(grid["beats"], beats, strict=True))
    assert page_errors == []


def wait_analysed(page: Page, url: str) -> dict[str, Any]:
    """The analysis once its job finished (done or failed), read as its owner."""
    for _ in range(SEPARATION_TIMEOUT_MS // 1000):
        analysis = page.request.get(url).json()
        if analysis["status"] in ("done", "failed"):
            return analysis
        page.wait_for_timeout(1000)
    pytest.fail(f"the analysis did not finish: {analysis}")


def test_the_readouts_follow_the_analysis_job_from_running_to_done(
    owner_page: Page, ready_project: ReadyProject, page_errors
) -> None:
    # Given an analysis still running (the route), and the socket played by the test
    page = owner_page
    answer = Answer(page, ANALYSIS, analysis_body(status="running", progress=40, tempo_bpm=None, beats=[], downbeats=[],
                                                  time_signature=None, key=None, loudness_lufs=None))  # fmt: skip
    socket = Socket(page)
    fresh_open(page, ready_project)
    wait_live(page)
    status = page.get_by_test_id("analysis-status")

    # Then it says so, quietly, with its percent, and shows no readouts yet
    expect(status).to_have_text("Analysing… 40%")
    expect(page.get_by_test_id("analysis")).to_have_attribute("data-state", "running")
    expect(page.get_by_test_id("analysis-tempo")).to_be_hidden()
    assert page.get_by_test_id("metronome-toggle").is_disabled()

    # When its job reports progress, then finishes
    socket.send(job=FAKE_ANALYSE_JOB, kind="analyse", state="running", progress=70, stage="analyse")
    expect(status).to_have_text("Analysing… 70%")
    answer.body = analysis_body(tempo_bpm=96.0, key="F# minor", time_signature="3/4", loudness_lufs=-9.1)
    socket.send(job=FAKE_ANALYSE_JOB, kind="analyse", state="done", progress=100)

    # Then the header shows what it found, in words
    expect(page.get_by_test_id("analysis-tempo")).to_have_text("96 BPM")
    expect(page.get_by_test_id("analysis-key")).to_have_text("F♯ minor")
    expect(page.get_by_test_id("analysis-meter")).to_have_text("3/4")
    expect(page.get_by_test_id("analysis-loudness")).to_have_text(f"{MINUS}9.1 LUFS")
    expect(status).to_be_hidden()
    # And the beat grid is on the waveforms: a line at each beat, a stronger one at each bar
    duration = page.evaluate("window.isomixMixer.duration")
    grid = page.evaluate("window.isomixMixer.beatGrid('drums')")
    assert len(grid["beats"]) == len(FAKE_BEATS) and len(grid["downbeats"]) == len(FAKE_DOWNBEATS)
    assert all(abs(x - t / duration * grid["width"]) <= 1 for x, t in zip(grid["beats"], FAKE_BEATS, strict=True))
    assert all(
        abs(x - t / duration * grid["width"]) <= 1 for x, t in zip(grid["downbeats"], FAKE_DOWNBEATS, strict=True)
    )
    expect(page.get_by_test_id("waveform-vocals")).to_have_attribute("data-beat-lines", str(len(FAKE_BEATS)))
    expect(page.get_by_test_id("metronome-toggle")).to_be_enabled()
    assert page_errors == []


def test_a_failed_analysis_shows_its_plain_reason(owner_page: Page, ready_project: ReadyProject, page_errors) -> None:
    # Given an analysis that failed
    page = owner_page
    reason = "No steady beat was found in this song."
    Answer(page, ANALYSIS, analysis_body(status="failed", error=reason, tempo_bpm=None, beats=[], downbeats=[],
                                         time_signature=None, key=None, loudness_lufs=None))  # fmt: skip

    # When the mixer opens
    fresh_open(page, ready_project)

    # Then the header says why, shows no readouts, and the metronome stays off
    expect(page.get_by_test_id("analysis-status")).to_have_text(reason)
    expect(page.get_by_test_id("analysis")).to_have_attribute("data-state", "failed")
    expect(page.get_by_test_id("analysis-key")).to_be_hidden()
    assert page.get_by_test_id("metronome-toggle").is_disabled()
    assert page.get_by_test_id("count-in").is_disabled()
    assert page_errors == []


# ---------------------------------------------------------------- the metronome


def scheduled_after(page: Page, count: int) -> list[dict[str, Any]]:
    """The beat clicks scheduled, once there are at least ``count`` of them."""
    page.wait_for_function("(n) => window.isomixMixer.metronome.scheduled.length >= n", arg=count)
    return page.evaluate("window.isomixMixer.metronome.scheduled")


def test_the_metronome_is_muted_by_default_and_clicks_on_the_beats_stretched_by_the_tempo(
    owner_page: Page, ready_project: ReadyProject, page_errors
) -> None:
    # Given the fake grid (a beat every 0.5 s, bars of three), and a page recording CSP violations
    page = owner_page
    page.add_init_script(RECORD_VIOLATIONS)
    Answer(page, ANALYSIS, analysis_body())
    fresh_open(page, ready_project)
    toggle = page.get_by_test_id("metronome-toggle")
    expect(toggle).to_be_enabled()

    # Then the metronome is muted, and playing schedules no click
    assert page.evaluate("window.isomixMixer.metronome.muted") is True
    expect(toggle).to_have_attribute("aria-pressed", "false")
    page.evaluate("window.isomixMixer.play()")
    page.wait_for_function("() => window.isomixMixer.position >= 0.7")
    assert page.evaluate("window.isomixMixer.metronome.scheduled") == []
    page.evaluate("window.isomixMixer.pause()")

    # When it is switched on and the song plays from the start
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.get_by_test_id("waveform-drums").press("Home")
    page.evaluate("window.isomixMixer.play()")
    clicks = scheduled_after(page, 4)[:4]
    clock = page.evaluate("window.isomixMixer.clock")

    # Then each click is at its beat's time on the audio clock, the bar's first one accented
    assert [c["song"] for c in clicks] == FAKE_BEATS[:4]
    for click in clicks:
        heard = clock["t0"] + (click["song"] - clock["offset"]) / clock["tempo"] + clock["outputDelay"]
        assert abs(click["time"] - heard) < EPSILON
    assert [c["accent"] for c in clicks] == [True, False, False, True]

    # When the song plays at 80 % from the start
    page.evaluate("window.isomixMixer.pause()")
    assert page.evaluate("window.isomixMixer.setTempo(0.8)") is True
    page.get_by_test_id("waveform-drums").press("Home")
    before = len(page.evaluate("window.isomixMixer.metronome.scheduled"))
    page.evaluate("window.isomixMixer.play()")
    slow = scheduled_after(page, before + 3)[before : before + 3]

    # Then the clicks are 0.5 s / 0.8 apart on the audio clock
    assert [c["song"] for c in slow] == FAKE_BEATS[:3]
    gaps = [b["time"] - a["time"] for a, b in zip(slow, slow[1:], strict=False)]
    assert all(abs(gap - 0.5 / 0.8) < EPSILON for gap in gaps)
    page.evaluate("window.isomixMixer.pause()")
    assert csp_violations(page) == []
    assert page_errors == []


def test_the_count_in_plays_one_bar_then_starts_the_song_on_its_end(
    owner_page: Page, ready_project: ReadyProject, page_errors
) -> None:
    # Given the fake grid (3/4 at 120 BPM), the metronome's clicks muted, the count-in on
    page = owner_page
    Answer(page, ANALYSIS, analysis_body())
    fresh_open(page, ready_project)
    count_in = page.get_by_test_id("count-in")
    count_in.click()
    expect(count_in).to_have_attribute("aria-pressed", "true")

    # When Play is pressed
    page.get_by_test_id("play").click()

    # Then one bar of three clicks, 0.5 s apart, comes first, and the song is heard from its
    # start exactly when the bar ends
    page.wait_for_function("() => window.isomixMixer.metronome.lastCountIn !== null")
    count = page.evaluate("window.isomixMixer.metronome.lastCountIn")
    clock = page.evaluate("window.isomixMixer.clock")
    clicks = count["clicks"]
    assert len(clicks) == 3
    assert all(abs((b - a) - 0.5) < EPSILON for a, b in zip(clicks, clicks[1:], strict=False))
    assert abs(count["end"] - clicks[0] - 1.5) < EPSILON
    assert abs(clock["t0"] + clock["outputDelay"] - count["end"]) < EPSILON
    assert clock["offset"] == 0
    expect(page.get_by_test_id("mixer")).to_have_attribute("data-state", "playing")
    page.wait_for_function("() => window.isomixMixer.position > 0.2")
    expect(page.get_by_test_id("mixer")).not_to_have_attribute("data-count-in", "on")

    # When it is played again at 80 %
    page.evaluate("window.isomixMixer.pause()")
    assert page.evaluate("window.isomixMixer.setTempo(0.8)") is True
    page.get_by_test_id("play").click()
    page.wait_for_function("(first) => window.isomixMixer.metronome.lastCountIn.clicks[0] !== first", arg=clicks[0])
    slow = page.evaluate("window.isomixMixer.metronome.lastCountIn")
    clock = page.evaluate("window.isomixMixer.clock")

    # Then the bar is 1.5 s / 0.8 long, and the song starts on its end
    assert abs(slow["end"] - slow["clicks"][0] - 1.5 / 0.8) < EPSILON
    assert abs(clock["t0"] + clock["outputDelay"] - slow["end"]) < EPSILON
    page.evaluate("window.isomixMixer.pause()")
    # And the count-in is remembered for this project in this browser
    page.reload()
    expect(page.get_by_test_id("count-in")).to_have_attribute("aria-pressed", "true")
    assert page_errors == []


# ---------------------------------------------------------------- the steps


class ProjectWithJobs:
    """The project's REST read, with made-up jobs added to its real ones."""

    def __init__(self, page: Page) -> None:
        self.extra: list[dict[str, Any]] = []
        page.route(PROJECT, self.on_request)

    def on_request(self, route: Route) -> None:
        if route.request.method != "GET":
            route.fallback()
            return
        response = route.fetch()
        body = response.json()
        body["jobs"] = [*body.get("jobs", []), *self.extra]
        route.fulfill(response=response, json=body)


def job(
    job_id: str, kind: str, state: str, *, progress: int, stage: str, duration_s: float | None, user_error: str = ""
) -> dict[str, Any]:
    """A project job as the project API lists it."""
    return {
        "id": job_id,
        "kind": kind,
        "state": state,
        "progress": progress,
        "stage": stage,
        "user_error": user_error,
        "engine": "",
        "model_name": "",
        "started_at": "2024-01-01T00:00:00Z",
        "finished_at": "2024-01-01T00:00:02Z" if duration_s is not None else None,
        "duration_s": duration_s,
    }


def test_the_steps_show_the_analyse_and_lyrics_steps_turning_done_from_socket_events(
    owner_page: Page, ready_project: ReadyProject, page_errors
) -> None:
    # Given the mixer with its socket played by the test, and a project read that knows the jobs
    page = owner_page
    project = ProjectWithJobs(page)
    socket = Socket(page)
    fresh_open(page, ready_project)
    wait_live(page)
    steps = page.get_by_test_id("mixer-steps")
    # (the separation's step is there from the server)
    expect(steps.locator('[data-kind="separate"]')).to_have_attribute("data-state", "done")

    # When the analysis runs again and a lyrics job starts
    project.extra = [
        job(FAKE_ANALYSE_JOB, "analyse", "running", progress=30, stage="analyse", duration_s=None),
        job(FAKE_LYRICS_JOB, "lyrics", "running", progress=10, stage="transcribe", duration_s=None),
    ]
    socket.send(job=FAKE_ANALYSE_JOB, kind="analyse", state="running", progress=30, stage="analyse")
    socket.send(job=FAKE_LYRICS_JOB, kind="lyrics", state="running", progress=10, stage="transcribe")
    analyse = steps.locator('[data-kind="analyse"]')
    lyrics = steps.locator('[data-kind="lyrics"]')

    # Then each kind has one step, running, with its words, percent and stage
    expect(analyse).to_have_attribute("data-job-id", FAKE_ANALYSE_JOB)
    expect(analyse).to_have_attribute("data-state", "running")
    expect(analyse.locator('[data-field="kind"]')).to_have_text("Analyse beats and key")
    expect(analyse.locator('[data-field="percent"]')).to_have_text("30%")
    expect(lyrics.locator('[data-field="kind"]')).to_have_text("Lyrics")
    expect(lyrics.locator('[data-field="state"]')).to_have_text("Running")
    expect(lyrics.locator('[data-field="stage"]')).to_have_text("Transcribe")
    expect(steps.locator("[data-job-id]")).to_have_count(3)

    # When both finish: the analysis done in 2.5 s, the lyrics failed with a reason
    reason = "No singing was heard in this song."
    project.extra = [
        job(FAKE_ANALYSE_JOB, "analyse", "done", progress=100, stage="", duration_s=2.5),
        job(FAKE_LYRICS_JOB, "lyrics", "failed", progress=10, stage="transcribe", duration_s=4.0, user_error=reason),
    ]
    socket.send(job=FAKE_ANALYSE_JOB, kind="analyse", state="done", progress=100)
    socket.send(job=FAKE_LYRICS_JOB, kind="lyrics", state="failed", progress=10, user_error=reason)

    # Then the steps turn done and failed, with the time each took and the plain reason
    expect(analyse).to_have_attribute("data-state", "done")
    expect(analyse.locator('[data-field="state"]')).to_have_text("Done")
    expect(analyse.locator('[data-field="percent"]')).to_have_text("100%")
    expect(analyse.locator('[data-field="time"]')).to_have_text("2.5 s")
    expect(lyrics).to_have_attribute("data-state", "failed")
    expect(lyrics.locator('[data-field="error"]')).to_have_text(reason)
    expect(lyrics.locator('[data-field="time"]')).to_have_text("4.0 s")
    expect(steps.locator("[data-job-id]")).to_have_count(3)
    assert page_errors == []


# ---------------------------------------------------------------- the karaoke bundle


def format_values(page: Page) -> list[str]:
    return page.locator("[data-testid=export-format] option").evaluate_all("os => os.map(o => o.value)")


def test_the_karaoke_bundle_is_offered_only_once_the_song_has_lyrics(
    owner_page: Page, ready_project: ReadyProject, page_errors
) -> None:
    # Given the mixer of a song with no lyrics (the real endpoint: none were made for it)
    page = owner_page
    socket = Socket(page)
    asked: list[str] = []
    answered: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if LYRICS.match(r.url) else None)
    page.on("requestfinished", lambda r: answered.append(r.url) if LYRICS.match(r.url) else None)
    fresh_open(page, ready_project)
    wait_live(page)
    assert page.request.get(f"/api/v1/projects/{ready_project.project_id}/lyrics/").json()["lines"] == []
    # (its read, once the stems are in, is answered before the route below)
    assert len(asked) == 1
    for _ in range(100):
        if len(answered) == len(asked):
            break
        page.wait_for_timeout(50)
    assert len(answered) == 1

    # Then the bundle is not offered
    assert format_values(page) == ["mp3", "wav", "flac"]

    # When a lyrics job finishes (its lyrics now there)
    Answer(page, LYRICS, lyrics_body(lines=[LINE]))
    socket.send(job=FAKE_LYRICS_JOB, kind="lyrics", state="done", progress=100)

    # Then the bundle is offered, with an MP3 bit rate, and the hint while the vocals are heard
    option = page.get_by_test_id("export-format-karaoke")
    expect(option).to_have_count(1)
    expect(option).to_have_text("Karaoke bundle (instrumental + lyrics)")
    assert format_values(page) == ["mp3", "wav", "flac", "karaoke"]
    page.get_by_test_id("export-format").select_option("karaoke")
    expect(page.get_by_test_id("export-bitrate")).to_be_visible()
    hint = page.get_by_test_id("export-karaoke-hint")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("Mute the vocals for an instrumental.")
    page.get_by_test_id("mute-vocals").click()
    expect(hint).to_be_hidden()

    # When it is exported
    sent: list[dict[str, Any]] = []

    def on_create(route: Route) -> None:
        if route.request.method != "POST":
            route.fallback()
            return
        sent.append(route.request.post_data_json)
        route.fulfill(status=400, json={"code": "invalid_input", "message": "Stopped by the test.", "extra": None})

    page.route(EXPORTS_CREATE, on_create)
    page.get_by_test_id("export-submit").click()
    expect(page.get_by_test_id("export-error")).to_have_text("Stopped by the test.")

    # Then the mix went as set in the mixer (vocals muted by the user), as a karaoke bundle
    assert len(sent) == 1
    assert sent[0]["format"] == "karaoke"
    assert sent[0]["stems"]["vocals"]["mute"] is True
    assert sent[0]["stems"]["drums"]["mute"] is False
    assert sent[0]["bitrate_kbps"] == int(page.get_by_test_id("export-bitrate").input_value())
    assert page_errors == []


# ---------------------------------------------------------------- layout


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop-1280", "phone-375"])
def test_the_new_controls_fit_the_screen_and_are_touch_sized_on_a_phone(
    chromium_browser, studio_server, ready_project: ReadyProject, page_errors, viewport
) -> None:
    # Given the mixer at this width, with the fake analysis, a lyrics step and the bundle offered
    phone = viewport == PHONE
    context = chromium_browser.new_context(
        base_url=studio_server.base_url,
        storage_state=ready_project.storage_state,
        viewport=viewport,
        has_touch=phone,
        is_mobile=phone,
    )
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        Answer(page, ANALYSIS, analysis_body())
        Answer(page, LYRICS, lyrics_body(lines=[LINE]))
        fresh_open(page, ready_project)
        expect(page.get_by_test_id("analysis-key")).to_be_visible()
        expect(page.get_by_test_id("export-format-karaoke")).to_have_count(1)
        page.get_by_test_id("export-format").select_option("karaoke")
        expect(page.get_by_test_id("export-karaoke-hint")).to_be_visible()
        screenshot(page, f"mixer-analysis-{viewport['width']}")

        # Then nothing scrolls sideways, and every new control lies inside the screen
        width = page.evaluate("document.documentElement.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        boxes = page.locator(
            "[data-metronome] :is(button, input):visible, [data-analysis] span:visible, "
            "[data-mixer-steps] [data-job-id]:visible, [data-karaoke-hint]:visible"
        ).evaluate_all(
            "els => els.map(e => { const r = e.getBoundingClientRect();"
            " return {id: e.dataset.testid || e.dataset.kind || e.textContent.trim(), tag: e.tagName,"
            " left: r.left, right: r.right, height: r.height}; })"
        )
        assert len(boxes) >= 9, boxes
        assert [b for b in boxes if b["left"] < 0 or b["right"] > width + 0.5] == []
        # And on a phone the metronome's controls are at least a fingertip tall
        if phone:
            targets = [b for b in boxes if b["tag"] in ("BUTTON", "INPUT")]
            assert len(targets) == 3
            assert [b for b in targets if b["height"] < TOUCH_MIN_PX - 0.5] == []
    finally:
        context.close()
    assert page_errors == []
