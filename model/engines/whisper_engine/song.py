"""A song as the lyrics engine hears it: checked audio, its frame levels and its voice windows."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from model.engines.whisper_engine.params import SR, WhisperParams
from model.pipelines.lyrics.windows import (
    Levels,
    Window,
    WindowParams,
    active_regions,
    frame_rms_db,
    pack_windows,
    song_levels,
)

__all__ = ["Song", "song_prepare"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Song:
    audio: np.ndarray
    duration_s: float
    rms_db: np.ndarray
    levels: Levels
    windows: list[Window]


def song_prepare(audio: np.ndarray, *, params: WhisperParams, window_params: WindowParams) -> Song:
    """``audio`` (mono 16 kHz) checked, with where its voice is, packed into Whisper windows.

    Raises
    ------
    ValueError
        On audio that is not mono, is empty, or holds NaN or infinite samples.
    """
    x = _validate_audio(audio)
    rms_db = frame_rms_db(x, sr=SR)
    levels = song_levels(rms_db)
    speech = _vad(x, params=params) if levels.voiced_db >= window_params.silent_song_db else []
    regions = active_regions(rms_db, levels=levels, speech=speech, params=window_params)
    duration_s = x.size / SR
    windows = pack_windows(regions, rms_db=rms_db, duration_s=duration_s, params=window_params)
    return Song(audio=x, duration_s=duration_s, rms_db=rms_db, levels=levels, windows=windows)


def _vad(audio: np.ndarray, *, params: WhisperParams) -> list[tuple[float, float]]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(
        threshold=params.vad_threshold,
        min_silence_duration_ms=params.vad_min_silence_ms,
        speech_pad_ms=params.vad_speech_pad_ms,
        min_speech_duration_ms=params.vad_min_speech_ms,
    )
    try:
        chunks = get_speech_timestamps(audio, options, sampling_rate=SR)
    except (RuntimeError, OSError, ImportError) as exc:
        # The level alone still finds the voice in a vocals stem; worse, not broken.
        logger.warning("Voice-activity detection failed, using the level only: %s", exc)
        return []
    return [(c["start"] / SR, c["end"] / SR) for c in chunks]


def _validate_audio(audio: np.ndarray) -> np.ndarray:
    x = np.asarray(audio)
    if x.ndim != 1:
        raise ValueError(f"audio must be mono 16 kHz, shape (n_samples,), got {x.shape}")
    if x.size == 0:
        raise ValueError("audio is empty")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not np.all(np.isfinite(x)):
        raise ValueError("audio contains NaN or infinite samples")
    return x
