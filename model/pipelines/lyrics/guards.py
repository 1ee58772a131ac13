"""Hallucination guards: what Whisper writes that nobody sang.

On songs Whisper fails in known ways: it loops (a phrase over and over inside one segment, or
the same line window after window), it writes text over instrumental breaks (stock phrases,
credits), and it keeps decoding with falling confidence. Each guard here removes one of those,
from the decoder's own scores and the vocals' level; :func:`apply_guards` runs them in order:

1. :func:`cut_ngram_loops`: a phrase repeated inside a segment more often than a song would
   ("la la la" is sung, forty "I'm sorry" are a loop) keeps its first copies (the engine also
   runs it on each window's whole text, where a looping line spans several phrases);
2. :func:`drop_unconfident`: Whisper's own tests (no speech with low log-probability, a log-
   probability below a floor, text that compresses too well), the compression measured after
   the loop cut so a cut loop does not condemn its segment;
3. :func:`drop_repeated_lines`: the third and later copies of a line repeated in a row are kept
   only while each looks sung (confident and as long as the first copy);
4. :func:`drop_words_over_silence`: words whose span has no frame near the song's voiced level
   (text over a pause), and segments that are mostly such words.

Pure functions over :class:`~model.pipelines.lyrics.types.Segment` lists and the vocals' frame
levels; no model. Segments come in time order and go out in time order; the input is not
changed.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from model.pipelines.lyrics.align import normalize_word
from model.pipelines.lyrics.types import Segment, Word
from model.pipelines.lyrics.windows import HOP_S, Levels

__all__ = [
    "GuardParams",
    "apply_guards",
    "compression_ratio",
    "cut_ngram_loops",
    "drop_repeated_lines",
    "drop_unconfident",
    "drop_words_over_silence",
]


@dataclass(frozen=True, slots=True)
class GuardParams:
    """Tuning of the guards; log-probabilities are per token (natural log), levels in dB."""

    no_speech_prob: float = 0.6
    """With ``avg_logprob`` below :attr:`no_speech_logprob`, a window this likely silent has no text
    (Whisper's own rule)."""
    no_speech_logprob: float = -1.0
    """See :attr:`no_speech_prob`."""
    min_avg_logprob: float = -1.5
    """Below this the decoder was guessing, whatever it says about speech."""
    max_compression_ratio: float = 2.4
    """Text that compresses better than this (zlib) is repetitive (Whisper's threshold)."""
    max_ngram: int = 8
    """Longest phrase, in words, checked for loops (a looping line is often 5-8 words)."""
    max_phrase_repeats: int = 4
    """A phrase of 2+ words may follow itself this many times in a segment (a chorus's "let it
    go, let it go" sung twice is four)."""
    max_word_repeats: int = 8
    """A single word may follow itself this many times ("na na na ...")."""
    max_line_repeats: int = 2
    """A line may follow itself this many times unchecked; later copies must look sung."""
    repeat_min_logprob: float = -0.6
    """A third or later copy of a line must be decoded at least this confidently..."""
    repeat_duration_ratio: float = 1.6
    """...and last within this factor of the first copy."""
    min_s_per_word: float = 0.08
    """A copy shorter than this per word was not sung."""
    silence_below_voiced_db: float = 30.0
    """A word whose loudest frame is this far below the song's voiced level is over silence..."""
    silence_above_floor_db: float = 3.0
    """...or one whose loudest frame barely clears the floor (a loud bleed floor)."""
    min_contrast_db: float = 6.0
    """Below this floor-to-voice contrast the level cannot tell pauses; the silence guard is off."""
    silent_song_db: float = -60.0
    """A song whose voiced level is below this (dBFS) is silent: every word is over silence."""
    max_silent_fraction: float = 0.5
    """A segment with more of its words over silence than this is dropped whole."""


DEFAULT_GUARD_PARAMS = GuardParams()


def compression_ratio(text: str) -> float:
    """``len(utf8) / len(zlib(utf8))``, Whisper's repetitiveness measure (1.0 for empty text)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 1.0


def cut_ngram_loops(segment: Segment, *, params: GuardParams = DEFAULT_GUARD_PARAMS) -> Segment:
    """``segment`` with phrases that follow themselves too often cut to their allowed copies.

    Parameters
    ----------
    segment : Segment
        Its ``words`` if it has them (times kept), else the words of its text.
    params : GuardParams
        :attr:`~GuardParams.max_phrase_repeats` copies of a 2..``max_ngram``-word phrase, and
        :attr:`~GuardParams.max_word_repeats` of a single word, are kept.

    Returns
    -------
    Segment
        The same object when nothing loops; else a copy with the loop's extra copies removed,
        its text, span and compression ratio recomputed.
    """
    tokens: list[Word] = list(segment.words) or [Word(w, segment.start, segment.end) for w in segment.text.split()]
    norms = [normalize_word(w.word) for w in tokens]
    keep = np.ones(len(tokens), dtype=bool)
    changed = False
    for n in range(params.max_ngram, 0, -1):
        allowed = params.max_word_repeats if n == 1 else params.max_phrase_repeats
        i = 0
        live = [k for k in range(len(tokens)) if keep[k]]
        words = [norms[k] for k in live]
        while i + n <= len(words):
            phrase = words[i : i + n]
            if not any(phrase) or _periodic(phrase):
                i += 1  # a phrase made of a shorter one repeating is that one's loop
                continue
            copies = 1
            while words[i + copies * n : i + (copies + 1) * n] == phrase:
                copies += 1
            if copies > allowed:
                for k in live[i + allowed * n : i + copies * n]:
                    keep[k] = False
                changed = True
                i += copies * n
            else:
                i += 1
    if not changed:
        return segment
    kept = [w for w, k in zip(tokens, keep, strict=True) if k]
    text = " ".join(w.word for w in kept)
    timed = bool(segment.words)
    return replace(
        segment,
        text=text,
        words=kept if timed else [],
        start=kept[0].start if timed and kept else segment.start,
        end=kept[-1].end if timed and kept else segment.end,
        compression_ratio=compression_ratio(text),
    )


def drop_unconfident(segments: Sequence[Segment], *, params: GuardParams = DEFAULT_GUARD_PARAMS) -> list[Segment]:
    """The segments that pass Whisper's confidence tests (see :class:`GuardParams`)."""
    out = []
    for segment in segments:
        silent = segment.no_speech_prob > params.no_speech_prob and segment.avg_logprob < params.no_speech_logprob
        if silent or segment.avg_logprob < params.min_avg_logprob:
            continue
        if segment.compression_ratio > params.max_compression_ratio:
            continue
        out.append(segment)
    return out


def drop_repeated_lines(segments: Sequence[Segment], *, params: GuardParams = DEFAULT_GUARD_PARAMS) -> list[Segment]:
    """Drop the copies of a line repeated in a row that do not look sung.

    In a run of consecutive segments with the same words (compared normalised), the first
    :attr:`~GuardParams.max_line_repeats` are kept; each later copy is kept only if it was
    decoded confidently (:attr:`~GuardParams.repeat_min_logprob`), lasts within
    :attr:`~GuardParams.repeat_duration_ratio` of the run's first copy and at least
    :attr:`~GuardParams.min_s_per_word` per word, and does not overlap the copy before it.
    A chorus sung four times passes; a decoder stuck on one line does not.
    """
    out: list[Segment] = []
    run_key: tuple[str, ...] | None = None
    run_first: Segment | None = None
    run_length = 0
    for segment in segments:
        key = tuple(w for w in (normalize_word(t) for t in segment.text.split()) if w)
        if key and key == run_key and run_first is not None:
            run_length += 1
        else:
            run_key, run_first, run_length = key, segment, 1
        if run_length > params.max_line_repeats and run_first is not None:
            duration = segment.end - segment.start
            first = max(run_first.end - run_first.start, 1e-6)
            plausible = (
                segment.avg_logprob >= params.repeat_min_logprob
                and 1 / params.repeat_duration_ratio <= duration / first <= params.repeat_duration_ratio
                and duration >= params.min_s_per_word * len(key)
                and (not out or segment.start >= out[-1].end - 0.5 * duration)
            )
            if not plausible:
                continue
        out.append(segment)
    return out


def drop_words_over_silence(
    segments: Sequence[Segment],
    *,
    rms_db: np.ndarray,
    levels: Levels,
    hop_s: float = HOP_S,
    params: GuardParams = DEFAULT_GUARD_PARAMS,
) -> list[Segment]:
    """Drop words sung over silence, and segments that are mostly such words.

    Parameters
    ----------
    segments : sequence of Segment
        With timed ``words`` (a segment without words is judged by its own span, as one word).
    rms_db : np.ndarray, shape (n_frames,)
        :func:`~model.pipelines.lyrics.windows.frame_rms_db` of the vocals.
    levels : Levels
        :func:`~model.pipelines.lyrics.windows.song_levels` of ``rms_db``.
    hop_s : float
        The frame hop of ``rms_db``, seconds.
    params : GuardParams

    Returns
    -------
    list of Segment
        A word is over silence when the loudest frame of its span is below the higher of
        ``voiced - silence_below_voiced_db`` and ``floor + silence_above_floor_db``. Segments
        keep their other words (text rebuilt); one with more than ``max_silent_fraction`` of
        its words over silence goes whole, since a hallucinated phrase often catches a breath.
    """
    if levels.voiced_db < params.silent_song_db:
        return []
    if levels.contrast_db < params.min_contrast_db or rms_db.size == 0:
        return list(segments)
    threshold = max(levels.voiced_db - params.silence_below_voiced_db, levels.floor_db + params.silence_above_floor_db)
    out = []
    for segment in segments:
        words = list(segment.words) or [Word(segment.text, segment.start, segment.end)]
        loud = [_peak_db(rms_db, w.start, w.end, hop_s) >= threshold for w in words]
        if sum(not x for x in loud) > params.max_silent_fraction * len(words):
            continue
        if all(loud):
            out.append(segment)
            continue
        kept = [w for w, x in zip(words, loud, strict=True) if x]
        text = " ".join(w.word for w in kept)
        out.append(replace(segment, words=kept, text=text, start=kept[0].start, end=kept[-1].end))
    return out


def apply_guards(
    segments: Sequence[Segment],
    *,
    rms_db: np.ndarray,
    levels: Levels,
    hop_s: float = HOP_S,
    params: GuardParams = DEFAULT_GUARD_PARAMS,
) -> list[Segment]:
    """All guards, in the order the module describes; see each for its rule.

    Parameters
    ----------
    segments : sequence of Segment
        Decoded segments with timed words, in time order.
    rms_db, levels, hop_s
        The vocals' frame levels (:mod:`model.pipelines.lyrics.windows`).
    params : GuardParams

    Returns
    -------
    list of Segment
        The segments kept, in time order, each with at least one word.
    """
    cut = [cut_ngram_loops(s, params=params) for s in segments]
    kept = drop_unconfident(cut, params=params)
    kept = drop_repeated_lines(kept, params=params)
    kept = drop_words_over_silence(kept, rms_db=rms_db, levels=levels, hop_s=hop_s, params=params)
    return [s for s in kept if s.text.strip()]


def _periodic(phrase: list[str]) -> bool:
    n = len(phrase)
    return any(n % p == 0 and phrase == phrase[:p] * (n // p) for p in range(1, n))


def _peak_db(rms_db: np.ndarray, start: float, end: float, hop_s: float) -> float:
    a = int(np.clip(np.floor(start / hop_s), 0, rms_db.size - 1))
    b = int(np.clip(np.ceil(end / hop_s), a + 1, rms_db.size))
    return float(rms_db[a:b].max())
