"""Word-timed lyrics: one type from the API to the files, with its limits defined once.

A song's lyrics are lines of words, each word with its start and end in seconds from the
song's start. The lyrics job (transcription or alignment) writes them, the user's edits
(``PATCH``) replace them, the karaoke page plays them and the downloads render them; every one
of those goes through :meth:`LyricsDoc.from_json`, so a document that reached the database or a
file passed the same checks, whoever wrote it.

The document's rules (checked on every :class:`LyricsDoc`, however it was made):

- at most :data:`LINES_MAX` lines, :data:`WORDS_MAX` words in all;
- every line has 1..:data:`WORDS_PER_LINE_MAX` words; a line's ``text`` is its words joined
  by single spaces (derived from the words when a document omits it; a ``text`` that differs is
  refused, not silently replaced, so that an editor that got out of step is told);
- a word is a non-empty string with no whitespace and no control characters, at most
  :data:`WORD_CHARS_MAX` characters, NFC-normalised;
- times are seconds, rounded to the millisecond: ``0 <= start <= end <= duration + END_SLACK_S``;
- lines are in non-decreasing order of start (they may overlap: backing vocals), words in
  non-decreasing order of start, each word within its line's times ± :data:`WORD_SLACK_S`.

Pure and Django-free but for ``gettext`` (the messages reach the user): the engines and the
render import it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from django.utils.translation import gettext as _

from domain.exceptions import InvalidLyrics

#: Lines one song's lyrics may hold. A long song has ~100 sung lines; a 30-minute live track
#: transcribed line by line stays far below this, and the editor and files stay small.
LINES_MAX = 2000
#: Words in all. A dense rap verse is ~8 words a second: an hour of it is ~30 000, but a song
#: (the longest upload is well under that) stays below this; it keeps one saved version of the
#: lyrics under ~1 MB of JSON, however the lines are cut.
WORDS_MAX = 10_000
#: Words one line may hold: a karaoke line is read at a glance (~5-15 words); a transcript
#: that failed to cut lines is refused rather than shown as one endless line.
WORDS_PER_LINE_MAX = 100
#: The longest word, in characters. The longest words of the languages offered are ~30
#: letters; anything longer is a pasted URL or junk, and it would overflow the karaoke line.
WORD_CHARS_MAX = 64
#: The longest line, in characters (words and the single spaces between them).
LINE_CHARS_MAX = 500
#: The longest pasted or uploaded lyrics text, in characters (a long song's lyrics are ~3000).
TEXT_CHARS_MAX = 20_000
#: How far past the song's recorded duration a time may lie, in seconds: the duration is
#: measured on the decoded upload, while Whisper's last timestamps are on its own 20 ms grid
#: over audio padded to 30 s windows, so they can run slightly past the end.
END_SLACK_S = 0.5
#: How far outside its line a word's times may lie, in seconds: Whisper rounds segment and word
#: times separately (to 20 ms frames), so a first word can start a frame before its segment.
WORD_SLACK_S = 0.05
#: Times are kept to the millisecond: the finest any of the file formats writes (SRT, VTT).
TIME_DECIMALS = 3

# Control characters (C0, DEL, C1: they break line-based files and terminals), lone surrogates
# (JSON may carry them as "\ud800" escapes; they cannot be encoded as UTF-8, so a download would
# fail) and the bidirectional embeddings, overrides and isolates (an unclosed one reverses the
# display of everything after it in a player, "Trojan source" style). The marks U+200E/U+200F
# that right-to-left lyrics need are allowed.
_FORBIDDEN = "\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_FORBIDDEN_CHAR = re.compile(f"[{_FORBIDDEN}]")

# Slacks are inclusive: "0.5 - 0.05" is a hair under 0.45 in floating point, and times are
# whole milliseconds, so a micro-second of tolerance decides nothing else.
_EPS = 1e-6

_LINE_KEYS = frozenset({"start", "end", "text", "words"})
_LINE_REQUIRED = ("start", "end", "words")
_WORD_KEYS = frozenset({"word", "start", "end"})


def forbidden_char(text: str, *, allowed: str = "") -> str | None:
    """The first character of ``text`` that lyrics may not hold (see ``_FORBIDDEN``), or None.

    ``allowed``: characters let through although forbidden (``"\\t\\n\\r"`` for a whole text).
    """
    for match in _FORBIDDEN_CHAR.finditer(text):
        if match.group() not in allowed:
            return match.group()
    return None


@dataclass(frozen=True)
class LyricWord:
    """One sung word as the user sees it (punctuation attached), ``start``/``end`` in seconds."""

    word: str
    start: float
    end: float

    def to_json(self) -> dict[str, Any]:
        return {"word": self.word, "start": _ms(self.start), "end": _ms(self.end)}


@dataclass(frozen=True)
class LyricLine:
    """One karaoke line: its times in seconds, its words, and ``text`` (the words, space-joined)."""

    start: float
    end: float
    text: str
    words: tuple[LyricWord, ...]

    @classmethod
    def of_words(cls, *, start: float, end: float, words: tuple[LyricWord, ...]) -> LyricLine:
        """A line whose ``text`` is derived from its words."""
        return cls(start=start, end=end, text=" ".join(w.word for w in words), words=words)

    def to_json(self) -> dict[str, Any]:
        return {
            "start": _ms(self.start),
            "end": _ms(self.end),
            "text": self.text,
            "words": [w.to_json() for w in self.words],
        }


@dataclass(frozen=True)
class LyricsDoc:
    """A song's word-timed lyrics, valid against the song's ``duration_s`` (seconds).

    Constructing one checks every rule of the module docstring and raises
    :class:`~domain.exceptions.InvalidLyrics` (``field`` names the first offence, as
    ``lines[3].words[0].start``). ``duration_s`` is not part of the JSON: it is the song's.
    """

    lines: tuple[LyricLine, ...]
    duration_s: float

    def __post_init__(self) -> None:
        if isinstance(self.duration_s, bool) or not isinstance(self.duration_s, int | float):
            raise TypeError(f"duration_s must be a number of seconds, got {self.duration_s!r}")
        if not (math.isfinite(self.duration_s) and self.duration_s >= 0):
            raise ValueError(f"duration_s must be finite and >= 0, got {self.duration_s!r}")
        _doc_check(self.lines, end_max=self.duration_s + END_SLACK_S + _EPS)

    @classmethod
    def from_json(cls, data: Any, *, duration_s: float) -> LyricsDoc:
        """Read lines as the API, the engines and the database carry them.

        ``data``: ``[{"start": s, "end": s, "text"?: str, "words": [{"word", "start", "end"}]}]``
        (decoded JSON, from anyone). Types are exact: lists and objects, numbers that are JSON
        numbers (not booleans, not strings) and finite; unknown keys are refused. A word is
        stripped of surrounding whitespace and NFC-normalised; times are rounded to the
        millisecond before the rules are checked, so :meth:`to_json` writes a document this
        reads back unchanged.

        Raises
        ------
        InvalidLyrics
            On anything that breaks a rule, with ``field`` naming where.
        """
        if not isinstance(data, list):
            raise InvalidLyrics(_("The lyrics must be a list of lines."), field="lines")
        if len(data) > LINES_MAX:
            raise InvalidLyrics(_("Lyrics hold at most %(max)d lines.") % {"max": LINES_MAX}, field="lines")
        return cls(lines=tuple(_line_read(item, f"lines[{i}]") for i, item in enumerate(data)), duration_s=duration_s)

    def to_json(self) -> list[dict[str, Any]]:
        """The lines as :meth:`from_json` reads them, seconds rounded to the millisecond."""
        return [line.to_json() for line in self.lines]

    @property
    def word_count(self) -> int:
        return sum(len(line.words) for line in self.lines)


# ---------------------------------------------------------------- reading


def _ms(seconds: float) -> float:
    # "+ 0.0" turns -0.0 (a tiny negative rounded) into 0.0, which JSON writes as "0.0".
    return round(seconds, TIME_DECIMALS) + 0.0


def _seconds(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidLyrics(_("A time must be a number of seconds."), field=field)
    try:
        seconds = float(value)
    except OverflowError:  # an integer of hundreds of digits
        seconds = math.inf
    if not math.isfinite(seconds):
        raise InvalidLyrics(_("A time must be a finite number of seconds."), field=field)
    return _ms(seconds)


def word_text(value: Any, field: str) -> str:
    """``value`` as a word of the lyrics: a string, stripped and NFC-normalised.

    The rules on its content (not empty, no spaces, no control characters, its length) are the
    document's and are checked when the document is made.
    """
    if not isinstance(value, str):
        raise InvalidLyrics(_("A word must be text."), field=field)
    if len(value) > 4 * WORD_CHARS_MAX:  # before normalising megabytes of junk
        raise InvalidLyrics(_("A word is at most %(max)d characters.") % {"max": WORD_CHARS_MAX}, field=field)
    return unicodedata.normalize("NFC", value.strip())


def _keys_check(item: dict, allowed: frozenset[str], required: tuple[str, ...], path: str) -> None:
    for key in item:
        if key not in allowed:
            name = key if isinstance(key, str) else repr(key)
            raise InvalidLyrics(_("Unknown field “%(name)s”.") % {"name": name[:40]}, field=f"{path}.{name[:40]}")
    for key in required:
        if key not in item:
            raise InvalidLyrics(_("A line or word needs “%(name)s”.") % {"name": key}, field=f"{path}.{key}")


def _word_read(item: Any, path: str) -> LyricWord:
    if not isinstance(item, dict):
        raise InvalidLyrics(_("A word must be an object with word, start and end."), field=path)
    _keys_check(item, _WORD_KEYS, ("word", "start", "end"), path)
    return LyricWord(
        word=word_text(item["word"], f"{path}.word"),
        start=_seconds(item["start"], f"{path}.start"),
        end=_seconds(item["end"], f"{path}.end"),
    )


def _line_read(item: Any, path: str) -> LyricLine:
    if not isinstance(item, dict):
        raise InvalidLyrics(_("A line must be an object with start, end and words."), field=path)
    _keys_check(item, _LINE_KEYS, _LINE_REQUIRED, path)
    start = _seconds(item["start"], f"{path}.start")
    end = _seconds(item["end"], f"{path}.end")
    words = item["words"]
    if not isinstance(words, list):
        raise InvalidLyrics(_("A line's words must be a list."), field=f"{path}.words")
    if len(words) > WORDS_PER_LINE_MAX:
        message = _("A line holds at most %(max)d words.") % {"max": WORDS_PER_LINE_MAX}
        raise InvalidLyrics(message, field=f"{path}.words")
    parsed = tuple(_word_read(w, f"{path}.words[{j}]") for j, w in enumerate(words))
    line = LyricLine.of_words(start=start, end=end, words=parsed)
    if "text" in item:
        text = item["text"]
        if not isinstance(text, str) or len(text) > LINE_CHARS_MAX * 2:
            raise InvalidLyrics(_("A line's text must be its words joined by single spaces."), field=f"{path}.text")
        line = replace(line, text=unicodedata.normalize("NFC", text))
    return line


# ---------------------------------------------------------------- the rules


def _doc_check(lines: tuple[LyricLine, ...], *, end_max: float) -> None:
    if not isinstance(lines, tuple):
        raise TypeError("lines must be a tuple of LyricLine")
    if len(lines) > LINES_MAX:
        raise InvalidLyrics(_("Lyrics hold at most %(max)d lines.") % {"max": LINES_MAX}, field="lines")
    if sum(len(line.words) for line in lines) > WORDS_MAX:
        raise InvalidLyrics(_("Lyrics hold at most %(max)d words in all.") % {"max": WORDS_MAX}, field="lines")
    previous_start = 0.0
    for i, line in enumerate(lines):
        path = f"lines[{i}]"
        _span_check(line.start, line.end, end_max=end_max, path=path)
        if line.start < previous_start:
            raise InvalidLyrics(_("Lines must be in the order they are sung."), field=f"{path}.start")
        previous_start = line.start
        _line_check(line, end_max=end_max, path=path)


def _span_check(start: float, end: float, *, end_max: float, path: str) -> None:
    # "not a <= b" is also true for NaN, which a hand-made document could hold.
    if not 0.0 <= start <= end_max:
        message = _("Times must lie within the song (0 to %(end).1f s).") % {"end": end_max}
        raise InvalidLyrics(message, field=f"{path}.start")
    if not 0.0 <= end <= end_max:
        message = _("Times must lie within the song (0 to %(end).1f s).") % {"end": end_max}
        raise InvalidLyrics(message, field=f"{path}.end")
    if not start <= end:
        raise InvalidLyrics(_("A line or word cannot end before it starts."), field=f"{path}.end")


def _line_check(line: LyricLine, *, end_max: float, path: str) -> None:
    if not line.words:
        raise InvalidLyrics(_("A line needs at least one word."), field=f"{path}.words")
    if len(line.words) > WORDS_PER_LINE_MAX:
        message = _("A line holds at most %(max)d words.") % {"max": WORDS_PER_LINE_MAX}
        raise InvalidLyrics(message, field=f"{path}.words")
    previous_start = -math.inf
    for j, word in enumerate(line.words):
        word_path = f"{path}.words[{j}]"
        _word_check(word.word, field=f"{word_path}.word")
        _span_check(word.start, word.end, end_max=end_max, path=word_path)
        if word.start < line.start - WORD_SLACK_S - _EPS:
            raise InvalidLyrics(_("A word must lie within its line's times."), field=f"{word_path}.start")
        if word.end > line.end + WORD_SLACK_S + _EPS:
            raise InvalidLyrics(_("A word must lie within its line's times."), field=f"{word_path}.end")
        if word.start < previous_start:
            raise InvalidLyrics(_("A line's words must be in the order they are sung."), field=f"{word_path}.start")
        previous_start = word.start
    joined = " ".join(w.word for w in line.words)
    if len(joined) > LINE_CHARS_MAX:
        message = _("A line is at most %(max)d characters.") % {"max": LINE_CHARS_MAX}
        raise InvalidLyrics(message, field=f"{path}.words")
    if line.text != joined:
        raise InvalidLyrics(_("A line's text must be its words joined by single spaces."), field=f"{path}.text")


def _word_check(word: str, *, field: str) -> None:
    if not isinstance(word, str) or not word:
        raise InvalidLyrics(_("A word cannot be empty."), field=field)
    if len(word) > WORD_CHARS_MAX:
        raise InvalidLyrics(_("A word is at most %(max)d characters.") % {"max": WORD_CHARS_MAX}, field=field)
    if forbidden_char(word) is not None:
        raise InvalidLyrics(_("A word cannot hold control characters."), field=field)
    if any(c.isspace() for c in word):
        raise InvalidLyrics(_("A word cannot hold spaces: make it two words."), field=field)


# ---------------------------------------------------------------- edits


def _line_at(doc: LyricsDoc, line_index: int) -> LyricLine:
    if isinstance(line_index, bool) or not isinstance(line_index, int) or not 0 <= line_index < len(doc.lines):
        raise InvalidLyrics(_("There is no such line."), field="line_index")
    return doc.lines[line_index]


def _with_line(doc: LyricsDoc, line_index: int, *new: LyricLine) -> LyricsDoc:
    """``doc`` with the line at ``line_index`` replaced by ``new`` (none, one or more lines)."""
    lines = doc.lines[:line_index] + new + doc.lines[line_index + 1 :]
    return LyricsDoc(lines=lines, duration_s=doc.duration_s)


def line_split(doc: LyricsDoc, *, line_index: int, word_index: int) -> LyricsDoc:
    """Cut a line in two before its word ``word_index`` (1 .. words - 1).

    The first line keeps the start and ends where its last word ends; the second starts where
    its first word starts and keeps the end (both within the old line's times).
    """
    line = _line_at(doc, line_index)
    if isinstance(word_index, bool) or not isinstance(word_index, int) or not 0 < word_index < len(line.words):
        raise InvalidLyrics(_("A line is split between two of its words."), field="word_index")
    head, tail = line.words[:word_index], line.words[word_index:]
    head_end = max(min(head[-1].end, line.end), line.start)
    tail_start = min(max(tail[0].start, line.start), line.end)
    return _with_line(
        doc,
        line_index,
        LyricLine.of_words(start=line.start, end=head_end, words=head),
        LyricLine.of_words(start=tail_start, end=line.end, words=tail),
    )


def lines_merge(doc: LyricsDoc, *, line_index: int) -> LyricsDoc:
    """Join line ``line_index`` and the next into one: from the first's start to the later end.

    Refused (``InvalidLyrics``) when the result breaks a rule: too many words, or lines that
    overlap so that the words would be out of order.
    """
    line = _line_at(doc, line_index)
    if line_index + 1 >= len(doc.lines):
        raise InvalidLyrics(_("The last line has no next line to join."), field="line_index")
    after = doc.lines[line_index + 1]
    merged = LyricLine.of_words(start=line.start, end=max(line.end, after.end), words=line.words + after.words)
    lines = doc.lines[:line_index] + (merged,) + doc.lines[line_index + 2 :]
    return LyricsDoc(lines=lines, duration_s=doc.duration_s)


def line_shift(doc: LyricsDoc, *, line_index: int, delta_s: float) -> LyricsDoc:
    """Move a line and its words by ``delta_s`` seconds (negative: earlier).

    The move is clamped so that the line and all its words stay within 0 .. the song's
    duration (a line already past the end, within the slack, can only move earlier); the line
    keeps its shape. Moved past a neighbour, the line takes its place in the order of starts
    (a stable sort: lines that start together keep their order).
    """
    line = _line_at(doc, line_index)
    delta = _seconds(delta_s, "delta_s")
    low = min(line.start, *(w.start for w in line.words))
    high = max(line.end, *(w.end for w in line.words))
    delta = min(max(delta, -low), max(0.0, doc.duration_s - high))
    words = tuple(replace(w, start=_ms(w.start + delta), end=_ms(w.end + delta)) for w in line.words)
    moved = replace(line, start=_ms(line.start + delta), end=_ms(line.end + delta), words=words)
    lines = doc.lines[:line_index] + (moved,) + doc.lines[line_index + 1 :]
    return LyricsDoc(lines=tuple(sorted(lines, key=lambda x: x.start)), duration_s=doc.duration_s)


def word_set(
    doc: LyricsDoc,
    *,
    line_index: int,
    word_index: int,
    word: str | None = None,
    start: float | None = None,
    end: float | None = None,
) -> LyricsDoc:
    """Change one word's text and/or times (seconds); what is ``None`` is kept.

    The line grows to hold the word's new times (it never shrinks: the user sets its bounds
    with the other words), and its text follows the words. Refused (``InvalidLyrics``) when
    the result breaks a rule (a word out of order, a line moved before the previous one...).
    """
    line = _line_at(doc, line_index)
    if isinstance(word_index, bool) or not isinstance(word_index, int) or not 0 <= word_index < len(line.words):
        raise InvalidLyrics(_("There is no such word."), field="word_index")
    old = line.words[word_index]
    new = LyricWord(
        word=old.word if word is None else word_text(word, "word"),
        start=old.start if start is None else _seconds(start, "start"),
        end=old.end if end is None else _seconds(end, "end"),
    )
    words = line.words[:word_index] + (new,) + line.words[word_index + 1 :]
    grown = LyricLine.of_words(start=min(line.start, new.start), end=max(line.end, new.end), words=words)
    return _with_line(doc, line_index, grown)
