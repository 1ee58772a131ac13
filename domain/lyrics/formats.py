"""Word-timed lyrics as the files players read: LRC, enhanced LRC, SubRip, WebVTT and JSON.

Every format is UTF-8 without a byte-order mark, lines ended by ``\\n``, and written from a
:class:`~domain.lyrics.lines.LyricsDoc` (so its text holds no newline or control character).

- ``lrc``: line-level LRC, ``[mm:ss.xx]text``, after a ``[ti:]``, ``[la:]`` (when given) and
  ``[length:]`` header; minutes run past 59 for a long track (``[61:02.00]``).
- ``lrc-words``: enhanced ("A2") LRC, each word after its start tag and the line closed by the
  last word's end: ``[00:01.00]<00:01.00>Hello <00:01.40>world <00:02.00>``.
- ``srt``: SubRip cues numbered from 1, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, a blank line
  between cues. SubRip has no escaping; the text is as typed.
- ``vtt``: WebVTT, ``HH:MM:SS.mmm``, each word after the first timed by an inline
  ``<HH:MM:SS.mmm>`` timestamp (karaoke-style cues, which players fill in as they play);
  ``&``, ``<`` and ``>`` escaped as the cue text syntax requires.
- ``json``: ``{"language", "lines"}`` with the lines of :meth:`LyricsDoc.to_json`.

Times are rounded once, to whole milliseconds or centiseconds (half up), and then split into
fields by integer division, so a time never reads ``60.00`` seconds: 59.996 s is ``[01:00.00]``.
A cue's end is at least a millisecond after its start (players skip an empty cue).
"""

from __future__ import annotations

import json

from domain.lyrics.lines import LyricLine, LyricsDoc, forbidden_char

LYRICS_FORMATS = ("lrc", "lrc-words", "srt", "vtt", "json")
#: The file extension each format is downloaded with (enhanced LRC is an ``.lrc`` file too).
LYRICS_EXTENSIONS = {"lrc": "lrc", "lrc-words": "lrc", "srt": "srt", "vtt": "vtt", "json": "json"}
#: The ``Content-Type`` each is served with. LRC has no registered type: it is plain text.
LYRICS_CONTENT_TYPES = {
    "lrc": "text/plain; charset=utf-8",
    "lrc-words": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "json": "application/json",
}


def lyrics_render(*, doc: LyricsDoc, fmt: str, title: str = "", language: str = "") -> tuple[bytes, str]:
    """``doc`` as a file in ``fmt`` (one of :data:`LYRICS_FORMATS`): its bytes and content type.

    ``title`` (the song's name) and ``language`` (a code, ``"en"``) go in the formats' headers
    where they have one (LRC ``[ti:]``/``[la:]``, VTT ``Language:``, JSON ``language``).

    Raises
    ------
    ValueError
        For a format not in :data:`LYRICS_FORMATS` (the API checks the user's choice first).
    """
    writers = {"lrc": _lrc, "lrc-words": _lrc_words, "srt": _srt, "vtt": _vtt, "json": _json}
    if fmt not in writers:
        raise ValueError(f"lyrics render as one of {LYRICS_FORMATS}, not {fmt!r}")
    text = writers[fmt](doc, title=_header_text(title), language=_header_text(language))
    return text.encode("utf-8"), LYRICS_CONTENT_TYPES[fmt]


def _header_text(value: str) -> str:
    # The song's name is the user's: on one line, without control characters, and without the
    # brackets that would end an LRC tag early.
    cleaned = "".join(" " if forbidden_char(c) is not None else c for c in value)
    return " ".join(cleaned.replace("[", "(").replace("]", ")").split())


# ---------------------------------------------------------------- clocks


def _ms(seconds: float) -> int:
    """``seconds`` in whole milliseconds, never negative.

    The document's times are whole milliseconds already: ``round`` undoes the float's error
    (0.295 * 1000 is 294.99999999999997), so the centiseconds below round the true half up.
    """
    return max(0, round(seconds * 1000))


def lrc_clock(seconds: float) -> str:
    """``mm:ss.xx`` (centiseconds, half up); minutes past 59 are not carried into hours."""
    minutes, rest = divmod((_ms(seconds) + 5) // 10, 6000)
    whole, hundredths = divmod(rest, 100)
    return f"{minutes:02d}:{whole:02d}.{hundredths:02d}"


def cue_clock(seconds: float, *, separator: str) -> str:
    """``HH:MM:SS<separator>mmm``: ``","`` for SubRip, ``"."`` for WebVTT."""
    return _cue_clock_ms(_ms(seconds), separator=separator)


def _cue_clock_ms(ms: int, *, separator: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}{separator}{millis:03d}"


def _cue_span_ms(line: LyricLine) -> tuple[int, int]:
    start = _ms(line.start)
    return start, max(_ms(line.end), start + 1)


# ---------------------------------------------------------------- writers


def _lrc_header(doc: LyricsDoc, *, title: str, language: str) -> list[str]:
    header = [f"[ti:{title}]"] if title else []
    if language:
        header.append(f"[la:{language}]")
    header.append(f"[length:{lrc_clock(doc.duration_s)}]")
    return header


def _lrc(doc: LyricsDoc, *, title: str, language: str) -> str:
    body = [f"[{lrc_clock(line.start)}]{line.text}" for line in doc.lines]
    return "\n".join([*_lrc_header(doc, title=title, language=language), *body]) + "\n"


def _lrc_words(doc: LyricsDoc, *, title: str, language: str) -> str:
    body = []
    for line in doc.lines:
        words = " ".join(f"<{lrc_clock(w.start)}>{w.word}" for w in line.words)
        body.append(f"[{lrc_clock(line.start)}]{words} <{lrc_clock(line.words[-1].end)}>")
    return "\n".join([*_lrc_header(doc, title=title, language=language), *body]) + "\n"


def _srt(doc: LyricsDoc, *, title: str, language: str) -> str:
    cues = []
    for number, line in enumerate(doc.lines, start=1):
        start, end = _cue_span_ms(line)
        timing = f"{_cue_clock_ms(start, separator=',')} --> {_cue_clock_ms(end, separator=',')}"
        cues.append(f"{number}\n{timing}\n{line.text}\n")
    return "\n".join(cues)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt_cue_text(line: LyricLine, *, start_ms: int, end_ms: int) -> str:
    # A cue's inline timestamps must be after its start, each after the one before, and before
    # its end (WebVTT cue text syntax); a word whose start breaks that shares the previous time.
    parts = []
    last = start_ms
    for word in line.words:
        at = _ms(word.start)
        if last < at < end_ms:
            parts.append(f"<{_cue_clock_ms(at, separator='.')}>{_vtt_escape(word.word)}")
            last = at
        else:
            parts.append(_vtt_escape(word.word))
    return " ".join(parts)


def _vtt(doc: LyricsDoc, *, title: str, language: str) -> str:
    # The header block: "WEBVTT" alone on the first line, then header lines players ignore but
    # editors read (YouTube writes "Language:" the same way).
    header = "WEBVTT\n" + (f"Language: {language}\n" if language else "")
    cues = [header]
    for line in doc.lines:
        start, end = _cue_span_ms(line)
        timing = f"{_cue_clock_ms(start, separator='.')} --> {_cue_clock_ms(end, separator='.')}"
        cues.append(f"{timing}\n{_vtt_cue_text(line, start_ms=start, end_ms=end)}\n")
    return "\n".join(cues)


def _json(doc: LyricsDoc, *, title: str, language: str) -> str:
    return json.dumps({"language": language, "lines": doc.to_json()}, ensure_ascii=False, indent=2) + "\n"
