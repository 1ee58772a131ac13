"""One window of a song through Whisper: encode it once, vote on its language, decode its text,
force words onto it. Functions of a loaded faster-whisper model; the engine strings them together.

ctranslate2 and faster_whisper are imported inside the functions (see the package's docstring).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from model.engines.base import EngineError
from model.engines.whisper_engine.params import MAX_TOKENS, SR, WhisperParams
from model.engines.whisper_engine.song import Song
from model.pipelines.lyrics import align as text_align
from model.pipelines.lyrics import timing
from model.pipelines.lyrics.guards import GuardParams, compression_ratio, cut_ngram_loops
from model.pipelines.lyrics.lines import LineParams, split_phrases
from model.pipelines.lyrics.types import Segment, Word
from model.pipelines.lyrics.windows import VoiceClock, Window

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer

__all__ = ["Decoded", "decode", "encode", "force_align", "transcribe_window", "vote"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Decoded:
    tokens: list[int]
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


def encode(model: WhisperModel, audio: np.ndarray, window: Window) -> Any:
    from faster_whisper.audio import pad_or_trim

    a, b = int(round(window.start * SR)), int(round(window.end * SR))
    features = model.feature_extractor(audio[a:b])
    try:
        return model.encode(pad_or_trim(features))
    except RuntimeError as exc:
        raise EngineError(f"Whisper encoder failed: {exc}") from exc


def vote(
    model: WhisperModel,
    votes: Sequence[tuple[Any, float]],
    *,
    params: WhisperParams,
    languages: Collection[str] | None = None,
) -> tuple[str, float]:
    """The language the windows' encoder outputs agree on, weighted (by seconds of voice).

    Each window's language distribution is averaged with its weight; languages in
    :attr:`WhisperParams.excluded_languages`, and those not in ``languages`` when it is given,
    are left out and the rest renormalised.
    """
    if not model.model.is_multilingual:
        return "en", 1.0
    total: dict[str, float] = {}
    for encoded, weight in votes:
        try:
            ranked = model.model.detect_language(encoded)[0]
        except RuntimeError as exc:
            raise EngineError(f"Whisper language detection failed: {exc}") from exc
        for token, probability in ranked:
            code = token[2:-2]
            if code not in params.excluded_languages and (languages is None or code in languages):
                total[code] = total.get(code, 0.0) + max(weight, 1e-3) * float(probability)
    if not total:
        raise ValueError(f"Whisper knows none of the languages {sorted(languages or ())}")
    norm = sum(total.values()) or 1.0
    code = max(total, key=total.__getitem__)
    return code, total[code] / norm


def decode(
    model: WhisperModel, tokenizer: Tokenizer, encoded: Any, window: Window, *, rough: bool, params: WhisperParams
) -> Decoded:
    """One window's text, with a limited temperature fallback.

    ``rough`` (the first pass of :meth:`WhisperEngine.align`): greedy, retried at
    :attr:`WhisperParams.rough_temperatures` only if it loops, one sample each; else beam
    search retried on a loop or a low log-probability, best of
    :attr:`WhisperParams.best_of` samples. Either way the text is capped at
    :attr:`WhisperParams.max_tokens_per_s` per second of voice, so a loop costs little.
    """
    from faster_whisper.transcribe import get_suppressed_tokens

    p = params
    prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    per_s = p.rough_max_tokens_per_s if rough else p.max_tokens_per_s
    new_tokens = int(per_s * max(window.voiced_s, 1.0)) + 16
    common = {
        "max_length": min(MAX_TOKENS, len(prompt) + new_tokens),
        "return_scores": True,
        "return_no_speech_prob": True,
        "suppress_blank": True,
        "suppress_tokens": list(get_suppressed_tokens(tokenizer, [-1])),
    }
    temperatures = p.rough_temperatures if rough else p.temperatures
    tried: list[Decoded] = []
    for temperature in temperatures:
        if temperature > 0:
            import ctranslate2

            ctranslate2.set_random_seed(p.sampling_seed)  # the same song gives the same lyrics
            kwargs = {
                "beam_size": 1,
                "num_hypotheses": 1 if rough else p.best_of,
                "sampling_topk": 0,
                "sampling_temperature": temperature,
            }
        else:
            kwargs = {"beam_size": 1 if rough else p.beam_size, "patience": 1.0}
        try:
            result = model.model.generate(encoded, [prompt], **common, **kwargs)[0]
        except RuntimeError as exc:
            raise EngineError(f"Whisper decoding failed: {exc}") from exc
        tokens = list(result.sequences_ids[0])
        # CTranslate2 returns the length-normalised score; Whisper's avg_logprob divides the
        # summed log-probability by the length plus the end token.
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        text = tokenizer.decode(tokens).strip()
        decoded = Decoded(tokens, text, avg_logprob, float(result.no_speech_prob), compression_ratio(text))
        tried.append(decoded)
        loops = decoded.compression_ratio > p.fallback_compression_ratio
        unsure = not rough and avg_logprob < p.fallback_logprob
        silent = decoded.no_speech_prob > p.no_speech_prob and avg_logprob < p.fallback_logprob
        if silent or not (loops or unsure):
            return decoded
    below = [d for d in tried if d.compression_ratio <= p.fallback_compression_ratio]
    return max(below or tried, key=lambda d: d.avg_logprob)


def force_align(
    model: WhisperModel, tokenizer: Tokenizer, encoded: Any, window: Window, words: list[str]
) -> tuple[np.ndarray, np.ndarray] | None:
    """Song-time (starts, ends) of ``words`` in ``window``, or None if they cannot be aligned."""
    token_lists = [tokenizer.encode(" " + w) or [tokenizer.eot] for w in words]
    counts = [len(t) for t in token_lists]
    flat = [t for tokens in token_lists for t in tokens]
    budget = MAX_TOKENS - len(tokenizer.sot_sequence) - 2  # <|notimestamps|> and the end token
    if len(flat) > budget:
        logger.warning("A %.1f s window has %d tokens, more than Whisper aligns at once", window.duration_s, len(flat))
        return None
    num_frames = min(3000, max(1, int(round(window.duration_s * SR / model.feature_extractor.hop_length))))
    try:
        result = model.model.align(encoded, tokenizer.sot_sequence, [flat], num_frames, median_filter_width=7)[0]
    except RuntimeError as exc:
        raise EngineError(f"Whisper alignment failed: {exc}") from exc
    path = np.asarray(result.alignments, dtype=np.int64).reshape(-1, 2)
    starts, ends = timing.word_times_from_alignment(
        counts, text_indices=path[:, 0], time_indices=path[:, 1], tokens_per_second=model.tokens_per_second
    )
    return window.start + starts, window.start + ends


def transcribe_window(
    model: WhisperModel,
    tokenizer: Tokenizer,
    encoded: Any,
    window: Window,
    song: Song,
    *,
    params: WhisperParams,
    guards: GuardParams,
    lines: LineParams,
    timing_params: timing.TimingParams,
) -> list[Segment]:
    """One window's phrases with timed words, scored for the guards.

    Decoded without timestamp tokens: with them Whisper often stops at a timestamp before the
    window's last phrase, expecting the next window to start there, and each window here is
    heard once. The phrases come from the aligned words instead (pauses, sentence marks).
    """
    decoded = decode(model, tokenizer, encoded, window, rough=False, params=params)
    # Loops are cut on the whole window's text: split into phrases first, a looping line
    # would be copies in separate phrases, each too short to look like a loop.
    text = cut_ngram_loops(Segment(window.start, window.end, decoded.text), params=guards).text
    words = text_align.split_words(text)
    if not words:
        return []
    timed = force_align(model, tokenizer, encoded, window, words)
    if timed is None:
        spread = text_align.spread_over_voice(
            [len(w) for w in words], window=window, clock=VoiceClock.from_windows([window])
        )
        starts, ends = spread[:, 0], spread[:, 1]
    else:
        starts, ends = timing.snap_to_voice(*timed, rms_db=song.rms_db, levels=song.levels, params=timing_params)
    starts, ends = timing.clamp_times(starts, ends, duration_s=song.duration_s, params=timing_params)
    timed_words = [Word(w, float(a), float(b)) for w, a, b in zip(words, starts, ends, strict=True)]
    segments = []
    for phrase in split_phrases(timed_words, params=lines):
        text = " ".join(w.word for w in phrase)
        segments.append(
            Segment(
                start=phrase[0].start,
                end=phrase[-1].end,
                text=text,
                words=phrase,
                avg_logprob=decoded.avg_logprob,
                no_speech_prob=decoded.no_speech_prob,
                compression_ratio=compression_ratio(text),
            )
        )
    return segments
