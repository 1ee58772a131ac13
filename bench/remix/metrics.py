"""Scores of the remix rows: rhythm, pitch and loudness kept between an original stem and its re-voicing.

What is computed
----------------
- **Onset F-measure** (:func:`onset_f1`): the onsets of both signals by librosa's
  ``onset_detect`` with its defaults (not the synthesis' own detector, so the score does not
  grade the synthesis by its own yardstick), matched one-to-one within ±50 ms as
  ``mir_eval.onset.f_measure`` does (:func:`bench.karaoke.metrics.f_measure`).
- **Pitch error** (:func:`pitch_errors`): both signals through
  :func:`~model.pipelines.remix.pitch.pitch_track` (10 ms hop, the stem's range); on every frame
  the original is voiced, ``|1200 log2(f_revoiced / f_original)|`` cents, +inf where the
  re-voicing is unvoiced (a pitch lost is outside every tolerance). Frames within
  ``edge_s`` of a change of voicing in the original are left out (a frame straddling a note's
  end has no single right answer). :func:`share_within` and the median summarise.
- **Envelope correlation** (:func:`envelope_correlation`): Pearson's r between the RMS of
  consecutive 50 ms blocks of the two mono downmixes.
"""

from __future__ import annotations

import numpy as np

from bench.karaoke.metrics import f_measure

__all__ = ["PITCH_RANGES_HZ", "envelope_correlation", "onset_f1", "onsets_s", "pitch_errors", "share_within"]

#: The pitch range each stem is tracked over (as the synthesis tracks it).
PITCH_RANGES_HZ = {"bass": (30.0, 500.0), "other": (65.0, 2093.0)}


def _mono(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x.mean(axis=0) if x.ndim == 2 else x


def onsets_s(audio: np.ndarray, *, sr: int) -> np.ndarray:
    """librosa's onsets of ``audio`` with its defaults, in seconds."""
    import librosa

    return librosa.onset.onset_detect(y=_mono(audio), sr=sr, units="time")


def onset_f1(*, original: np.ndarray, revoiced: np.ndarray, sr: int, window_s: float = 0.05) -> float:
    """F-measure of the re-voiced stem's onsets against the original's, within ``±window_s``."""
    return f_measure(reference=onsets_s(original, sr=sr), estimate=onsets_s(revoiced, sr=sr), window_s=window_s)


def pitch_errors(*, original: np.ndarray, revoiced: np.ndarray, sr: int, kind: str, edge_s: float = 0.02) -> np.ndarray:
    """Cents from the original's pitch on each of its voiced frames (+inf where the re-voicing is unvoiced)."""
    from model.pipelines.remix.pitch import pitch_track

    fmin, fmax = PITCH_RANGES_HZ[kind]
    hop = round(0.01 * sr)
    ref = pitch_track(audio=_mono(original), sr=sr, fmin_hz=fmin, fmax_hz=fmax, hop_length=hop)
    est = pitch_track(audio=_mono(revoiced), sr=sr, fmin_hz=fmin, fmax_hz=fmax, hop_length=hop)
    edge = max(0, round(edge_s * sr / hop))
    keep = ref.voiced.copy()
    if edge:
        changes = np.flatnonzero(np.diff(ref.voiced.astype(np.int8)) != 0) + 1
        for shift in range(-edge, edge):
            keep[np.clip(changes + shift, 0, keep.size - 1)] = False
    cents = np.full(int(keep.sum()), np.inf)
    both = est.voiced[keep]
    cents[both] = np.abs(1200 * np.log2(est.f0_hz[keep][both] / ref.f0_hz[keep][both]))
    return cents


def share_within(errors: np.ndarray, tolerance: float) -> float:
    """Share of ``errors`` at or below ``tolerance``; NaN when there are none."""
    return float(np.mean(errors <= tolerance)) if errors.size else float("nan")


def envelope_correlation(*, original: np.ndarray, revoiced: np.ndarray, sr: int, block_s: float = 0.05) -> float:
    """Pearson's r of the 50 ms block RMS of the two signals (NaN if either is constant)."""
    block = max(1, round(block_s * sr))
    a, b = _mono(original), _mono(revoiced)
    n = min(a.shape[0], b.shape[0]) // block * block
    ea = np.sqrt(np.mean(a[:n].reshape(-1, block).astype(np.float64) ** 2, axis=1))
    eb = np.sqrt(np.mean(b[:n].reshape(-1, block).astype(np.float64) ** 2, axis=1))
    if ea.std() == 0 or eb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ea, eb)[0, 1])
