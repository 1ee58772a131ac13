"""Step 3 of :mod:`model.pipelines.remix.synth`: the grain choice.

The notes' and the library's descriptors (log RMS, log centroid, MFCCs), z-scored within each
side, a ``scipy.spatial.cKDTree`` for each note's nearest grains, and :func:`grains_choose`: one
grain among the nearest's near-ties, drawn with the seed, never the grain the previous note played.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from model.pipelines.remix.synth.params import SynthParams

if TYPE_CHECKING:
    from model.pipelines.remix.grains import GrainLibrary

__all__ = ["grains_choose"]


def grains_choose(
    *, candidates: np.ndarray, distances: np.ndarray, rng: np.random.Generator, tie_margin: float
) -> NDArray[np.int64]:
    """One grain per note from its nearest candidates, never the previous note's grain.

    Parameters
    ----------
    candidates : np.ndarray, shape (n_notes, k), int
        Grain indices per note, nearest first.
    distances : np.ndarray, shape (n_notes, k), float
        Their distances.
    rng : np.random.Generator
        Picks among the candidates within ``tie_margin`` of the nearest allowed one; one draw
        per note, so the choice is a pure function of the seed.
    tie_margin : float
        In distance units.

    Returns
    -------
    np.ndarray, shape (n_notes,), int64
        A grain differs from the one before it whenever its row offers another.
    """
    candidates = np.asarray(candidates, dtype=np.int64)
    distances = np.asarray(distances, dtype=np.float64)
    draws = rng.random(candidates.shape[0])
    out = np.empty(candidates.shape[0], dtype=np.int64)
    previous = -1
    for j in range(candidates.shape[0]):
        row, dist = candidates[j], distances[j]
        allowed = row != previous
        if not allowed.any():
            pick = int(row[0])
        else:
            row, dist = row[allowed], dist[allowed]
            ties = row[dist <= dist.min() + tie_margin]
            pick = int(ties[int(draws[j] * ties.shape[0])])
        out[j] = previous = pick
    return out


def _library_descriptors(library: GrainLibrary, *, params: SynthParams) -> tuple[np.ndarray, np.ndarray]:
    """(z-scored timbre rows like :func:`_note_timbre`'s, log2 f0 with NaN for unvoiced grains)."""
    mfcc = np.asarray(library.mfcc, dtype=np.float64)[:, 1 : 1 + params.n_timbre_mfcc]
    if mfcc.shape[1] < params.n_timbre_mfcc:
        mfcc = np.pad(mfcc, ((0, 0), (0, params.n_timbre_mfcc - mfcc.shape[1])))
    timbre = np.column_stack((
        np.log(np.maximum(np.asarray(library.rms, dtype=np.float64), 1e-6)),
        np.log(np.maximum(np.asarray(library.centroid_hz, dtype=np.float64), 1.0)),
        mfcc,
    ))  # fmt: skip
    f0 = np.asarray(library.f0_hz, dtype=np.float64)
    voiced = np.isfinite(f0) & (f0 > 0) & (np.asarray(library.voicing) >= 0.5)
    return _descriptors(timbre, params=params), np.where(voiced, np.log2(np.where(voiced, f0, 1.0)), np.nan)


def _descriptors(raw: np.ndarray, *, params: SynthParams) -> np.ndarray:
    """Columns (log RMS, log centroid, MFCCs) z-scored, the MFCCs then weighted by
    :attr:`SynthParams.mfcc_weight`; a (near) constant column becomes zeros."""
    centred = raw - raw.mean(axis=0)
    spread = centred.std(axis=0)
    out = np.divide(centred, spread, out=np.zeros_like(centred), where=spread > 1e-9 * (1 + np.abs(raw).max(axis=0)))
    out[:, 2:] *= params.mfcc_weight
    return out


def _nearest(points: np.ndarray, queries: np.ndarray, *, k: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.spatial import cKDTree

    dist, index = cKDTree(points).query(queries, k=k)
    return np.asarray(index, dtype=np.int64).reshape(queries.shape[0], k), np.asarray(dist).reshape(queries.shape[0], k)
