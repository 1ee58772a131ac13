"""The lyrics engine: faster-whisper transcription with word times, and forced alignment of known lyrics.

Both paths share one plan, built around Whisper's cost on a CPU (the encoder is most of it):

1. **Windows.** The vocals' frame level and Silero's voice-activity detector (shipped with
   faster-whisper, tuned so sung phrases are kept) find where the voice is; it is packed into
   windows of at most 30 s cut in pauses (:mod:`model.pipelines.lyrics.windows`). Each window is
   encoded **once**; that encoder output serves the language detection, the decoding and the word
   alignment.
2. **Transcription** (:meth:`WhisperEngine.transcribe`): each window is decoded on its own
   (beam search, ``condition_on_previous_text`` off so one bad window cannot poison the next,
   a limited temperature fallback), its words aligned with Whisper's cross-attention
   (CTranslate2's ``Whisper.align``, as faster-whisper's ``word_timestamps`` does), checked by the
   hallucination guards (:mod:`model.pipelines.lyrics.guards`) and grouped into lines.
3. **Alignment of the user's lyrics** (:meth:`WhisperEngine.align`): a fast greedy decode of each
   window gives a rough transcription; the user's words are aligned to it as text
   (:mod:`model.pipelines.lyrics.align`) to learn which window each is sung in; then each window's
   own user words are forced onto its encoder output with ``Whisper.align``, and the token path
   becomes word times, snapped out of pauses and clamped. The words are the user's; only the
   times come from the audio.

faster_whisper and ctranslate2 are imported inside functions only (the web process imports this
package's neighbours); the model loads once per process and (model folder, device, precision).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from model.engines.base import EngineError, ProgressFn
from model.engines.whisper_models import whisper_model_dir, whisper_model_name
from model.pipelines.lyrics import align as text_align
from model.pipelines.lyrics.guards import (
    DEFAULT_GUARD_PARAMS,
    GuardParams,
    apply_guards,
    compression_ratio,
    cut_ngram_loops,
)
from model.pipelines.lyrics.lines import DEFAULT_LINE_PARAMS, LineParams, group_lines, split_phrases
from model.pipelines.lyrics.types import Segment, Transcript, Word
from model.pipelines.lyrics.windows import (
    DEFAULT_WINDOW_PARAMS,
    Levels,
    VoiceClock,
    Window,
    WindowParams,
    active_regions,
    frame_rms_db,
    pack_windows,
    song_levels,
)

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer

__all__ = ["DEFAULT_WHISPER_PARAMS", "SR", "WhisperEngine", "WhisperParams", "whisper_engine_get"]

logger = logging.getLogger(__name__)

SR = 16_000
"""Whisper hears 16 kHz mono."""
DEVICES: tuple[str, ...] = ("cpu", "cuda")
DEFAULT_COMPUTE_TYPES = {"cpu": "int8", "cuda": "float16"}
_MAX_TOKENS = 448
"""Whisper's decoder context: prompt, text and end token together."""


@dataclass(frozen=True, slots=True)
class WhisperParams:
    """Decoding settings against songs' failure modes; times in seconds."""

    beam_size: int = 5
    """Beam width of the transcription (the rough pass of :meth:`WhisperEngine.align` is greedy)."""
    temperatures: tuple[float, ...] = (0.0, 0.4)
    """Decoding temperatures, tried in order while a window fails its checks: one retry only,
    since sampling rarely rescues a song window and each retry costs a decode."""
    rough_temperatures: tuple[float, ...] = (0.0, 0.4)
    """The rough pass of :meth:`WhisperEngine.align`: retried (one sample) only when it loops."""
    max_tokens_per_s: float = 10.0
    """Text tokens allowed per second of voice in a window (fast rap is ~7); a loop stops there."""
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

_models: dict[tuple[str, str, str], WhisperModel] = {}
_models_lock = threading.Lock()


@cache
def whisper_engine_get(
    *,
    model_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str],
    device: str = "cpu",
    compute_type: str | None = None,
) -> WhisperEngine:
    """The engine for these settings, one instance per process (the model loads on first use).

    Parameters
    ----------
    model_dir : path or None
        ``ISOMIX_WHISPER_MODEL_DIR``: a local CTranslate2 Whisper folder that replaces the bundled
        base (e.g. large-v3 in production).
    cache_dir : path
        ``ISOMIX_WHISPER_CACHE_DIR``: where the bundled base is joined.
    device : {"cpu", "cuda"}
        ``ISOMIX_WHISPER_DEVICE``.
    compute_type : str or None
        ``ISOMIX_WHISPER_COMPUTE_TYPE``; None (or "") for int8 on CPU, float16 on CUDA.

    Raises
    ------
    ValueError
        For an unknown device.
    """
    return WhisperEngine(model_dir=model_dir, cache_dir=cache_dir, device=device, compute_type=compute_type)


class WhisperEngine:
    """faster-whisper, for lyrics: transcription with word times, and alignment of known lyrics.

    Parameters
    ----------
    model_dir : path or None
        A local CTranslate2 Whisper model folder; None for the bundled multilingual base.
    cache_dir : path
        Where the bundled base is joined into ``model.bin`` (see
        :func:`~model.engines.whisper_models.whisper_model_dir`).
    device : {"cpu", "cuda"}
    compute_type : str or None
        CTranslate2 precision; None for int8 on CPU and float16 on CUDA.
    params, guards, lines, windows, alignment
        Tuning (see each class); the defaults are what production runs.

    Attributes
    ----------
    name : str
        ``"faster-whisper"``.
    model_name : str
        The model recorded with the lyrics, e.g. ``"whisper-base"``.
    """

    name = "faster-whisper"

    def __init__(
        self,
        *,
        model_dir: str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str],
        device: str = "cpu",
        compute_type: str | None = None,
        params: WhisperParams = DEFAULT_WHISPER_PARAMS,
        guards: GuardParams = DEFAULT_GUARD_PARAMS,
        lines: LineParams = DEFAULT_LINE_PARAMS,
        windows: WindowParams = DEFAULT_WINDOW_PARAMS,
        alignment: text_align.AlignParams = text_align.DEFAULT_ALIGN_PARAMS,
    ) -> None:
        if device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
        self.model_dir = model_dir or None
        self.cache_dir = Path(cache_dir)
        self.device = device
        self.compute_type = compute_type or DEFAULT_COMPUTE_TYPES[device]
        self.params = params
        self.guard_params = guards
        self.line_params = lines
        self.window_params = windows
        self.align_params = alignment
        self.model_name = whisper_model_name(model_dir=self.model_dir)

    # ------------------------------------------------------------------ public

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """The language sung in ``audio``, from its most voiced windows.

        The most voiced window is heard first; while no language reaches
        :attr:`WhisperParams.language_sure`, the next most voiced ones vote too (up to
        :attr:`WhisperParams.language_windows`, each weighted by its seconds of voice).

        Parameters
        ----------
        audio : np.ndarray, shape (n_samples,), float32
            The vocals, mono, 16 kHz, in [-1, 1].

        Returns
        -------
        (str, float)
            Whisper's language code ("en", "pt", ...) and its probability, 0..1, among the
            languages not in :attr:`WhisperParams.excluded_languages`. A song with no voice gives
            the model's guess on its first 30 s.

        Raises
        ------
        ValueError
            On unusable audio.
        EngineError
            If the model is missing or fails.
        """
        model = self._model()
        song = self._song(audio)
        if not song.windows:
            silent = Window(0.0, min(30.0, song.duration_s), ())
            return self._vote(model, [(self._encode(model, song.audio, silent), 1.0)])
        order = sorted(song.windows, key=lambda w: -w.voiced_s)[: self.params.language_windows]
        votes: list[tuple[Any, float]] = []
        for window in order:
            votes.append((self._encode(model, song.audio, window), window.voiced_s))
            language, probability = self._vote(model, votes)
            if probability >= self.params.language_sure:
                break
        return language, probability

    def transcribe(self, audio: np.ndarray, *, language: str | None, progress: ProgressFn | None = None) -> Transcript:
        """What is sung in ``audio``, as lines of timed words.

        Parameters
        ----------
        audio : np.ndarray, shape (n_samples,), float32
            The vocals stem, mono, 16 kHz, in [-1, 1].
        language : str or None
            Whisper's language code; None to detect it: every window votes, weighted by its
            seconds of voice (the windows are encoded first and the decoding reuses them).
        progress : callable, optional
            See Callback.

        Returns
        -------
        Transcript
            Lines in time order; empty when nothing is sung (or all of it fails the guards).

        Raises
        ------
        ValueError
            On unusable audio or an unknown language code.
        EngineError
            If the model is missing or fails.

        Callback
        --------
        ``progress(fraction)``, non-decreasing in [0, 1], after each window and 1.0 at the end.
        """
        model = self._model()
        song = self._song(audio)
        report = _progress(progress)
        if not song.windows:
            report(1.0)
            return Transcript(language=language or "en", language_probability=1.0 if language else 0.0)
        n = len(song.windows)
        encoded: dict[int, Any] = {}
        probability = 1.0
        share = 0.0
        if language is None:
            # Every window is encoded first (kept, ~3 MB each) and votes; the decoding reuses them.
            share = 0.4
            for i, window in enumerate(song.windows):
                encoded[i] = self._encode(model, song.audio, window)
                report(share * (i + 1) / n)
            language, probability = self._vote(model, [(encoded[i], w.voiced_s) for i, w in enumerate(song.windows)])
        tokenizer = self._tokenizer(model, language)
        segments: list[Segment] = []
        for i, window in enumerate(song.windows):
            enc = encoded.pop(i) if i in encoded else self._encode(model, song.audio, window)
            segments += self._transcribe_window(model, tokenizer, enc, window, song)
            report(share + (1 - share) * (i + 1) / n)
        kept = apply_guards(segments, rms_db=song.rms_db, levels=song.levels, params=self.guard_params)
        report(1.0)
        return Transcript(
            language=language, language_probability=probability, lines=group_lines(kept, params=self.line_params)
        )

    def align(
        self, audio: np.ndarray, *, lines: Sequence[str], language: str, progress: ProgressFn | None = None
    ) -> Transcript:
        """The user's ``lines``, each word timed to where it is sung in ``audio``.

        Parameters
        ----------
        audio : np.ndarray, shape (n_samples,), float32
            The vocals stem, mono, 16 kHz, in [-1, 1].
        lines : sequence of str
            The user's lyrics, one line each; kept as written (a line with no word is left out).
        language : str
            Whisper's language code of the lyrics ("en", "pt", ...).
        progress : callable, optional
            See Callback.

        Returns
        -------
        Transcript
            One line per non-empty user line, every user word in order with
            ``start <= end <= next start``, inside the song. Where nothing is sung at all, the
            words are spread evenly over the song.

        Raises
        ------
        ValueError
            On unusable audio or an unknown language code.
        EngineError
            If the model is missing or fails.

        Callback
        --------
        ``progress(fraction)``, non-decreasing in [0, 1]: the rough pass is the first 70 %
        (per window), the alignment the rest; 1.0 at the end.
        """
        model = self._model()
        song = self._song(audio)
        tokenizer = self._tokenizer(model, language)
        report = _progress(progress)
        words = text_align.user_words(list(lines))
        if not words:
            report(1.0)
            return Transcript(language=language, language_probability=1.0)
        if not song.windows:
            starts = np.linspace(0.0, song.duration_s, len(words) + 1)
            s, e = text_align.clamp_times(starts[:-1], starts[1:], duration_s=song.duration_s, params=self.align_params)
            report(1.0)
            return Transcript(language, 1.0, text_align.build_lines(words, s, e, lines=list(lines)))

        # 1. Rough pass: greedy text per window, from the encoder output kept for step 3.
        clock = VoiceClock.from_windows(song.windows)
        encoded, heard_norm, heard_times = [], [], []
        n_windows = len(song.windows)
        for i, window in enumerate(song.windows):
            enc = self._encode(model, song.audio, window)
            encoded.append(enc)
            text = self._decode(model, tokenizer, enc, window, rough=True).text
            # A loop left in the rough text would anchor the user's words to its copies.
            text = cut_ngram_loops(Segment(window.start, window.end, text), params=self.guard_params).text
            norms = [text_align.normalize_word(w) for w in text_align.split_words(text)]
            norms = [w for w in norms if w]
            heard_norm += norms
            heard_times.append(text_align.spread_over_voice([len(w) for w in norms], window=window, clock=clock))
            report(0.7 * (i + 1) / n_windows)
        times = np.concatenate(heard_times) if heard_times else np.zeros((0, 2))

        # 2. The user's words against the heard ones: which window each is sung in.
        anchors = text_align.anchor_words([w.norm for w in words], heard_norm, params=self.align_params)
        weights = [max(1, len(w.norm)) for w in words]
        heard_window = np.repeat(np.arange(n_windows), [len(t) for t in heard_times])
        home = text_align.assign_windows(
            [w.line for w in words],
            [None if a is None else int(heard_window[a]) for a in anchors],
            song.windows,
            weights=weights,
            params=self.align_params,
        )
        # Rough times stand in for a window whose words cannot be aligned (too many tokens).
        rough = text_align.rough_times(
            anchors, heard_times=clock.to_voice(times), weights=weights, duration_s=clock.total_s
        )
        rough = np.stack([clock.to_song(rough[:, 0], side="start"), clock.to_song(rough[:, 1], side="end")], axis=1)

        # 3. Each window's words forced onto its audio.
        starts, ends = rough[:, 0].copy(), rough[:, 1].copy()
        for i, window in enumerate(song.windows):
            members = np.flatnonzero(home == i)
            if members.size:
                timed = self._force_align(model, tokenizer, encoded[i], window, [words[k].text for k in members])
                if timed is not None:
                    starts[members], ends[members] = timed
            encoded[i] = None  # free the encoder output as soon as it is used
            report(0.7 + 0.3 * (i + 1) / n_windows)

        # 4. Sanity: out of pauses, in order, a minimum length, inside the song.
        starts, ends = text_align.snap_to_voice(
            starts, ends, rms_db=song.rms_db, levels=song.levels, params=self.align_params
        )
        starts, ends = text_align.clamp_times(starts, ends, duration_s=song.duration_s, params=self.align_params)
        report(1.0)
        return Transcript(language, 1.0, text_align.build_lines(words, starts, ends, lines=list(lines)))

    # ----------------------------------------------------------------- loading

    def _model(self) -> WhisperModel:
        folder = whisper_model_dir(cache_dir=self.cache_dir, model_dir=self.model_dir)
        key = (str(folder), self.device, self.compute_type)
        with _models_lock:
            model = _models.get(key)
            if model is None:
                model = _load_model(folder, device=self.device, compute_type=self.compute_type)
                _models[key] = model
        return model

    def _tokenizer(self, model: WhisperModel, language: str) -> Tokenizer:
        from faster_whisper.tokenizer import Tokenizer

        try:
            return Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language)
        except ValueError as exc:
            raise ValueError(f"Unknown Whisper language code {language!r}") from exc

    # ----------------------------------------------------------------- the song

    def _song(self, audio: np.ndarray) -> _Song:
        x = _validate_audio(audio)
        rms_db = frame_rms_db(x, sr=SR)
        levels = song_levels(rms_db)
        speech = self._vad(x) if levels.voiced_db >= self.window_params.silent_song_db else []
        regions = active_regions(rms_db, levels=levels, speech=speech, params=self.window_params)
        duration_s = x.size / SR
        windows = pack_windows(regions, rms_db=rms_db, duration_s=duration_s, params=self.window_params)
        return _Song(audio=x, duration_s=duration_s, rms_db=rms_db, levels=levels, windows=windows)

    def _vad(self, audio: np.ndarray) -> list[tuple[float, float]]:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        p = self.params
        options = VadOptions(
            threshold=p.vad_threshold,
            min_silence_duration_ms=p.vad_min_silence_ms,
            speech_pad_ms=p.vad_speech_pad_ms,
            min_speech_duration_ms=p.vad_min_speech_ms,
        )
        try:
            chunks = get_speech_timestamps(audio, options, sampling_rate=SR)
        except (RuntimeError, OSError, ImportError) as exc:
            # The level alone still finds the voice in a vocals stem; worse, not broken.
            logger.warning("Voice-activity detection failed, using the level only: %s", exc)
            return []
        return [(c["start"] / SR, c["end"] / SR) for c in chunks]

    # ------------------------------------------------------------- per window

    def _encode(self, model: WhisperModel, audio: np.ndarray, window: Window) -> Any:
        from faster_whisper.audio import pad_or_trim

        a, b = int(round(window.start * SR)), int(round(window.end * SR))
        features = model.feature_extractor(audio[a:b])
        try:
            return model.encode(pad_or_trim(features))
        except RuntimeError as exc:
            raise EngineError(f"Whisper encoder failed: {exc}") from exc

    def _vote(self, model: WhisperModel, votes: Sequence[tuple[Any, float]]) -> tuple[str, float]:
        """The language the windows' encoder outputs agree on, weighted (by seconds of voice).

        Each window's language distribution is averaged with its weight; languages in
        :attr:`WhisperParams.excluded_languages` are left out and the rest renormalised.
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
                if code not in self.params.excluded_languages:
                    total[code] = total.get(code, 0.0) + max(weight, 1e-3) * float(probability)
        norm = sum(total.values()) or 1.0
        code = max(total, key=total.__getitem__)
        return code, total[code] / norm

    def _decode(
        self, model: WhisperModel, tokenizer: Tokenizer, encoded: Any, window: Window, *, rough: bool
    ) -> _Decoded:
        """One window's text, with a limited temperature fallback.

        ``rough`` (the first pass of :meth:`align`): greedy, retried once only if it loops, one
        sample; else beam search retried on a loop or a low log-probability, best of
        :attr:`WhisperParams.best_of` samples. Either way the text is capped at
        :attr:`WhisperParams.max_tokens_per_s` per second of voice, so a loop costs little.
        """
        from faster_whisper.transcribe import get_suppressed_tokens

        p = self.params
        prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        new_tokens = int(p.max_tokens_per_s * max(window.voiced_s, 1.0)) + 16
        common = {
            "max_length": min(_MAX_TOKENS, len(prompt) + new_tokens),
            "return_scores": True,
            "return_no_speech_prob": True,
            "suppress_blank": True,
            "suppress_tokens": list(get_suppressed_tokens(tokenizer, [-1])),
        }
        temperatures = p.rough_temperatures if rough else p.temperatures
        tried: list[_Decoded] = []
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
            decoded = _Decoded(tokens, text, avg_logprob, float(result.no_speech_prob), compression_ratio(text))
            tried.append(decoded)
            loops = decoded.compression_ratio > p.fallback_compression_ratio
            unsure = not rough and avg_logprob < p.fallback_logprob
            silent = decoded.no_speech_prob > p.no_speech_prob and avg_logprob < p.fallback_logprob
            if silent or not (loops or unsure):
                return decoded
        below = [d for d in tried if d.compression_ratio <= p.fallback_compression_ratio]
        return max(below or tried, key=lambda d: d.avg_logprob)

    def _transcribe_window(
        self, model: WhisperModel, tokenizer: Tokenizer, encoded: Any, window: Window, song: _Song
    ) -> list[Segment]:
        """One window's phrases with timed words, scored for the guards.

        Decoded without timestamp tokens: with them Whisper often stops at a timestamp before the
        window's last phrase, expecting the next window to start there, and each window here is
        heard once. The phrases come from the aligned words instead (pauses, sentence marks).
        """
        decoded = self._decode(model, tokenizer, encoded, window, rough=False)
        words = text_align.split_words(decoded.text)
        if not words:
            return []
        timed = self._force_align(model, tokenizer, encoded, window, words)
        if timed is None:
            spread = text_align.spread_over_voice(
                [len(w) for w in words], window=window, clock=VoiceClock.from_windows([window])
            )
            starts, ends = spread[:, 0], spread[:, 1]
        else:
            starts, ends = text_align.snap_to_voice(
                *timed, rms_db=song.rms_db, levels=song.levels, params=self.align_params
            )
        starts, ends = text_align.clamp_times(starts, ends, duration_s=song.duration_s, params=self.align_params)
        timed_words = [Word(w, float(a), float(b)) for w, a, b in zip(words, starts, ends, strict=True)]
        segments = []
        for phrase in split_phrases(timed_words, params=self.line_params):
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

    def _force_align(
        self, model: WhisperModel, tokenizer: Tokenizer, encoded: Any, window: Window, words: list[str]
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Song-time (starts, ends) of ``words`` in ``window``, or None if they cannot be aligned."""
        token_lists = [tokenizer.encode(" " + w) or [tokenizer.eot] for w in words]
        counts = [len(t) for t in token_lists]
        flat = [t for tokens in token_lists for t in tokens]
        budget = _MAX_TOKENS - len(tokenizer.sot_sequence) - 2  # <|notimestamps|> and the end token
        if len(flat) > budget:
            logger.warning(
                "A %.1f s window has %d tokens, more than Whisper aligns at once", window.duration_s, len(flat)
            )
            return None
        num_frames = min(3000, max(1, int(round(window.duration_s * SR / model.feature_extractor.hop_length))))
        try:
            result = model.model.align(encoded, tokenizer.sot_sequence, [flat], num_frames, median_filter_width=7)[0]
        except RuntimeError as exc:
            raise EngineError(f"Whisper alignment failed: {exc}") from exc
        path = np.asarray(result.alignments, dtype=np.int64).reshape(-1, 2)
        starts, ends = text_align.word_times_from_alignment(
            counts, text_indices=path[:, 0], time_indices=path[:, 1], tokens_per_second=model.tokens_per_second
        )
        return window.start + starts, window.start + ends


@dataclass(slots=True)
class _Song:
    audio: np.ndarray
    duration_s: float
    rms_db: np.ndarray
    levels: Levels
    windows: list[Window]


@dataclass(frozen=True, slots=True)
class _Decoded:
    tokens: list[int]
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


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


def _progress(progress: ProgressFn | None) -> Callable[[float], None]:
    done = 0.0

    def report(fraction: float) -> None:
        nonlocal done
        if progress is not None and fraction >= done:
            done = fraction
            progress(min(1.0, fraction))

    return report
