"""The analysis' tuning (:class:`AnalysisParams`) and what it returns (:class:`AnalysisResult`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["METERS", "AnalysisParams", "AnalysisResult"]

#: The time signatures :func:`~model.pipelines.analysis.analyse` tells apart.
METERS = ("2/4", "3/4", "4/4", "6/8")


@dataclass(frozen=True, slots=True)
class AnalysisParams:
    """Tuning of :func:`~model.pipelines.analysis.analyse`; times in seconds, frequencies in Hz,
    tempi in beats per minute.

    The defaults were tuned on about 60 songs rendered for the purpose (General MIDI drums,
    bass, chords and a sung line with fluidsynth: bench/multitrack's eight styles and grooves
    of our own in 2/4, 3/4, 4/4 and 6/8, at 70-170 BPM, the drums stem from the DSP split) and
    checked on 28 more rendered the same way; the last knobs set (``alternation_limit``,
    ``midpoint_limit``, ``centre_weight``) were chosen in a search that also scored the
    karaoke benchmark's ten songs.
    """

    # -- features
    feature_sr: int = 11025
    """Sample rate the mono downmix is resampled to before the STFT (the features use
    nothing above its 5.5 kHz Nyquist: snare and kick, not cymbal sizzle, mark the beats)."""
    n_fft: int = 1024
    """STFT window length in samples at ``feature_sr`` (93 ms: 10.8 Hz bins)."""
    hop_length: int = 256
    """STFT hop in samples at ``feature_sr`` (23 ms: 43 frames per second)."""
    n_mels: int = 64
    """Mel bands of the onset envelope."""
    top_db: float = 80.0
    """Floor of the log-mel power below the song's peak, in dB."""
    kick_max_hz: float = 150.0
    """Mel bands centred below this make the kick envelope."""
    chroma_min_hz: float = 100.0
    chroma_max_hz: float = 2000.0
    """The band the chroma is read from: bass partials and chords, below most cymbal noise."""
    bass_min_hz: float = 40.0
    bass_max_hz: float = 330.0
    """The band whose spectrum tells bass notes apart."""
    onset_delay_s: float = 0.012
    """Added to every beat time: the log-mel flux of a 93 ms window peaks this much before
    the attack it marks (measured on rendered drums)."""

    # -- tempo
    min_bpm: float = 55.0
    max_bpm: float = 215.0
    """Beat rates considered at all."""
    prior_min_bpm: float = 70.0
    prior_max_bpm: float = 170.0
    """Beat rates preferred: no penalty inside, ``prior_weight`` per octave outside."""
    prior_weight: float = 4.0
    """Score lost per octave a tempo lies outside the preferred range."""
    centre_bpm: float = 115.0
    centre_weight: float = 1.0
    """A weak preference for tempi near ``centre_bpm``: ``centre_weight`` times the squared
    octave distance is lost (it settles only readings the other cues leave level)."""
    max_candidates: int = 10
    """Beat periods tracked and scored (autocorrelation peaks and their simple ratios)."""
    tightness: float = 300.0
    """How closely the beat tracker keeps to the candidate period: a step of ``lag`` frames
    costs ``tightness * log(lag / period) ** 2`` onset-envelope standard deviations (librosa's
    ``tightness``, whose default of 100 suits songs whose tempo wanders more)."""

    # -- judging a beat grid
    subdivision_limit: float = 0.9
    subdivision_weight: float = 4.0
    """A grid whose strongest subdivision (its half, quarter or third beats) carries this share
    of its beats' onset strength or more is likely a half-tempo or off-beat reading: it loses
    ``subdivision_weight`` per unit above."""
    alternation_limit: float = 0.55
    """A grid whose weaker beats (in twos or threes) carry less than this share of the onset
    strength of the strongest is likely ticking the subdivisions of a slower beat, and pays."""
    harmonic_alternation_limit: float = 0.5
    bass_alternation_limit: float = 0.3
    """The same for the change of the chroma and of the bass spectrum from each beat to the
    next: notes and chords change on beats, so a grid on which every other (or third) beat
    brings all the change ticks half (third) beats."""
    min_harmonic_change: float = 0.06
    """Mean chroma change (cosine distance) from beat to beat below which the song's harmony
    is taken not to move (a click track, a drum solo) and the harmonic cues are left out."""
    alternation_weight: float = 8.0
    """Score lost per unit of alternation share below its limit (summed over the cues)."""
    midpoint_limit: float = 0.7
    bass_midpoint_limit: float = 1.0
    """A grid whose half-beat points see more than this share of the chroma (bass) change its
    beats see is likely too slow: notes change on beats."""
    midpoint_weight: float = 8.0
    """Score lost per unit above the midpoint limits (the bass counts half)."""
    bar_weight: float = 1.0
    """Weight of the bar score (how clearly the downbeat cues mark bars on the grid)."""
    salience_limit: float = 0.7
    salience_weight: float = 4.0
    """A grid whose beats' mean onset strength is below ``salience_limit`` times the best
    grid's falls between the notes (a tempo that is no simple ratio of the beat): it loses
    ``salience_weight`` per unit below."""

    # -- meter and downbeats
    ternary_ratio: float = 1.2
    """Beats divide in three (6/8 at two beats a bar, a shuffle at four) when the onsets at
    one of their thirds exceed this many times those at their halves."""
    half_bar_change: float = 0.2
    """Four-beat bars whose third beat brings more chord change than this share of the first
    beat's (both measured above the second and fourth beats') are read as two bars of two
    (2/4, or 6/8 for compound beats): a 4/4 song changes chord on its bar lines, not half-way."""
    chord_weight: float = 1.0
    bass_weight: float = 0.7
    kick_weight: float = 0.6
    """Weights of the downbeat cues: harmonic (chroma) change, bass change, kick accent."""
    change_span_beats: int = 2
    """Beats each side of a beat whose harmonic content the change cue compares."""

    # -- key
    key_profile: str = "krumhansl"
    """Key profiles correlated with the song's chroma: ``"krumhansl"`` or ``"temperley"``
    (:data:`~model.pipelines.analysis.key.KEY_PROFILES`)."""
    key_confidence_margin: float = 0.15
    """Correlation margin over the second-best key that maps to confidence 1."""


@dataclass(frozen=True)
class AnalysisResult:
    """What :func:`~model.pipelines.analysis.analyse` found in a song.

    Attributes
    ----------
    tempo_bpm : float
        Beats per minute (dotted quarters in 6/8); 0.0 when no beat was found.
    beats : list of float
        Beat times in seconds, ascending.
    downbeats : list of float
        The first beat of each bar, in seconds: a subset of ``beats``.
    time_signature : str
        One of :data:`METERS`.
    key : str
        English name such as ``"A minor"`` or ``"F# major"``; ``""`` when there is no
        harmonic content.
    key_confidence : float
        0..1.
    loudness_lufs : float
        Integrated loudness (ITU-R BS.1770-4), floored at -70.0.
    peak_dbfs : float
        Sample peak, floored at -120.0 (digital silence).
    """

    tempo_bpm: float
    beats: list[float]
    downbeats: list[float]
    time_signature: str
    key: str
    key_confidence: float
    loudness_lufs: float
    peak_dbfs: float

    def to_json(self) -> dict[str, Any]:
        """The result as JSON types: times to milliseconds, the rest to 0.01 (confidence 0.001)."""
        return {
            "tempo_bpm": round(self.tempo_bpm, 2),
            "beats": [round(t, 3) for t in self.beats],
            "downbeats": [round(t, 3) for t in self.downbeats],
            "time_signature": self.time_signature,
            "key": self.key,
            "key_confidence": round(self.key_confidence, 3),
            "loudness_lufs": round(_finite(self.loudness_lufs, -70.0), 2),
            "peak_dbfs": round(_finite(self.peak_dbfs, -120.0), 2),
        }


def _finite(value: float, floor: float) -> float:
    return value if math.isfinite(value) else floor
