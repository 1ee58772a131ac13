"""Multichannel Wiener refinement of stereo source estimates.

The last step of :func:`~model.pipelines.separation.split_accompaniment`: the
masked estimates give each stem a power spectrogram and a per-frequency stereo
covariance, and one multichannel Wiener filter (Duong et al. 2010, as in
Nugraha / Liutkus' norbert) re-distributes the mixture between them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["wiener"]


def wiener(
    mix: NDArray[np.complex64], estimates: list[NDArray[np.complex64]], *, iterations: int
) -> list[NDArray[np.complex64]]:
    """Multichannel Wiener refinement of stereo source estimates.

    Each source ``j`` is modelled as a zero-mean Gaussian with power
    spectrogram ``v_j(t, f)`` (channel-mean power of its estimate) and a
    time-invariant 2 x 2 spatial covariance ``R_j(f)`` (its estimate's channel
    covariance summed over frames, over ``sum_t v_j``); the new estimate is
    ``v_j R_j (sum_k v_k R_k)^-1 mix``. The last source is implicit: the
    remainder ``mix - sum(estimates)``.

    Parameters
    ----------
    mix : np.ndarray, shape (2, frames, bins), complex64
        The two channels (any basis: left/right or mid/side).
    estimates : list of np.ndarray, each shape (2, frames, bins), complex64
        All sources but the remainder.
    iterations : int
        Passes; each uses the previous pass's estimates.

    Returns
    -------
    list of np.ndarray, like ``estimates``
    """
    eps = np.float32(1e-10)
    sources = [*estimates, mix - sum(estimates)]
    for _ in range(iterations):
        power, cov = [], []
        for y in sources:
            p0 = y[0].real ** 2 + y[0].imag ** 2
            p1 = y[1].real ** 2 + y[1].imag ** 2
            v = 0.5 * (p0 + p1)
            norm = v.sum(axis=0) + eps
            cov.append((p0.sum(axis=0) / norm, p1.sum(axis=0) / norm, (y[0] * np.conj(y[1])).sum(axis=0) / norm))
            power.append(v)
        # Mixture covariance [[a, c], [c*, b]] per bin, and its inverse applied to the mix.
        a = sum(v * r[0] for v, r in zip(power, cov, strict=True)) + eps
        b = sum(v * r[1] for v, r in zip(power, cov, strict=True)) + eps
        c = sum(v * r[2] for v, r in zip(power, cov, strict=True))
        det = np.maximum(a * b - (c.real**2 + c.imag**2), eps * (a + b))
        z0 = (b * mix[0] - c * mix[1]) / det
        z1 = (a * mix[1] - np.conj(c) * mix[0]) / det
        refined = [
            np.stack([v * (r[0] * z0 + r[2] * z1), v * (np.conj(r[2]) * z0 + r[1] * z1)]).astype(np.complex64)
            for v, r in zip(power[:-1], cov[:-1], strict=True)
        ]
        sources = [*refined, mix - sum(refined)]
    return sources[:-1]
