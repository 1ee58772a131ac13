"""A song's word-timed lyrics: the document and its rules, the user's text, the files.

- :mod:`domain.lyrics.lines`: :class:`LyricsDoc` (lines of timed words), its limits, its
  validation of whatever JSON arrives, and the editor's pure edits;
- :mod:`domain.lyrics.text`: the user's pasted or uploaded lyrics as lines of words;
- :mod:`domain.lyrics.formats`: LRC, enhanced LRC, SRT, WebVTT and JSON downloads.
"""

from domain.exceptions import InvalidLyrics
from domain.lyrics.formats import (
    LYRICS_CONTENT_TYPES,
    LYRICS_EXTENSIONS,
    LYRICS_FORMATS,
    cue_clock,
    lrc_clock,
    lyrics_render,
)
from domain.lyrics.lines import (
    END_SLACK_S,
    LINE_CHARS_MAX,
    LINES_MAX,
    TEXT_CHARS_MAX,
    WORD_CHARS_MAX,
    WORD_SLACK_S,
    WORDS_MAX,
    WORDS_PER_LINE_MAX,
    LyricLine,
    LyricsDoc,
    LyricWord,
    line_shift,
    line_split,
    lines_merge,
    word_set,
)
from domain.lyrics.text import REPEAT_MAX, line_words, lrc_times_parse, lyrics_text_parse

__all__ = [
    "END_SLACK_S",
    "LINES_MAX",
    "LINE_CHARS_MAX",
    "LYRICS_CONTENT_TYPES",
    "LYRICS_EXTENSIONS",
    "LYRICS_FORMATS",
    "REPEAT_MAX",
    "TEXT_CHARS_MAX",
    "WORDS_MAX",
    "WORDS_PER_LINE_MAX",
    "WORD_CHARS_MAX",
    "WORD_SLACK_S",
    "InvalidLyrics",
    "LyricLine",
    "LyricWord",
    "LyricsDoc",
    "cue_clock",
    "line_shift",
    "line_split",
    "line_words",
    "lines_merge",
    "lrc_clock",
    "lrc_times_parse",
    "lyrics_render",
    "lyrics_text_parse",
    "word_set",
]
