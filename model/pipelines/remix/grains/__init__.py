"""Grain libraries: a style sound cut into grains, each described for the grain choice.

:func:`grain_library_build` takes a style sound (mono, :data:`LIBRARY_SR`):

1. **Grains.** ``librosa.effects.split`` (``top_db`` below the loudest frame) finds the
   sounding regions at its frame resolution (2048-sample frames, 512 hop); each region is then
   trimmed to its first and last sample at or above that same level, so a grain starts on its
   attack and a 100-sample click stays 100 samples long. Regions longer than ``max_grain_s``
   are cut into equal pieces; grains shorter than ``min_grain_samples`` are dropped. Past
   ``max_grains`` grains the loudest are kept.
2. **Descriptors**, each computed once over the whole sound and reduced per grain with index
   arithmetic (``np.bincount`` over the frames whose centres lie in a grain; a grain shorter
   than a hop takes the frame nearest its middle):

   - ``f0_hz`` / ``voicing``: one :func:`~model.pipelines.remix.pitch.pitch_track` pass; the
     median f0 of a grain's voiced frames and the share of its frames that are voiced;
   - ``rms``: exact, from a cumulative sum of squares over the grain's samples;
   - ``centroid_hz`` and ``mfcc``: one STFT (``n_fft``, ``hop_length``) and its mel
     spectrogram; the centroid of the grain's summed magnitude spectrum, the mean of its
     frames' MFCCs;
   - ``attack_s``: an RMS envelope (``attack_window_s``, every ``attack_hop_s``) clipped to
     the grain's own samples; the time from the grain's start to the first envelope point at
     ``attack_fraction`` of its peak.

A :class:`GrainLibrary` is stored as an ``.npz`` of plain arrays (:meth:`GrainLibrary.to_npz`),
never pickled; :meth:`GrainLibrary.from_npz` checks every key, dtype, shape and bound before it
trusts one (the bytes come back from storage or a cache).

Where each part lives:

- :mod:`~model.pipelines.remix.grains.library`: :data:`LIBRARY_SR`, :data:`MAX_LIBRARY_SAMPLES`,
  :class:`GrainLibrary` and its ``.npz``: :meth:`~GrainLibrary.to_npz`,
  :meth:`~GrainLibrary.from_npz` and the checks of every header before anything is allocated;
- :mod:`~model.pipelines.remix.grains.build`: :data:`MIN_GRAIN_SAMPLES`, :data:`MAX_GRAINS`,
  :class:`GrainParams`, :data:`DEFAULT_GRAIN_PARAMS`, :class:`NoGrains` and
  :func:`grain_library_build` (steps 1 and 2).
"""

from __future__ import annotations

from model.pipelines.remix.grains.build import (
    DEFAULT_GRAIN_PARAMS,
    MAX_GRAINS,
    MIN_GRAIN_SAMPLES,
    GrainParams,
    NoGrains,
    grain_library_build,
)
from model.pipelines.remix.grains.library import LIBRARY_SR, MAX_LIBRARY_SAMPLES, GrainLibrary

__all__ = [
    "DEFAULT_GRAIN_PARAMS",
    "LIBRARY_SR",
    "MAX_GRAINS",
    "MAX_LIBRARY_SAMPLES",
    "MIN_GRAIN_SAMPLES",
    "GrainLibrary",
    "GrainParams",
    "NoGrains",
    "grain_library_build",
]
