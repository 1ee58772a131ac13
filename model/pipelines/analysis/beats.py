"""Tempo, beats, meter and downbeats from the onset envelopes and the harmonic features.

librosa's beat tracker alone assumes its one tempo guess is right (it often is off by a factor
of two or three) and knows nothing of bars. :func:`estimate_beats` therefore proposes several
beat periods and judges each on the beat grid it yields:

1. **Candidates**: the strongest peaks of the onset envelope's autocorrelation between
   ``min_bpm`` and ``max_bpm``, and the best peak times 1/3, 1/2, 2/3, 3/2, 2 and 3 (so the
   half, double, dotted and triple readings are always in the running), each refined to
   its own autocorrelation peak.
2. **Tracking**: librosa's dynamic-programming tracker (Ellis 2007) follows the onset
   envelope at each candidate period.
3. **Bars**: on each grid, three downbeat cues are read per beat: harmonic change (chroma of
   the beats after against the beats before), bass change (the low harmonic spectrum, same
   comparison) and the kick accent (low-band onset strength). For each bar length n of 2, 3
   and 4 beats and each phase, the bar score is how much the cues' standardised sum stands
   out on the beats ``phase, phase + n, ...`` against the others.
4. **Choice**: a grid scores its best bar score, less a penalty when its off-beat positions
   (half or a third of a beat on) carry nearly as much onset energy as its beats (a half-tempo
   or off-phase reading), less a penalty per octave outside the preferred tempo range. A
   double-tempo grid loses to the true one on the bar score: its chord changes fall on
   every other bar line it proposes.
5. **Meter**: n = 3 is 3/4 and n = 4 is 4/4; n = 2 is 6/8 when the beats divide in three
   (more onset energy at the thirds of the beats than at their halves), else 2/4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray
from scipy.signal import find_peaks

from model.pipelines.analysis.features import Features
from model.pipelines.analysis.params import AnalysisParams

__all__ = ["BeatEstimate", "estimate_beats", "track_beats"]

_RATIOS = (1.0, 0.5, 2.0, 1.0 / 3.0, 3.0, 2.0 / 3.0, 1.5)


@dataclass(frozen=True, slots=True)
class BeatEstimate:
    """Beats and bars of a song.

    Attributes
    ----------
    tempo_bpm : float
        0.0 when no beat was found.
    beats, downbeats : np.ndarray, shape (n,), float64
        Seconds, ascending; ``downbeats`` is a subset of ``beats``.
    time_signature : str
    """

    tempo_bpm: float
    beats: NDArray[np.float64]
    downbeats: NDArray[np.float64]
    time_signature: str


@dataclass(frozen=True, slots=True)
class _Grid:
    """One candidate beat grid and how it was judged."""

    period: float  # frames per beat proposed
    beats: NDArray[np.float64]  # frames
    score: float
    bar: int  # beats per bar
    phase: int  # index of the first downbeat
    ternary: bool
    bpm: float
    subdivision: float  # strongest subdivision's onset strength over the beats'
    alternation: dict[tuple[str, int], float]
    midpoint: tuple[float, float]  # chroma and bass change at half beats over at beats
    bar_score: float
    salience: float  # mean onset strength on the beats over the mean over all frames


NO_BEATS = BeatEstimate(0.0, np.zeros(0), np.zeros(0), "4/4")


def estimate_beats(features: Features, params: AnalysisParams) -> BeatEstimate:
    """Tempo, beats, downbeats and time signature of a song.

    Parameters
    ----------
    features : Features
        The song's features (:func:`~model.pipelines.analysis.features.song_features`).
    params : AnalysisParams

    Returns
    -------
    BeatEstimate
        :data:`NO_BEATS` when the onset envelope is flat (silence, a steady tone) or no
        grid of at least four beats is found.
    """
    env = features.onset.astype(np.float64)
    if env.size < 8 or not np.any(env > 0):
        return NO_BEATS
    fr = features.frame_rate
    grids = []
    for period in _candidate_periods(env, fr, params):
        beats = track_beats(env, period=period, tightness=params.tightness)
        if beats.size >= 4:
            grids.append(_judge(beats, period, features, params))
    if not grids:
        return NO_BEATS
    top = max(grid.salience for grid in grids)
    best = max(
        grids,
        key=lambda grid: grid.score - params.salience_weight * max(0.0, params.salience_limit - grid.salience / top),
    )
    times = best.beats / fr + params.onset_delay_s
    times = np.maximum(times, 0.0)
    return BeatEstimate(
        tempo_bpm=_tempo(times),
        beats=times,
        downbeats=times[best.phase :: best.bar],
        time_signature=_signature(best.bar, best.ternary),
    )


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
    # into silence (or a fade): clear means above half the RMS of the beats' smoothed strength.
    smooth = np.convolve(score[frames], np.hanning(5), mode="same")
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


# -------------------------------------------------------------------- candidates


def _candidate_periods(env: NDArray[np.float64], fr: float, params: AnalysisParams) -> list[float]:
    """Beat periods in frames, best autocorrelation peak first, no two within 3 %."""
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


# -------------------------------------------------------------------- judging a grid


def _judge(beats: NDArray[np.float64], period: float, features: Features, params: AnalysisParams) -> _Grid:
    """Measure the grid ``beats`` and score it as a reading of the song's beat (higher is better)."""
    env = features.onset
    strength = _sample(env, beats)
    on = max(float(strength.mean()), 1e-12)
    ibi = np.diff(beats)
    starts = beats[:-1]
    sub = {f: _sample(env, starts + f * ibi).mean() / on for f in (1 / 4, 1 / 3, 1 / 2, 2 / 3, 3 / 4)}
    # The strongest subdivision: a grid at half the beat rate (or off the beat) has real
    # beats there; a syncopated groove has 8ths and 16ths there, seldom as strong as its beats.
    subdivision = max(sub[1 / 2], sub[1 / 4], sub[3 / 4], 0.5 * (sub[1 / 3] + sub[2 / 3]))
    # Compound time: both thirds of the beat sound, more than its half. A shuffle's swung
    # off-beat falls on the second third only, and does not count.
    ternary = min(sub[1 / 3], sub[2 / 3]) > params.ternary_ratio * sub[1 / 2]
    bpm = 60.0 * features.frame_rate / float(np.median(ibi))

    chroma = features.chroma
    alternation = {
        (cue, n): _alternation(values, n)
        for cue, values in (
            ("onset", strength),
            ("chroma", _change(_segment_means(chroma, beats), 1)),
            ("bass", _change(_segment_means(features.bass, beats), 1)),
        )
        for n in (2, 3)
    }
    limits = {
        "onset": params.alternation_limit,
        "chroma": params.harmonic_alternation_limit,
        "bass": params.bass_alternation_limit,
    }
    too_fast = sum(max(0.0, limits[cue] - value) for (cue, _), value in alternation.items())
    # Notes change on beats: a grid whose half-beat points see as much harmonic change as its
    # beats is too slow (or off the beat).
    midpoints = np.sort(np.concatenate([beats, starts + ibi / 2]))
    chroma_mid = _midpoint_change(_change(_segment_means(chroma, midpoints), 1))
    bass_mid = _midpoint_change(_change(_segment_means(features.bass, midpoints), 1))
    too_slow = max(0.0, chroma_mid - params.midpoint_limit) + 0.5 * max(0.0, bass_mid - params.bass_midpoint_limit)

    bars = (2, 4) if ternary else (2, 3, 4)
    best_bar, best_phase, bar_score = _best_bar(_downbeat_cues(beats, features, params), bars)

    octaves_out = max(0.0, np.log2(params.prior_min_bpm / bpm), np.log2(bpm / params.prior_max_bpm))
    score = (
        -params.prior_weight * octaves_out
        - params.centre_weight * np.log2(bpm / params.centre_bpm) ** 2
        - params.subdivision_weight * max(0.0, subdivision - params.subdivision_limit)
        - params.alternation_weight * too_fast
        - params.midpoint_weight * too_slow
        + params.bar_weight * bar_score
    )
    return _Grid(
        period=period,
        beats=beats,
        score=score,
        bar=best_bar,
        phase=best_phase,
        ternary=ternary,
        bpm=bpm,
        subdivision=subdivision,
        alternation=alternation,
        midpoint=(chroma_mid, bass_mid),
        bar_score=bar_score,
        salience=on / max(float(env.mean()), 1e-12),
    )


def _midpoint_change(change: NDArray[np.float64]) -> float:
    """Mean change at the half-beat points (odd entries) over the mean at the beats (even)."""
    at_beats, at_mid = change[0::2], change[1::2]
    beats_mean = np.nanmean(at_beats) if np.any(np.isfinite(at_beats)) else np.nan
    mid_mean = np.nanmean(at_mid) if np.any(np.isfinite(at_mid)) else np.nan
    if not np.isfinite(beats_mean) or not np.isfinite(mid_mean) or beats_mean <= 0:
        return 0.0
    return float(mid_mean / beats_mean)


def _best_bar(cues: NDArray[np.float64], bars: tuple[int, ...]) -> tuple[int, int, float]:
    """``(bar, phase, score)``: the bar length and phase whose beats' cues stand out most
    (mean on the bar's first beats less the mean elsewhere); ``(4, 0, 0.0)`` when none does."""
    best = (4, 0, 0.0)
    for bar in bars:
        if cues.size < 2 * bar:
            continue
        for phase in range(bar):
            on_bar = np.zeros(cues.size, dtype=bool)
            on_bar[phase::bar] = True
            score = float(cues[on_bar].mean() - cues[~on_bar].mean())
            if score > best[2] + 1e-9:
                best = (bar, phase, score)
    return best


def _alternation(values: NDArray[np.float64], n: int) -> float:
    """How even a per-beat cue is over groups of ``n`` beats: the mean of the weaker ``n - 1``
    phases over the strongest's (near 0 when every n-th beat carries it all: the grid then
    ticks the subdivisions of a beat n times longer). NaN values are left out; 1.0 when
    there are too few beats or no cue at all."""
    usable = values[: values.size - values.size % n].reshape(-1, n)
    if usable.shape[0] < 2:
        return 1.0
    ok = np.isfinite(usable)
    counts = ok.sum(axis=0)
    if np.any(counts == 0):
        return 1.0
    phases = np.sort(np.where(ok, usable, 0.0).sum(axis=0) / counts)
    return float(phases[:-1].mean() / phases[-1]) if phases[-1] > 0 else 1.0


def _downbeat_cues(beats: NDArray[np.float64], features: Features, params: AnalysisParams) -> NDArray[np.float64]:
    """Per beat: the weighted sum of the standardised downbeat cues, shape (n_beats,)."""
    span = params.change_span_beats
    chroma = _segment_means(features.chroma, beats)
    bass = _segment_means(features.bass, beats)
    kick = _sample(features.kick, beats)
    return (
        params.chord_weight * _standardise(_change(chroma, span))
        + params.bass_weight * _standardise(_change(bass, span))
        + params.kick_weight * _standardise(kick)
    )


def _segment_means(x: NDArray[np.float32], beats: NDArray[np.float64]) -> NDArray[np.float64]:
    """Mean of the rows of ``x`` from each beat to the next (the last to the end), (n_beats, d)."""
    starts = np.clip(np.rint(beats).astype(np.int64), 0, x.shape[0] - 1)
    sums = np.add.reduceat(x.astype(np.float64), starts, axis=0)
    lengths = np.diff(np.append(starts, x.shape[0])).astype(np.float64)
    return sums / np.maximum(lengths, 1.0)[:, None]


def _change(segments: NDArray[np.float64], span: int) -> NDArray[np.float64]:
    """Cosine distance between the mean of the ``span`` segments from each beat and the
    ``span`` before it; NaN where either side is short."""
    n = segments.shape[0]
    out = np.full(n, np.nan)
    if n < 2 * span:
        return out
    csum = np.vstack([np.zeros((1, segments.shape[1])), np.cumsum(segments, axis=0)])
    k = np.arange(span, n - span + 1)
    after = csum[k + span] - csum[k]
    before = csum[k] - csum[k - span]
    norm = np.linalg.norm(after, axis=1) * np.linalg.norm(before, axis=1)
    cos = np.where(norm > 0, np.sum(after * before, axis=1) / np.maximum(norm, 1e-30), 1.0)
    out[k] = 1.0 - cos
    return out


def _standardise(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """(x - mean) / std over the defined values; NaN and constant cues become 0."""
    ok = np.isfinite(x)
    if ok.sum() < 2:
        return np.zeros_like(x)
    mean, std = x[ok].mean(), x[ok].std()
    if std <= 1e-12:
        return np.zeros_like(x)
    return np.where(ok, (x - mean) / std, 0.0)


def _sample(env: NDArray, positions: NDArray[np.float64]) -> NDArray[np.float64]:
    """The envelope's maximum within one frame of each (fractional) position."""
    idx = np.rint(positions).astype(np.int64)
    lo = np.clip(idx - 1, 0, env.size - 1)
    mid = np.clip(idx, 0, env.size - 1)
    hi = np.clip(idx + 1, 0, env.size - 1)
    return np.maximum(np.maximum(env[lo], env[mid]), env[hi]).astype(np.float64)


# -------------------------------------------------------------------- output


def _tempo(times: NDArray[np.float64]) -> float:
    """Beats per minute from the inter-beat intervals within 25 % of their median."""
    ibi = np.diff(times)
    if ibi.size == 0:
        return 0.0
    med = np.median(ibi)
    kept = ibi[np.abs(ibi - med) <= 0.25 * med]
    return float(60.0 / kept.mean()) if kept.size else float(60.0 / med)


def _signature(bar: int, ternary: bool) -> str:
    if bar == 2:
        return "6/8" if ternary else "2/4"
    return f"{bar}/4"
