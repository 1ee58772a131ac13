"""Beat tracking at a given period, and the periods worth tracking.

:func:`candidate_periods` proposes beat periods from the onset envelope's autocorrelation;
:func:`track_beats` finds the beats at one of them with Ellis' (2007) dynamic program.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray
from scipy.signal import find_peaks

from model.pipelines.analysis.params import AnalysisParams

__all__ = ["candidate_periods", "track_beats"]

# The best autocorrelation peak times these: its half, double, triple and dotted readings.
_RATIOS = (1.0, 0.5, 2.0, 1.0 / 3.0, 3.0, 2.0 / 3.0, 1.5)


def track_beats(env: NDArray[np.float64], *, period: float, tightness: float) -> NDArray[np.float64]:
    """Beat frames along ``env`` at about ``period`` frames per beat.

    Ellis' (2007) dynamic program, as in librosa's ``beat_track`` but with a fractional
    period (librosa rounds it to whole frames, 2 % off at 120 BPM and 43 frames per second,
    enough for a tight tracker to slip a beat every few bars): each frame's best predecessor
    lies between half and twice the period back, and a step of ``lag`` frames costs
    ``tightness * log(lag / period) ** 2``. Leading and trailing beats weaker than half the
    RMS of the beats' onset strength are dropped (librosa's ``trim``).

    Parameters
    ----------
    env : np.ndarray, shape (n_frames,)
        Onset strength, non-negative.
    period : float
        Frames per beat.
    tightness : float
        How much a step's deviation from ``period`` costs, in units of the envelope's
        standard deviation.

    Returns
    -------
    np.ndarray, shape (n_beats,), float64
        Beat positions in frames (moved to the envelope's parabolic peak within a frame),
        ascending; empty when the envelope is flat.
    """
    std = env.std()
    if env.size < 3 or std <= 0:
        return np.zeros(0)
    score = env / std
    cumulative, backlink = _beat_dp(score, float(period), float(tightness))
    peaks = np.flatnonzero((cumulative[1:-1] >= cumulative[:-2]) & (cumulative[1:-1] > cumulative[2:])) + 1
    if peaks.size == 0:
        return np.zeros(0)
    # The last beat: the last local maximum of the cumulative score that reaches half the
    # median of those maxima (librosa's rule).
    good = peaks[cumulative[peaks] >= 0.5 * np.median(cumulative[peaks])]
    frame = int(good[-1]) if good.size else int(peaks[-1])
    beats = []
    while frame >= 0:
        beats.append(frame)
        frame = int(backlink[frame])
    frames = np.array(beats[::-1], dtype=np.int64)
    # Beats before the first clear onset and after the last are the tracker's extrapolation
    # into silence (or a fade): clear means above half the RMS of the beats' smoothed strength
    # (librosa's rule, with its smoothing window normalised: unnormalised, it doubles the
    # threshold and trims the quieter ends of songs).
    window = np.hanning(5)
    smooth = np.convolve(score[frames], window / window.sum(), mode="same")
    strong = np.flatnonzero(score > 0.5 * np.sqrt(np.mean(smooth**2)))
    if strong.size == 0:
        return np.zeros(0)
    frames = frames[(frames >= strong[0]) & (frames <= strong[-1])]
    return _refine(frames, env)


@numba.njit(cache=True)
def _beat_dp(score, period, tightness):  # pragma: no cover - compiled
    n = score.size
    cumulative = np.empty(n)
    backlink = np.full(n, -1, dtype=np.int64)
    lo = max(1, int(round(period / 2.0)))
    hi = int(np.ceil(2.0 * period))
    threshold = 0.01 * score.max()
    first = True
    for i in range(n):
        best = -np.inf
        where = -1
        for lag in range(lo, hi + 1):
            j = i - lag
            if j < 0:
                break
            value = cumulative[j] - tightness * np.log(lag / period) ** 2
            if value > best:
                best = value
                where = j
        cumulative[i] = score[i] + best if where >= 0 else score[i]
        # Nothing before the first clear onset is a beat.
        if first and score[i] < threshold:
            backlink[i] = -1
        else:
            backlink[i] = where
            first = False
    return cumulative, backlink


def _refine(frames: NDArray[np.int64], env: NDArray[np.float64]) -> NDArray[np.float64]:
    """Frames moved to the parabolic peak of ``env`` where a beat sits on a local maximum."""
    b = np.clip(frames, 1, env.size - 2)
    a, c, d = env[b - 1], env[b], env[b + 1]
    denom = a - 2 * c + d
    is_peak = (c >= a) & (c >= d) & (denom < 0)
    shift = np.where(is_peak, 0.5 * (a - d) / np.where(is_peak, denom, -1.0), 0.0)
    return frames.astype(np.float64) + np.clip(shift, -0.5, 0.5)


def candidate_periods(env: NDArray[np.float64], frame_rate: float, params: AnalysisParams) -> list[float]:
    """Beat periods worth tracking, in frames: no two within 3 %, at most ``max_candidates``.

    The strongest peak of the envelope's autocorrelation between ``min_bpm`` and ``max_bpm``
    times 1, 1/2, 2, 1/3, 3, 2/3 and 3/2 (so that the half, double, triple and dotted readings
    of the beat are always in the running), then the next three peaks; each moved to the
    autocorrelation peak within 4 % of it.

    Parameters
    ----------
    env : np.ndarray, shape (n_frames,)
        Onset strength.
    frame_rate : float
        Frames per second.
    params : AnalysisParams

    Returns
    -------
    list of float
    """
    fr = frame_rate
    acf = _autocorrelation(env)
    lo = int(np.floor(60.0 * fr / params.max_bpm))
    hi = min(int(np.ceil(60.0 * fr / params.min_bpm)), acf.size - 2)
    if hi <= lo + 2:
        return []
    peaks, _ = find_peaks(acf[: hi + 1])
    peaks = peaks[peaks >= lo]
    if peaks.size == 0:
        return []
    ordered = peaks[np.argsort(acf[peaks])[::-1]]
    best = _refine_peak(acf, int(ordered[0]))
    proposals = [best * ratio for ratio in _RATIOS] + [_refine_peak(acf, int(p)) for p in ordered[1:4]]
    periods: list[float] = []
    for period in proposals:
        if not lo <= period <= hi:
            continue
        period = _snap(acf, period)
        if all(abs(period - other) > 0.03 * other for other in periods):
            periods.append(period)
    return periods[: params.max_candidates]


def _autocorrelation(env: NDArray[np.float64]) -> NDArray[np.float64]:
    """Autocorrelation of the mean-removed envelope, 1 at lag 0 (unbiased: divided by overlap)."""
    x = env - env.mean()
    n = x.size
    spec = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(spec * np.conj(spec))[:n]
    acf /= np.arange(n, 0, -1)
    return acf / acf[0] if acf[0] > 0 else acf


def _refine_peak(acf: NDArray[np.float64], lag: int) -> float:
    """Parabolic interpolation of the peak at ``lag``."""
    if lag <= 0 or lag >= acf.size - 1:
        return float(lag)
    a, b, c = acf[lag - 1], acf[lag], acf[lag + 1]
    denom = a - 2 * b + c
    return float(lag + (0.5 * (a - c) / denom if denom < 0 else 0.0))


def _snap(acf: NDArray[np.float64], period: float) -> float:
    """The autocorrelation peak within 4 % of ``period`` (``period`` itself if none)."""
    lo, hi = int(np.floor(period * 0.96)), int(np.ceil(period * 1.04))
    lo, hi = max(lo, 1), min(hi, acf.size - 2)
    if hi <= lo:
        return period
    lag = lo + int(np.argmax(acf[lo : hi + 1]))
    if lag in (lo, hi):  # no peak inside the window, only a slope
        return period
    return _refine_peak(acf, lag)
