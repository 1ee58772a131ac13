"""The user's lyrics text (pasted, or an uploaded ``.txt``/``.lrc``) as the lines to align.

What is kept is what is sung, as the user typed it:

- ``[...]`` groups are dropped wherever they are: LRC time tags (``[01:02.50]``), LRC metadata
  (``[ar:...]``, ``[ti:...]``, ``[offset:...]``), section headers (``[Verse 1]``, ``[Chorus]``)
  and notes (``[inaudible]``); lyric sheets use square brackets for nothing that is sung.
- ``<mm:ss.xx>`` word tags of enhanced LRC are dropped; other ``<...>`` text is kept.
- Parentheses are kept: ``(ooh, baby)`` is backing vocals, sung and timed like other words. A
  repeat marker that ends a line, ``(x2)``, ``x3``, ``(2x)``, ``×2``, is not sung: it is removed
  and the line is repeated that many times (2..:data:`REPEAT_MAX`), as it will be sung. Out of
  that range a marker in parentheses is dropped as a note and a bare one (``Route 66x``) is
  kept as words; a marker alone on its line repeats nothing that can be told and is dropped.
- Whitespace is collapsed to single spaces; lines with no letter or digit (``...``, ``--``) and
  empty lines are dropped. A word is a run of non-space characters, punctuation attached
  (:func:`line_words`).

Accepted: ``\\n``, ``\\r\\n`` or ``\\r`` line ends, a byte-order mark, tabs; the text is
NFC-normalised. Refused with :class:`~domain.exceptions.InvalidLyrics` (``field="text"``, and
``extra={"line": n}``, 1-based in the user's text, where one line is at fault): more than
:data:`~domain.lyrics.lines.TEXT_CHARS_MAX` characters, other control characters, no words, or
more lines, words or characters than a :class:`~domain.lyrics.lines.LyricsDoc` may hold (so that
the job cannot fail later on what was accepted now).
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

from domain.exceptions import InvalidLyrics
from domain.lyrics.lines import (
    LINE_CHARS_MAX,
    LINES_MAX,
    TEXT_CHARS_MAX,
    WORD_CHARS_MAX,
    WORDS_MAX,
    WORDS_PER_LINE_MAX,
    forbidden_char,
)

#: The most times a line-ending repeat marker repeats its line; a larger count is dropped as
#: a note (nobody sings one line twenty times, and it would flood the aligner).
REPEAT_MAX = 8
#: File names the text may come from (the extension, lower case); "" for pasted text.
TEXT_EXTENSIONS = ("", ".txt", ".lrc")

# [mm:ss], [mm:ss.xx], [mm:ss.xxx] or [mm:ss:xx]; minutes may run past 59 (a long track).
_TIME_TAG = re.compile(r"\[(\d{1,4}):(\d{1,2})(?:[.:](\d{1,3}))?\]")
_WORD_TAG = re.compile(r"<\d{1,4}:\d{1,2}(?:[.:]\d{1,3})?>")
_OFFSET_TAG = re.compile(r"\[offset:\s*([+-]?\d{1,7})\s*\]", re.IGNORECASE)
_BRACKETS = re.compile(r"\[[^\]\n]*\]")
# "(x2)", "( 2 x )" or, bare, "x2", "2x", "×2": the last thing on the line, after a space.
_REPEAT = re.compile(
    r"(?:^|(?<=\s))(?:\(\s*(?:[x×]\s*(\d{1,3})|(\d{1,3})\s*[x×])\s*\)|[x×](\d{1,3})|(\d{1,3})[x×])$", re.IGNORECASE
)
# A letter or a digit of any script: what makes a line sung rather than punctuation.
_SUNG = re.compile(r"[^\W_]")


def line_words(line: str) -> list[str]:
    """The words of one lyrics line: split on whitespace, punctuation kept on its word.

    ``"Hey, you (ooh)!"`` → ``["Hey,", "you", "(ooh)!"]``; the words are shown as typed.
    """
    return line.split()


def lyrics_text_parse(*, text: str, filename: str = "") -> list[str]:
    """The lines of the user's lyrics, in the order they are sung (see the module docstring).

    Parameters
    ----------
    text
        The pasted text, or an uploaded file's content decoded.
    filename
        The uploaded file's name, to refuse a file that is not text or LRC; "" when pasted.

    Returns
    -------
    list[str]
        At least one line, each its words joined by single spaces.
    """
    return [line for _time, line in lrc_times_parse(text, filename=filename)]


def lrc_times_parse(text: str, *, filename: str = "") -> list[tuple[float | None, str]]:
    """The lines of :func:`lyrics_text_parse`, each with its LRC start time (s) when it has one.

    The times may anchor an alignment. A line tagged several times (``[00:12.00][01:30.00]...``,
    "compressed" LRC) is sung at each: it appears once per time. ``[offset:ms]`` is applied (a
    positive offset makes the lyrics come sooner, as LRC players read it; times stay >= 0). When
    every line has a time the lines are in the order of their times, else in the text's order.
    Raises ``InvalidLyrics`` as :func:`lyrics_text_parse` does.
    """
    _extension_check(filename)
    if len(text) > TEXT_CHARS_MAX:
        message = _("Lyrics are at most %(max)d characters.") % {"max": TEXT_CHARS_MAX}
        raise InvalidLyrics(message, field="text")
    # A byte-order mark (at the start of a file, or where files were pasted together).
    text = text.replace("\ufeff", "")
    bad = forbidden_char(text, allowed="\t\n\r")
    if bad is not None:
        line = text.count("\n", 0, text.index(bad)) + 1
        message = _("The lyrics hold a control character (line %(line)d).") % {"line": line}
        raise InvalidLyrics(message, field="text", extra={"line": line})
    text = unicodedata.normalize("NFC", text)
    offset = _OFFSET_TAG.search(text)
    offset_s = int(offset.group(1)) / 1000 if offset else 0.0
    entries: list[tuple[float | None, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        times = [_tag_seconds(m) for m in _TIME_TAG.finditer(raw)]
        line, repeat = _line_clean(raw)
        if not _SUNG.search(line):
            continue
        _line_check(line, number)
        for _repeat in range(repeat):
            if times:
                entries.extend((max(0.0, round(t - offset_s, 3)), line) for t in times)
            else:
                entries.append((None, line))
        if len(entries) > LINES_MAX:
            message = _("Lyrics hold at most %(max)d lines.") % {"max": LINES_MAX}
            raise InvalidLyrics(message, field="text", extra={"line": number})
    if not entries:
        raise InvalidLyrics(_("These lyrics have no words to sing."), field="text")
    if sum(len(line_words(line)) for _t, line in entries) > WORDS_MAX:
        raise InvalidLyrics(_("Lyrics hold at most %(max)d words in all.") % {"max": WORDS_MAX}, field="text")
    if all(t is not None for t, _line in entries):
        entries.sort(key=lambda entry: entry[0])
    return entries


def _extension_check(filename: str) -> None:
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in TEXT_EXTENSIONS:
        raise InvalidLyrics(_("Lyrics are uploaded as a .txt or .lrc file."), field="filename")


def _tag_seconds(match: re.Match[str]) -> float:
    minutes, seconds, fraction = match.groups()
    # The fraction's digits are a decimal fraction: ".5" is half a second, ".05" a twentieth.
    return round(int(minutes) * 60 + int(seconds) + (float("0." + fraction) if fraction else 0.0), 3)


def _line_clean(raw: str) -> tuple[str, int]:
    """One line of text as sung: tags, brackets and a repeat marker gone; and how many times."""
    line = _WORD_TAG.sub(" ", _BRACKETS.sub(" ", raw))
    line = " ".join(line.split())
    marker = _REPEAT.search(line)
    if marker is None:
        return line, 1
    if marker.start() == 0:
        # A marker alone on its line ("x2" after a verse) repeats nothing that can be told here.
        return "", 1
    in_brackets, bare = marker.group(1) or marker.group(2), marker.group(3) or marker.group(4)
    count = int(in_brackets or bare)
    if 2 <= count <= REPEAT_MAX:
        return line[: marker.start()].rstrip(), count
    # Out of range, "(x20)" is still a note (dropped); a bare "66x" is more likely a word.
    return (line[: marker.start()].rstrip() if in_brackets else line), 1


def _line_check(line: str, number: int) -> None:
    words = line_words(line)
    if len(words) > WORDS_PER_LINE_MAX:
        message = _("A line holds at most %(max)d words (line %(line)d).") % {"max": WORDS_PER_LINE_MAX, "line": number}
        raise InvalidLyrics(message, field="text", extra={"line": number})
    if len(line) > LINE_CHARS_MAX:
        message = _("A line is at most %(max)d characters (line %(line)d).") % {"max": LINE_CHARS_MAX, "line": number}
        raise InvalidLyrics(message, field="text", extra={"line": number})
    if any(len(word) > WORD_CHARS_MAX for word in words):
        message = _("A word is at most %(max)d characters (line %(line)d).") % {"max": WORD_CHARS_MAX, "line": number}
        raise InvalidLyrics(message, field="text", extra={"line": number})
