"""Word-timed lyrics: the document's rules on whatever JSON arrives, and the editor's edits."""

from __future__ import annotations

import copy
import math

import pytest

from domain.exceptions import ErrorCode
from domain.lyrics import (
    LINES_MAX,
    WORD_CHARS_MAX,
    WORDS_PER_LINE_MAX,
    InvalidLyrics,
    LyricLine,
    LyricsDoc,
    LyricWord,
    line_shift,
    line_split,
    lines_merge,
    word_set,
)

DURATION_S = 4.0


def _lines() -> list[dict]:
    """Two lines of the song as the API carries them (a fresh copy: tests may spoil it)."""
    return [
        {"start": 0.5, "end": 1.5, "text": "Hello my friend",
         "words": [{"word": "Hello", "start": 0.5, "end": 0.8}, {"word": "my", "start": 0.9, "end": 1.0},
                   {"word": "friend", "start": 1.1, "end": 1.5}]},
        {"start": 2.5, "end": 3.5, "text": "Sing along",
         "words": [{"word": "Sing", "start": 2.5, "end": 2.9}, {"word": "along", "start": 3.0, "end": 3.5}]},
    ]  # fmt: skip


def _doc() -> LyricsDoc:
    return LyricsDoc.from_json(_lines(), duration_s=DURATION_S)


def _line(start: float, end: float, *words: tuple[str, float, float]) -> LyricLine:
    return LyricLine.of_words(start=start, end=end, words=tuple(LyricWord(w, s, e) for w, s, e in words))


# ---------------------------------------------------------------- reading and writing


def test_lines_read_into_typed_words_and_write_back_the_same_json():
    # given the lines as the API carries them
    data = _lines()

    # when they are read and written again
    doc = LyricsDoc.from_json(data, duration_s=DURATION_S)

    # then every word is typed, and the JSON is what came in
    assert doc.lines[0] == _line(0.5, 1.5, ("Hello", 0.5, 0.8), ("my", 0.9, 1.0), ("friend", 1.1, 1.5))
    assert doc.lines[1].text == "Sing along"
    assert doc.word_count == 5
    assert doc.to_json() == _lines()
    assert LyricsDoc.from_json(doc.to_json(), duration_s=DURATION_S) == doc


def test_a_line_without_text_takes_its_words_joined_by_spaces():
    data = _lines()
    del data[0]["text"]

    doc = LyricsDoc.from_json(data, duration_s=DURATION_S)

    assert doc.lines[0].text == "Hello my friend"
    assert doc.to_json() == _lines()


def test_times_are_kept_to_the_millisecond_and_words_stripped_and_composed():
    # given times finer than a millisecond, integer seconds, a word with spaces around it and a
    # decomposed "ã" (a + combining tilde, as macOS writes file names)
    data = [{"start": 0, "end": 1.23456, "words": [{"word": " Na\u0303o ", "start": 0.0004, "end": 1.2344}]}]

    doc = LyricsDoc.from_json(data, duration_s=DURATION_S)

    # then the times are whole milliseconds (a tiny positive rounds to 0.0, not -0.0 or 0.0004)
    # and the word is stripped and NFC-composed
    assert doc.to_json() == [
        {"start": 0.0, "end": 1.235, "text": "Não", "words": [{"word": "Não", "start": 0.0, "end": 1.234}]}
    ]
    assert isinstance(doc.lines[0].start, float)
    assert math.copysign(1.0, doc.lines[0].words[0].start) == 1.0


def test_no_lines_is_an_empty_document():
    doc = LyricsDoc.from_json([], duration_s=DURATION_S)

    assert (doc.lines, doc.word_count, doc.to_json()) == ((), 0, [])


def test_times_may_run_half_a_second_past_the_song_and_words_a_little_outside_their_line():
    # given a last line ending at the song's end + 0.5 s, whose words start 50 ms before it
    data = [{"start": 3.0, "end": 4.5, "words": [{"word": "end", "start": 2.95, "end": 4.5}]}]

    doc = LyricsDoc.from_json(data, duration_s=DURATION_S)

    assert doc.lines[0].words[0].start == 2.95

    # but a millisecond more is refused
    data[0]["end"] = data[0]["words"][0]["end"] = 4.501
    with pytest.raises(InvalidLyrics) as raised:
        LyricsDoc.from_json(data, duration_s=DURATION_S)
    assert raised.value.field == "lines[0].end"


def _spoilt(path: str, value) -> list:
    """The two lines with the value at ``path`` (``"0.words.1.start"``) replaced; ``...`` deletes it."""
    data = _lines()
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    key = int(last) if last.isdigit() else last
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return data


def _words(n: int, *, chars: int = 1) -> list[dict]:
    return [{"word": "a" * chars, "start": 0.5, "end": 0.5} for _ in range(n)]


HOSTILE = [
    ("not a list", {"lines": []}, "lines"),
    ("a string", "Hello", "lines"),
    ("nested junk", [[[[[]]]]], "lines[0]"),
    ("a line as a string", ["Hello my friend"], "lines[0]"),
    ("too many lines", [_lines()[0]] * (LINES_MAX + 1), "lines"),
    ("boolean start", _spoilt("0.start", True), "lines[0].start"),
    ("NaN", _spoilt("0.start", math.nan), "lines[0].start"),
    ("infinity", _spoilt("1.end", math.inf), "lines[1].end"),
    ("an integer of 400 digits", _spoilt("1.end", 10**400), "lines[1].end"),
    ("time as text", _spoilt("0.start", "0.5"), "lines[0].start"),
    ("time as null", _spoilt("0.words.0.end", None), "lines[0].words[0].end"),
    ("negative start", _spoilt("0.start", -1.0), "lines[0].start"),
    ("end before start", _spoilt("1.end", 2.0), "lines[1].end"),
    ("past the song", _spoilt("1.end", 99.0), "lines[1].end"),
    ("a word ending before it starts", _spoilt("0.words.1.end", 0.85), "lines[0].words[1].end"),
    ("lines out of order", _spoilt("1.start", 0.4), "lines[1].start"),
    ("words out of order", _spoilt("0.words.2.start", 0.85), "lines[0].words[2].start"),
    ("a word before its line", _spoilt("1.words.0.start", 2.4), "lines[1].words[0].start"),
    ("a word after its line", _spoilt("0.words.2.end", 1.6), "lines[0].words[2].end"),
    ("an unknown line key", _spoilt("0.colour", "red"), "lines[0].colour"),
    ("an unknown word key", _spoilt("0.words.0.probability", 0.9), "lines[0].words[0].probability"),
    ("a missing end", _spoilt("0.end", ...), "lines[0].end"),
    ("missing words", _spoilt("0.words", ...), "lines[0].words"),
    ("words as text", _spoilt("0.words", "Hello my friend"), "lines[0].words"),
    ("no words", _spoilt("0.words", []), "lines[0].words"),
    ("a word as a list", _spoilt("0.words.0", ["Hello", 0.5, 0.8]), "lines[0].words[0]"),
    ("a word as a number", _spoilt("0.words.0.word", 5), "lines[0].words[0].word"),
    ("an empty word", _spoilt("0.words.0.word", "  "), "lines[0].words[0].word"),
    ("a word with a space", _spoilt("0.words.0.word", "Hel lo"), "lines[0].words[0].word"),
    ("a NUL", _spoilt("0.words.0.word", "Hel\x00lo"), "lines[0].words[0].word"),
    ("an escape sequence", _spoilt("0.words.0.word", "\x1b[31mHello"), "lines[0].words[0].word"),
    ("a lone surrogate", _spoilt("0.words.0.word", "\ud800"), "lines[0].words[0].word"),
    ("a right-to-left override", _spoilt("0.words.0.word", "\u202eolleH"), "lines[0].words[0].word"),
    ("a long word", _spoilt("0.words.0.word", "a" * (WORD_CHARS_MAX + 1)), "lines[0].words[0].word"),
    ("megabytes of word", _spoilt("0.words.0.word", "a" * 1_000_000), "lines[0].words[0].word"),
    ("text unlike the words", _spoilt("0.text", "Hello my enemy"), "lines[0].text"),
    ("text with double spaces", _spoilt("0.text", "Hello  my friend"), "lines[0].text"),
    ("text as a number", _spoilt("0.text", 3), "lines[0].text"),
    ("too many words in a line", _spoilt("0.words", _words(WORDS_PER_LINE_MAX + 1)), "lines[0].words"),
    ("a line too long", [{"start": 0.5, "end": 0.5, "words": _words(8, chars=63)}], "lines[0].words"),
    ("too many words in all", [{"start": 0.5, "end": 0.5, "words": _words(100)}] * 101, "lines"),
]


@pytest.mark.parametrize(("data", "field"), [(d, f) for _name, d, f in HOSTILE], ids=[n for n, _d, _f in HOSTILE])
def test_hostile_lines_are_refused_naming_the_field(data, field):
    # given JSON nobody's editor writes
    before = copy.deepcopy(data)

    # when it is read, then it is refused, saying where, with the code the API answers
    with pytest.raises(InvalidLyrics) as raised:
        LyricsDoc.from_json(data, duration_s=DURATION_S)

    assert raised.value.field == field
    assert raised.value.code == ErrorCode.INVALID_LYRICS
    assert raised.value.extra == {"field": field}
    assert raised.value.message
    assert data == before


def test_the_message_says_what_is_wrong_in_words():
    with pytest.raises(InvalidLyrics) as raised:
        LyricsDoc.from_json(_spoilt("1.end", 99.0), duration_s=DURATION_S)

    assert raised.value.message == "Times must lie within the song (0 to 4.5 s)."


def test_a_hand_made_document_keeps_the_rules_too():
    # given a line whose word is out of it, made without JSON
    line = _line(0.5, 1.0, ("late", 2.0, 2.5))

    with pytest.raises(InvalidLyrics) as raised:
        LyricsDoc(lines=(line,), duration_s=DURATION_S)

    assert raised.value.field == "lines[0].words[0].end"


# ---------------------------------------------------------------- edits


def test_a_line_splits_between_two_words():
    doc = _doc()

    split = line_split(doc, line_index=0, word_index=2)

    assert split.lines == (
        _line(0.5, 1.0, ("Hello", 0.5, 0.8), ("my", 0.9, 1.0)),
        _line(1.1, 1.5, ("friend", 1.1, 1.5)),
        doc.lines[1],
    )
    assert split.duration_s == DURATION_S


@pytest.mark.parametrize(
    ("line_index", "word_index", "field"),
    [(0, 0, "word_index"), (0, 3, "word_index"), (1, 2, "word_index"), (2, 1, "line_index"), (-1, 1, "line_index"),
     (True, 1, "line_index")],
)  # fmt: skip
def test_a_split_outside_the_words_is_refused(line_index, word_index, field):
    doc = _doc()

    with pytest.raises(InvalidLyrics) as raised:
        line_split(doc, line_index=line_index, word_index=word_index)

    assert raised.value.field == field
    assert doc == _doc()


def test_a_line_joins_the_next():
    merged = lines_merge(_doc(), line_index=0)

    assert merged.lines == (
        _line(
            0.5, 3.5, ("Hello", 0.5, 0.8), ("my", 0.9, 1.0), ("friend", 1.1, 1.5), ("Sing", 2.5, 2.9),
            ("along", 3.0, 3.5),
        ),
    )  # fmt: skip
    assert merged.lines[0].text == "Hello my friend Sing along"


def test_the_last_line_or_overlapping_lines_do_not_join():
    with pytest.raises(InvalidLyrics) as raised:
        lines_merge(_doc(), line_index=1)
    assert raised.value.field == "line_index"

    # given a backing line sung over the end of the first, its words would come out of order
    overlapping = LyricsDoc(
        lines=(_line(0.0, 2.0, ("one", 0.0, 1.0), ("two", 1.5, 2.0)), _line(1.0, 1.4, ("ooh", 1.0, 1.4))),
        duration_s=DURATION_S,
    )
    with pytest.raises(InvalidLyrics) as raised:
        lines_merge(overlapping, line_index=0)
    assert raised.value.field == "lines[0].words[2].start"


def test_a_line_shifts_with_its_words():
    shifted = line_shift(_doc(), line_index=1, delta_s=-0.25)

    assert shifted.lines[1] == _line(2.25, 3.25, ("Sing", 2.25, 2.65), ("along", 2.75, 3.25))
    assert shifted.lines[0] == _doc().lines[0]


def test_a_shift_stops_at_the_song_start_and_end_keeping_the_line_shape():
    doc = _doc()

    early = line_shift(doc, line_index=0, delta_s=-10.0)
    late = line_shift(doc, line_index=1, delta_s=10.0)

    assert early.lines[0] == _line(0.0, 1.0, ("Hello", 0.0, 0.3), ("my", 0.4, 0.5), ("friend", 0.6, 1.0))
    assert late.lines[1] == _line(3.0, 4.0, ("Sing", 3.0, 3.4), ("along", 3.5, 4.0))


def test_a_line_shifted_past_the_next_takes_its_place():
    shifted = line_shift(_doc(), line_index=0, delta_s=2.25)

    assert [line.text for line in shifted.lines] == ["Sing along", "Hello my friend"]
    assert shifted.lines[1] == _line(2.75, 3.75, ("Hello", 2.75, 3.05), ("my", 3.15, 3.25), ("friend", 3.35, 3.75))


def test_a_shift_by_no_number_is_refused():
    with pytest.raises(InvalidLyrics) as raised:
        line_shift(_doc(), line_index=0, delta_s=math.nan)

    assert raised.value.field == "delta_s"


def test_a_word_is_retyped_and_retimed_and_its_line_follows():
    doc = _doc()

    retyped = word_set(doc, line_index=0, word_index=2, word=" amigo ")
    later = word_set(doc, line_index=0, word_index=2, end=1.8)

    assert retyped.lines[0] == _line(0.5, 1.5, ("Hello", 0.5, 0.8), ("my", 0.9, 1.0), ("amigo", 1.1, 1.5))
    assert retyped.lines[0].text == "Hello my amigo"
    # the line grows to hold the word
    assert later.lines[0] == _line(0.5, 1.8, ("Hello", 0.5, 0.8), ("my", 0.9, 1.0), ("friend", 1.1, 1.8))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"word": "two words"}, "lines[0].words[1].word"),
        ({"word": ""}, "lines[0].words[1].word"),
        ({"start": 0.4}, "lines[0].words[1].start"),  # before the word before it
        ({"start": 1.2, "end": 1.3}, "lines[0].words[2].start"),  # after the word after it
        ({"end": 0.85}, "lines[0].words[1].end"),
        ({"start": "1"}, "start"),
        ({"end": math.inf}, "end"),
    ],
)
def test_a_word_change_that_breaks_a_rule_is_refused(change, field):
    doc = _doc()

    with pytest.raises(InvalidLyrics) as raised:
        word_set(doc, line_index=0, word_index=1, **change)

    assert raised.value.field == field
    assert doc == _doc()


@pytest.mark.parametrize(("duration_s", "error"), [(None, TypeError), (True, TypeError), (math.nan, ValueError)])
def test_a_song_without_a_duration_is_a_programming_error(duration_s, error):
    with pytest.raises(error):
        LyricsDoc.from_json(_lines(), duration_s=duration_s)
