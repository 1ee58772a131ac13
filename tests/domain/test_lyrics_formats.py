"""Word-timed lyrics as files: LRC, enhanced LRC, SubRip, WebVTT and JSON."""

from __future__ import annotations

import json

import pytest

from domain.lyrics import (
    LYRICS_CONTENT_TYPES,
    LYRICS_EXTENSIONS,
    LYRICS_FORMATS,
    LyricLine,
    LyricsDoc,
    LyricWord,
    cue_clock,
    lrc_clock,
    lrc_times_parse,
    lyrics_render,
    lyrics_text_parse,
)

LINES = [
    {"start": 0.5, "end": 1.5, "text": "Hello my friend",
     "words": [{"word": "Hello", "start": 0.5, "end": 0.8}, {"word": "my", "start": 0.9, "end": 1.0},
               {"word": "friend", "start": 1.1, "end": 1.5}]},
    {"start": 62.25, "end": 63.5, "text": "Sing along",
     "words": [{"word": "Sing", "start": 62.25, "end": 62.9}, {"word": "along", "start": 63.0, "end": 63.5}]},
]  # fmt: skip


def _doc() -> LyricsDoc:
    return LyricsDoc.from_json(LINES, duration_s=64.125)


def _text(fmt: str, doc: LyricsDoc | None = None, **header: str) -> str:
    content, _type = lyrics_render(doc=doc or _doc(), fmt=fmt, **header)
    return content.decode("utf-8")


def _line(*words: tuple[str, float, float], start: float | None = None, end: float | None = None) -> LyricLine:
    typed = tuple(LyricWord(w, s, e) for w, s, e in words)
    return LyricLine.of_words(
        start=typed[0].start if start is None else start, end=typed[-1].end if end is None else end, words=typed
    )


def _one_line_doc(*words: tuple[str, float, float], **span: float) -> LyricsDoc:
    return LyricsDoc(lines=(_line(*words, **span),), duration_s=4000.0)


# ---------------------------------------------------------------- each format, exactly


def test_lrc_has_the_header_and_one_timed_line_per_line():
    assert _text("lrc", title="Águas de Março", language="pt") == (
        "[ti:Águas de Março]\n[la:pt]\n[length:01:04.13]\n[00:00.50]Hello my friend\n[01:02.25]Sing along\n"
    )


def test_enhanced_lrc_times_every_word_and_the_last_ones_end():
    assert _text("lrc-words", language="en") == (
        "[la:en]\n"
        "[length:01:04.13]\n"
        "[00:00.50]<00:00.50>Hello <00:00.90>my <00:01.10>friend <00:01.50>\n"
        "[01:02.25]<01:02.25>Sing <01:03.00>along <01:03.50>\n"
    )


def test_srt_numbers_its_cues_from_one_with_a_blank_line_between():
    assert _text("srt", title="ignored", language="en") == (
        "1\n00:00:00,500 --> 00:00:01,500\nHello my friend\n\n2\n00:01:02,250 --> 00:01:03,500\nSing along\n"
    )


def test_vtt_times_the_words_after_the_first_inside_each_cue():
    assert _text("vtt", language="en") == (
        "WEBVTT\n"
        "Language: en\n"
        "\n"
        "00:00:00.500 --> 00:00:01.500\n"
        "Hello <00:00:00.900>my <00:00:01.100>friend\n"
        "\n"
        "00:01:02.250 --> 00:01:03.500\n"
        "Sing <00:01:03.000>along\n"
    )


def test_json_holds_the_language_and_the_lines():
    text = _text("json", title="ignored", language="en")

    assert json.loads(text) == {"language": "en", "lines": LINES}
    assert text.startswith('{\n  "language": "en",\n  "lines": [\n')
    assert text.endswith("}\n")
    assert LyricsDoc.from_json(json.loads(text)["lines"], duration_s=64.125) == _doc()


def test_without_a_title_or_language_the_headers_are_left_out():
    assert _text("lrc").splitlines()[:2] == ["[length:01:04.13]", "[00:00.50]Hello my friend"]
    assert _text("vtt").splitlines()[:3] == ["WEBVTT", "", "00:00:00.500 --> 00:00:01.500"]
    assert json.loads(_text("json"))["language"] == ""


@pytest.mark.parametrize("fmt", LYRICS_FORMATS)
def test_every_format_is_utf8_without_a_byte_order_mark_and_has_its_type(fmt):
    content, content_type = lyrics_render(doc=_doc(), fmt=fmt, title="Canção")

    assert not content.startswith(b"\xef\xbb\xbf")
    assert content.endswith(b"\n") and not content.endswith(b"\n\n")
    assert content_type == LYRICS_CONTENT_TYPES[fmt]
    assert LYRICS_EXTENSIONS[fmt] in {"lrc", "srt", "vtt", "json"}


def test_content_types_and_extensions():
    assert LYRICS_CONTENT_TYPES == {
        "lrc": "text/plain; charset=utf-8",
        "lrc-words": "text/plain; charset=utf-8",
        "srt": "application/x-subrip; charset=utf-8",
        "vtt": "text/vtt; charset=utf-8",
        "json": "application/json",
    }
    assert LYRICS_EXTENSIONS == {"lrc": "lrc", "lrc-words": "lrc", "srt": "srt", "vtt": "vtt", "json": "json"}


def test_an_unknown_format_is_a_programming_error():
    with pytest.raises(ValueError):
        lyrics_render(doc=_doc(), fmt="docx")


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("fmt", ["lrc", "lrc-words"])
def test_an_lrc_download_uploaded_again_gives_back_the_lines(fmt):
    text = _text(fmt, title="Song [live]", language="en")

    assert lyrics_text_parse(text=text, filename="song.lrc") == ["Hello my friend", "Sing along"]
    assert lrc_times_parse(text) == [(0.5, "Hello my friend"), (62.25, "Sing along")]


# ---------------------------------------------------------------- clocks


@pytest.mark.parametrize(
    ("seconds", "lrc", "srt"),
    [
        (0.0, "00:00.00", "00:00:00,000"),
        (0.004, "00:00.00", "00:00:00,004"),
        (0.005, "00:00.01", "00:00:00,005"),  # half a hundredth rounds up
        (0.295, "00:00.30", "00:00:00,295"),  # though 0.295 * 100 is 29.499999999999996
        (59.994, "00:59.99", "00:00:59,994"),
        (59.996, "01:00.00", "00:00:59,996"),  # carried into the minutes, never "00:60.00"
        (59.9996, "01:00.00", "00:01:00,000"),
        (3599.9996, "60:00.00", "01:00:00,000"),
        (3662.0, "61:02.00", "01:01:02,000"),  # LRC minutes run past 59
        (36000.5, "600:00.50", "10:00:00,500"),
    ],
)
def test_clocks_round_once_and_carry(seconds, lrc, srt):
    assert lrc_clock(seconds) == lrc
    assert cue_clock(seconds, separator=",") == srt
    assert cue_clock(seconds, separator=".") == srt.replace(",", ".")


def test_a_line_past_an_hour_in_every_cue_format():
    doc = _one_line_doc(("late", 3725.5, 3726.0))

    assert _text("lrc", doc).splitlines()[-1] == "[62:05.50]late"
    assert _text("srt", doc).splitlines()[1] == "01:02:05,500 --> 01:02:06,000"
    assert _text("vtt", doc).splitlines()[2] == "01:02:05.500 --> 01:02:06.000"


# ---------------------------------------------------------------- cue text


def test_vtt_escapes_the_cue_text_and_srt_keeps_it_as_typed():
    doc = _one_line_doc(("R&B", 1.0, 1.2), ("<3", 1.3, 1.5), ("-->", 1.6, 2.0))

    assert _text("vtt", doc).splitlines()[3] == "R&amp;B <00:00:01.300>&lt;3 <00:00:01.600>--&gt;"
    assert _text("srt", doc).splitlines()[2] == "R&B <3 -->"


def test_vtt_word_times_stay_inside_the_cue_and_in_order():
    # given a first word after the line's start, two words at the same time, and a word
    # (within the 50 ms slack) ending after the line
    doc = _one_line_doc(
        ("one", 1.2, 1.4), ("two", 1.5, 1.6), ("too", 1.5, 1.7), ("end", 2.01, 2.04), start=1.0, end=2.0
    )

    cue = _text("vtt", doc).splitlines()[2:4]

    # then the first word gets its own time, the repeated time is written once, and a time
    # at or past the cue's end is left out
    assert cue == ["00:00:01.000 --> 00:00:02.000", "<00:00:01.200>one <00:00:01.500>two too end"]


def test_an_instant_line_still_lasts_a_millisecond_as_a_cue():
    doc = _one_line_doc(("hey", 2.0, 2.0))

    assert _text("srt", doc).splitlines()[1] == "00:00:02,000 --> 00:00:02,001"
    assert _text("vtt", doc).splitlines()[2] == "00:00:02.000 --> 00:00:02.001"


def test_a_title_cannot_break_the_lrc_header():
    text = _text("lrc", title="Live ] [at:x]\n[00:00.00]Fake\x00 line", language="en\n")

    assert text.splitlines()[:2] == ["[ti:Live ) (at:x) (00:00.00)Fake line]", "[la:en]"]
