"""The lyrics engine's constants and decoding settings."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_COMPUTE_TYPES", "DEFAULT_WHISPER_PARAMS", "DEVICES", "MAX_TOKENS", "SR", "WhisperParams"]

SR = 16_000
"""Whisper hears 16 kHz mono."""
DEVICES: tuple[str, ...] = ("cpu", "cuda")
DEFAULT_COMPUTE_TYPES = {"cpu": "int8", "cuda": "float16"}
MAX_TOKENS = 448
"""Whisper's decoder context: prompt, text and end token together."""


@dataclass(frozen=True, slots=True)
class WhisperParams:
    """Decoding settings against songs' failure modes; times in seconds."""

    beam_size: int = 5
    """Beam width of the transcription (the rough pass of :meth:`WhisperEngine.align` is greedy)."""
    temperatures: tuple[float, ...] = (0.0, 0.4)
    """Decoding temperatures, tried in order while a window fails its checks: one retry only,
    since sampling rarely rescues a song window and each retry costs a decode."""
    rough_temperatures: tuple[float, ...] = (0.0,)
    """The rough pass of :meth:`WhisperEngine.align`: greedy, no retry. A retry at 0.4 when it
    loops cost ~40 % more time on our Portuguese test songs and placed no word better: the loop
    is cut (:func:`~model.pipelines.lyrics.guards.cut_ngram_loops`) and the lines are shared out
    by voice time where the rough text says little."""
    max_tokens_per_s: float = 10.0
    """Text tokens allowed per second of voice in a window (fast rap is ~7); a loop stops there."""
    rough_max_tokens_per_s: float = 6.0
    """The same for the rough pass, which needs anchors, not every word."""
    sampling_seed: int = 0
    """Seed of CTranslate2's sampler, set before each sampled decode."""
    best_of: int = 3
    """Samples drawn at a non-zero temperature (the most probable is kept)."""
    fallback_logprob: float = -1.0
    """A decode below this mean token log-probability is retried at the next temperature..."""
    fallback_compression_ratio: float = 2.4
    """...as is one whose text compresses better than this (a loop)."""
    no_speech_prob: float = 0.6
    """A window at least this likely silent, and below ``fallback_logprob``, is not retried."""
    language_windows: int = 3
    """:meth:`WhisperEngine.detect_language` listens to at most this many windows, most voiced
    first (:meth:`WhisperEngine.transcribe` lets every window vote, as it encodes them all)..."""
    language_sure: float = 0.9
    """...and stops as soon as one language has this probability."""
    excluded_languages: tuple[str, ...] = ("la",)
    """Never the answer: Whisper scores unclear, synthetic or sung Romance-language audio as Latin
    (Brazilian Portuguese most of all, in our tests), and songs in Latin are rare enough that the
    next language is the better bet. A caller who means Latin names it."""
    vad_threshold: float = 0.35
    """Silero's speech probability threshold: below its default 0.5, since singing scores lower
    than speech."""
    vad_min_silence_ms: int = 600
    """A pause must last this long to end a detected region (sung phrases breathe shortly)."""
    vad_speech_pad_ms: int = 200
    """Kept around each detected region."""
    vad_min_speech_ms: int = 100
    """Shorter detections are dropped."""


DEFAULT_WHISPER_PARAMS = WhisperParams()
