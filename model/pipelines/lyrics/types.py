"""What the lyrics pipeline produces: timed words grouped into lines, and the decoder's raw segments.

Times are seconds from the start of the song, as floats; :meth:`Transcript.to_json` rounds them
to milliseconds, the precision a lyric file keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Line", "Segment", "Transcript", "Word"]


@dataclass(slots=True)
class Word:
    """One word as shown: its text (punctuation kept as written or heard) and where it is sung.

    Attributes
    ----------
    word : str
        The text, without surrounding whitespace.
    start, end : float
        Seconds from the start of the song, ``start <= end``.
    """

    word: str
    start: float
    end: float

    def to_json(self) -> dict[str, Any]:
        return {"word": self.word, "start": round(self.start, 3), "end": round(self.end, 3)}


@dataclass(slots=True)
class Line:
    """A lyric line: its words in order, and the span from its first word's start to its last's end.

    Attributes
    ----------
    start, end : float
        Seconds.
    text : str
        The line as shown (the user's line as written, or the heard words joined by spaces).
    words : list of Word
        In time order; may be empty only for a line the user wrote with no word in it.
    """

    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
            "words": [word.to_json() for word in self.words],
        }


@dataclass(slots=True)
class Transcript:
    """A song's lyrics with word times.

    Attributes
    ----------
    language : str
        Whisper's language code ("en", "pt", ...).
    language_probability : float
        0..1; 1.0 when the caller named the language.
    lines : list of Line
        In time order.
    """

    language: str
    language_probability: float
    lines: list[Line] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``{"language", "lines": [{"start", "end", "text", "words": [{"word", "start", "end"}]}]}``."""
        return {"language": self.language, "lines": [line.to_json() for line in self.lines]}

    @property
    def words(self) -> list[Word]:
        """Every word of every line, in order."""
        return [word for line in self.lines for word in line.words]


@dataclass(slots=True)
class Segment:
    """A stretch of text the decoder produced, with the scores the hallucination guards judge.

    Attributes
    ----------
    start, end : float
        Seconds from the start of the song.
    text : str
        The decoded text, stripped.
    words : list of Word
        The text's words with times (empty until they are aligned).
    avg_logprob : float
        Mean log-probability per decoded token (Whisper's ``avg_logprob``; 0 is certain).
    no_speech_prob : float
        The model's probability, 0..1, that its window holds no speech.
    compression_ratio : float
        ``len(text) / len(zlib(text))`` in UTF-8 bytes; loops compress well (above ~2.4).
    """

    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 1.0
