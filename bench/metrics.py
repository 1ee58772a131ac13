"""Signal-to-distortion ratio (SDR) of separated stems, as MUSDB18 / SiSEC 2018 score it.

What is computed
----------------
For a reference stem ``s`` and its estimate ``ŝ`` (all channels together), cut into
consecutive, non-overlapping frames of ``frame_s`` seconds (1 s by default)::

    SDR_frame = 10 · log10( Σ s² / Σ (s − ŝ)² )      sums over the frame's samples
                                                        and channels, in float64

This is the SDR that museval (BSS Eval v4, ``museval.evaluate``, used for the MUSDB18
leaderboards) reports per frame in its default "images" mode: there, the
time-invariant distortion filters split the error ``ŝ − s`` into spatial,
interference and artefact parts, but the SDR's denominator is their sum, which is
``ŝ − s`` itself, so the filters drop out and this closed form gives the same
number without them (ISR, SIR and SAR are not computed here). The conventions
follow museval's too:

- frames are ``floor(frame_s · sr)`` samples; a trailing partial frame is dropped,
  and a signal shorter than one frame is one frame;
- a frame where the reference or the estimate is all zeros (digital silence) scores
  NaN and is left out of the median (museval tests the sum over channels; here
  every sample of every channel must be zero, which differs only for exactly
  antiphase stereo);
- a frame with zero error scores +inf;
- the estimate is zero-padded or cut to the reference's length.

One difference: ``museval.eval_mus_track`` scores the four stems of a track in one
call, so a frame where *any* reference stem is silent is NaN for all of them; here
each stem is scored alone and only its own silence (or its estimate's) counts.

A track's score is the median over its frames (:func:`median_sdr`); MUSDB18 then
reports, per stem, the median over tracks. :func:`sdr_global` gives the
whole-track ratio used by the Music Demixing Challenge 2021 instead.
"""

from __future__ import annotations

import numpy as np


def _prepare(reference: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate, make (channels, n) and fit the estimate to the reference's length."""
    reference = np.asarray(reference)
    estimate = np.asarray(estimate)
    if reference.ndim not in (1, 2) or estimate.ndim != reference.ndim:
        raise ValueError(
            f"reference and estimate must both be (n,) or (channels, n); got {reference.shape} and {estimate.shape}"
        )
    reference = np.atleast_2d(reference)
    estimate = np.atleast_2d(estimate)
    if reference.shape[0] != estimate.shape[0]:
        raise ValueError(f"channel counts differ: reference {reference.shape[0]}, estimate {estimate.shape[0]}")
    if reference.shape[1] == 0:
        raise ValueError("reference is empty")
    n = reference.shape[1]
    if estimate.shape[1] != n:
        fitted = np.zeros_like(estimate, shape=reference.shape)
        m = min(n, estimate.shape[1])
        fitted[:, :m] = estimate[:, :m]
        estimate = fitted
    return reference, estimate


def sdr_framewise(*, reference: np.ndarray, estimate: np.ndarray, sr: int, frame_s: float = 1.0) -> np.ndarray:
    """SDR of ``estimate`` against ``reference`` in each frame, in dB.

    See the module docstring for exactly what is computed.

    Parameters
    ----------
    reference : np.ndarray, shape (channels, n) or (n,)
        The true stem.
    estimate : np.ndarray, shape (channels, m) or (m,)
        The separated stem; same number of channels, zero-padded or cut to ``n``.
    sr : int
        Sample rate in Hz.
    frame_s : float
        Frame length (and hop) in seconds.

    Returns
    -------
    np.ndarray, shape (n_frames,), float64
        SDR per frame in dB; NaN where the reference or the estimate frame is
        digital silence, +inf where the estimate is exact.

    Raises
    ------
    ValueError
        On mismatched shapes, an empty reference, or a non-positive ``sr`` or
        ``frame_s``.
    """
    if sr <= 0 or frame_s <= 0:
        raise ValueError("sr and frame_s must be positive")
    reference, estimate = _prepare(reference, estimate)
    n = reference.shape[1]
    window = max(int(np.floor(frame_s * sr)), 1)
    if window >= n:
        n_frames, window = 1, n
    else:
        n_frames = (n - window) // window + 1

    # Frame by frame in float64, so a long track never needs a float64 copy of itself.
    out = np.empty(n_frames)
    for t in range(n_frames):
        ref = reference[:, t * window : (t + 1) * window].astype(np.float64)
        est = estimate[:, t * window : (t + 1) * window].astype(np.float64)
        if not ref.any() or not est.any():
            out[t] = np.nan
            continue
        signal_energy = np.sum(ref * ref)
        error_energy = np.sum((est - ref) ** 2)
        out[t] = np.inf if error_energy == 0 else 10 * np.log10(signal_energy / error_energy)
    return out


def median_sdr(*, reference: np.ndarray, estimate: np.ndarray, sr: int, frame_s: float = 1.0) -> float:
    """Median of :func:`sdr_framewise` over the frames that are not silent, in dB.

    Parameters
    ----------
    reference, estimate, sr, frame_s
        As for :func:`sdr_framewise`.

    Returns
    -------
    float
        The median SDR in dB; NaN if every frame is silent.
    """
    frames = sdr_framewise(reference=reference, estimate=estimate, sr=sr, frame_s=frame_s)
    scored = frames[~np.isnan(frames)]
    return float(np.median(scored)) if scored.size else float("nan")


def sdr_global(*, reference: np.ndarray, estimate: np.ndarray) -> float:
    """Whole-track SDR ``10 log10(Σ s² / Σ (s − ŝ)²)`` in dB, as in the MDX 2021 challenge.

    No silence handling: NaN if the reference is all zeros, +inf if the estimate
    is exact. Shapes as for :func:`sdr_framewise`.

    Returns
    -------
    float
    """
    reference, estimate = _prepare(reference, estimate)
    signal_energy = 0.0
    error_energy = 0.0
    step = 1 << 20  # in blocks, to stay in float64 without a full copy
    for start in range(0, reference.shape[1], step):
        ref = reference[:, start : start + step].astype(np.float64)
        est = estimate[:, start : start + step].astype(np.float64)
        signal_energy += float(np.sum(ref * ref))
        error_energy += float(np.sum((est - ref) ** 2))
    if signal_energy == 0:
        return float("nan")
    if error_energy == 0:
        return float("inf")
    return float(10 * np.log10(signal_energy / error_energy))
