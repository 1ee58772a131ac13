"""The text side of aligning a user's lyrics to a song: the words are theirs, the times the audio's.

The engine (:class:`model.engines.whisper_engine.WhisperEngine`) hears the song once, roughly
(greedy decoding, one pass per ≤30 s window), and then forces the user's words onto each window
with Whisper's cross-attention alignment. This module holds the pure steps between:

1. :func:`user_words` splits the user's lines into words, keeping each word as written;
2. :func:`normalize_word` makes words comparable (case, punctuation, accents: "Coração," and
   "coracao" match, which Portuguese needs since the rough pass often drops accents);
3. :func:`anchor_words` aligns the user's words to the heard ones (a global sequence alignment:
   exact runs by :class:`difflib.SequenceMatcher`, the gaps between them by a small
   Needleman–Wunsch with a fuzzy word score), and :func:`rough_times` gives every user word a
   rough time, interpolating those the rough pass did not hear;
4. :func:`assign_windows` shares the user's lines out to the windows, in order, by the words
   heard there and by how long each window's voice lasts;
5. :func:`build_lines` gives the user's lines back with their timed words.

The timing side (token path to word times, onsets, clamps) is :mod:`model.pipelines.lyrics.timing`.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from model.pipelines.lyrics.types import Line, Word
from model.pipelines.lyrics.windows import VoiceClock, Window

__all__ = [
    "AlignParams",
    "UserWord",
    "anchor_words",
    "assign_windows",
    "build_lines",
    "normalize_word",
    "rough_times",
    "split_words",
    "spread_over_voice",
    "user_words",
]

_SUNG_WORD_S = 0.4
"""A plain sung word's length, seconds, for words outside every anchor."""
_WORDLIKE = re.compile(r"\w", re.UNICODE)
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class AlignParams:
    """Tuning of the text side of the known-lyrics alignment; times in seconds."""

    anchor_bonus_s: float = 2.0
    """What one heard word is worth, in seconds of voice, when lines are shared out to windows."""
    fuzzy_ratio: float = 0.75
    """Two different words this similar (difflib ratio of their letters) still anchor each other."""
    max_gap_cells: int = 40_000
    """Gaps between exact runs larger than this (user × heard words) are not fuzzy-aligned."""


DEFAULT_ALIGN_PARAMS = AlignParams()


@dataclass(frozen=True, slots=True)
class UserWord:
    """One word of the user's lyrics.

    Attributes
    ----------
    text : str
        As written, punctuation kept (a lone dash or quote is joined to its neighbour).
    line : int
        Index of its line in the user's lines.
    norm : str
        :func:`normalize_word` of ``text``; empty for a word with no letter or digit.
    """

    text: str
    line: int
    norm: str


def normalize_word(word: str) -> str:
    """A word reduced for matching: case folded, accents and punctuation removed.

    >>> normalize_word("Coração,")
    'coracao'
    >>> normalize_word("don't")
    'dont'
    """
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_WORD.sub("", bare).replace("_", "")


def split_words(text: str) -> list[str]:
    """Whitespace-separated words of ``text``; a token with no letter or digit (a dash, a quote)
    is joined to the word before it (or after it, at the start), so every word can be sung."""
    words: list[str] = []
    pending = ""
    for token in text.split():
        if _WORDLIKE.search(token):
            words.append(pending + token)
            pending = ""
        elif words:
            words[-1] = f"{words[-1]} {token}"
        else:
            pending = f"{token} "
    if pending and not words:
        words.append(pending.strip())
    return words


def user_words(lines: Sequence[str]) -> list[UserWord]:
    """The words of the user's ``lines``, in order, each with its line index."""
    return [
        UserWord(text=word, line=index, norm=normalize_word(word))
        for index, line in enumerate(lines)
        for word in split_words(line)
    ]


def anchor_words(
    user: Sequence[str], heard: Sequence[str], *, params: AlignParams = DEFAULT_ALIGN_PARAMS
) -> list[int | None]:
    """For each user word, the index of the heard word it is, or None.

    Parameters
    ----------
    user, heard : sequence of str
        Normalised words (:func:`normalize_word`), the user's and the rough transcription's.
    params : AlignParams

    Returns
    -------
    list of int or None, length len(user)
        Strictly increasing where not None (the alignment keeps order).

    Notes
    -----
    Exact runs come from :class:`difflib.SequenceMatcher` (longest common blocks, then recursion
    on both sides: a global, order-keeping alignment in about O(n log n) for lyrics). A run of a
    single short word (3 letters or fewer: "the", "a", "que") is dropped unless its neighbours
    match too, since such words recur everywhere and would anchor a misheard stretch to the wrong
    place. Each gap between runs is aligned by Needleman–Wunsch with scores +2 (same word),
    +1 (:attr:`AlignParams.fuzzy_ratio` similar: "gold"/"cold"), -1 (other word), -1 (gap).
    """
    anchors: list[int | None] = [None] * len(user)
    matcher = difflib.SequenceMatcher(a=list(user), b=list(heard), autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size]
    kept = [b for b in blocks if b.size > 1 or len(user[b.a]) > 3]
    for block in kept:
        for k in range(block.size):
            anchors[block.a + k] = block.b + k
    # The gaps between kept runs, in both sequences: fuzzy-align each.
    edges = [(0, 0)] + [(b.a + b.size, b.b + b.size) for b in kept]
    ends = [(b.a, b.b) for b in kept] + [(len(user), len(heard))]
    for (ua, ha), (ub, hb) in zip(edges, ends, strict=True):
        if ub > ua and hb > ha and (ub - ua) * (hb - ha) <= params.max_gap_cells:
            for i, j in _needleman_wunsch(user[ua:ub], heard[ha:hb], fuzzy_ratio=params.fuzzy_ratio):
                anchors[ua + i] = ha + j
    return anchors


def rough_times(
    anchors: Sequence[int | None],
    *,
    heard_times: np.ndarray,
    weights: Sequence[float],
    duration_s: float,
) -> np.ndarray:
    """A rough (start, end) for every user word: its heard word's, or interpolated between anchors.

    Parameters
    ----------
    anchors : sequence of int or None, length n
        :func:`anchor_words`.
    heard_times : np.ndarray, shape (m, 2)
        Rough (start, end) of each heard word, seconds.
    weights : sequence of float, length n
        Relative length of each user word (its letters, at least 1): an unanchored run shares the
        time between its anchors in proportion.
    duration_s : float
        The song's length; a run with no anchor on one side extends to 0 or to here.

    Returns
    -------
    np.ndarray, shape (n, 2), float64
        Non-decreasing starts.
    """
    n = len(anchors)
    out = np.zeros((n, 2), dtype=np.float64)
    known = [i for i, a in enumerate(anchors) if a is not None]
    for i in known:
        out[i] = heard_times[anchors[i]]
    w = np.maximum(np.asarray(weights, dtype=np.float64), 1.0)
    bounds = [-1, *known, n]
    for left, right in zip(bounds[:-1], bounds[1:], strict=True):
        if right - left <= 1:
            continue
        t0 = out[left, 1] if left >= 0 else 0.0
        t1 = out[right, 0] if right < n else duration_s
        # Words before the first anchor (after the last) are sung just before (after) it at a
        # plain pace, not spread over the whole intro (outro).
        if left < 0 and right < n:
            t0 = max(0.0, t1 - _SUNG_WORD_S * right)
        if left >= 0 and right >= n:
            t1 = min(duration_s, t0 + _SUNG_WORD_S * (n - left - 1))
        t1 = max(t1, t0)
        share = w[left + 1 : right]
        edges = t0 + (t1 - t0) * np.concatenate([[0.0], np.cumsum(share)]) / share.sum()
        out[left + 1 : right, 0] = edges[:-1]
        out[left + 1 : right, 1] = edges[1:]
    out[:, 0] = np.maximum.accumulate(out[:, 0]) if n else out[:, 0]
    return out


def spread_over_voice(weights: Sequence[float], *, window: Window, clock: VoiceClock) -> np.ndarray:
    """Rough (start, end) of a window's heard words: its voice time shared in proportion to length.

    Parameters
    ----------
    weights : sequence of float, length m
        Relative length of each word (its letters, at least 1).
    window : Window
        Where the words were heard.
    clock : VoiceClock
        The song's voice clock (:meth:`VoiceClock.from_windows` of all windows).

    Returns
    -------
    np.ndarray, shape (m, 2), float64
        Song seconds, inside the window's voiced regions.
    """
    w = np.maximum(np.asarray(weights, dtype=np.float64), 1.0)
    if w.size == 0:
        return np.zeros((0, 2))
    if window.voiced:
        v0 = float(clock.to_voice(np.array([window.voiced[0][0]]))[0])
        v1 = v0 + window.voiced_s
        edges = v0 + (v1 - v0) * np.concatenate([[0.0], np.cumsum(w)]) / w.sum()
        return np.stack([clock.to_song(edges[:-1], side="start"), clock.to_song(edges[1:], side="end")], axis=1)
    edges = window.start + window.duration_s * np.concatenate([[0.0], np.cumsum(w)]) / w.sum()
    return np.stack([edges[:-1], edges[1:]], axis=1)


def assign_windows(
    lines: Sequence[int],
    anchor_window: Sequence[int | None],
    windows: Sequence[Window],
    *,
    weights: Sequence[float],
    params: AlignParams = DEFAULT_ALIGN_PARAMS,
) -> np.ndarray:
    """The window each user word is sung in: lines shared out to windows in order.

    Parameters
    ----------
    lines : sequence of int, length n
        Each word's line (non-decreasing).
    anchor_window : sequence of int or None, length n
        The window of the heard word each user word is anchored to (:func:`anchor_words`).
    windows : sequence of Window
        In time order, at least one.
    weights : sequence of float, length n
        Each word's length (its letters, at least 1).
    params : AlignParams

    Returns
    -------
    np.ndarray, shape (n,), int
        Non-decreasing window indices; each window's words are a contiguous run of the lyrics.

    Notes
    -----
    Windows are cut in pauses and a line is mostly sung in one breath, so lines are the units,
    except that a line whose anchors lie in two windows is cut where they change. The units are
    shared out to the windows in order by dynamic programming, minimising for each window

        | rate * letters(window) - voice_s(window) |  -  anchor_bonus_s * anchors in it

    with ``rate`` the song's seconds of voice per letter. The first term keeps a window's share
    of the lyrics in proportion to how long someone sings in it, which is what places the lines
    when the rough pass heard little (a loop, a language Whisper hears badly); the second lets
    the words the rough pass did hear decide, and outweighs it when they agree. A few stray
    anchors (a common word heard in the wrong place) cannot move lines across a window.
    """
    n = len(lines)
    n_windows = len(windows)
    if n_windows == 0:
        raise ValueError("at least one window is needed")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # Units: lines, cut where the window of their anchored words changes.
    unit_of = np.zeros(n, dtype=np.int64)
    unit = 0
    last_window: int | None = None
    for k in range(n):
        if k and lines[k] != lines[k - 1]:
            unit += 1
            last_window = None
        elif anchor_window[k] is not None and last_window is not None and anchor_window[k] != last_window:
            unit += 1
        if anchor_window[k] is not None:
            last_window = anchor_window[k]
        unit_of[k] = unit
    n_units = unit + 1
    letters = np.bincount(unit_of, weights=np.maximum(np.asarray(weights, dtype=np.float64), 1.0), minlength=n_units)
    votes = np.zeros((n_units, n_windows))
    for k, w in enumerate(anchor_window):
        if w is not None:
            votes[unit_of[k], w] += 1.0
    voice = np.array([max(w.voiced_s, 0.0) for w in windows])
    rate = voice.sum() / letters.sum() if letters.sum() else 0.0
    cum_letters = np.concatenate([[0.0], np.cumsum(letters)])
    cum_votes = np.vstack([np.zeros(n_windows), np.cumsum(votes, axis=0)])
    # best[w, u]: least cost of giving units [0, u) to windows [0, w).
    best = np.full((n_windows + 1, n_units + 1), np.inf)
    best[0, 0] = 0.0
    back = np.zeros((n_windows + 1, n_units + 1), dtype=np.int64)
    for w in range(n_windows):
        for u_end in range(n_units + 1):
            starts = np.arange(u_end + 1)
            share = rate * (cum_letters[u_end] - cum_letters[starts])
            bonus = cum_votes[u_end, w] - cum_votes[starts, w]
            cost = best[w, starts] + np.abs(share - voice[w]) - params.anchor_bonus_s * bonus
            j = int(np.argmin(cost))
            best[w + 1, u_end], back[w + 1, u_end] = cost[j], starts[j]
    home_of_unit = np.zeros(n_units, dtype=np.int64)
    u_end = n_units
    for w in range(n_windows, 0, -1):
        u_start = back[w, u_end]
        home_of_unit[u_start:u_end] = w - 1
        u_end = u_start
    return home_of_unit[unit_of]


def build_lines(words: Sequence[UserWord], starts: np.ndarray, ends: np.ndarray, *, lines: Sequence[str]) -> list[Line]:
    """The user's lines with their timed words; a line's span is its words' span.

    Parameters
    ----------
    words : sequence of UserWord
        :func:`user_words` of ``lines``.
    starts, ends : np.ndarray, shape (len(words),)
        Final word times, seconds.
    lines : sequence of str
        The user's lines; the text shown is each line with its whitespace collapsed. A line with
        no word gets no entry.

    Returns
    -------
    list of Line
        One per user line that has a word, in order.
    """
    out: list[Line] = []
    by_line: dict[int, list[Word]] = {}
    for word, start, end in zip(words, starts, ends, strict=True):
        by_line.setdefault(word.line, []).append(Word(word=word.text, start=float(start), end=float(end)))
    for index, text in enumerate(lines):
        timed = by_line.get(index)
        if timed:
            out.append(Line(start=timed[0].start, end=timed[-1].end, text=" ".join(text.split()), words=timed))
    return out


def _similar(a: str, b: str, ratio: float) -> bool:
    if not a or not b:
        return False
    return difflib.SequenceMatcher(a=a, b=b, autojunk=False).ratio() >= ratio


def _needleman_wunsch(user: Sequence[str], heard: Sequence[str], *, fuzzy_ratio: float) -> list[tuple[int, int]]:
    """Pairs (i, j) of a global alignment of two short word lists (see :func:`anchor_words`)."""
    n, m = len(user), len(heard)
    match = np.full((n, m), -1.0)
    for i, u in enumerate(user):
        for j, h in enumerate(heard):
            if u and u == h:
                match[i, j] = 2.0
            elif _similar(u, h, fuzzy_ratio):
                match[i, j] = 1.0
    gap = -1.0
    score = np.zeros((n + 1, m + 1))
    score[:, 0] = gap * np.arange(n + 1)
    score[0, :] = gap * np.arange(m + 1)
    move = np.zeros((n + 1, m + 1), dtype=np.int8)  # 0 diagonal, 1 up (skip user), 2 left (skip heard)
    move[1:, 0] = 1
    move[0, 1:] = 2
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            options = (score[i - 1, j - 1] + match[i - 1, j - 1], score[i - 1, j] + gap, score[i, j - 1] + gap)
            best = int(np.argmax(options))
            score[i, j] = options[best]
            move[i, j] = best
    pairs: list[tuple[int, int]] = []
    i, j = n, m
    while i > 0 and j > 0:
        if move[i, j] == 0:
            if match[i - 1, j - 1] > 0:
                pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif move[i, j] == 1:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]
