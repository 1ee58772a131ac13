"""The separation-engine interface.

Light on purpose: the web process imports this module (through
:mod:`model.engines`), so it must not import torch, demucs or SciPy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

ProgressFn = Callable[[float], None]
"""``progress(fraction)``: fraction 0..1 of the separation step done."""

FOUR_STEMS: tuple[str, ...] = ("vocals", "drums", "bass", "other")
SIX_STEMS: tuple[str, ...] = ("vocals", "drums", "bass", "other", "guitar", "piano")


class EngineError(Exception):
    """A separation engine failed (model missing or broken, inference error).

    The message is technical, for operators and logs; callers map it to a
    human message for the user.
    """


@runtime_checkable
class SeparationEngine(Protocol):
    """Something that splits a stereo song into stems.

    Attributes
    ----------
    name : str
        Engine id recorded on the project, e.g. ``"offline"`` or ``"htdemucs"``.
    model_name : str
        The model actually used, e.g. ``"spleeter-2stems+net"`` or ``"htdemucs"``.
    stems : tuple of str
        Stem names :meth:`separate` returns, in display order.
    """

    name: str
    model_name: str
    stems: tuple[str, ...]

    def separate(self, audio: np.ndarray, *, sr: int, progress: ProgressFn | None = None) -> dict[str, np.ndarray]:
        """Separate a song.

        Parameters
        ----------
        audio : np.ndarray, shape (2, n_samples), float32
            Stereo waveform in [-1, 1]; engines also accept mono as shape
            ``(1, n_samples)`` or ``(n_samples,)`` and treat it as both channels.
        sr : int
            Sample rate in Hz (any common rate; engines resample internally).
        progress : callable, optional
            See Callback.

        Returns
        -------
        dict of str to np.ndarray
            One entry per name in :attr:`stems`, each shape (2, n_samples),
            float32, at ``sr``.

        Raises
        ------
        ValueError
            If ``audio`` or ``sr`` is unusable (wrong shape, empty, not finite).
        EngineError
            If the model fails.

        Callback
        --------
        ``progress(fraction)`` with ``fraction`` non-decreasing in [0, 1],
        called a few times per chunk and with 1.0 at the end.
        """
        ...


def validate_audio(audio: np.ndarray, *, sr: int) -> np.ndarray:
    """Check and normalise engine input to float32 stereo.

    Parameters
    ----------
    audio : np.ndarray, shape (2, n_samples), (1, n_samples) or (n_samples,)
    sr : int
        Sample rate in Hz, 8 kHz to 192 kHz.

    Returns
    -------
    np.ndarray, shape (2, n_samples), float32, C-contiguous
        Mono input is duplicated to both channels.

    Raises
    ------
    ValueError
        On a bad shape, an empty signal, NaN/inf samples, or a bad ``sr``.
    """
    if not isinstance(sr, (int, np.integer)) or not 8000 <= sr <= 192000:
        raise ValueError(f"sr must be an integer between 8000 and 192000 Hz, got {sr!r}")
    x = np.asarray(audio)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] not in (1, 2):
        raise ValueError(f"audio must have shape (2, n_samples), got {x.shape}")
    if x.shape[1] == 0:
        raise ValueError("audio is empty")
    x = x.astype(np.float32, copy=False)
    if not np.all(np.isfinite(x)):
        raise ValueError("audio contains NaN or infinite samples")
    if x.shape[0] == 1:
        x = np.repeat(x, 2, axis=0)
    return np.ascontiguousarray(x)


def two_stems_of(stems: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Vocals and an instrumental (the sum of every other stem), from an engine's stems.

    The inputs are consumed: the instrumental is accumulated in place of the first other stem.
    """
    rest = [name for name in stems if name != "vocals"]
    instrumental = stems[rest[0]]
    for name in rest[1:]:
        instrumental += stems[name]
    return {"vocals": stems["vocals"], "instrumental": instrumental}
