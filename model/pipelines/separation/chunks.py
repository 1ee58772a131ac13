"""The crossfading chunker the engines and the DSP splits share.

:func:`process_in_chunks` runs any separator over overlapping chunks of a long
signal and blends the outputs with complementary raised-cosine fades, which
bounds memory for long songs and keeps "the stems sum to the input".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from model.pipelines.separation.stft import FloatArray

__all__ = ["ProgressFn", "process_in_chunks"]

ProgressFn = Callable[[float], None]


def process_in_chunks(
    audio: np.ndarray,
    *,
    chunk_samples: int,
    overlap_samples: int,
    fn: Callable[[FloatArray], dict[str, FloatArray]],
    progress: ProgressFn | None = None,
) -> dict[str, FloatArray]:
    """Run a separator over overlapping chunks and crossfade the results.

    Parameters
    ----------
    audio : np.ndarray, shape (channels, n_samples), float32
    chunk_samples : int
        Length of each chunk, in samples (the last one is moved back to end at
        the end of the signal, so every chunk but a lone one has this length).
    overlap_samples : int
        Minimum overlap between neighbouring chunks, in samples; the outputs are
        blended there with complementary raised-cosine fades (they sum to one,
        so if every chunk's stems sum to its input, the result's stems sum to
        ``audio``).
    fn : callable
        ``fn(chunk) -> {stem: array}``, each array shaped like ``chunk``.
    progress : callable, optional
        See Callback.

    Returns
    -------
    dict of str to np.ndarray, each shape (channels, n_samples), float32

    Callback
    --------
    ``progress(fraction)`` after each chunk, ``fraction`` the share of chunks
    done, in (0, 1].
    """
    n = audio.shape[-1]
    if overlap_samples < 0 or chunk_samples <= 2 * overlap_samples:
        raise ValueError("chunk_samples must exceed twice overlap_samples (>= 0)")
    if n <= chunk_samples:
        out = fn(audio)
        if progress is not None:
            progress(1.0)
        return out
    step = chunk_samples - overlap_samples
    starts = list(range(0, n - chunk_samples, step)) + [n - chunk_samples]
    result: dict[str, FloatArray] = {}
    for k, start in enumerate(starts):
        end = start + chunk_samples
        weight = np.ones(chunk_samples, dtype=np.float32)
        if k > 0:  # fade in over the overlap with the previous chunk
            ov = starts[k - 1] + chunk_samples - start
            weight[:ov] = _fade_in(ov)
        if k + 1 < len(starts):  # fade out over the overlap with the next chunk
            ov = end - starts[k + 1]
            weight[chunk_samples - ov :] *= 1 - _fade_in(ov)
        stems = fn(audio[:, start:end])
        for name, y in stems.items():
            if name not in result:
                result[name] = np.zeros((y.shape[0], n), dtype=np.float32)
            result[name][:, start:end] += y * weight
        if progress is not None:
            progress((k + 1) / len(starts))
    return result


def _fade_in(n: int) -> FloatArray:
    t = (np.arange(n, dtype=np.float64) + 0.5) / n
    return (np.sin(0.5 * np.pi * t) ** 2).astype(np.float32)
