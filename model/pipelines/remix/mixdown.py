"""The remix's mix: :func:`remix_mixdown` sums the stems, sets the loudness, limits the peaks.

1. **Sum.** Each (2, n) stem times its gain (dB), summed in float32 into one buffer.
2. **Loudness.** Integrated loudness by BS.1770-4
   (:func:`~model.pipelines.analysis.loudness.integrated_loudness`, K-weighted, gated), and one
   gain that brings it to ``target_lufs``.
3. **Peak limit.** Wherever a sample would pass ``peak_dbfs``, a look-ahead gain pulls it down:
   the gain each sample needs (``ceiling / |x|``, at most 1, over both channels) is taken as a
   running minimum over :data:`LOOKAHEAD_S` either side, then smoothed by a running mean of the
   same width. Every smoothed value is a mean of minima whose windows all hold the sample it
   applies to, so it never exceeds the gain that sample needs: no sample passes the ceiling,
   and the gain moves over ~10 ms ramps instead of clipping single samples (no distortion on
   isolated peaks). Limiting lowers the loudness a little; the loudness gain and the limit are
   applied again (at most :data:`PASSES` times in all) until the loudness is within
   :data:`TOLERANCE_LU` of the target or the limiter has nothing left to do. A final clip at the
   ceiling guards against float rounding.

Silence (every block under BS.1770's absolute gate) comes back as silence: there is no
loudness to normalise.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from model.pipelines.analysis.loudness import LOUDNESS_FLOOR_LUFS, integrated_loudness

__all__ = ["LOOKAHEAD_S", "PASSES", "TOLERANCE_LU", "remix_mixdown"]

#: Half-width of the limiter's look-ahead (and of its gain smoothing), in seconds.
LOOKAHEAD_S = 0.005
#: Most loudness-and-limit passes.
PASSES = 4
#: Loudness within this of the target (LU) ends the passes early.
TOLERANCE_LU = 0.1
_BLOCK = 1 << 20  # samples the limiter works on at once


def remix_mixdown(
    *,
    stems: Mapping[str, np.ndarray],
    gains_db: Mapping[str, float],
    sr: int,
    target_lufs: float = -14.0,
    peak_dbfs: float = -1.0,
) -> NDArray[np.float32]:
    """Sum ``stems`` with their gains, normalise the loudness, limit the peaks.

    Parameters
    ----------
    stems : mapping of str to np.ndarray, shape (2, n_samples), float
        The stems to mix (re-voiced and original), all the same shape, at ``sr``.
    gains_db : mapping of str to float
        Gain of each stem in dB; a stem missing here plays at 0 dB. Every value must be finite.
    sr : int
        Sample rate in Hz.
    target_lufs : float
        Integrated loudness of the mix, in LUFS (BS.1770-4).
    peak_dbfs : float
        No sample of the mix passes this, in dBFS (sample peak), at most 0.

    Returns
    -------
    np.ndarray, shape (2, n_samples), float32
        The mix; silence when the stems are silent.

    Raises
    ------
    ValueError
        No stems, stems of different or non-stereo shapes, a non-finite sample or gain, a gain
        for a stem not given, ``sr`` not positive, ``peak_dbfs`` above 0.
    """
    if not stems:
        raise ValueError("no stems to mix")
    if sr <= 0:
        raise ValueError(f"sr must be positive, got {sr}")
    if not peak_dbfs <= 0.0 or not np.isfinite(target_lufs):
        raise ValueError(f"peak_dbfs must be at most 0 and target_lufs finite, got {peak_dbfs}, {target_lufs}")
    unknown = sorted(set(gains_db) - set(stems))
    if unknown:
        raise ValueError(f"gains for stems not given: {', '.join(unknown)}")
    shapes = {np.shape(stem) for stem in stems.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2 or next(iter(shapes))[0] != 2:
        raise ValueError(f"every stem must be (2, n) and the same shape, got {sorted(shapes)}")
    gains = {}
    for name in stems:
        gain_db = float(gains_db.get(name, 0.0))
        if not np.isfinite(gain_db):
            raise ValueError(f"gain of stem {name!r} is not finite")
        gains[name] = np.float32(10 ** (gain_db / 20))
    mix = np.zeros(next(iter(shapes)), dtype=np.float32)
    for lo in range(0, mix.shape[1], _BLOCK):  # in blocks: no stem-sized temporaries
        for name, stem in stems.items():
            block = np.asarray(stem[:, lo : lo + _BLOCK], dtype=np.float32)
            if not np.isfinite(block).all():
                raise ValueError(f"stem {name!r} holds NaN or infinite samples")
            mix[:, lo : lo + _BLOCK] += block * gains[name]
    if mix.shape[1] == 0:
        return mix

    ceiling = np.float32(10 ** (peak_dbfs / 20))
    if float(ceiling) > 10 ** (peak_dbfs / 20):  # float32 rounding must not lift the ceiling
        ceiling = np.nextafter(ceiling, np.float32(0))
    for _ in range(PASSES):
        loudness = integrated_loudness(mix, sr=sr)
        if loudness <= LOUDNESS_FLOOR_LUFS:
            return np.zeros_like(mix)
        if abs(loudness - target_lufs) > TOLERANCE_LU:
            mix *= np.float32(10 ** ((target_lufs - loudness) / 20))
        if not _limit(mix, ceiling=ceiling, width=2 * max(1, round(LOOKAHEAD_S * sr)) + 1):
            break
    np.clip(mix, -ceiling, ceiling, out=mix)
    return mix


def _limit(mix: np.ndarray, *, ceiling: np.float32, width: int) -> bool:
    """Pull ``mix`` (2, n) under ``ceiling`` in place with a look-ahead gain; False if it already was.

    In blocks of :data:`_BLOCK` samples, each read with ``width`` samples of context either side
    (the gain at a sample depends on the samples within ``width`` of it only), so the
    temporaries stay small however long the mix.
    """
    if max(float(mix.max()), -float(mix.min())) <= ceiling:
        return False
    n = mix.shape[1]
    for lo in range(0, n, _BLOCK):
        a, b = max(0, lo - width), min(n, lo + _BLOCK + width)
        block = mix[:, a:b]
        peak = np.maximum(np.abs(block[0]), np.abs(block[1]))
        need = np.minimum(np.float32(1.0), ceiling / np.maximum(peak, np.float32(1e-30)))
        # Running minimum, then running mean, both of width w: the mean at t averages minima over
        # windows that each contain t, so it is at most need[t].
        gain = ndimage.uniform_filter1d(ndimage.minimum_filter1d(need, width, mode="nearest"), width, mode="nearest")
        np.minimum(gain, need, out=gain)  # the mean's float rounding
        # Applied at once: the next block's left context is then already limited, but each of its
        # own samples still gets at most the gain it needs (its own need is in every window).
        mix[:, lo : min(n, lo + _BLOCK)] *= gain[lo - a : lo - a + min(_BLOCK, n - lo)]
    return True
