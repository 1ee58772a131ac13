"""Judging a beat grid: is it the song's beat, and where are its bars?

:func:`judge_grid` measures one tracked grid (how its subdivisions, alternations and half-beat
points behave, how clearly bars show on it) and scores it as a reading of the beat; it also
reads the grid's meter and first downbeat (:func:`meter`). The method is described in
:mod:`model.pipelines.analysis.beats`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from model.pipelines.analysis.features import Features
from model.pipelines.analysis.params import AnalysisParams

__all__ = ["Grid", "judge_grid", "meter"]

# Half-beat to beat change ratios are capped here: near-silent spans make wild ratios, and
# past the cap the verdict is the same.
_MIDPOINT_CAP = 3.0


@dataclass(frozen=True, slots=True)
class Grid:
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


def judge_grid(beats: NDArray[np.float64], period: float, features: Features, params: AnalysisParams) -> Grid:
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
    # A beat in three (compound time, or a shuffle's swung eighths): a third of the beat sounds
    # louder than its half. Whether it is 6/8 or a shuffled 4/4 the bar length tells.
    ternary = max(sub[1 / 3], sub[2 / 3]) > params.ternary_ratio * sub[1 / 2]
    bpm = 60.0 * features.frame_rate / float(np.median(ibi))

    chroma_change = _change(_segment_means(features.chroma_sums, beats), 1)
    # The harmonic cues speak only where the harmony moves: a click track's beats all sound
    # alike, and its chroma "changes" are noise.
    finite = chroma_change[np.isfinite(chroma_change)]
    harmonic = bool(finite.size and finite.mean() >= params.min_harmonic_change)
    cues_by_name = {"onset": strength}
    if harmonic:
        cues_by_name["chroma"] = chroma_change
        cues_by_name["bass"] = _change(_segment_means(features.bass_sums, beats), 1)
    alternation = {(cue, n): _alternation(values, n) for cue, values in cues_by_name.items() for n in (2, 3)}
    limits = {
        "onset": params.alternation_limit,
        "chroma": params.harmonic_alternation_limit,
        "bass": params.bass_alternation_limit,
    }
    too_fast = sum(max(0.0, limits[cue] - value) for (cue, _), value in alternation.items())
    # Notes change on beats: a grid whose half-beat points see as much harmonic change as its
    # beats is too slow (or off the beat).
    chroma_mid = bass_mid = 0.0
    if harmonic:
        midpoints = np.sort(np.concatenate([beats, starts + ibi / 2]))
        chroma_mid = _midpoint_change(_change(_segment_means(features.chroma_sums, midpoints), 1))
        bass_mid = _midpoint_change(_change(_segment_means(features.bass_sums, midpoints), 1))
    too_slow = max(0.0, chroma_mid - params.midpoint_limit) + 0.5 * max(0.0, bass_mid - params.bass_midpoint_limit)

    chord_cue, cues = _downbeat_cues(beats, features, params, harmonic=harmonic)
    _, _, bar_score = _best_bar(cues, (2, 3, 4))
    best_bar, best_phase = meter(cues, chord_cue if harmonic else None, params)

    octaves_out = max(0.0, np.log2(params.prior_min_bpm / bpm), np.log2(bpm / params.prior_max_bpm))
    score = (
        -params.prior_weight * octaves_out
        - params.centre_weight * np.log2(bpm / params.centre_bpm) ** 2
        - params.subdivision_weight * max(0.0, subdivision - params.subdivision_limit)
        - params.alternation_weight * too_fast
        - params.midpoint_weight * too_slow
        + params.bar_weight * bar_score
    )
    return Grid(
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
    return float(min(mid_mean / beats_mean, _MIDPOINT_CAP))


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


def _downbeat_cues(
    beats: NDArray[np.float64], features: Features, params: AnalysisParams, *, harmonic: bool = True
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per beat: the standardised chord-change cue, and the weighted sum of all the
    standardised downbeat cues (the kick alone when ``harmonic`` is false); each shape
    (n_beats,)."""
    span = params.change_span_beats
    chord = _standardise(_change(_segment_means(features.chroma_sums, beats), span))
    kick = _standardise(_sample(features.kick, beats))
    if not harmonic:
        return chord, params.kick_weight * kick
    bass = _standardise(_change(_segment_means(features.bass_sums, beats), span))
    return chord, params.chord_weight * chord + params.bass_weight * bass + params.kick_weight * kick


def meter(cues: NDArray[np.float64], chord: NDArray[np.float64] | None, params: AnalysisParams) -> tuple[int, int]:
    """``(beats per bar, index of the first downbeat)`` on a beat grid.

    Three beats or not the combined cues decide; two beats or four, the chords do (``chord``,
    None when the harmony does not move: then the combined cues decide that too): kick and
    snare patterns repeat every two beats in most 4/4 grooves, the chords change once a bar.
    """
    bar, phase, _ = _best_bar(cues, (2, 3, 4))
    if bar == 3 or chord is None:
        return bar, phase
    _, phase, _ = _best_bar(cues, (4,))
    # Of the bar's two strong beats (a kick on one and on three alike), the chords change on
    # the first.
    if np.mean(chord[(phase + 2) % 4 :: 4]) > np.mean(chord[phase::4]):
        phase = (phase + 2) % 4
    if _half_bar_change(chord, phase) > params.half_bar_change:
        # The chords change in mid-bar as they do on its first beat: the bars are two beats.
        return 2, phase % 2
    return 4, phase


def _half_bar_change(chord: NDArray[np.float64], phase: int) -> float:
    """In 4-beat bars starting at ``phase``: the chord change on the third beat over that on
    the first, both above the change on the second and fourth (1 when the mid-bar change is
    as large, 0 when there is none, negative below)."""
    at = [chord[(phase + j) % 4 :: 4] for j in range(4)]
    if any(a.size == 0 for a in at):
        return 0.0
    first, second, third, fourth = (float(a.mean()) for a in at)
    baseline = 0.5 * (second + fourth)
    if first - baseline <= 1e-9:
        return 0.0
    return (third - baseline) / (first - baseline)


def _segment_means(sums: NDArray[np.float64], beats: NDArray[np.float64]) -> NDArray[np.float64]:
    """Mean feature vector from each beat to the next (the last to the end), (n_beats, d).

    ``sums`` are the feature's running sums over frames, shape (n_frames + 1, d), so that any
    span's mean costs one subtraction.
    """
    n_frames = sums.shape[0] - 1
    starts = np.clip(np.rint(beats).astype(np.int64), 0, n_frames - 1)
    ends = np.append(starts[1:], n_frames)
    lengths = np.maximum(ends - starts, 1).astype(np.float64)
    return (sums[ends] - sums[starts]) / lengths[:, None]


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
