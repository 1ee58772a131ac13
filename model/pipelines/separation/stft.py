"""STFT primitives of the DSP split, and the input guard every split applies.

:func:`stft` and :func:`istft` are a centred STFT with a periodic Hann window and
its weighted overlap-add inverse, in float32/complex64 throughout (scipy's FFT,
several workers); :func:`frame_sizes` turns a window length in seconds into a
power-of-two FFT size and a hop. :func:`as_stereo` validates a ``(channels,
n_samples)`` signal before any split sees it.
"""

from __future__ import annotations

import os

import numpy as np
from numpy.typing import NDArray
from scipy import fft as sp_fft

__all__ = ["FloatArray", "as_stereo", "frame_sizes", "istft", "stft"]

FloatArray = NDArray[np.float32]

_WORKERS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1))

_FRAME_BLOCK = 256


def frame_sizes(sr: int, frame_s: float, overlap: int) -> tuple[int, int]:
    """``(n_fft, hop)``: ``frame_s`` seconds rounded to a power of two, over ``overlap``."""
    n_fft = int(2 ** round(np.log2(frame_s * sr)))
    return n_fft, n_fft // overlap


def stft(x: FloatArray, *, n_fft: int, hop: int) -> NDArray[np.complex64]:
    """Centred STFT with a periodic Hann window.

    Parameters
    ----------
    x : np.ndarray, shape (channels, n_samples), float32

    Returns
    -------
    np.ndarray, shape (channels, n_frames, n_fft // 2 + 1), complex64
        Frame ``t`` is centred on sample ``t * hop``.
    """
    n = x.shape[-1]
    pad = n_fft // 2
    n_frames = 1 + -(-n // hop)
    total = (n_frames - 1) * hop + n_fft
    xp = np.zeros((x.shape[0], total), dtype=np.float32)
    xp[:, pad : pad + n] = x
    frames = np.lib.stride_tricks.sliding_window_view(xp, n_fft, axis=-1)[:, ::hop]
    # scipy's FFT keeps float32 (numpy's is far slower on float32 batches).
    return sp_fft.rfft(frames * _hann(n_fft), axis=-1, workers=_WORKERS)


def istft(spec: NDArray[np.complex64], *, n_fft: int, hop: int, n_samples: int) -> FloatArray:
    """Inverse of :func:`stft` (weighted overlap-add), shape (channels, n_samples)."""
    channels, n_frames, _ = spec.shape
    window = _hann(n_fft)
    per = n_fft // hop
    blocks = np.zeros((channels, n_frames + per - 1, hop), dtype=np.float32)
    norm = np.zeros((n_frames + per - 1, hop), dtype=np.float32)
    w2 = (window * window).reshape(per, hop)
    # Blocks of frames keep the temporaries small (and out of fresh mmap pages).
    for t0 in range(0, n_frames, _FRAME_BLOCK):
        t1 = min(n_frames, t0 + _FRAME_BLOCK)
        frames = sp_fft.irfft(spec[:, t0:t1], n=n_fft, axis=-1, workers=_WORKERS)
        frames *= window
        frames = frames.reshape(channels, t1 - t0, per, hop)
        for j in range(per):  # overlap-add one hop-sized slice of every frame at a time
            blocks[:, t0 + j : t1 + j] += frames[:, :, j]
    for j in range(per):
        norm[j : j + n_frames] += w2[j]
    pad = n_fft // 2
    y = blocks.reshape(channels, -1) / np.maximum(norm.reshape(-1), 1e-8)
    return y[:, pad : pad + n_samples].astype(np.float32, copy=False)


def _hann(n: int) -> FloatArray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)


def as_stereo(audio: np.ndarray, name: str) -> FloatArray:
    """``audio`` as float32 (1 or 2, n_samples); ValueError (naming ``name``) otherwise."""
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] not in (1, 2) or x.shape[1] == 0:
        raise ValueError(f"{name} must have shape (2, n_samples), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite samples")
    return x
