"""The seed's re-synthesis, the baseline of the remix rows: one untransposed grain per onset, linear decay.

This is what the system IsoMix was designed from did, kept small and documented so the rows can
measure against it in the same run:

- onsets from ``librosa.onset.onset_detect`` (``delta`` 0.06, its other defaults), on the mono
  downmix;
- per onset, one grain of the library drawn at random (seeded), played from its start at its own
  pitch and rate (the library's rate is assumed to be the stem's), for at most ``grain_ms`` and
  never past the next onset;
- a linear decay from 1 to 0 over that length, and one gain that gives it the original's RMS
  over the same samples;
- both channels the same.

No pitch contour, no envelope following, no filling of long notes: a sustained note is one grain
long.
"""

from __future__ import annotations

import numpy as np

from model.pipelines.remix.grains import GrainLibrary

__all__ = ["seed_remix"]


def seed_remix(
    *, audio: np.ndarray, sr: int, library: GrainLibrary, grain_ms: float = 120.0, seed: int = 0
) -> np.ndarray:
    """Re-voice ``audio`` (channels, n) the seed's way; float32 (2, n)."""
    import librosa

    mono = np.asarray(audio, dtype=np.float32)
    mono = mono.mean(axis=0) if mono.ndim == 2 else mono
    n = mono.shape[0]
    onsets = librosa.onset.onset_detect(y=mono, sr=sr, delta=0.06, units="samples")
    rng = np.random.default_rng(seed)
    out = np.zeros(n, dtype=np.float32)
    limit = max(1, round(grain_ms / 1000 * sr))
    for start, stop in zip(onsets, np.append(onsets[1:], n), strict=True):
        grain = library.grain(int(rng.integers(library.n_grains)))
        length = int(min(grain.shape[0], limit, stop - start))
        if length <= 0:
            continue
        piece = grain[:length] * np.linspace(1.0, 0.0, length, dtype=np.float32)
        have = float(np.sqrt(np.mean(piece.astype(np.float64) ** 2)))
        want = float(np.sqrt(np.mean(mono[start : start + length].astype(np.float64) ** 2)))
        if have > 0:
            out[start : start + length] += piece * np.float32(want / have)
    return np.stack([out, out])
