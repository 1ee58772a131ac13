"""Tempo, beats, meter and downbeats.

librosa's ``beat_track`` alone trusts its one tempo guess (often off by a factor of two or
three), holds the period to whole frames and knows nothing of bars. :func:`estimate_beats`
proposes several beat periods, tracks each, and judges the grids it gets:

1. **Candidates** (:func:`~model.pipelines.analysis.tracking.candidate_periods`): the
   strongest peak of the onset envelope's autocorrelation times 1, 1/2, 2, 1/3, 3, 2/3 and
   3/2, and the next peaks, between ``min_bpm`` and ``max_bpm``.
2. **Tracking** (:func:`~model.pipelines.analysis.tracking.track_beats`): Ellis' dynamic
   program with a fractional period.
3. **Judging** (:func:`~model.pipelines.analysis.grids.judge_grid`): a grid loses score when
   it is likely too fast (every other, or third, beat carries all the onset energy or all the
   chord and bass changes: it ticks subdivisions), too slow or off the beat (its half-beat
   points see as much harmonic change as its beats, or one of its subdivisions is as loud as
   its beats), off the notes (its beats' onset strength is well below the best grid's), or
   outside 70-170 BPM; it gains by how clearly bars show on it. Notes and chords change on
   beats, and more so on bar lines: that is what tells 70 BPM with eighth-note hi-hats from
   140 BPM, and a bossa's syncopation from a half-tempo reading.
4. **Bars** (:func:`~model.pipelines.analysis.grids.meter`): three downbeat cues per beat
   (chord change, bass change, kick accent), standardised and summed; the bar length (2, 3 or
   4 beats) and phase where they stand out most on the first beats. Three beats or not, that
   decides; two or four, the chord changes alone decide (kick and snare patterns repeat every
   two beats in most 4/4 grooves; chords change once a bar).
5. **Meter**: 3 beats is 3/4, 4 is 4/4; 2 is 6/8 when the beat divides in three (a third of
   the beat louder than its half), else 2/4. ``tempo_bpm`` counts beats: dotted quarters in 6/8.

Tuned on songs rendered for the purpose (fluidsynth, General MIDI) in 2/4, 3/4, 4/4 and 6/8 at
70-170 BPM, with the drums stem as the DSP split gives it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from model.pipelines.analysis.features import Features
from model.pipelines.analysis.grids import judge_grid
from model.pipelines.analysis.params import AnalysisParams
from model.pipelines.analysis.tracking import candidate_periods, track_beats

__all__ = ["NO_BEATS", "BeatEstimate", "estimate_beats"]


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
    for period in candidate_periods(env, fr, params):
        beats = track_beats(env, period=period, tightness=params.tightness)
        if beats.size >= 4:
            grids.append(judge_grid(beats, period, features, params))
    if not grids:
        return NO_BEATS
    # Salience is judged against the best grid's: a grid whose beats fall between the notes
    # (no simple ratio of the beat) has far weaker onsets on its beats than the others.
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


def _tempo(times: NDArray[np.float64]) -> float:
    """Beats per minute from the inter-beat intervals within 25 % of their median."""
    ibi = np.diff(times)
    if ibi.size == 0:
        return 0.0
    med = np.median(ibi)
    kept = ibi[np.abs(ibi - med) <= 0.25 * med]
    return float(60.0 / kept.mean()) if kept.size else float(60.0 / med)


def _signature(bar: int, ternary: bool) -> str:
    """Two beats in three are 6/8; four in three are a shuffled (or 12/8) 4/4."""
    if bar == 2:
        return "6/8" if ternary else "2/4"
    return f"{bar}/4"
