"""Transcribed words grouped into lyric lines, at pauses and punctuation, a few words per line.

Whisper's segments are phrases, sometimes two sung lines long; a karaoke line should be what a
singer reads at a glance. :func:`group_lines` starts a new line at a segment boundary, after a
pause, after a sentence mark, after a comma once the line has a few words, and splits a line
that grows past :attr:`LineParams.max_words` at its longest pause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from model.pipelines.lyrics.types import Line, Segment, Word

__all__ = ["LineParams", "group_lines", "split_phrases"]

_SENTENCE_END = (".", "!", "?", ";", "…", "。", "！", "？")
_CLAUSE_END = (",", ":", "，", "、")


@dataclass(frozen=True, slots=True)
class LineParams:
    """Tuning of :func:`group_lines`; times in seconds."""

    pause_s: float = 0.6
    """A pause this long between two words starts a new line."""
    max_words: int = 9
    """A line is split once it would have more words than this."""
    comma_min_words: int = 4
    """A comma ends a line only if the line already has this many words."""


DEFAULT_LINE_PARAMS = LineParams()


def group_lines(segments: Sequence[Segment], *, params: LineParams = DEFAULT_LINE_PARAMS) -> list[Line]:
    """Lines from the timed words of ``segments``.

    Parameters
    ----------
    segments : sequence of Segment
        In time order, with timed ``words`` (segments without words are skipped).
    params : LineParams

    Returns
    -------
    list of Line
        In time order; each line's text is its words joined by single spaces, its span from its
        first word's start to its last word's end; no line has more than ``max_words`` words.
    """
    groups: list[list[Word]] = []
    for segment in segments:
        current: list[Word] = []
        for word in segment.words:
            if current and _breaks_before(current, word, params):
                groups.append(current)
                current = []
            current.append(word)
            if len(current) > params.max_words:
                head, current = _split(current, params)
                groups.append(head)
        if current:
            groups.append(current)
    return [
        Line(start=words[0].start, end=words[-1].end, text=" ".join(w.word for w in words), words=words)
        for words in groups
    ]


def split_phrases(words: Sequence[Word], *, params: LineParams = DEFAULT_LINE_PARAMS) -> list[list[Word]]:
    """Timed words cut into phrases at pauses of :attr:`LineParams.pause_s` and sentence marks.

    Parameters
    ----------
    words : sequence of Word
        In time order.
    params : LineParams

    Returns
    -------
    list of list of Word
        Non-empty phrases, in order, that together hold every word once.
    """
    phrases: list[list[Word]] = []
    for word in words:
        if phrases and not _pause_or_sentence(phrases[-1][-1], word, params):
            phrases[-1].append(word)
        else:
            phrases.append([word])
    return phrases


def _pause_or_sentence(last: Word, word: Word, params: LineParams) -> bool:
    return word.start - last.end >= params.pause_s or last.word.endswith(_SENTENCE_END)


def _breaks_before(current: list[Word], word: Word, params: LineParams) -> bool:
    last = current[-1]
    if _pause_or_sentence(last, word, params):
        return True
    return last.word.endswith(_CLAUSE_END) and len(current) >= params.comma_min_words


def _split(words: list[Word], params: LineParams) -> tuple[list[Word], list[Word]]:
    """Cut an overlong line at its longest pause in the back half (a comma counts as a pause)."""
    lo = max(1, len(words) // 2)

    def pause(i: int) -> float:
        bonus = 1.0 if words[i - 1].word.endswith(_CLAUSE_END + _SENTENCE_END) else 0.0
        return words[i].start - words[i - 1].end + bonus

    cut = max(range(lo, len(words)), key=lambda i: (pause(i), i))
    return words[:cut], words[cut:]
