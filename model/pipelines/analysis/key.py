"""The song's key: a key profile correlated with the song's mean chroma.

:func:`estimate_key` averages the harmonic chroma over the song's sounding frames (each frame
scaled to its largest bin first, so loud passages do not outvote quiet ones), correlates it
with the 24 rotations of a major and a minor key profile (Krumhansl-Kessler's probe-tone
ratings, or Temperley's corpus profiles) and returns the best. Its confidence is the margin
of the best correlation over the second best, ``key_confidence_margin`` of margin mapping to
1; a song whose relative major and minor fit almost equally well (the same notes) gets a low
confidence, as it should.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from model.pipelines.analysis.params import AnalysisParams

__all__ = ["KEY_PROFILES", "KeyEstimate", "estimate_key", "key_name"]

# Pitch classes from C; flats where a key signature usually has them.
_MAJOR_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MINOR_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")

#: Major and minor profiles, tonic first.
KEY_PROFILES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    # Krumhansl & Kessler (1982), probe-tone ratings.
    "krumhansl": (
        (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88),
        (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17),
    ),
    # Temperley (2001), from the Kostka-Payne corpus.
    "temperley": (
        (5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0),
        (5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0),
    ),
}

# Frames quieter than this, relative to the loudest frame's chroma energy, are left out.
_SILENT_FRAME_DB = -60.0


@dataclass(frozen=True, slots=True)
class KeyEstimate:
    """``name`` such as ``"A minor"`` (``""`` without harmonic content) and ``confidence`` 0..1."""

    name: str
    confidence: float


NO_KEY = KeyEstimate("", 0.0)


def key_name(tonic: int, mode: str) -> str:
    """English key name: ``key_name(9, "minor") == "A minor"``, ``key_name(6, "major") == "F# major"``."""
    names = _MAJOR_NAMES if mode == "major" else _MINOR_NAMES
    return f"{names[tonic % 12]} {mode}"


def estimate_key(chroma: NDArray[np.float32], params: AnalysisParams) -> KeyEstimate:
    """The key of a song from its chroma.

    Parameters
    ----------
    chroma : np.ndarray, shape (n_frames, 12)
        Magnitude chroma per frame, pitch class 0 = C.
    params : AnalysisParams
        ``key_profile`` and ``key_confidence_margin`` are read.

    Returns
    -------
    KeyEstimate
        :data:`NO_KEY` when no frame has harmonic energy.
    """
    profile = _summary(chroma)
    if profile is None:
        return NO_KEY
    scores = _correlations(profile, params.key_profile)  # (2, 12): major, minor by tonic
    order = np.argsort(scores, axis=None)[::-1]
    best, second = scores.flat[order[0]], scores.flat[order[1]]
    mode_index, tonic = divmod(int(order[0]), 12)
    confidence = float(np.clip((best - second) / params.key_confidence_margin, 0.0, 1.0))
    return KeyEstimate(key_name(tonic, ("major", "minor")[mode_index]), confidence)


def _summary(chroma: NDArray[np.float32]) -> NDArray[np.float64] | None:
    """Mean of the sounding frames' chroma, each frame scaled to its largest bin."""
    if chroma.size == 0:
        return None
    magnitude = np.maximum(chroma.astype(np.float64), 0.0)
    energy = magnitude.sum(axis=1)
    if not np.any(energy > 0):
        return None
    sounding = energy > energy.max() * 10.0 ** (_SILENT_FRAME_DB / 20.0)
    frames = magnitude[sounding]
    frames /= frames.max(axis=1, keepdims=True)
    summary = frames.mean(axis=0)
    return summary if np.ptp(summary) > 0 else None


def _correlations(profile: NDArray[np.float64], name: str) -> NDArray[np.float64]:
    """Pearson correlation of ``profile`` with every major and minor key, shape (2, 12)."""
    major, minor = (np.asarray(p) for p in KEY_PROFILES[name])
    # Row t of the template matrix is the profile with its tonic moved to pitch class t.
    templates = np.stack([np.stack([np.roll(p, t) for t in range(12)]) for p in (major, minor)])  # (2, 12, 12)
    x = profile - profile.mean()
    t = templates - templates.mean(axis=-1, keepdims=True)
    return (t @ x) / (np.linalg.norm(t, axis=-1) * np.linalg.norm(x))
