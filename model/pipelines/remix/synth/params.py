"""The tuning of :func:`~model.pipelines.remix.synth.remix_stem` and the plan it plays.

:data:`STEM_KINDS` (the stems it re-voices), :class:`SynthParams` (every tuning knob, with its
unit) and :data:`DEFAULT_SYNTH_PARAMS`, :class:`RemixPlan` (the notes of a stem and the grain each
plays, from :func:`~model.pipelines.remix.synth.remix_plan`). The method is described in
:mod:`model.pipelines.remix.synth`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["DEFAULT_SYNTH_PARAMS", "STEM_KINDS", "RemixPlan", "SynthParams"]

#: The stems :func:`remix_stem` re-voices.
STEM_KINDS = ("drums", "bass", "other")


@dataclass(frozen=True, slots=True)
class SynthParams:
    """Tuning of :func:`remix_stem`; times in seconds, levels in dB, frequencies in Hz."""

    analysis_sr: int = 22050
    """Rate the mono downmix is resampled to for the STFT (onsets, centroid, MFCCs); the stem's
    own rate when lower."""
    n_fft: int = 1024
    """STFT window in samples at ``analysis_sr`` (46 ms)."""
    hop_length: int = 256
    """STFT hop in samples at ``analysis_sr`` (11.6 ms): the onsets' time resolution."""
    n_mels: int = 64
    """Mel bands of the spectral flux and the MFCCs."""
    min_onset_gap_s: float = 0.05
    """Onsets closer than this to the previous one are not notes of their own (librosa's
    ``wait``): an attack's spectral flux often peaks twice within a few frames."""
    envelope_hop_s: float = 0.01
    """Hop of the RMS envelope (and of the pitch contour); each value is the RMS over two hops."""
    note_floor_db: float = 40.0
    """A note ends where its envelope falls this far below the note's peak."""
    voiced_share: float = 0.25
    """A note is voiced when at least this share of its pitch frames (and two) are voiced."""
    bass_range_hz: tuple[float, float] = (30.0, 500.0)
    other_range_hz: tuple[float, float] = (65.0, 2093.0)
    """Pitch range searched in a ``bass`` and an ``other`` stem."""
    octave_tolerance: float = 0.125
    """Pitch frames within this many octaves of a whole number of octaves from their note's pitch
    are octave slips of the tracker, and are moved into the note's octave."""
    n_timbre_mfcc: int = 4
    """MFCCs 1..n in the timbre descriptor (MFCC 0 is loudness, already there)."""
    pitch_weight: float = 12.0
    """Distance of one octave in the grain choice (1 per semitone; timbre and loudness columns
    are in standard deviations)."""
    mfcc_weight: float = 0.5
    """Weight of each MFCC column in the grain choice."""
    neighbours: int = 8
    """Nearest grains fetched per note (one more, so the previous note's grain can be left out)."""
    tie_margin: float = 0.5
    """Grains within this distance of the nearest count as equally good; the seed picks among them."""
    max_shift_semitones: float = 24.0
    """Transposition is clamped to this many semitones either way."""
    snap_window_s: float = 0.04
    """With ``snap_to_beats``, a note start this close to a grid point moves onto it."""
    snap_division: int = 4
    """Grid points per beat for ``snap_to_beats`` (4: sixteenths in 4/4)."""
    release_s: float = 0.015
    """Fade at a note's end with the envelope on."""
    click_s: float = 0.002
    """Fade at a note's end with it off, and at every note's start (no click)."""
    loop_s: float = 0.3
    """A grain shorter than its note loops over about this much of its end (after its attack),
    a whole number of its periods long, so the jump back is seamless."""
    grain_fade_s: float = 0.005
    """Every grain fades out over its last this many seconds (grains are cut where the style
    sound falls under the split level, not at silence)."""
    max_boost_db: float = 24.0
    """Most a window is raised over the level its grain's RMS would need (a quiet tail is not
    blown up to the note's level)."""
    follow_range_db: float = 12.0
    """Range of the envelope-following gain, either way."""
    chunk_samples: int = 1 << 20
    """Window samples rendered at once (bounds the render's temporary memory to some 80 MB)."""


DEFAULT_SYNTH_PARAMS = SynthParams()


@dataclass(frozen=True)
class RemixPlan:
    """The notes of a stem and the grain each plays, from :func:`remix_plan`.

    Attributes
    ----------
    starts, ends : np.ndarray, shape (n_notes,), int64
        Each note's first sample and the sample after its last, at the stem's rate; sorted,
        ``starts[i] < ends[i] <= starts[i + 1]``.
    grains : np.ndarray, shape (n_notes,), int64
        The library grain each note plays; never the same twice in a row (unless the library
        holds one grain).
    f0_hz : np.ndarray, shape (n_notes,), float32
        The note's pitch (median of its voiced frames); NaN for unvoiced notes and drums.
    """

    starts: NDArray[np.int64]
    ends: NDArray[np.int64]
    grains: NDArray[np.int64]
    f0_hz: NDArray[np.float32]

    @property
    def n_notes(self) -> int:
        return int(self.starts.shape[0])
