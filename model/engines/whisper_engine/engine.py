"""The lyrics engine itself: a song's windows, then transcription or alignment over them."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Collection, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from model.engines.base import ProgressFn
from model.engines.whisper_engine.decoding import decode, encode, force_align, transcribe_window, vote
from model.engines.whisper_engine.loading import model_get, tokenizer_get
from model.engines.whisper_engine.params import (
    DEFAULT_COMPUTE_TYPES,
    DEFAULT_WHISPER_PARAMS,
    DEVICES,
    WhisperParams,
)
from model.engines.whisper_engine.song import Song, song_prepare
from model.engines.whisper_models import whisper_model_dir, whisper_model_name
from model.pipelines.lyrics import align as text_align
from model.pipelines.lyrics import timing
from model.pipelines.lyrics.guards import (
    DEFAULT_GUARD_PARAMS,
    GuardParams,
    apply_guards,
    cut_ngram_loops,
)
from model.pipelines.lyrics.lines import DEFAULT_LINE_PARAMS, LineParams, group_lines
from model.pipelines.lyrics.types import Segment, Transcript
from model.pipelines.lyrics.windows import (
    DEFAULT_WINDOW_PARAMS,
    VoiceClock,
    Window,
    WindowParams,
)

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer

__all__ = ["WhisperEngine", "whisper_engine_get"]

logger = logging.getLogger(__name__)


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
    params, guards, lines, windows, alignment, timing_params
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
        timing_params: timing.TimingParams = timing.DEFAULT_TIMING_PARAMS,
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
        self.timing_params = timing_params
        self.model_name = whisper_model_name(model_dir=self.model_dir)

    # ------------------------------------------------------------------ public

    def detect_language(self, audio: np.ndarray, *, languages: Collection[str] | None = None) -> tuple[str, float]:
        """The language sung in ``audio``, from its most voiced windows.

        The most voiced window is heard first; while no language reaches
        :attr:`WhisperParams.language_sure`, the next most voiced ones vote too (up to
        :attr:`WhisperParams.language_windows`, each weighted by its seconds of voice).

        Parameters
        ----------
        audio : np.ndarray, shape (n_samples,), float32
            The vocals, mono, 16 kHz, in [-1, 1].
        languages : collection of str, optional
            The answer is one of these Whisper codes (the languages the product offers); None for
            any language Whisper knows.

        Returns
        -------
        (str, float)
            Whisper's language code ("en", "pt", ...) and its probability, 0..1, among the
            languages allowed and not in :attr:`WhisperParams.excluded_languages`. A song with no
            voice gives the model's guess on its first 30 s.

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
            return vote(model, [(encode(model, song.audio, silent), 1.0)], params=self.params, languages=languages)
        order = sorted(song.windows, key=lambda w: -w.voiced_s)[: self.params.language_windows]
        votes: list[tuple[Any, float]] = []
        for window in order:
            votes.append((encode(model, song.audio, window), window.voiced_s))
            language, probability = vote(model, votes, params=self.params, languages=languages)
            if probability >= self.params.language_sure:
                break
        return language, probability

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        language: str | None,
        languages: Collection[str] | None = None,
        progress: ProgressFn | None = None,
    ) -> Transcript:
        """What is sung in ``audio``, as lines of timed words.

        Parameters
        ----------
        audio : np.ndarray, shape (n_samples,), float32
            The vocals stem, mono, 16 kHz, in [-1, 1].
        language : str or None
            Whisper's language code; None to detect it: every window votes, weighted by its
            seconds of voice (the windows are encoded first and the decoding reuses them).
        languages : collection of str, optional
            When detecting, the answer is one of these codes (see :meth:`detect_language`).
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
                encoded[i] = encode(model, song.audio, window)
                report(share * (i + 1) / n)
            votes = [(encoded[i], w.voiced_s) for i, w in enumerate(song.windows)]
            language, probability = vote(model, votes, params=self.params, languages=languages)
        tokenizer = tokenizer_get(model, language)
        segments: list[Segment] = []
        for i, window in enumerate(song.windows):
            enc = encoded.pop(i) if i in encoded else encode(model, song.audio, window)
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
        tokenizer = tokenizer_get(model, language)
        report = _progress(progress)
        words = text_align.user_words(list(lines))
        if not words:
            report(1.0)
            return Transcript(language=language, language_probability=1.0)
        if not song.windows:
            starts = np.linspace(0.0, song.duration_s, len(words) + 1)
            s, e = timing.clamp_times(starts[:-1], starts[1:], duration_s=song.duration_s, params=self.timing_params)
            report(1.0)
            return Transcript(language, 1.0, text_align.build_lines(words, s, e, lines=list(lines)))

        # 1. Rough pass: greedy text per window, from the encoder output kept for step 3.
        clock = VoiceClock.from_windows(song.windows)
        encoded, heard_norm, heard_times = [], [], []
        n_windows = len(song.windows)
        for i, window in enumerate(song.windows):
            enc = encode(model, song.audio, window)
            encoded.append(enc)
            text = decode(model, tokenizer, enc, window, rough=True, params=self.params).text
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
                timed = force_align(model, tokenizer, encoded[i], window, [words[k].text for k in members])
                if timed is not None:
                    starts[members], ends[members] = timed
            encoded[i] = None  # free the encoder output as soon as it is used
            report(0.7 + 0.3 * (i + 1) / n_windows)

        # 4. Sanity: out of pauses, in order, a minimum length, inside the song.
        starts, ends = timing.snap_to_voice(
            starts, ends, rms_db=song.rms_db, levels=song.levels, params=self.timing_params
        )
        starts, ends = timing.clamp_times(starts, ends, duration_s=song.duration_s, params=self.timing_params)
        report(1.0)
        return Transcript(language, 1.0, text_align.build_lines(words, starts, ends, lines=list(lines)))

    # ----------------------------------------------------------------- helpers

    def _model(self) -> WhisperModel:
        folder = whisper_model_dir(cache_dir=self.cache_dir, model_dir=self.model_dir)
        return model_get(folder, device=self.device, compute_type=self.compute_type)

    def _song(self, audio: np.ndarray) -> Song:
        return song_prepare(audio, params=self.params, window_params=self.window_params)

    def _transcribe_window(
        self, model: WhisperModel, tokenizer: Tokenizer, encoded: Any, window: Window, song: Song
    ) -> list[Segment]:
        return transcribe_window(
            model,
            tokenizer,
            encoded,
            window,
            song,
            params=self.params,
            guards=self.guard_params,
            lines=self.line_params,
            timing_params=self.timing_params,
        )


def _progress(progress: ProgressFn | None) -> Callable[[float], None]:
    done = 0.0

    def report(fraction: float) -> None:
        nonlocal done
        if progress is not None and fraction >= done:
            done = fraction
            progress(min(1.0, fraction))

    return report
