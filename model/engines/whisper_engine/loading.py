"""Loading the Whisper model (once per process and model folder, device, precision) and its tokenizer."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from model.engines.base import EngineError

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer

__all__ = ["model_get", "tokenizer_get"]

logger = logging.getLogger(__name__)

_models: dict[tuple[str, str, str], WhisperModel] = {}
_models_lock = threading.Lock()


def model_get(folder: Path, *, device: str, compute_type: str) -> WhisperModel:
    """The model in ``folder``, loaded on first use and kept for the process.

    Raises
    ------
    EngineError
        If faster-whisper is missing or the folder holds no loadable model.
    """
    key = (str(folder), device, compute_type)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            model = _load_model(folder, device=device, compute_type=compute_type)
            _models[key] = model
    return model


def tokenizer_get(model: WhisperModel, language: str) -> Tokenizer:
    """The transcription tokenizer of ``model`` for ``language`` (ValueError for an unknown code)."""
    from faster_whisper.tokenizer import Tokenizer

    try:
        return Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language)
    except ValueError as exc:
        raise ValueError(f"Unknown Whisper language code {language!r}") from exc


def _load_model(folder: Path, *, device: str, compute_type: str) -> WhisperModel:
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise EngineError("faster-whisper is not installed; install requirements-models.txt") from exc
    try:
        model = WhisperModel(str(folder), device=device, compute_type=compute_type, cpu_threads=_cpu_count())
    except (RuntimeError, ValueError, OSError) as exc:
        raise EngineError(f"Cannot load the Whisper model in {folder}: {exc}") from exc
    logger.info("Loaded Whisper model %s (%s, %s)", folder, device, compute_type)
    return model


def _cpu_count() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)
