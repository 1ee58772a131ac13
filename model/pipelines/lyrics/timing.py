"""The timing side of aligning words to a song: token path to word times, onsets, sane clamps.

Whisper's cross-attention alignment (CTranslate2's ``Whisper.align``) gives a path over the
window's encoder frames, one step per text token; :func:`word_times_from_alignment` turns it into
word times exactly as faster-whisper's ``word_timestamps`` does. That path has a known bias: it
moves on to a word where the word before it *ends*, so every word after a pause starts in the
pause. :func:`snap_to_voice` corrects that from the vocals' own level (onsets after pauses), and
:func:`clamp_times` makes the times sane (ordered, a minimum length, inside the song). The known-
lyrics path and the transcription path both use them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from model.pipelines.lyrics.windows import HOP_S, Levels

__all__ = ["DEFAULT_TIMING_PARAMS", "TimingParams", "clamp_times", "snap_to_voice", "word_times_from_alignment"]


@dataclass(frozen=True, slots=True)
class TimingParams:
    """Tuning of :func:`snap_to_voice` and :func:`clamp_times`; times in seconds, levels in dB."""

    min_word_s: float = 0.06
    """No word is shorter than this (three alignment frames)."""
    onset_lookahead_s: float = 0.45
    """A pause that begins this soon after a word's path start is the one before its onset
    (the path can run ahead of the voice by about a short word)."""
    min_pause_s: float = 0.04
    """A pause ahead of the start must last this long to count (shorter dips are consonants)."""
    squeezed_s: float = 0.25
    """Less voice than this before a pause is the previous word's tail, not a sung word..."""
    deep_s: float = 0.25
    """...when the word's path ends at least this far into the pause (the path waited there)."""
    collapsed_s: float = 0.06
    """A path span shorter than this gave the word no frames of its own."""
    squeezed_max_s: float = 0.6
    """A squeezed word moved onto the voice takes at most this much of it."""
    max_jump_s: float = 8.0
    """A squeezed word jumps over a pause of at most this much."""
    snap_level_fraction: float = 0.25
    """Where between the song's floor and voiced level a frame counts as voice, for snapping..."""
    snap_below_voiced_db: float = 24.0
    """...but a frame this far below the voiced level is a pause whatever the floor (the bleed
    and reverb left in a separated vocal sit some 25-40 dB down)."""
    min_snap_contrast_db: float = 10.0
    """Below this floor-to-voice contrast snapping is off (no pauses to tell voice from)."""


DEFAULT_TIMING_PARAMS = TimingParams()


def word_times_from_alignment(
    token_counts: Sequence[int],
    *,
    text_indices: np.ndarray,
    time_indices: np.ndarray,
    tokens_per_second: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Word starts and ends from a token-level alignment path (Whisper's DTW over attention).

    Parameters
    ----------
    token_counts : sequence of int, length n_words
        How many text tokens each word has, in order (each at least 1).
    text_indices, time_indices : np.ndarray, shape (path_length,)
        The alignment path: pairs (text token index, encoder frame index), non-decreasing, over
        the words' tokens followed by the end-of-text token.
    tokens_per_second : float
        Encoder frames per second (50 for Whisper).

    Returns
    -------
    starts, ends : np.ndarray, shape (n_words,)
        Seconds from the window's start. A word starts at the frame where the path reaches its
        first token and ends where it reaches the next word's first token (or the end token),
        exactly as faster-whisper's ``find_alignment`` does.
    """
    counts = np.asarray(token_counts, dtype=np.int64)
    if counts.size == 0:
        return np.zeros(0), np.zeros(0)
    text_indices = np.asarray(text_indices)
    time_indices = np.asarray(time_indices)
    jumps = np.concatenate([[True], np.diff(text_indices) != 0]) if text_indices.size else np.zeros(0, dtype=bool)
    jump_times = time_indices[jumps] / tokens_per_second
    boundaries = np.concatenate([[0], np.cumsum(counts)])
    if jump_times.size == 0:
        jump_times = np.zeros(1)
    # The path visits every token once; guard anyway against a short path (pad with its end).
    boundaries = np.minimum(boundaries, jump_times.size - 1)
    return jump_times[boundaries[:-1]].astype(np.float64), jump_times[boundaries[1:]].astype(np.float64)


def snap_to_voice(
    starts: np.ndarray,
    ends: np.ndarray,
    *,
    rms_db: np.ndarray,
    levels: Levels,
    hop_s: float = HOP_S,
    params: TimingParams = DEFAULT_TIMING_PARAMS,
) -> tuple[np.ndarray, np.ndarray]:
    """Move word starts from the pause before them onto their onset, and ends out of pauses.

    Whisper's attention path moves on to a word's first token where the word before it *ends*
    (the ends are the accurate side), so a word after a pause starts in that pause, by the
    pause's length. Where the song has clear pauses (:attr:`TimingParams.min_snap_contrast_db`;
    a pause is a run of frames below :meth:`Levels.threshold_db` at
    :attr:`TimingParams.snap_level_fraction`), words are visited in order, each starting no
    earlier than the previous one ends:

    - a pause that holds the start, or one of at least :attr:`TimingParams.min_pause_s` that
      begins within :attr:`TimingParams.onset_lookahead_s` after it, moves the start to the onset
      where the pause ends, if the word's path goes on past it (of several, the longest: a short
      dip is a consonant's closure);
    - if instead the path ends at least :attr:`TimingParams.deep_s` inside that pause and the
      word has under :attr:`TimingParams.squeezed_s` of voice before it, the path put the word in
      the pause (and the next word on this one's voice): it
      moves to the onset after it (a jump of at most :attr:`TimingParams.max_jump_s`) and takes
      the voice there, at most :attr:`TimingParams.squeezed_max_s` of it and ending before the
      next word's path ends;
    - a word the path gave under :attr:`TimingParams.collapsed_s` takes the last voice that
      follows a pause inside the previous word's span (the previous word ends at that pause);
    - an end inside a pause moves back to the last voiced frame.

    Legato singing has no such pause, and there the path's start (the previous word's end) is
    already right, so nothing moves.

    Parameters
    ----------
    starts, ends : np.ndarray, shape (n,)
        Word times, seconds from the song's start, from the attention path.
    rms_db : np.ndarray, shape (n_frames,)
        :func:`~model.pipelines.lyrics.windows.frame_rms_db` of the vocals.
    levels : Levels
    hop_s : float
        The frame hop of ``rms_db``.
    params : TimingParams

    Returns
    -------
    starts, ends : np.ndarray, shape (n,)
        New arrays, in order (each start at or after the previous end).
    """
    starts = np.array(starts, dtype=np.float64)
    ends = np.array(ends, dtype=np.float64)
    if levels.contrast_db < params.min_snap_contrast_db or rms_db.size == 0 or starts.size == 0:
        return starts, ends
    voiced = rms_db > levels.threshold_db(params.snap_level_fraction, max_below_voiced_db=params.snap_below_voiced_db)
    edges = np.diff(np.concatenate([[1], voiced.astype(np.int8), [1]]))
    pause_from = np.flatnonzero(edges == -1) * hop_s  # start of each pause run
    pause_to = np.flatnonzero(edges == 1)[: pause_from.size] * hop_s  # the onset after it
    n_frames = voiced.size
    path_starts = starts.copy()
    path_ends = ends.copy()
    previous_end = 0.0
    for k in range(starts.size):
        s = max(starts[k], previous_end)
        e = max(ends[k], s)
        next_path_end = path_ends[k + 1] if k + 1 < starts.size else np.inf
        holds = (pause_from <= s) & (pause_to > s)
        soon = (
            (pause_from > s)
            & (pause_from <= s + params.onset_lookahead_s)
            & (pause_to - pause_from >= params.min_pause_s)
        )
        near = np.flatnonzero(holds | soon)
        back = np.zeros(0, dtype=np.int64)
        if k and path_ends[k] - path_starts[k] < params.collapsed_s:
            # A word the path gave (almost) no frames: its voice is the last one that starts
            # after a pause inside the previous word's span.
            back = np.flatnonzero(
                (pause_from > starts[k - 1] + params.min_word_s)
                & (pause_to < s)
                & (pause_to - pause_from >= params.min_pause_s)
            )
        if back.size:
            p = back[-1]
            ends[k - 1] = pause_from[p]
            s = pause_to[p]
            e = max(e, min(_voice_end(voiced, s, hop_s), s + params.squeezed_max_s))
        elif near.size:
            inside = near[pause_to[near] < e]
            p = near[0]
            if inside.size:
                # The word goes on after the pause: it starts there. The longest pause in reach
                # is the gap before it; a short dip is a consonant of the word before.
                longest = inside[np.argmax(pause_to[inside] - np.maximum(pause_from[inside], s))]
                s = pause_to[longest]
            elif (
                pause_from[p] - s < params.squeezed_s
                and e - pause_from[p] >= params.deep_s
                and pause_to[p] - s <= params.max_jump_s
                and pause_to[p] < next_path_end - params.min_word_s
            ):
                # No voice of its own before the pause, and its path ends in it: the path put the
                # word in the pause, and the voice after it is this word's.
                s = pause_to[p]
                e = min(_voice_end(voiced, s, hop_s), s + params.squeezed_max_s, next_path_end - params.min_word_s)
        e = max(e, s + params.min_word_s)
        b = int(np.clip(np.ceil(e / hop_s), 1, n_frames))
        a = int(np.clip(np.floor(s / hop_s), 0, b - 1))
        if not voiced[b - 1]:
            loud = np.flatnonzero(voiced[a:b])
            if loud.size:
                e = max(s + params.min_word_s, (a + loud[-1] + 1) * hop_s)
        starts[k], ends[k] = s, e
        previous_end = e
    return starts, ends


def _voice_end(voiced: np.ndarray, t: float, hop_s: float) -> float:
    """Where the voiced run that begins at ``t`` ends, seconds."""
    i = int(t / hop_s)
    quiet = np.flatnonzero(~voiced[i:])
    return (i + (quiet[0] if quiet.size else voiced.size - i)) * hop_s


def clamp_times(
    starts: np.ndarray,
    ends: np.ndarray,
    *,
    duration_s: float,
    params: TimingParams = DEFAULT_TIMING_PARAMS,
) -> tuple[np.ndarray, np.ndarray]:
    """Make word times sane: inside the song, starts non-decreasing, each word at least
    :attr:`TimingParams.min_word_s` long and ending no later than the next one starts.

    Parameters
    ----------
    starts, ends : np.ndarray, shape (n,)
        Seconds.
    duration_s : float
        The song's length.
    params : TimingParams

    Returns
    -------
    starts, ends : np.ndarray, shape (n,)
        ``0 <= starts[i] <= ends[i] <= starts[i + 1]``, all ``<= duration_s``.
    """
    n = starts.size
    s = np.clip(np.asarray(starts, dtype=np.float64), 0.0, duration_s)
    e = np.clip(np.asarray(ends, dtype=np.float64), 0.0, duration_s)
    if n == 0:
        return s, e
    s = np.maximum.accumulate(s)
    # A word needs min_word_s; push later starts forward where words pile up, then pull back
    # from the song's end if the push ran past it.
    for i in range(1, n):
        s[i] = max(s[i], s[i - 1] + params.min_word_s)
    overflow = s[-1] + params.min_word_s - duration_s
    if overflow > 0:
        s = np.minimum(s, duration_s - params.min_word_s * (n - np.arange(n)))
        s = np.maximum(s, 0.0)
    e = np.maximum(e, s + params.min_word_s)
    e[:-1] = np.minimum(e[:-1], s[1:])
    e = np.minimum(e, duration_s)
    e = np.maximum(e, s)
    return s, e
