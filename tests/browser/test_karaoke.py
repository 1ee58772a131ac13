"""The karaoke view, the lyrics paste form and the lyrics editor in a real browser.

- The view shows the line being sung and fills its words from the mixer's audio clock
  (`transport.position`): at tempo 1 and 1.5 the word shown is the one at the song position,
  and near the end of a 3-minute song it still is (no drift).
- Three countdown dots go one by one before a line that follows a gap of 4 s or more.
- The editor's fix, split, merge, nudge and tap-to-sync make the PATCH body expected; a 409
  offers the newer version; the versions menu restores one (GET ?version=N, then PATCH).
- The paste form aligns the user's words on the real server (PUT → job → lines shown), reads
  a .lrc file in the browser, refuses a file over 200 KB and shows the server's 402 and 400.
- The guide vocal starts at -18 dB the first time, unless the vocals were moved; its fader moves
  the mixer's vocals.
- At 375 px nothing scrolls sideways and every control is at least 44 px tall.

Two projects are uploaded and separated for the module: test_mixer_live's 6 s song
(``ready_project``) and a 3-minute one (``long_project``). Lyrics that must say something exact
are answered by a Playwright route (``FakeLyrics``); the paste test uses the real endpoint and
worker. Positions are the page's audio clock (`window.isomixMixer.position` and the view's
`data-position`), never the wall clock.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import soundfile as sf
from playwright.sync_api import Page, Route, expect

from tests.browser import test_mixer_live
from tests.browser.test_csp import RECORD_VIOLATIONS, csp_violations
from tests.browser.test_mixer_analysis import Socket, fresh_open, wait_live
from tests.browser.test_mixer_live import ReadyProject
from tests.browser.test_studio import plan_set, render_song, screenshot, sign_up, unique_name, upload

pytestmark = pytest.mark.browser

ready_project = test_mixer_live.ready_project
owner_page = test_mixer_live.owner_page

LYRICS_ANY = re.compile(r".*/api/v1/projects/[0-9a-f-]{36}/lyrics/(\?.*)?$")
LONG_SONG_S = 180.0
LONG_SONG_SR = 22_050
#: A 3-minute song takes longer to separate (and its analysis and lyrics jobs run after it).
LONG_SEPARATION_TIMEOUT_MS = 600_000
#: The real alignment of pasted words (Whisper base on the CPU), queued behind the song's own jobs.
ALIGN_TIMEOUT_MS = 300_000
TOUCH_MIN_PX = 44
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
#: The view draws in an animation frame and the audio clock moves in render quanta: between the
#: frame's position and one read right after it, at most this much song time per unit of tempo.
FRAME_SLACK_S = 0.05
FAKE_LYRICS_JOB = "00000000-0000-4000-8000-0000000c0001"
# timing.js's figures.
COUNTDOWN_GAP_S = 4.0
COUNTDOWN_DOTS = 3
COUNTDOWN_DOT_S = 1.0
LINGER_S = 1.0


# ---------------------------------------------------------------- lines and their timing


def word(text: str, start: float, end: float) -> dict[str, Any]:
    return {"word": text, "start": start, "end": end}


def line(*words: dict[str, Any]) -> dict[str, Any]:
    return {
        "start": words[0]["start"],
        "end": words[-1]["end"],
        "text": " ".join(w["word"] for w in words),
        "words": list(words),
    }


def even_lines(*, first_s: float, every_s: float, count: int, words: int = 3, word_s: float = 0.4) -> list[dict]:
    """``count`` lines, one every ``every_s`` from ``first_s``, each of ``words`` words ``word_s`` long."""
    return [
        line(*(word(f"w{i}x{k}", round(first_s + i * every_s + k * word_s, 3),
                    round(first_s + i * every_s + (k + 1) * word_s, 3)) for k in range(words)))
        for i in range(count)
    ]  # fmt: skip


def last_started(items: list[dict[str, Any]], t: float) -> int:
    return max((i for i, item in enumerate(items) if item["start"] <= t), default=-1)


def shown_at(lines: list[dict[str, Any]], t: float) -> dict[str, int]:
    """What the view must show at song time ``t``: timing.js's rules, written out again."""
    index = last_started(lines, t)
    started = index >= 0
    index = max(index, 0)

    def counted(i: int) -> bool:
        return i == 0 or lines[i]["start"] - lines[i - 1]["end"] >= COUNTDOWN_GAP_S

    if started and index + 1 < len(lines) and counted(index + 1) and t >= lines[index]["end"] + LINGER_S:
        index, started = index + 1, False
    left = lines[index]["start"] - t
    dots = 0
    if not started and counted(index) and 0 < left <= COUNTDOWN_DOTS * COUNTDOWN_DOT_S:
        dots = min(COUNTDOWN_DOTS, -int(-left // COUNTDOWN_DOT_S))
    return {
        "line": index,
        "word": last_started(lines[index]["words"], t) if started else -1,
        "countdown": dots,
    }


def lyrics_body(lines: list[dict[str, Any]], *, version: int = 1, **fields: Any) -> dict[str, Any]:
    """The lyrics API's body: a finished transcription of ``lines``, with ``fields`` over it."""
    body = {
        "status": "done",
        "progress": 100,
        "stage": "",
        "error": "",
        "language": "en",
        "source": "transcribed",
        "model": "whisper-base",
        "version": version,
        "versions": [
            {"number": n, "source": "transcribed" if n == 1 else "edited", "created_at": f"2024-05-0{n}T10:00:00Z"}
            for n in range(1, version + 1)
        ],
        "lines": lines,
    }
    body.update(fields)
    return body


class FakeLyrics:
    """The lyrics API played by the test: GET (and ``?version=N``), PATCH and PUT recorded.

    A PATCH makes a new version of the lines sent (or a 409 while ``conflict`` is set); a PUT is
    answered with ``put_answer`` (status, body) when set, else goes on to the server.
    """

    def __init__(self, page: Page, body: dict[str, Any], *, old: dict[int, list] | None = None) -> None:
        self.body = body
        self.old = old or {}
        self.gets: list[str] = []
        self.patches: list[dict[str, Any]] = []
        self.puts: list[dict[str, Any]] = []
        self.conflict = False
        self.put_answer: tuple[int, dict[str, Any]] | None = None
        page.route(LYRICS_ANY, self.on_request)

    def on_request(self, route: Route) -> None:
        request = route.request
        query = parse_qs(urlparse(request.url).query)
        if request.method == "GET":
            self.gets.append(request.url)
            if "version" in query:
                route.fulfill(json={**self.body, "lines": self.old[int(query["version"][0])]})
            else:
                route.fulfill(json=self.body)
        elif request.method == "PATCH":
            sent = request.post_data_json
            self.patches.append(sent)
            if self.conflict:
                message = "A newer version of these lyrics was saved."
                route.fulfill(status=409, json={"code": "lyrics_conflict", "message": message, "extra": None})
                return
            number = self.body["version"] + 1
            versions = [
                *self.body["versions"],
                {"number": number, "source": "edited", "created_at": "2024-06-01T10:00:00Z"},
            ]
            self.body = {
                **self.body,
                "version": number,
                "source": "edited",
                "versions": versions,
                "lines": sent["lines"],
            }
            route.fulfill(json=self.body)
        elif request.method == "PUT":
            self.puts.append(request.post_data_json)
            if self.put_answer is None:
                route.fallback()
                return
            status, body = self.put_answer
            route.fulfill(status=status, json=body)
        else:
            route.fallback()


# ---------------------------------------------------------------- the page


def open_karaoke(page: Page) -> None:
    page.get_by_test_id("karaoke-toggle").click()
    expect(page.get_by_test_id("karaoke-panel")).to_be_visible()


def open_editor(page: Page) -> None:
    page.get_by_test_id("karaoke-edit-toggle").click()
    expect(page.get_by_test_id("karaoke-editor")).to_be_visible()


#: The view's last frame and the audio clock read right after the next frame was drawn.
READ_FRAME = """async () => {
  await new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const view = document.querySelector("[data-karaoke-view]");
  return {
    position: Number(view.dataset.position), line: Number(view.dataset.line),
    word: Number(view.dataset.word), countdown: Number(view.dataset.countdown),
    clock: window.isomixMixer.position, tempo: window.isomixMixer.clock.tempo,
    filled: [...view.querySelectorAll("[data-karaoke-line] .karaoke-word")].map(
      (span) => Number(span.style.getPropertyValue("--fill"))),
  };
}"""


def read_frame(page: Page) -> dict[str, Any]:
    return page.evaluate(READ_FRAME)


def assert_frame_follows_clock(frame: dict[str, Any], lines: list[dict[str, Any]]) -> None:
    """The frame was drawn at the audio clock's position, and shows what is sung there."""
    assert -1e-6 <= frame["clock"] - frame["position"] <= FRAME_SLACK_S * frame["tempo"], frame
    expected = shown_at(lines, frame["position"])
    assert (frame["line"], frame["word"]) == (expected["line"], expected["word"]), (frame, expected)
    words = lines[frame["line"]]["words"]
    # The words before the one sung are full, those after it empty, the one sung as far as it is.
    for k, fill in enumerate(frame["filled"]):
        if k < frame["word"]:
            assert fill == 1
        elif k > frame["word"]:
            assert fill == 0
        else:
            w = words[k]
            sung = min(1.0, max(0.0, (frame["position"] - w["start"]) / (w["end"] - w["start"])))
            assert abs(fill - sung) <= 1e-3, (fill, sung, frame)


def seek_on_waveform(page: Page, seconds: float) -> float:
    """Click the drums waveform where ``seconds`` lies; returns the position the mixer took."""
    canvas = page.get_by_test_id("waveform-drums")
    box = canvas.bounding_box()
    assert box is not None
    duration = page.evaluate("window.isomixMixer.duration")
    canvas.click(position={"x": seconds / duration * box["width"], "y": box["height"] / 2})
    page.wait_for_function("(t) => Math.abs(window.isomixMixer.position - t) < 0.1", arg=seconds)
    return page.evaluate("window.isomixMixer.position")


def settings(page: Page) -> dict[str, Any]:
    return page.evaluate("window.isomixMixer.settings()")


@pytest.fixture(scope="module")
def long_project(chromium_browser, studio_server, tmp_path_factory: pytest.TempPathFactory) -> ReadyProject:
    """A separated 3-minute song (mono, 22.05 kHz: a small upload) of a new Pro user."""
    song = tmp_path_factory.mktemp("karaoke-long") / "long.wav"
    audio = render_song(duration_s=LONG_SONG_S, sr=LONG_SONG_SR)[:, 0]
    sf.write(song, audio, LONG_SONG_SR, subtype="PCM_16")
    context = chromium_browser.new_context(base_url=studio_server.base_url)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        username = unique_name("kar")
        sign_up(page, username)
        plan_set(studio_server, username, "pro")
        project_id = upload(page, song)
        expect(page.get_by_test_id("mixer")).to_be_visible(timeout=LONG_SEPARATION_TIMEOUT_MS)
        return ReadyProject(project_id=project_id, storage_state=context.storage_state())
    finally:
        context.close()


# ---------------------------------------------------------------- the pure modules, known answers

#: timing.js and edits.js run in the page (the modules the view and editor use), on cases whose
#: answers are written out below.
PURE_CASES = """async () => {
  const timing = await import("/static/js/karaoke/timing.js");
  const edits = await import("/static/js/karaoke/edits.js");
  const starts = Array.from({ length: 10000 }, (_, i) => ({ start: Math.floor(i / 2) * 0.5 }));
  const w = (word, start, end) => ({ word, start, end });
  const ln = (...words) => ({ start: words[0].start, end: words.at(-1).end,
                              text: words.map((x) => x.word).join(" "), words });
  const lines = [ln(w("a", 1, 2)), ln(w("b", 6, 7)), ln(w("c", 7.5, 8), w("d", 8, 9))];
  return {
    search: [-1, 0, 0.49, 0.5, 1249.75, 2499.5, 9999].map((t) => timing.lastStarted(starts, t)),
    empty: timing.lastStarted([], 3),
    dots: [3.5, 3.0, 2.0001, 2.0, 1.0, 0.5, 0, -0.1].map((left) => timing.countdownDots(10, 10 - left)),
    gapExactly4: timing.countedIn([ln(w("x", 0, 1)), ln(w("y", 5, 6))], 1),
    gapUnder4: timing.countedIn([ln(w("x", 0, 1)), ln(w("y", 4.999, 6))], 1),
    shown: [0, 2.5, 2.99, 3.0, 6.5, 7.2, 8.5, 20].map((t) => {
      const s = timing.karaokeAt(lines, t);
      return [s.line, s.word, s.countdown, Number(s.fill.toFixed(3))];
    }),
    nudgeClamped: edits.lineNudged(lines, 1, -10, { durationS: 10 })[1].start,
    moveToEnd: edits.lineMoved(lines, 2, 50, { durationS: 10 })[2],
    onlyWordEmptied: edits.wordFixed(lines, 0, 0, "  "),
    sameWord: edits.wordFixed(lines, 0, 0, "a"),
    twoWords: edits.wordFixed(lines, 2, 1, "dee eee")[2],
    wordRemoved: edits.wordFixed(lines, 2, 0, "")[2],
    splitAtFirst: edits.lineSplit(lines, 2, 0),
    mergeLast: edits.linesMerged(lines, 2),
    unchanged: JSON.stringify(lines),
  };
}"""


def test_timing_and_edits_give_the_known_answers(new_page, page_errors) -> None:
    # Given any page of the site (the modules are static files)
    page = new_page()
    page.goto("/accounts/login/")

    # When the pure modules are run on known cases
    got = page.evaluate(PURE_CASES)

    # Then the binary search finds the last start at or before t (the last of equal starts)
    assert got["search"] == [-1, 1, 1, 3, 4999, 9999, 9999]
    assert got["empty"] == -1
    # And the dots are 3, 2, 1 over the last three seconds, none outside them
    assert got["dots"] == [0, 3, 3, 2, 1, 1, 0, 0]
    assert (got["gapExactly4"], got["gapUnder4"]) == (True, False)
    # And the line shown: the first waits (its last dot), lingers 1 s, then the line after the
    # 4 s gap is counted in; the last stays once sung
    assert got["shown"] == [
        [0, -1, 1, 0],
        [0, 0, 0, 1],
        [0, 0, 0, 1],
        [1, -1, 3, 0],
        [1, 0, 0, 0.5],
        [1, 0, 0, 1],
        [2, 1, 0, 0.5],
        [2, 1, 0, 1],
    ]
    # And a nudge stops at the previous line's start; a move stops at the song's end + 0.5 s
    assert got["nudgeClamped"] == 1
    assert got["moveToEnd"] == line(word("c", 9, 9.5), word("d", 9.5, 10.5))
    # And a fix: nothing for the line's only word emptied or for the same word; two words share
    # the time by their lengths; an emptied word goes
    assert got["onlyWordEmptied"] is None
    assert got["sameWord"] is None
    assert got["twoWords"] == line(word("c", 7.5, 8), word("dee", 8, 8.5), word("eee", 8.5, 9))
    assert got["wordRemoved"] == {"start": 7.5, "end": 9, "text": "d", "words": [{"word": "d", "start": 8, "end": 9}]}
    assert (got["splitAtFirst"], got["mergeLast"]) == (None, None)
    # And the input lines were never changed
    assert got["unchanged"] == json.dumps(
        [line(word("a", 1, 2)), line(word("b", 6, 7)), line(word("c", 7.5, 8), word("d", 8, 9))], separators=(",", ":")
    )
    assert page_errors == []


# ---------------------------------------------------------------- the view and the audio clock

#: 6 s of lines: no long gap after the first, so the word shown is the last one started.
CLOCK_LINES = [
    line(word("One", 0.3, 0.7), word("two", 0.7, 1.1), word("three", 1.1, 1.5)),
    line(word("four", 1.6, 2.0), word("five", 2.0, 2.4), word("six", 2.4, 2.8), word("seven", 2.8, 3.2)),
    line(word("eight", 3.3, 3.9), word("nine", 3.9, 4.5)),
    line(word("ten", 4.6, 5.0), word("eleven", 5.0, 5.8)),
]


def test_the_view_follows_the_audio_clock_word_by_word_at_tempo_1_and_1_5(
    owner_page: Page, ready_project: ReadyProject, page_errors
) -> None:
    # Given the mixer with known lyrics, recording CSP violations, and the karaoke view open
    page = owner_page
    page.add_init_script(RECORD_VIOLATIONS)
    FakeLyrics(page, lyrics_body(CLOCK_LINES))
    fresh_open(page, ready_project)
    open_karaoke(page)
    view = page.get_by_test_id("karaoke-view")
    expect(view).to_be_visible()
    expect(page.get_by_test_id("karaoke")).to_have_attribute("data-state", "ready")

    # Then, paused at the start, the first line waits with its words empty and the next below
    expect(page.get_by_test_id("karaoke-line")).to_have_text("One two three")
    expect(page.get_by_test_id("karaoke-next")).to_have_text("four five six seven")
    frame = read_frame(page)
    assert (frame["line"], frame["word"], frame["filled"]) == (0, -1, [0, 0, 0])

    # When the song plays at tempo 1
    page.evaluate("window.isomixMixer.play()")
    seen_lines = []
    for target in (0.5, 1.3, 1.9, 2.9, 3.6, 4.2):
        page.wait_for_function("(t) => window.isomixMixer.position >= t", arg=target)
        frame = read_frame(page)
        # Then every frame is drawn at the clock's position and shows the word sung there
        assert_frame_follows_clock(frame, CLOCK_LINES)
        seen_lines.append(frame["line"])
    # And the lines went forward with the song (which ones were caught depends on the machine's pace)
    assert seen_lines == sorted(seen_lines) and seen_lines[0] < seen_lines[-1], seen_lines
    page.evaluate("window.isomixMixer.pause()")

    # When it plays from the start at 1.5 times the speed
    assert page.evaluate("window.isomixMixer.setTempo(1.5)") is True
    seek_on_waveform(page, 0.0)
    page.evaluate("window.isomixMixer.play()")
    for target in (0.9, 2.1, 3.0, 4.8):
        page.wait_for_function("(t) => window.isomixMixer.position >= t", arg=target)
        frame = read_frame(page)
        # Then the view still shows the song position's word (wall time runs 1.5 times slower)
        assert frame["tempo"] == 1.5
        assert_frame_follows_clock(frame, CLOCK_LINES)
    page.evaluate("window.isomixMixer.pause()")
    assert page.evaluate("window.isomixMixer.setTempo(1)") is True

    # And a seek while paused redraws at once: the line and word of the new position
    position = seek_on_waveform(page, 2.5)
    frame = read_frame(page)
    assert frame["position"] == pytest.approx(position, abs=1e-6)
    assert (frame["line"], frame["word"]) == (1, 2)
    assert csp_violations(page) == []
    assert page_errors == []


# ---------------------------------------------------------------- countdown

#: A first line, then 4.5 s of silence before the second: both are counted in.
GAP_LINES = [
    line(word("Ready", 0.6, 1.0)),
    line(word("now", 5.5, 5.8), word("sing", 5.8, 5.95)),
]


def test_three_dots_count_in_a_line_after_a_long_gap_one_going_at_a_time(
    owner_page: Page, ready_project: ReadyProject, page_errors
) -> None:
    # Given a line after a 4.5 s gap, and the view open
    page = owner_page
    FakeLyrics(page, lyrics_body(GAP_LINES))
    fresh_open(page, ready_project)
    open_karaoke(page)
    view = page.get_by_test_id("karaoke-view")

    # Then at the very start the first line is counted in (its last dot)
    frame = read_frame(page)
    assert frame["position"] == 0
    assert (frame["line"], frame["countdown"]) == (0, 1)
    expect(view).to_have_attribute("data-countdown", "1")
    expect(page.get_by_test_id("karaoke-countdown").locator(".karaoke-dot.is-on")).to_have_count(1)

    # When the playhead is put in the gap, before and inside the last 3 s before the line
    for seconds in (1.5, 2.3, 3.0, 4.0, 5.0, 5.6):
        position = seek_on_waveform(page, seconds)
        frame = read_frame(page)
        # Then the dots are those of that position: none while the first line lingers or the
        # gap is long, 3, 2 and 1 in the last three seconds, none once the line started
        expected = shown_at(GAP_LINES, position)
        assert (frame["line"], frame["countdown"]) == (expected["line"], expected["countdown"]), (position, frame)
        dots = page.get_by_test_id("karaoke-countdown").locator(".karaoke-dot.is-on")
        expect(dots).to_have_count(expected["countdown"])
    assert [shown_at(GAP_LINES, t)["countdown"] for t in (1.5, 2.3, 3.0, 4.0, 5.0, 5.6)] == [0, 0, 3, 2, 1, 0]

    # When the song plays through the gap
    page.evaluate("""() => {
      window.__dots = [];
      const view = document.querySelector("[data-karaoke-view]");
      new MutationObserver(() => window.__dots.push(Number(view.dataset.countdown)))
        .observe(view, { attributes: true, attributeFilter: ["data-countdown"] });
    }""")
    seek_on_waveform(page, 2.2)
    page.evaluate("window.isomixMixer.play()")
    page.wait_for_function("() => window.isomixMixer.position >= 5.7")
    page.evaluate("window.isomixMixer.pause()")

    # Then the three dots went one at a time, and none was left when the line started
    assert page.evaluate("window.__dots") == [3, 2, 1, 0]
    expect(page.get_by_test_id("karaoke-line")).to_have_text("now sing")
    assert page_errors == []


# ---------------------------------------------------------------- the editor

EDIT_LINES = [
    line(word("Hello", 0.5, 0.9), word("my", 0.9, 1.2), word("old", 1.2, 1.6), word("friend", 1.6, 2.0)),
    line(word("how", 2.5, 2.9), word("are", 2.9, 3.5)),
    line(word("you", 3.6, 4.4)),
]


def word_button(page: Page, line_index: int, text: str):
    return page.locator(f'[data-karaoke-lines] li[data-index="{line_index}"] [data-word-index]', has_text=text)


def row_time(page: Page, line_index: int):
    return page.locator(f'[data-karaoke-lines] li[data-index="{line_index}"] [data-action="seek-line"]')


def row_texts(page: Page) -> list[str]:
    return page.locator("[data-karaoke-lines] li").evaluate_all(
        "rows => rows.map(r => [...r.querySelectorAll('[data-word-index]')].map(b => b.textContent).join(' '))"
    )


def test_fix_split_merge_and_nudge_are_saved_as_one_patch_and_a_conflict_offers_the_newer(
    owner_page: Page, ready_project: ReadyProject, page_errors
) -> None:
    # Given lyrics at version 2 and the editor open
    page = owner_page
    fake = FakeLyrics(page, lyrics_body(EDIT_LINES, version=2))
    fresh_open(page, ready_project)
    open_karaoke(page)
    open_editor(page)
    expect(page.get_by_test_id("karaoke-save")).to_be_disabled()

    # When a word is fixed (click, type, Enter) and another fix is abandoned (Esc)
    word_button(page, 0, "friend").click()
    entry = page.get_by_test_id("karaoke-word-input")
    expect(entry).to_be_focused()
    entry.fill("friends")
    entry.press("Enter")
    word_button(page, 0, "old").click()
    page.get_by_test_id("karaoke-word-input").fill("xx")
    page.get_by_test_id("karaoke-word-input").press("Escape")
    expect(word_button(page, 0, "old")).to_be_focused()
    # And the first line is split at "old", the second and third merged
    page.get_by_test_id("karaoke-split").click()
    row_time(page, 2).click()
    page.get_by_test_id("karaoke-merge").click()
    assert row_texts(page) == ["Hello my", "old friends", "how are you"]
    # And the merged line is moved 0.1 s later with ] ] (the mixer's tempo keys, given way here)
    expect(row_time(page, 2)).to_be_focused()
    page.keyboard.press("]")
    page.keyboard.press("]")
    assert settings(page)["tempo"] == 1
    # And "Hello" 0.05 s earlier, with . , , (its fix opened and abandoned: a click selects it)
    word_button(page, 0, "Hello").click()
    page.get_by_test_id("karaoke-word-input").press("Escape")
    for key in (".", ",", ","):
        page.keyboard.press(key)
    expect(page.get_by_test_id("karaoke-selected")).to_have_text("Line 1 at 0:00.45 · “Hello” at 0:00.45")

    # And saved
    page.get_by_test_id("karaoke-save").click()
    expect(page.get_by_test_id("karaoke-editor-status")).to_have_text("Saved as version 3.")

    # Then one PATCH carried every edit, made from version 2
    assert fake.patches == [
        {
            "version": 2,
            "lines": [
                line(word("Hello", 0.45, 0.85), word("my", 0.9, 1.2)),
                line(word("old", 1.2, 1.6), word("friends", 1.6, 2.0)),
                line(word("how", 2.6, 3.0), word("are", 3.0, 3.6), word("you", 3.7, 4.5)),
            ],
        }
    ]
    # And the view sings the saved lines: at the playhead (the merged line's old start, clicked
    # above), the line split off
    assert page.evaluate("window.isomixMixer.position") == 2.5
    expect(page.get_by_test_id("karaoke-line")).to_have_text("old friends")
    expect(page.get_by_test_id("karaoke-next")).to_have_text("how are you")
    expect(page.get_by_test_id("karaoke-save")).to_be_disabled()

    # When another edit is saved while a newer version exists elsewhere
    fake.conflict = True
    row_time(page, 1).click()
    page.get_by_test_id("karaoke-line-later").click()
    page.get_by_test_id("karaoke-save").click()

    # Then the page says so and offers the newer version, which replaces the edit when taken
    expect(page.get_by_test_id("karaoke-conflict")).to_be_visible()
    assert fake.patches[-1]["version"] == 3
    fake.body = lyrics_body([line(word("Newer", 1.0, 2.0))], version=4)
    page.get_by_test_id("karaoke-reload").click()
    expect(page.get_by_test_id("karaoke-conflict")).to_be_hidden()
    assert row_texts(page) == ["Newer"]
    expect(page.get_by_test_id("karaoke-editor")).to_have_attribute("data-dirty", "false")
    assert page_errors == []


TAP_LINES = [
    line(word("first", 0.2, 0.5), word("line", 0.5, 0.8)),
    line(word("second", 1.0, 1.3), word("line", 1.3, 1.7)),
    line(word("third", 5.0, 5.5)),
]


def test_tap_to_sync_starts_each_line_at_the_audio_position_and_moves_its_words_with_it(
    owner_page: Page, ready_project: ReadyProject, page_errors
) -> None:
    # Given three lines and the editor in tap-to-sync mode
    page = owner_page
    fake = FakeLyrics(page, lyrics_body(TAP_LINES))
    fresh_open(page, ready_project)
    open_karaoke(page)
    open_editor(page)
    page.get_by_test_id("karaoke-tap-mode").click()
    expect(page.get_by_test_id("karaoke-tap-mode")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("karaoke-tap")).to_be_visible()
    page.get_by_test_id("karaoke-tap-mode").blur()

    # When the song plays and T is pressed at about 1.5 s, then the Tap button at about 3.0 s
    page.evaluate("window.isomixMixer.play()")
    page.wait_for_function("() => window.isomixMixer.position >= 1.5")
    before = page.evaluate("window.isomixMixer.position")
    page.keyboard.press("t")
    after = page.evaluate("window.isomixMixer.position")
    page.wait_for_function("() => window.isomixMixer.position >= 3.0")
    before_2 = page.evaluate("window.isomixMixer.position")
    page.get_by_test_id("karaoke-tap").click()
    after_2 = page.evaluate("window.isomixMixer.position")
    page.evaluate("window.isomixMixer.pause()")
    # Then the third line is the next to tap
    expect(page.locator('[data-karaoke-lines] li[data-tap-next="true"]')).to_have_attribute("data-index", "2")
    page.get_by_test_id("karaoke-save").click()
    expect(page.get_by_test_id("karaoke-editor-status")).to_have_text("Saved as version 2.")

    # Then the first line starts where the song was at the key, the second at the button, each
    # with its words moved by as much; the third is as it was
    sent = fake.patches[0]["lines"]
    first, second, third = sent
    assert before - 0.001 <= first["start"] <= after + 0.001
    assert before_2 - 0.001 <= second["start"] <= after_2 + 0.001
    for tapped, original in ((first, TAP_LINES[0]), (second, TAP_LINES[1])):
        delta = tapped["start"] - original["start"]
        assert tapped["end"] == pytest.approx(original["end"] + delta, abs=0.0015)
        assert [w["word"] for w in tapped["words"]] == [w["word"] for w in original["words"]]
        for moved, was in zip(tapped["words"], original["words"], strict=True):
            assert moved["start"] == pytest.approx(was["start"] + delta, abs=0.0015)
            assert moved["end"] == pytest.approx(was["end"] + delta, abs=0.0015)
    assert third == TAP_LINES[2]
    assert fake.patches[0]["version"] == 1
    assert page_errors == []


def test_a_line_start_drags_on_the_timeline_and_an_old_version_is_restored(
    owner_page: Page, ready_project: ReadyProject, page_errors
) -> None:
    # Given lyrics at version 3 with two older versions, and the editor open on the second line
    page = owner_page
    version_1 = [line(word("Old", 1.0, 1.5), word("words", 1.5, 2.0))]
    fake = FakeLyrics(page, lyrics_body(EDIT_LINES, version=3), old={1: version_1})
    fresh_open(page, ready_project)
    open_karaoke(page)
    open_editor(page)
    row_time(page, 1).click()

    # Then the versions are listed, newest first, with their source and date
    options = page.get_by_test_id("karaoke-versions").locator("option")
    expect(options).to_have_count(3)
    assert options.evaluate_all("os => os.map(o => o.value)") == ["3", "2", "1"]
    expect(options.nth(2)).to_contain_text("Version 1 · transcribed ·")

    # When the selected line's start marker is dragged 0.3 s later on the timeline
    timeline = page.get_by_test_id("karaoke-timeline")
    span_s = float(timeline.get_attribute("data-window-end")) - float(timeline.get_attribute("data-window-start"))
    width = timeline.bounding_box()["width"]
    box = page.get_by_test_id("karaoke-mark").bounding_box()
    x = box["x"] + box["width"] / 2
    y = box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 0.3 / span_s * width, y, steps=5)  # before the next line's start
    page.mouse.up()
    # And nudged back 0.05 s with the arrow key on the marker
    page.get_by_test_id("karaoke-mark").press("ArrowLeft")

    # Then the line moved by 0.25 s (to a pixel), its words with it
    page.get_by_test_id("karaoke-save").click()
    expect(page.get_by_test_id("karaoke-editor-status")).to_have_text("Saved as version 4.")
    moved = fake.patches[0]["lines"][1]
    delta = moved["start"] - EDIT_LINES[1]["start"]
    assert abs(delta - 0.25) <= span_s / width + 0.001
    assert [round(w["start"] - delta, 3) for w in moved["words"]] == [w["start"] for w in EDIT_LINES[1]["words"]]
    assert fake.patches[0]["lines"][0] == EDIT_LINES[0]

    # When version 1 is restored
    page.get_by_test_id("karaoke-versions").select_option("1")
    page.get_by_test_id("karaoke-restore").click()
    expect(page.get_by_test_id("karaoke-editor-status")).to_have_text("Saved as version 5.")

    # Then its lines were read (?version=1) and saved as the newest version, from version 4
    assert any(parse_qs(urlparse(url).query).get("version") == ["1"] for url in fake.gets)
    assert fake.patches[1] == {"version": 4, "lines": version_1}
    assert row_texts(page) == ["Old words"]
    # And the downloads point at the lyrics API's formats
    links = page.get_by_test_id("karaoke-downloads").locator("a").evaluate_all("as => as.map(a => a.href)")
    assert [parse_qs(urlparse(href).query)["format"][0] for href in links] == ["lrc", "lrc-words", "srt", "vtt", "json"]
    assert all(urlparse(href).path == f"/api/v1/projects/{ready_project.project_id}/lyrics/" for href in links)
    assert page_errors == []


# ---------------------------------------------------------------- no lyrics yet, and the paste form


def test_the_step_status_follows_events_then_polls_when_they_stop(
    owner_page: Page, ready_project: ReadyProject, page_errors
) -> None:
    # Given a lyrics step running at 30 %, and the socket played by the test
    page = owner_page
    fake = FakeLyrics(page, lyrics_body([], status="running", progress=30, stage="transcribe", version=0, source=""))
    socket = Socket(page)
    fresh_open(page, ready_project)
    wait_live(page)
    open_karaoke(page)
    status = page.get_by_test_id("karaoke-status")

    # Then it says so with the percent, and the paste form is open
    expect(status).to_have_text("Listening for the lyrics… 30%")
    expect(page.get_by_test_id("karaoke")).to_have_attribute("data-state", "running")
    expect(page.get_by_test_id("karaoke-progress")).to_be_visible()
    expect(page.get_by_test_id("karaoke-text")).to_be_visible()
    expect(page.get_by_test_id("karaoke-view")).to_be_hidden()

    # When an event says 60 %
    socket.send(job=FAKE_LYRICS_JOB, kind="lyrics", state="running", progress=60, stage="transcribe")
    expect(status).to_have_text("Listening for the lyrics… 60%")

    # When the job finishes but its event is lost
    fake.body = lyrics_body(CLOCK_LINES)
    reads = len(fake.gets)

    # Then the page reads REST by itself (every 2 s without events) and shows the lines
    expect(page.get_by_test_id("karaoke-view")).to_be_visible(timeout=10_000)
    assert len(fake.gets) > reads
    expect(page.get_by_test_id("karaoke-line")).to_have_text("One two three")
    expect(status).to_have_text("Transcribed with whisper-base · version 1")

    # When a later job fails, its plain reason is shown
    reason = "No singing was heard in this song."
    fake.body = lyrics_body([], status="failed", error=reason, version=0, source="")
    socket.send(job=FAKE_LYRICS_JOB, kind="lyrics", state="failed", progress=10, user_error=reason)
    expect(page.get_by_test_id("karaoke")).to_have_attribute("data-state", "failed")
    expect(status).to_have_text(f"{reason} You can paste them below.")
    assert page_errors == []


def test_the_paste_form_reads_a_file_caps_its_size_and_shows_the_server_s_refusals(
    owner_page: Page, ready_project: ReadyProject, page_errors, tmp_path: Path
) -> None:
    # Given a song without lyrics, the form open, PUTs answered by the test
    page = owner_page
    fake = FakeLyrics(page, lyrics_body([], status="none", progress=0, version=0, source=""))
    fresh_open(page, ready_project)
    open_karaoke(page)
    expect(page.get_by_test_id("karaoke")).to_have_attribute("data-state", "none")
    error = page.get_by_test_id("karaoke-paste-error")

    # When a file over 200 KB is chosen, then it is refused in the page, with the cap
    big = tmp_path / "big.txt"
    big.write_text("la " * 70_000)
    page.get_by_test_id("karaoke-file").set_input_files(str(big))
    expect(error).to_have_text("“big.txt” is too large for lyrics: the file may be at most 200 KB.")
    assert fake.puts == []

    # When an .lrc file is chosen, then its text is in the box; Align sends it with its name
    lrc = tmp_path / "song.lrc"
    lrc.write_text("[00:01.00]Hello there\n[00:03.00]Sing with me\n")
    page.get_by_test_id("karaoke-file").set_input_files(str(lrc))
    expect(page.get_by_test_id("karaoke-text")).to_have_value("[00:01.00]Hello there\n[00:03.00]Sing with me\n")
    expect(error).to_be_hidden()
    page.get_by_test_id("karaoke-language").select_option("pt")
    upgrade = "/pricing/"
    fake.put_answer = (402, {"code": "quota_exceeded", "message": "This month's karaoke songs are used up.",
                             "extra": {"upgrade_url": upgrade}})  # fmt: skip
    page.get_by_test_id("karaoke-align").click()

    # Then the 402's message is shown with the way up
    expect(error).to_have_text("This month's karaoke songs are used up.")
    expect(page.get_by_test_id("karaoke-upgrade")).to_be_visible()
    assert page.get_by_test_id("karaoke-upgrade").get_attribute("href") == upgrade
    assert fake.puts == [
        {"text": "[00:01.00]Hello there\n[00:03.00]Sing with me\n", "language": "pt", "filename": "song.lrc"}
    ]

    # When the server refuses the text (400), then its message is shown, without the upgrade
    fake.put_answer = (
        400,
        {"code": "invalid_lyrics", "message": "A word may hold at most 64 characters.", "extra": None},
    )
    page.get_by_test_id("karaoke-align").click()
    expect(error).to_have_text("A word may hold at most 64 characters.")
    expect(page.get_by_test_id("karaoke-upgrade")).to_be_hidden()

    # When the box is emptied and Align pressed, then nothing is sent
    page.get_by_test_id("karaoke-text").fill("  ")
    page.get_by_test_id("karaoke-align").click()
    expect(error).to_have_text("Paste the lyrics first, or choose a file.")
    assert len(fake.puts) == 2
    assert page_errors == []


def wait_lyrics_settled(page: Page, url: str) -> dict[str, Any]:
    """The lyrics once their job is not queued or running (the song's own one, after separation)."""
    for _ in range(ALIGN_TIMEOUT_MS // 1000):
        body = page.request.get(url).json()
        if body["status"] not in ("queued", "running"):
            return body
        page.wait_for_timeout(1000)
    pytest.fail(f"the lyrics job did not finish: {body}")


def test_pasted_lyrics_are_aligned_by_the_real_server_and_shown_line_by_line(
    owner_page: Page, ready_project: ReadyProject, page_errors
) -> None:
    # Given the song's own lyrics job finished (the real endpoint), and the karaoke panel open
    page = owner_page
    url = f"/api/v1/projects/{ready_project.project_id}/lyrics/"
    page.goto("/")  # the session's origin, for page.request
    before = wait_lyrics_settled(page, url)
    print("the song's own lyrics:", {k: before[k] for k in ("status", "source", "version", "error")})
    fresh_open(page, ready_project)
    open_karaoke(page)
    expect(page.get_by_test_id("karaoke")).not_to_have_attribute("data-state", "loading")
    box = page.get_by_test_id("karaoke-paste-box")
    if box.get_attribute("open") is None:
        box.locator("summary").click()

    # When the user's words are pasted and aligned
    pasted = ["Hold the line", "sing it back to me"]
    page.get_by_test_id("karaoke-text").fill("\n".join(pasted))
    page.get_by_test_id("karaoke-language").select_option("en")
    with page.expect_response(lambda r: bool(LYRICS_ANY.match(r.url)) and r.request.method == "PUT") as answer:
        page.get_by_test_id("karaoke-align").click()

    # Then the server took them (202, a queued job), and the page follows the job to its lines
    assert answer.value.status == 202, answer.value.text()
    assert answer.value.json()["status"] == "queued"
    expect(page.get_by_test_id("karaoke-status")).not_to_have_text("")
    expect(page.get_by_test_id("karaoke-view")).to_be_visible(timeout=ALIGN_TIMEOUT_MS)
    expect(page.get_by_test_id("karaoke-status")).to_contain_text("Your words, timed", timeout=ALIGN_TIMEOUT_MS)
    body = page.request.get(url).json()
    assert body["source"] == "aligned"
    assert [item["text"] for item in body["lines"]] == pasted
    open_editor(page)
    assert row_texts(page) == pasted
    expect(page.get_by_test_id("karaoke-line")).to_have_text(pasted[0])
    # And the LRC download is the file of those lines
    lrc = page.request.get(page.get_by_test_id("karaoke-download-lrc").get_attribute("href"))
    assert lrc.status == 200
    assert "attachment" in lrc.headers["content-disposition"]
    assert all(text in lrc.text() for text in pasted)
    assert page_errors == []


# ---------------------------------------------------------------- the guide vocal and full screen


def test_the_guide_vocal_starts_low_once_unless_moved_and_moves_the_vocals_strip(
    chromium_browser, studio_server, ready_project: ReadyProject, page_errors
) -> None:
    def fresh_context():
        context = chromium_browser.new_context(
            base_url=studio_server.base_url, storage_state=ready_project.storage_state
        )
        page = context.new_page()
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        FakeLyrics(page, lyrics_body(CLOCK_LINES))
        return context, page

    # Given a browser that never opened the view, and the vocals at 0 dB
    context, page = fresh_context()
    try:
        fresh_open(page, ready_project)
        assert settings(page)["stems"]["vocals"]["gain_db"] == 0

        # When the view opens, then the guide vocal (the vocals stem) is down to -18 dB
        open_karaoke(page)
        guide = page.get_by_test_id("karaoke-guide")
        expect(guide).to_have_value("-18")
        assert settings(page)["stems"]["vocals"]["gain_db"] == -18
        expect(page.get_by_test_id("gain-vocals")).to_have_value("-18")

        # When the guide fader is moved, then the vocals strip moves with it
        guide.fill("-30")
        assert settings(page)["stems"]["vocals"]["gain_db"] == -30
        expect(page.get_by_test_id("gain-vocals")).to_have_value("-30")
        expect(page.get_by_test_id("karaoke-guide-value")).to_have_text("\u221230.0 dB")

        # When the vocals strip is moved back to 0 and the page reloaded, then opening leaves it
        page.get_by_test_id("gain-vocals").fill("0")
        assert page.evaluate("window.isomixMixer.saved") is True
        page.reload()
        expect(page.get_by_test_id("mixer")).to_have_attribute("data-state", "ready", timeout=60_000)
        open_karaoke(page)
        expect(page.get_by_test_id("karaoke-guide")).to_have_value("0")
        assert settings(page)["stems"]["vocals"]["gain_db"] == 0
    finally:
        context.close()

    # Given another browser (never opened the view) where the user set the vocals to -6 dB
    context, page = fresh_context()
    try:
        fresh_open(page, ready_project)
        page.get_by_test_id("gain-vocals").fill("-6")

        # When the view opens, then the level the user chose stays
        open_karaoke(page)
        expect(page.get_by_test_id("karaoke-guide")).to_have_value("-6")
        assert settings(page)["stems"]["vocals"]["gain_db"] == -6
    finally:
        context.close()
    assert page_errors == []


def test_full_screen_shows_the_view_alone_and_leaves_again(owner_page: Page, ready_project, page_errors) -> None:
    # Given the view open
    page = owner_page
    FakeLyrics(page, lyrics_body(CLOCK_LINES))
    fresh_open(page, ready_project)
    open_karaoke(page)
    button = page.get_by_test_id("karaoke-fullscreen")

    # When full screen is pressed, then the view is the page's full-screen element
    button.click()
    page.wait_for_function("() => document.fullscreenElement?.matches('[data-karaoke-view]') === true")
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("karaoke-edit-toggle")).to_be_hidden()

    # When it is pressed again, then the page is back
    button.click()
    page.wait_for_function("() => document.fullscreenElement === null")
    expect(button).to_have_attribute("aria-pressed", "false")
    assert page_errors == []


# ---------------------------------------------------------------- layout

LONG_WORD_LINES = [
    line(word("Supercalifragilisticexpialidocious-and-further-still", 0.3, 1.5), word("yes", 1.5, 2.0)),
    line(word("A", 2.2, 2.4), word("much", 2.4, 2.6), word("longer", 2.6, 2.8), word("second", 2.8, 3.0),
         word("line", 3.0, 3.2), word("that", 3.2, 3.4), word("wraps", 3.4, 3.6), word("around", 3.6, 4.0)),
]  # fmt: skip


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop-1280", "phone-375"])
def test_the_karaoke_panel_fits_the_screen_and_is_touch_sized_on_a_phone(
    chromium_browser, studio_server, ready_project: ReadyProject, page_errors, viewport
) -> None:
    # Given the view, the editor (a line selected) and the paste form open at this width
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
        FakeLyrics(page, lyrics_body(LONG_WORD_LINES, version=2))
        fresh_open(page, ready_project)
        open_karaoke(page)
        open_editor(page)
        row_time(page, 1).click()
        page.get_by_test_id("karaoke-tap-mode").click()
        page.get_by_test_id("karaoke-paste-box").locator("summary").click()
        seek_on_waveform(page, 0.9)
        expect(page.get_by_test_id("karaoke-line")).to_contain_text("Supercalifragilistic")
        screenshot(page, f"karaoke-{viewport['width']}")

        # Then nothing scrolls sideways, and every karaoke control lies inside the screen
        width = page.evaluate("document.documentElement.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        boxes = page.locator(
            "[data-testid=karaoke] :is(button, input, select, textarea, summary, a[href], [role=slider], "
            ".karaoke-line, .karaoke-next):visible"
        ).evaluate_all(
            "els => els.map(e => { const r = e.getBoundingClientRect();"
            " return {id: e.dataset.testid || e.className || e.textContent.trim(), tag: e.tagName,"
            " role: e.getAttribute('role'), left: r.left, right: r.right, height: r.height, width: r.width}; })"
        )
        assert len(boxes) >= 30, boxes
        assert [b for b in boxes if b["left"] < -0.5 or b["right"] > width + 0.5] == []
        # And on a phone every control is at least a fingertip tall (and the timeline's marker wide)
        if phone:
            controls = [b for b in boxes if b["tag"] in ("BUTTON", "INPUT", "SELECT", "SUMMARY", "A") or b["role"]]
            assert [b for b in controls if b["height"] < TOUCH_MIN_PX - 0.5] == []
            assert [b for b in controls if b["role"] == "slider" and b["width"] < TOUCH_MIN_PX - 0.5] == []
    finally:
        context.close()
    assert page_errors == []


# ---------------------------------------------------------------- no drift after 3 minutes
# (last: the 3-minute song's own analysis and lyrics jobs then run after every other test)


def test_near_the_end_of_a_3_minute_song_the_view_shows_the_position_s_word(
    chromium_browser, studio_server, long_project: ReadyProject, page_errors
) -> None:
    # Given the 3-minute song with a line every 4.5 s, its mixer and the karaoke editor open
    lines = even_lines(first_s=2.0, every_s=4.5, count=39, words=4, word_s=0.8)
    assert lines[-1]["end"] < LONG_SONG_S
    context = chromium_browser.new_context(base_url=studio_server.base_url, storage_state=long_project.storage_state)
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        FakeLyrics(page, lyrics_body(lines))
        fresh_open(page, long_project)
        assert page.evaluate("window.isomixMixer.duration") == pytest.approx(LONG_SONG_S, abs=0.05)
        open_karaoke(page)
        open_editor(page)

        # When a line near the end is clicked in the editor (a seek there) and the song plays
        rows = page.get_by_test_id("karaoke-lines").locator("li")
        expect(rows).to_have_count(len(lines))
        near_end = len(lines) - 2
        rows.nth(near_end).locator('[data-action="seek-line"]').click()
        page.wait_for_function("(t) => Math.abs(window.isomixMixer.position - t) < 1e-6", arg=lines[near_end]["start"])
        frame = read_frame(page)
        assert (frame["line"], frame["word"]) == (near_end, 0)
        page.evaluate("window.isomixMixer.play()")

        # Then, as it plays through the last lines, every frame shows the word at the clock's position
        for k in range(1, 8):
            target = lines[near_end]["start"] + 0.9 * k
            page.wait_for_function("(t) => window.isomixMixer.position >= t", arg=target)
            assert_frame_follows_clock(read_frame(page), lines)
        # And the editor highlights the line being sung
        current = page.get_by_test_id("karaoke-lines").locator('li[aria-current="true"]')
        expect(current).to_have_count(1)
        assert int(current.get_attribute("data-index")) == last_started(
            lines, page.evaluate("window.isomixMixer.position")
        )
        page.evaluate("window.isomixMixer.pause()")
    finally:
        context.close()
    assert page_errors == []
