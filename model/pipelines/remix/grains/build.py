"""Steps 1 and 2 of :mod:`model.pipelines.remix.grains`: :func:`grain_library_build`.

A style sound is split into grains by level, each trimmed to the sample, long regions cut and
short ones dropped (``_regions``); every descriptor is computed once over the whole sound and
reduced per grain with index arithmetic (``_frames_in_grains``, ``_group_median``,
``_attack_s``). :class:`GrainParams` holds every tuning knob, with its unit; :class:`NoGrains` is
a sound with no grain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from model.pipelines.remix.grains.library import GrainLibrary
from model.pipelines.remix.pitch import pitch_track

__all__ = [
    "DEFAULT_GRAIN_PARAMS",
    "MAX_GRAINS",
    "MIN_GRAIN_SAMPLES",
    "GrainParams",
    "NoGrains",
    "grain_library_build",
]

#: Shortest grain kept, in samples (11.6 ms at :data:`LIBRARY_SR`): shorter sounds are clicks.
MIN_GRAIN_SAMPLES = 512
#: Most grains in one library: past it the loudest are kept. A grain choice's KD-tree over
#: 4000 points answers in microseconds, and a two-minute sound rarely has more sounding events.
MAX_GRAINS = 4000


class NoGrains(ValueError):
    """The sound has no grain of at least ``min_grain_samples`` samples (silence, clicks)."""


@dataclass(frozen=True, slots=True)
class GrainParams:
    """Tuning of :func:`grain_library_build`; times in seconds, frequencies in Hz, levels in dB."""

    top_db: float = 20.0
    """A region sounds where its RMS (2048-sample frames) is within this of the loudest frame."""
    silence_dbfs: float = -80.0
    """A sound whose peak is below this (full scale 1.0) is silent: no grains (``split`` alone
    would find digital silence all "sounding", its reference being silence too)."""
    min_grain_samples: int = MIN_GRAIN_SAMPLES
    """Grains shorter than this, in samples, are dropped."""
    max_grain_s: float = 2.0
    """Longer sounding regions are cut into equal pieces no longer than this."""
    max_grains: int = MAX_GRAINS
    """Past this many grains, the loudest (by RMS) are kept, in time order."""
    n_mfcc: int = 13
    """MFCCs per grain (the first is the log energy)."""
    n_mels: int = 64
    """Mel bands the MFCCs are computed from."""
    n_fft: int = 2048
    """STFT window in samples (46 ms at 44.1 kHz) for the centroid and the MFCCs."""
    hop_length: int = 256
    """Hop in samples (5.8 ms at 44.1 kHz) of the STFT and of the pitch track."""
    fmin_hz: float = 32.7
    fmax_hz: float = 2093.0
    """Pitch range of the grains' f0 (C1-C7)."""
    attack_window_s: float = 0.005
    """Window of the RMS envelope the attack is read from."""
    attack_hop_s: float = 0.001
    """Resolution of the attack time."""
    attack_fraction: float = 0.9
    """The attack ends where the envelope first reaches this share of the grain's peak."""


DEFAULT_GRAIN_PARAMS = GrainParams()


def grain_library_build(
    *,
    audio: np.ndarray,
    sr: int,
    params: GrainParams = DEFAULT_GRAIN_PARAMS,
    progress: Callable[[float], None] | None = None,
) -> GrainLibrary:
    """Cut a style sound into grains and describe each.

    Parameters
    ----------
    audio : np.ndarray, shape (n_samples,), float
        The style sound, mono, at ``sr`` (:data:`LIBRARY_SR` as the grain-library job decodes
        it).
    sr : int
        Its sample rate in Hz.
    params : GrainParams
        The tuning.
    progress : callable, optional
        See Callback.

    Returns
    -------
    GrainLibrary
        The grains in time order, at most ``params.max_grains``.

    Raises
    ------
    NoGrains
        Silence, or no sounding region of at least ``params.min_grain_samples`` samples.
    ValueError
        ``audio`` not 1-D, empty or not finite; ``sr`` not positive.

    Callback
    --------
    ``progress(fraction)`` with ``fraction`` rising from 0.0 to 1.0: after the split (0.1),
    the pitch track (0.6), the spectra (0.85) and at the end (1.0).
    """
    import librosa

    report = progress or (lambda _fraction: None)
    x = np.asarray(audio)
    if x.ndim != 1 or x.shape[0] == 0 or not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"audio must be a non-empty float array of shape (n_samples,), got {x.dtype} {x.shape}")
    if sr <= 0:
        raise ValueError(f"sr must be positive, got {sr}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not np.isfinite(x).all():
        raise ValueError("audio holds NaN or infinite samples")
    report(0.0)

    starts, ends = _regions(x, sr=sr, params=params)
    if starts.size == 0:
        raise NoGrains(f"the sound has no grain of at least {params.min_grain_samples} samples")
    report(0.1)

    hop = params.hop_length
    track = pitch_track(audio=x, sr=sr, fmin_hz=params.fmin_hz, fmax_hz=params.fmax_hz, hop_length=hop)
    report(0.6)
    grain_of, frame_of = _frames_in_grains(starts, ends, n_frames=track.n_frames, hop=hop)
    n = starts.size
    frames_per_grain = np.bincount(grain_of, minlength=n)
    voiced = track.voiced[frame_of]
    voicing = np.bincount(grain_of, weights=voiced, minlength=n) / frames_per_grain
    f0 = _group_median(grain_of[voiced], track.f0_hz[frame_of[voiced]].astype(np.float64), n_groups=n)

    energy = np.concatenate(([0.0], np.cumsum(np.square(x, dtype=np.float64))))
    rms = np.sqrt((energy[ends] - energy[starts]) / (ends - starts))

    magnitude = np.abs(librosa.stft(x, n_fft=params.n_fft, hop_length=hop, center=True))
    freqs = librosa.fft_frequencies(sr=sr, n_fft=params.n_fft)
    weighted = np.bincount(grain_of, weights=(freqs @ magnitude)[frame_of], minlength=n)
    total = np.bincount(grain_of, weights=magnitude.sum(axis=0)[frame_of], minlength=n)
    centroid = np.divide(weighted, total, out=np.zeros(n), where=total > 0)
    mel = librosa.feature.melspectrogram(S=magnitude**2, sr=sr, n_mels=params.n_mels)
    mfcc_frames = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=params.n_mfcc)[:, frame_of]
    mfcc = np.stack([np.bincount(grain_of, weights=row, minlength=n) for row in mfcc_frames], axis=1)
    mfcc /= frames_per_grain[:, None]
    report(0.85)

    attack = _attack_s(x, energy, starts, ends, sr=sr, params=params)

    if n > params.max_grains:  # the loudest, in time order
        keep = np.sort(np.argsort(-rms, kind="stable")[: params.max_grains])
        starts, ends, f0, voicing, rms, centroid, mfcc, attack = (
            a[keep] for a in (starts, ends, f0, voicing, rms, centroid, mfcc, attack)
        )
    lengths = (ends - starts).astype(np.int64)
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    pieces = np.concatenate([x[s:e] for s, e in zip(starts, ends, strict=True)])
    library = GrainLibrary(
        sr=int(sr),
        audio=pieces.astype(np.float32, copy=False),
        starts=offsets,
        lengths=lengths,
        source_s=(starts / sr).astype(np.float32),
        f0_hz=f0.astype(np.float32),
        voicing=voicing.astype(np.float32),
        rms=rms.astype(np.float32),
        centroid_hz=centroid.astype(np.float32),
        mfcc=mfcc.astype(np.float32),
        attack_s=attack.astype(np.float32),
    )
    report(1.0)
    return library


def _regions(x: NDArray[np.float32], *, sr: int, params: GrainParams) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) in samples of the grains: split, trimmed to the sample, cut, filtered."""
    import librosa

    if np.max(np.abs(x)) < 10 ** (params.silence_dbfs / 20):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    frame_length, hop = 2048, 512
    intervals = librosa.effects.split(x, top_db=params.top_db, frame_length=frame_length, hop_length=hop)
    if intervals.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # The same level split used (top_db under the loudest frame's RMS), to the sample.
    loudest = float(np.max(librosa.feature.rms(y=x, frame_length=frame_length, hop_length=hop)))
    above = np.flatnonzero(np.abs(x) >= loudest * 10 ** (-params.top_db / 20))
    first = np.searchsorted(above, intervals[:, 0], side="left")
    last = np.searchsorted(above, intervals[:, 1], side="left") - 1
    sounding = last >= first
    starts = above[first[sounding]].astype(np.int64)
    ends = above[last[sounding]].astype(np.int64) + 1

    # Regions longer than max_grain_s: equal pieces.
    max_len = max(1, round(params.max_grain_s * sr))
    pieces = np.maximum(1, -(-(ends - starts) // max_len))
    owner = np.repeat(np.arange(starts.size), pieces)
    index = np.arange(owner.size) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    span = ends[owner] - starts[owner]
    cut_starts = starts[owner] + (span * index) // pieces[owner]
    cut_ends = starts[owner] + (span * (index + 1)) // pieces[owner]
    long_enough = cut_ends - cut_starts >= params.min_grain_samples
    return cut_starts[long_enough], cut_ends[long_enough]


def _frames_in_grains(
    starts: np.ndarray, ends: np.ndarray, *, n_frames: int, hop: int
) -> tuple[np.ndarray, np.ndarray]:
    """(grain, frame) pairs: every frame centred (at ``frame * hop``) inside a grain, and for a
    grain with none, the frame nearest its middle. Sorted by grain."""
    centres = np.arange(n_frames) * hop
    owner = np.searchsorted(starts, centres, side="right") - 1
    inside = (owner >= 0) & (centres < ends[np.maximum(owner, 0)])
    grain_of, frame_of = owner[inside], np.flatnonzero(inside)
    empty = np.flatnonzero(np.bincount(grain_of, minlength=starts.size) == 0)
    if empty.size:
        nearest = np.clip(np.round((starts[empty] + ends[empty]) / 2 / hop).astype(np.int64), 0, n_frames - 1)
        grain_of = np.concatenate((grain_of, empty))
        frame_of = np.concatenate((frame_of, nearest))
        order = np.argsort(grain_of, kind="stable")
        grain_of, frame_of = grain_of[order], frame_of[order]
    return grain_of, frame_of


def _group_median(groups: np.ndarray, values: np.ndarray, *, n_groups: int) -> np.ndarray:
    """Median of ``values`` per group id in 0..n_groups - 1; NaN for a group with no value."""
    out = np.full(n_groups, np.nan)
    if groups.size == 0:
        return out
    order = np.lexsort((values, groups))
    ordered = values[order]
    counts = np.bincount(groups, minlength=n_groups)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    has = counts > 0
    lower = ordered[first[has] + (counts[has] - 1) // 2]
    upper = ordered[first[has] + counts[has] // 2]
    out[has] = 0.5 * (lower + upper)
    return out


def _attack_s(
    x: np.ndarray, energy: np.ndarray, starts: np.ndarray, ends: np.ndarray, *, sr: int, params: GrainParams
) -> np.ndarray:
    """Seconds from each grain's start to the first point of its RMS envelope at
    ``attack_fraction`` of the envelope's peak. The envelope's windows are clipped to the
    grain's own samples, so neither silence before it nor its neighbour counts."""
    hop = max(1, round(params.attack_hop_s * sr))
    half = max(1, round(params.attack_window_s * sr / 2))
    counts = -(-(ends - starts) // hop)  # envelope points per grain, at start, start + hop, ...
    grain_of = np.repeat(np.arange(starts.size), counts)
    offset = (np.arange(grain_of.size) - np.repeat(np.cumsum(counts) - counts, counts)) * hop
    centre = starts[grain_of] + offset
    lo = np.maximum(centre - half, starts[grain_of])
    hi = np.minimum(centre + half, ends[grain_of])
    envelope = np.sqrt((energy[hi] - energy[lo]) / (hi - lo))
    group_first = np.cumsum(counts) - counts
    peak = np.maximum.reduceat(envelope, group_first)
    reached = envelope >= params.attack_fraction * peak[grain_of]
    first = np.minimum.reduceat(np.where(reached, offset, np.iinfo(np.int64).max), group_first)
    return first / sr
