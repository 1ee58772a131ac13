"""Scores of the karaoke rows: beats, tempo, word times and word error rate.

What is computed
----------------
- **Event F-measure** (:func:`f_measure`), as ``mir_eval.beat.f_measure`` and
  ``mir_eval.onset.f_measure`` score beats and downbeats: each reference event may be matched to
  at most one estimated event within ``±window_s`` (70 ms by default) and the other way round;
  with ``m`` matches, precision ``m / len(estimate)``, recall ``m / len(reference)``, and
  ``F = 2PR / (P + R)``. 0 when either list is empty (mir_eval's convention). No beats are
  trimmed from the start (mir_eval's evaluator drops those before 5 s; here every beat counts).
- **Tempo error** (:func:`tempo_error`): ``|estimate − reference| / reference``; a tempo twice
  or half the true one is an error of 100 % or 50 %, not forgiven.
- **Word start errors** (:func:`start_errors`): ``|estimated start − true start|`` per true
  word, +inf for a word with no estimate; :func:`share_within` and :func:`median_error` summarise
  them (a miss is outside every tolerance, and counts in the median as the largest error).
- **Word error rate** (:func:`word_error_rate`): the Levenshtein distance between the reference
  and hypothesis word sequences (substitutions, deletions and insertions, each costing 1) over the
  reference's length, after :func:`normalise_words` (case folded, punctuation and apostrophes
  removed, accents kept: "você" and "voce" differ, as in Whisper's own multilingual scoring with
  diacritics kept).
- **Word matching** (:func:`match_words`): which hypothesis word each reference word is, from
  the same minimum-edit alignment; only equal words match (a substituted word is a miss).

:mod:`bench.metrics` (separation's SDR) has nothing these can share; they follow its shape:
small, pure, NumPy in and floats out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

_APOSTROPHES = re.compile(r"['’`´]")
_NOT_WORD = re.compile(r"[^\w]+|_", re.UNICODE)


def _events(times: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(times, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite")
    return np.sort(x)


def f_measure(
    *, reference: Sequence[float] | np.ndarray, estimate: Sequence[float] | np.ndarray, window_s: float = 0.07
) -> float:
    """F-measure of ``estimate`` against ``reference`` event times, one-to-one within ``±window_s``.

    Parameters
    ----------
    reference, estimate : array-like of float, shape (n,) and (m,)
        Event times in seconds (beats or downbeats), any order.
    window_s : float
        Half-width of the tolerance window in seconds (inclusive).

    Returns
    -------
    float
        In [0, 1]; 0 when either is empty.

    Notes
    -----
    The matching is a maximum one-to-one matching: with equal windows, taking the reference
    events in time order and giving each the earliest unmatched estimate inside its window is
    optimal (the classic greedy for points against intervals sorted by their ends).
    """
    if window_s <= 0:
        raise ValueError("window_s must be positive")
    ref = _events(reference, "reference")
    est = _events(estimate, "estimate")
    if ref.size == 0 or est.size == 0:
        return 0.0
    matches, j = 0, 0
    for t in ref:
        while j < est.size and est[j] < t - window_s - 1e-12:
            j += 1
        if j < est.size and est[j] <= t + window_s + 1e-12:
            matches += 1
            j += 1
    if matches == 0:
        return 0.0
    precision, recall = matches / est.size, matches / ref.size
    return 2 * precision * recall / (precision + recall)


def tempo_error(*, reference_bpm: float, estimate_bpm: float) -> float:
    """Relative tempo error ``|estimate − reference| / reference`` (0.04 is 4 %)."""
    if reference_bpm <= 0:
        raise ValueError("reference_bpm must be positive")
    return abs(float(estimate_bpm) - float(reference_bpm)) / float(reference_bpm)


def every_nth(times: Sequence[float] | np.ndarray, *, n: int = 4) -> np.ndarray:
    """Every ``n``-th event from the first: the downbeats of a tracker that knows no meter (4/4)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    return _events(times, "times")[::n]


def start_errors(*, reference: Sequence[float], estimate: Sequence[float | None]) -> np.ndarray:
    """Absolute start error of each true word in seconds; +inf where the word has no estimate.

    Parameters
    ----------
    reference : sequence of float, length n
        True word starts.
    estimate : sequence of float or None, length n
        The estimated start of the same word, or None when it was missed.

    Returns
    -------
    np.ndarray, shape (n,), float64
    """
    if len(reference) != len(estimate):
        raise ValueError(f"{len(reference)} true words but {len(estimate)} estimates")
    return np.array(
        [np.inf if e is None else abs(float(e) - float(r)) for r, e in zip(reference, estimate, strict=True)],
        dtype=np.float64,
    )


def share_within(errors: np.ndarray, *, tolerance_s: float = 0.3) -> float:
    """Share (0..1) of ``errors`` at most ``tolerance_s``; misses (+inf) are outside. NaN if empty."""
    errors = np.asarray(errors, dtype=np.float64)
    return float(np.mean(errors <= tolerance_s)) if errors.size else float("nan")


def median_error(errors: np.ndarray) -> float:
    """Median of ``errors`` in seconds, misses (+inf) included (so +inf when half are missed). NaN if empty."""
    errors = np.asarray(errors, dtype=np.float64)
    return float(np.median(errors)) if errors.size else float("nan")


def normalise_words(text: str) -> list[str]:
    """The words of ``text`` as WER compares them: NFC, case folded, apostrophes dropped
    ("don't" is "dont"), every other non-letter a word break; accents kept.

    >>> normalise_words("Don't stop, Coração!")
    ['dont', 'stop', 'coração']
    """
    folded = unicodedata.normalize("NFC", text).casefold()
    return [w for w in _NOT_WORD.split(_APOSTROPHES.sub("", folded)) if w]


def _edit_table(reference: Sequence[str], hypothesis: Sequence[str]) -> list[list[int]]:
    """Levenshtein table: ``cost[i][j]`` edits turn ``reference[:i]`` into ``hypothesis[:j]``."""
    n, m = len(reference), len(hypothesis)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for j in range(m + 1):
        cost[0][j] = j
    for i in range(1, n + 1):
        cost[i][0] = i
        for j in range(1, m + 1):
            different = reference[i - 1] != hypothesis[j - 1]
            cost[i][j] = min(cost[i - 1][j - 1] + different, cost[i - 1][j] + 1, cost[i][j - 1] + 1)
    return cost


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Word-level Levenshtein distance: the fewest substitutions, deletions and insertions."""
    return _edit_table(reference, hypothesis)[-1][-1]


def word_error_rate(reference: Sequence[str], hypothesis: Sequence[str]) -> float:
    """:func:`edit_distance` over ``len(reference)``, on words as given (pass :func:`normalise_words`'s).

    An empty reference gives 0 for an empty hypothesis and +inf otherwise.
    """
    if not reference:
        return 0.0 if not hypothesis else float("inf")
    return edit_distance(reference, hypothesis) / len(reference)


def match_words(reference: Sequence[str], hypothesis: Sequence[str]) -> list[int | None]:
    """For each reference word, the index of the hypothesis word it is aligned to and equals, or None.

    From one minimum-edit alignment (:func:`word_error_rate`'s), traced back from the end;
    ties prefer a match or substitution, then a deletion. Indices increase strictly.
    """
    cost = _edit_table(reference, hypothesis)
    out: list[int | None] = [None] * len(reference)
    i, j = len(reference), len(hypothesis)
    while i > 0 and j > 0:
        same = reference[i - 1] == hypothesis[j - 1]
        if cost[i][j] == cost[i - 1][j - 1] + (0 if same else 1):
            if same:
                out[i - 1] = j - 1
            i, j = i - 1, j - 1
        elif cost[i][j] == cost[i - 1][j] + 1:
            i -= 1
        else:
            j -= 1
    return out
