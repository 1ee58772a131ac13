"""The entry points: :func:`analyse` one song, :func:`warm_up` a worker."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from model.pipelines.analysis.beats import estimate_beats
from model.pipelines.analysis.features import FloatArray, song_features
from model.pipelines.analysis.key import NO_KEY, estimate_key
from model.pipelines.analysis.loudness import integrated_loudness, sample_peak_dbfs
from model.pipelines.analysis.params import AnalysisParams, AnalysisResult

__all__ = ["MIN_DURATION_S", "analyse", "warm_up"]

#: Shorter input gets its loudness and peak but no beats, meter or key.
MIN_DURATION_S = 2.0

_DEFAULT_PARAMS = AnalysisParams()


def analyse(
    *,
    mix: np.ndarray,
    sr: int,
    drums: np.ndarray | None = None,
    params: AnalysisParams = _DEFAULT_PARAMS,
    progress: Callable[[float], None] | None = None,
) -> AnalysisResult:
    """Tempo, beats, downbeats, meter, key and loudness of a song.

    Parameters
    ----------
    mix : np.ndarray, shape (channels, n_samples), float32
        The song at ``sr``, full scale 1.0 (float64 is converted).
    sr : int
        Sample rate of ``mix`` and ``drums`` in Hz.
    drums : np.ndarray, shape (channels, n_samples), float32, optional
        The song's separated drums stem, as long as ``mix`` (any channel count). When given,
        the beats follow its onsets (the mix's voice and chords blur them) and the key and the
        chord changes are read from the mix less the drums.
    params : AnalysisParams
        Tuning; the defaults suit popular music.
    progress : callable, optional
        See Callback.

    Returns
    -------
    AnalysisResult
        Loudness and peak always come from the mix. Silence, or input shorter than
        :data:`MIN_DURATION_S`, has tempo 0.0, no beats, ``"4/4"``, key ``""`` and key
        confidence 0.0.

    Raises
    ------
    ValueError
        ``sr`` is not positive, ``mix`` or ``drums`` is not a non-empty 2-D array of finite
        samples, or ``drums`` differs from ``mix`` in length.

    Callback
    --------
    ``progress(fraction)`` is called with fractions from 0.0 to 1.0, ascending, ending with
    1.0; it runs on the caller's thread and should return quickly.
    """
    x = _checked(mix, "mix")
    d = _checked(drums, "drums") if drums is not None else None
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ValueError(f"sr must be a positive integer, got {sr!r}")
    if d is not None and d.shape[1] != x.shape[1]:
        raise ValueError(f"drums has {d.shape[1]} samples, mix {x.shape[1]}: they must be the same length")
    sr = int(sr)
    report = progress or (lambda fraction: None)

    report(0.0)
    loudness = integrated_loudness(x, sr=sr)
    peak = sample_peak_dbfs(x)
    report(0.2)
    if x.shape[1] < MIN_DURATION_S * sr or peak <= -120.0:
        report(1.0)
        return AnalysisResult(0.0, [], [], "4/4", NO_KEY.name, NO_KEY.confidence, loudness, peak)

    features = song_features(mix=x, sr=sr, drums=d, params=params)
    report(0.6)
    beats = estimate_beats(features, params)
    report(0.9)
    key = estimate_key(features.chroma, params)
    report(1.0)
    return AnalysisResult(
        tempo_bpm=beats.tempo_bpm,
        beats=beats.beats.tolist(),
        downbeats=beats.downbeats.tolist(),
        time_signature=beats.time_signature,
        key=key.name,
        key_confidence=key.confidence,
        loudness_lufs=loudness,
        peak_dbfs=peak,
    )


def warm_up() -> None:
    """Compile the analysis' numba kernels (the beat tracker's dynamic program, the loudness
    filter) and build its filter banks on a few seconds of clicks, so the first song a worker
    analyses does not pay for them. Safe to call more than once."""
    sr = 22050
    t = np.arange(4 * sr) / sr
    clicks = (np.sin(2 * np.pi * 220.0 * t) * np.exp(-(t % 0.5) * 40.0)).astype(np.float32)
    audio = np.stack([clicks, clicks])
    analyse(mix=audio, sr=sr, drums=audio)


def _checked(audio: np.ndarray, name: str) -> FloatArray:
    """``audio`` as float32 (channels, n_samples); ValueError (naming ``name``) otherwise."""
    x = np.asarray(audio)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must have shape (channels, n_samples), got {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        # Integer PCM has no agreed full scale here: the decoder hands over floats.
        raise ValueError(f"{name} must hold floating-point samples, got dtype {x.dtype}")
    x = x.astype(np.float32, copy=False)
    # One float64 sum is finite exactly when every sample is (it cannot overflow from float32
    # samples), and needs no song-sized temporary.
    if not np.isfinite(x.sum(dtype=np.float64)):
        raise ValueError(f"{name} contains NaN or infinite samples")
    return x
