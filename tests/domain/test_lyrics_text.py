"""The user's lyrics text, pasted or uploaded (.txt, .lrc), as the lines to align."""

from __future__ import annotations

import pytest

from domain.lyrics import (
    LINES_MAX,
    TEXT_CHARS_MAX,
    WORD_CHARS_MAX,
    WORDS_PER_LINE_MAX,
    InvalidLyrics,
    line_words,
    lrc_times_parse,
    lyrics_text_parse,
)


def test_pasted_lyrics_become_lines_of_single_spaced_words():
    # given text pasted from Windows, with a byte-order mark, tabs, runs of spaces and blank lines
    text = "\ufeffHello   my\tfriend \r\n\r\n\r\n  Sing along\r\nla\u00a0la\u2028last line\r"

    lines = lyrics_text_parse(text=text)

    # then each sung line is its words, single-spaced (a no-break space and a Unicode line
    # separator count as what they are)
    assert lines == ["Hello my friend", "Sing along", "la la", "last line"]


def test_section_headers_and_notes_go_and_backing_vocals_stay():
    text = "[Verse 1]\nHello my friend [inaudible]\n\n[Chorus: Both]\nSing along (ooh, baby)\n(Yeah!)\n"

    assert lyrics_text_parse(text=text) == ["Hello my friend", "Sing along (ooh, baby)", "(Yeah!)"]


def test_lines_with_nothing_to_sing_are_dropped():
    text = "...\n--\n♪ ♪\nHello\n* * *\n"

    assert lyrics_text_parse(text=text) == ["Hello"]


def test_the_text_is_nfc_composed():
    # "ã" as a + combining tilde (macOS), "é" as one code point
    lines = lyrics_text_parse(text="Na\u0303o sei\nCafé\n")

    assert lines == ["Não sei", "Café"]
    assert lines[0] == "N\u00e3o sei"


def test_an_lrc_upload_loses_its_tags_and_keeps_its_words():
    # given an LRC file with metadata, line tags, enhanced word tags and compressed repeats
    text = (
        "[ar:Someone]\n[ti:A Song]\n[offset:+0]\n[length: 03:25]\n"
        "[00:00.50]<00:00.50>Hello <00:00.90>my <00:01.10>friend <00:01.50>\n"
        "[00:02.50][00:10.00]Sing along\n"
        "[00:05.00]\n"
    )

    lines = lyrics_text_parse(text=text, filename="A Song.LRC")

    # then the lines are in the order of their times, the repeated line twice
    assert lines == ["Hello my friend", "Sing along", "Sing along"]


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("Oh oh (x2)", ["Oh oh", "Oh oh"]),
        ("Oh oh (X3)", ["Oh oh"] * 3),
        ("Oh oh ( 2 x )", ["Oh oh", "Oh oh"]),
        ("la la x2", ["la la", "la la"]),
        ("la la 2x", ["la la", "la la"]),
        ("la la ×2", ["la la", "la la"]),
        ("la la (x1)", ["la la"]),
        ("la la (x20)", ["la la"]),  # past REPEAT_MAX: a note, not a count
        ("Chorus\nx2", ["Chorus"]),  # alone on its line: repeats nothing that can be told
        ("Relax2", ["Relax2"]),  # part of a word
        ("Take 5 x", ["Take 5 x"]),
        ("Route 66x", ["Route 66x"]),
    ],
)
def test_a_line_ending_with_a_repeat_marker_is_sung_that_many_times(text, lines):
    assert lyrics_text_parse(text=text) == lines


def test_a_word_keeps_its_punctuation():
    assert line_words("Hey, you (ooh)!  don't") == ["Hey,", "you", "(ooh)!", "don't"]


def _refused(text: str, *, filename: str = "") -> InvalidLyrics:
    with pytest.raises(InvalidLyrics) as raised:
        lyrics_text_parse(text=text, filename=filename)
    return raised.value


def test_too_much_text_is_refused():
    error = _refused("a" * (TEXT_CHARS_MAX + 1))

    assert error.field == "text"
    assert error.message == f"Lyrics are at most {TEXT_CHARS_MAX} characters."


def test_text_of_exactly_the_limit_is_taken():
    # given 666 lines of 10 words and a last word: 20 000 characters
    text = "la la la la la la la la la la\n" * 666 + "e" * 20

    lines = lyrics_text_parse(text=text)

    assert len(text) == TEXT_CHARS_MAX
    assert (len(lines), lines[0], lines[-1]) == (667, "la la la la la la la la la la", "e" * 20)


@pytest.mark.parametrize(
    ("text", "line"),
    [("Hello\nmy \x07friend", 2), ("\x00", 1), ("a\n\nb\x1b[31m", 3), ("a\x0bb", 1), ("a\u202eb", 1), ("\ud800", 1)],
    ids=["bell", "nul", "escape", "vertical tab", "rtl override", "lone surrogate"],
)
def test_control_characters_are_refused_saying_where(text, line):
    error = _refused(text)

    assert (error.field, error.extra) == ("text", {"field": "text", "line": line})
    assert error.message == f"The lyrics hold a control character (line {line})."


@pytest.mark.parametrize("text", ["", "   \n\t\n", "[Instrumental]\n[Solo]", "...\n♪", "x2"])
def test_lyrics_with_no_words_are_refused(text):
    error = _refused(text)

    assert error.field == "text"
    assert error.message == "These lyrics have no words to sing."


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("ok\n" + "a" * (WORD_CHARS_MAX + 1), 2),
        ("a " * (WORDS_PER_LINE_MAX + 1), 1),
        ("ok\n\n" + " ".join(["abcdefghi"] * 51), 3),  # 509 characters, 51 words
        ("la\n" * LINES_MAX + "one too many", LINES_MAX + 1),
        ("la (x8)\n" * (LINES_MAX // 8) + "more (x8)", LINES_MAX // 8 + 1),  # repeats count
    ],
    ids=["long word", "many words", "long line", "many lines", "many repeats"],
)
def test_lines_a_lyrics_document_could_not_hold_are_refused_now(text, line):
    error = _refused(text)

    assert (error.field, error.extra["line"]) == ("text", line)


def test_too_many_words_in_all_are_refused():
    # given 13 lines of 100 words, each sung 8 times: 10 400 words in 2 700 characters
    text = ("a " * 100 + "(x8)\n") * 13

    error = _refused(text)

    assert error.field == "text"
    assert error.message == "Lyrics hold at most 10000 words in all."


@pytest.mark.parametrize("filename", ["lyrics.docx", "song.srt", "../../etc/passwd.pdf"])
def test_a_file_that_is_not_text_or_lrc_is_refused(filename):
    error = _refused("Hello", filename=filename)

    assert error.field == "filename"


@pytest.mark.parametrize("filename", ["lyrics.txt", "LYRICS.TXT", "song.lrc", "lyrics", "C:\\my.docs\\lyrics.txt"])
def test_text_and_lrc_files_are_taken(filename):
    assert lyrics_text_parse(text="Hello", filename=filename) == ["Hello"]


# ---------------------------------------------------------------- LRC times


def test_lrc_times_come_with_their_lines_in_time_order():
    # given compressed repeats, a tag without hundredths, one with a tenth, one with
    # milliseconds, and minutes past 59
    text = "[00:10.00][00:02.5]Sing along\n[00:00.50]Hello\n[01:02]Later\n[61:02.125]Much later\n"

    entries = lrc_times_parse(text)

    assert entries == [
        (0.5, "Hello"),
        (2.5, "Sing along"),
        (10.0, "Sing along"),
        (62.0, "Later"),
        (3662.125, "Much later"),
    ]
    assert [line for _t, line in entries] == lyrics_text_parse(text=text)


def test_an_lrc_offset_moves_the_times_sooner_and_never_below_zero():
    text = "[offset:+500]\n[00:00.20]First\n[00:03.00]Second\n"

    assert lrc_times_parse(text) == [(0.0, "First"), (2.5, "Second")]
    assert lrc_times_parse(text.replace("+500", "-250")) == [(0.45, "First"), (3.25, "Second")]


def test_lines_without_times_keep_the_text_order():
    text = "[00:05.00]Timed\nUntimed\n[00:01.00]Earlier\n"

    assert lrc_times_parse(text) == [(5.0, "Timed"), (None, "Untimed"), (1.0, "Earlier")]
