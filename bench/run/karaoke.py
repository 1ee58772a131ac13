"""Karaoke rows: beats and meter, lyrics alignment, transcription, and their speed on this machine.

The set is :mod:`bench.karaoke` (rendered songs in 3/4, 4/4 and 6/8, 70–170 BPM, sung in English
and Brazilian Portuguese by espeak-ng, every beat and word time known), cached in
``var/bench/karaoke/``, apart from the separation set. Each song's mixture is separated once per
run by the offline engine, as :mod:`bench.run.quality` separates its set; the rows score the
project's code on what a user's song gives it: the analysis on the mixture and the separated
drums, the lyrics engine on the separated vocals. Baselines run in the same pass: librosa's
``beat_track`` with its defaults, faster-whisper with its defaults, the true vocals (the ceiling).
"""

from __future__ import annotations

import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bench.run.studio import CACHE
from bench.run.table import Row

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

    from bench.karaoke import SongTruth
    from model.engines.whisper_engine import WhisperEngine
    from model.pipelines.lyrics.types import Transcript

KARAOKE_CACHE = CACHE / "karaoke"
N_SONGS = 10
SR = 44100
WHISPER_SR = 16_000
_LANGUAGES = {"en": "English", "pt": "Portuguese"}


# ------------------------------------------------------------------ shared per run


@cache
def _folders(n_songs: int) -> tuple[Path, ...]:
    from bench.karaoke import render_set

    print(f"  rendering (or reusing) the karaoke set in {KARAOKE_CACHE}…", flush=True)
    return tuple(render_set(n_songs=n_songs, out_dir=KARAOKE_CACHE, sr=SR))


def _song(folder: Path) -> tuple[dict[str, np.ndarray], SongTruth]:
    """(stems, truth) of a song folder; read each time it is needed (the stems are large)."""
    from bench.karaoke import load_song

    return load_song(folder)


@cache
def _truth(folder: Path) -> SongTruth:
    from bench.karaoke import load_truth

    return load_truth(folder)


@cache
def _separated(folder: Path) -> dict[str, np.ndarray]:
    """The offline engine's separation of ``folder``'s mixture, once per run (the rows share it):
    ``drums`` as it is, (2, n) at 44.1 kHz, and ``vocals`` and the ``mixture`` itself as Whisper
    hears them (:func:`_mono_16k`)."""
    from model.engines import get_engine

    stems, _truth = _song(folder)
    started = time.perf_counter()
    out = get_engine("offline").separate(stems["mixture"], sr=SR)
    print(f"  {folder.name}: separated in {time.perf_counter() - started:.1f} s", flush=True)
    return {"drums": out["drums"], "vocals": _mono_16k(out["vocals"]), "mixture": _mono_16k(stems["mixture"])}


def _mono_16k(stereo: np.ndarray) -> np.ndarray:
    """(2, n) at 44.1 kHz to what Whisper hears: mono, 16 kHz, float32 (polyphase, 160/441)."""
    from scipy.signal import resample_poly

    return resample_poly(stereo.mean(axis=0), 160, 441).astype(np.float32)


@cache
def _engine() -> WhisperEngine:
    """The project's lyrics engine on the bundled Whisper base, as a CPU worker runs it."""
    from model.engines.whisper_engine import WhisperEngine

    return WhisperEngine(model_dir=None, cache_dir=KARAOKE_CACHE / "whisper-base", device="cpu", compute_type="int8")


@cache
def _faster_whisper_defaults() -> WhisperModel:
    """faster-whisper as its README runs it: ``WhisperModel(folder)``, every other setting default."""
    from faster_whisper import WhisperModel

    from model.engines.whisper_models import whisper_model_dir

    return WhisperModel(str(whisper_model_dir(cache_dir=KARAOKE_CACHE / "whisper-base")))


@cache
def _transcribed(folder: Path) -> Transcript:
    """Our transcription of the separated vocals with the rest of the song 10 dB under them
    (language detected among those a user can choose: as the lyrics job does), once per run:
    the transcription row's figure and the alignment row's baseline."""
    from domain.services import LYRICS_LANGUAGES
    from model.pipelines.lyrics.hearing import band_under

    separated = _separated(folder)
    heard = band_under(separated["vocals"], separated["mixture"])  # as the lyrics job hears
    return _engine().transcribe(heard, language=None, languages=LYRICS_LANGUAGES)


def _plain_transcription(audio: np.ndarray) -> tuple[str, str]:
    """(language, text) from faster-whisper with its defaults."""
    segments, info = _faster_whisper_defaults().transcribe(audio)
    return info.language, " ".join(segment.text for segment in segments)


def _norm(word: str) -> str:
    from bench.karaoke.metrics import normalise_words

    return "".join(normalise_words(word))


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


# ------------------------------------------------------------------ beats


def bench_beats(rows: list[Row], *, n_songs: int = N_SONGS) -> None:
    """Beat F (±70 ms), tempo (within 4 %), meter and downbeat F of the analysis on the set."""
    import librosa

    from bench.karaoke.metrics import every_nth, f_measure, tempo_error
    from model.pipelines.analysis import analyse

    folders = _folders(n_songs)
    ours: dict[str, list[float]] = {"beat": [], "tempo": [], "meter": [], "down": []}
    base: dict[str, list[float]] = {"beat": [], "tempo": [], "meter": [], "down": []}
    for folder in folders:
        stems, truth = _song(folder)
        drums = _separated(folder)["drums"]
        result = analyse(mix=stems["mixture"], sr=SR, drums=drums)
        ours["beat"].append(f_measure(reference=truth.beats, estimate=np.asarray(result.beats)))
        ours["tempo"].append(tempo_error(reference_bpm=truth.bpm, estimate_bpm=result.tempo_bpm))
        ours["meter"].append(float(result.time_signature == truth.meter))
        ours["down"].append(f_measure(reference=truth.downbeats, estimate=np.asarray(result.downbeats)))
        # librosa.load's defaults: mono, 22 050 Hz (soxr_hq), then beat_track's.
        y = librosa.resample(stems["mixture"].mean(axis=0), orig_sr=SR, target_sr=22050)
        tempo, frames = librosa.beat.beat_track(y=y, sr=22050)
        beats = librosa.frames_to_time(frames, sr=22050)
        base["beat"].append(f_measure(reference=truth.beats, estimate=beats))
        base["tempo"].append(tempo_error(reference_bpm=truth.bpm, estimate_bpm=float(np.atleast_1d(tempo)[0])))
        base["meter"].append(float(truth.meter == "4/4"))
        base["down"].append(f_measure(reference=truth.downbeats, estimate=every_nth(beats, n=4)))
        print(
            f"  {folder.name} {truth.meter} {truth.bpm:.0f} BPM: beat F {ours['beat'][-1]:.3f}"
            f" (librosa {base['beat'][-1]:.3f}), tempo {result.tempo_bpm:.1f} ({_pct(ours['tempo'][-1])}),"
            f" meter {result.time_signature}, downbeat F {ours['down'][-1]:.3f}",
            flush=True,
        )
    n = len(folders)
    tempo_ok = [e <= 0.04 for e in ours["tempo"]]
    base_tempo_ok = [e <= 0.04 for e in base["tempo"]]
    rows += [
        Row(
            f"Beat F-measure ±70 ms, analysis on mix + separated drums ({n} songs)",
            f"mean {np.mean(ours['beat']):.3f} · min {np.min(ours['beat']):.3f}",
            "mean ≥ 0.97",
            f"librosa beat_track mean {np.mean(base['beat']):.3f} · min {np.min(base['beat']):.3f}",
            bool(np.mean(ours["beat"]) >= 0.97),
        ),
        Row(
            "Tempo within 4 %",
            f"{sum(tempo_ok)}/{n} songs · worst {_pct(max(ours['tempo']))}",
            "every song",
            f"librosa {sum(base_tempo_ok)}/{n} · worst {_pct(max(base['tempo']))}",
            all(tempo_ok),
        ),
        Row(
            "Meter (3/4, 4/4, 6/8) right",
            f"{int(sum(ours['meter']))}/{n} songs",
            "every song",
            f"always 4/4: {int(sum(base['meter']))}/{n}",
            all(ours["meter"]),
        ),
        Row(
            "Downbeat F-measure ±70 ms",
            f"mean {np.mean(ours['down']):.3f} · min {np.min(ours['down']):.3f}",
            "mean ≥ 0.9",
            f"every 4th librosa beat: mean {np.mean(base['down']):.3f}",
            bool(np.mean(ours["down"]) >= 0.9),
        ),
    ]


# ------------------------------------------------------------------ alignment


def _alignment_errors(truth: SongTruth, transcript: Transcript, *, forced: bool) -> np.ndarray:
    """Start errors of ``truth``'s words in ``transcript``: word by word when ``forced`` (the
    aligner returns the user's words in order), else matched by sequence alignment."""
    from bench.karaoke.metrics import match_words, start_errors

    true_words = truth.words
    heard = transcript.words
    if forced and len(heard) == len(true_words):
        estimate: list[float | None] = [w.start for w in heard]
    else:
        matched = match_words([_norm(w.word) for w in true_words], [_norm(w.word) for w in heard])
        estimate = [None if j is None else heard[j].start for j in matched]
    return start_errors(reference=[w.start for w in true_words], estimate=estimate)


def bench_lyrics_alignment(rows: list[Row], *, n_songs: int = N_SONGS) -> None:
    """Pasted lyrics aligned on the separated vocals: share of words within 0.3 s, median error."""
    from bench.karaoke.metrics import median_error, share_within

    folders = _folders(n_songs)
    ours: dict[str, list[np.ndarray]] = {code: [] for code in _LANGUAGES}
    base: dict[str, list[np.ndarray]] = {code: [] for code in _LANGUAGES}
    for folder in folders:
        truth = _truth(folder)
        vocals = _separated(folder)["vocals"]
        aligned = _engine().align(vocals, lines=truth.text_lines, language=truth.language)
        ours[truth.language].append(_alignment_errors(truth, aligned, forced=True))
        base[truth.language].append(_alignment_errors(truth, _transcribed(folder), forced=False))
        print(
            f"  {folder.name} {truth.language}: {_pct(share_within(ours[truth.language][-1]))} within 0.3 s,"
            f" median {median_error(ours[truth.language][-1]):.3f} s"
            f" (transcription {_pct(share_within(base[truth.language][-1]))})",
            flush=True,
        )
    for code, name in _LANGUAGES.items():
        if not ours[code]:
            continue
        errors, baseline = np.concatenate(ours[code]), np.concatenate(base[code])
        share, median = share_within(errors), median_error(errors)
        rows.append(
            Row(
                f"Lyrics alignment, {name}: words starting within 0.3 s ({len(ours[code])} songs, {errors.size} words)",
                f"{_pct(share)} · median {median:.3f} s",
                "≥ 95 % · median ≤ 0.1 s",
                f"transcription's word times {_pct(share_within(baseline))} · median {median_error(baseline):.3f} s",
                share >= 0.95 and median <= 0.1,
            )
        )


# ------------------------------------------------------------------ transcription


def bench_transcription(rows: list[Row], *, n_songs: int = N_SONGS) -> None:
    """WER and language detection of our transcription of the separated vocals."""
    from bench.karaoke.metrics import edit_distance, normalise_words

    folders = _folders(n_songs)
    names = ("ours", "plain", "ceiling")
    edits = {name: {code: 0 for code in _LANGUAGES} for name in names}
    words = {code: 0 for code in _LANGUAGES}
    language_right = {name: 0 for name in names}
    for folder in folders:
        stems, truth = _song(folder)
        reference = normalise_words(" ".join(truth.text_lines))
        ours = _transcribed(folder)
        heard = {"ours": (ours.language, " ".join(line.text for line in ours.lines))}
        heard["plain"] = _plain_transcription(_separated(folder)["vocals"])
        heard["ceiling"] = _plain_transcription(_mono_16k(stems["vocals"]))
        words[truth.language] += len(reference)
        for name, (language, text) in heard.items():
            edits[name][truth.language] += edit_distance(reference, normalise_words(text))
            language_right[name] += language == truth.language
        print(
            f"  {folder.name} {truth.language}: ours {ours.language} WER"
            f" {_pct(edit_distance(reference, normalise_words(heard['ours'][1])) / len(reference))},"
            f" defaults {heard['plain'][0]} WER"
            f" {_pct(edit_distance(reference, normalise_words(heard['plain'][1])) / len(reference))}",
            flush=True,
        )
    goals = {"en": 0.15, "pt": 0.35}
    for code, name in _LANGUAGES.items():
        if not words[code]:
            continue
        wer = {k: edits[k][code] / words[code] for k in names}
        rows.append(
            Row(
                f"Transcription WER, {name}, separated vocals ({words[code]} words)",
                _pct(wer["ours"]),
                f"≤ {goals[code] * 100:.0f} %",
                f"faster-whisper defaults {_pct(wer['plain'])} · on the true vocals {_pct(wer['ceiling'])}",
                wer["ours"] <= goals[code],
            )
        )
    n = len(folders)
    rows.append(
        Row(
            "Language detected (en / pt) on the separated vocals",
            f"{language_right['ours']}/{n} songs",
            "every song",
            f"faster-whisper defaults {language_right['plain']}/{n} · true vocals {language_right['ceiling']}/{n}",
            language_right["ours"] == n,
        )
    )


# ------------------------------------------------------------------ speed


def bench_karaoke_speed(rows: list[Row]) -> None:
    """On this machine, the 3-min song: analysis warm, transcription and alignment as real-time factors."""
    import subprocess

    import librosa
    import soundfile as sf

    from bench.karaoke import load_song, render_long
    from model.pipelines.analysis import analyse, warm_up
    from model.pipelines.media import decode_audio

    folder = render_long(out_dir=KARAOKE_CACHE, sr=SR)
    stems, truth = load_song(folder)
    duration_s = stems["mixture"].shape[1] / SR
    mp3 = folder / "mixture.mp3"  # what a user uploads; made once beside the render
    if not mp3.exists():
        wav = folder / "mixture-16bit.wav"
        sf.write(wav, stems["mixture"].T, SR, subtype="PCM_16")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-b:a", "192k", str(mp3)], check=True)
        wav.unlink()
    started = time.perf_counter()
    decode_audio(path=mp3, sr=SR, max_duration_s=duration_s + 1)
    decode_s = time.perf_counter() - started
    separated = _separated(folder)

    warm_up()
    times = []
    for _ in range(3):  # the median of three, against a noisy neighbour
        started = time.perf_counter()
        analyse(mix=stems["mixture"], sr=SR, drums=separated["drums"])
        times.append(time.perf_counter() - started)
    analysis_s = float(np.median(times))
    y = librosa.resample(stems["mixture"].mean(axis=0), orig_sr=SR, target_sr=22050)
    librosa.beat.beat_track(y=y[: 22050 * 5], sr=22050)  # its numba code compiled first, as ours is
    started = time.perf_counter()
    librosa.beat.beat_track(y=y, sr=22050)
    beat_track_s = time.perf_counter() - started
    rows.append(
        Row(
            f"Analysis of a {duration_s / 60:.0f}-min song, warm (median of 3)",
            f"{analysis_s:.2f} s",
            "≤ 1 s",
            f"librosa beat_track {beat_track_s:.2f} s · ffmpeg decode {decode_s:.2f} s",
            analysis_s <= 1.0,
        )
    )

    engine = _engine()
    vocals = separated["vocals"]
    engine.detect_language(vocals[: WHISPER_SR * 10])  # the model loaded before the clock starts
    started = time.perf_counter()
    engine.transcribe(vocals, language=None)
    transcribe_x = duration_s / (time.perf_counter() - started)
    started = time.perf_counter()
    engine.align(vocals, lines=truth.text_lines, language=truth.language)
    align_x = duration_s / (time.perf_counter() - started)
    decode_x = duration_s / decode_s
    rows += [
        Row(
            f"Transcription speed, {duration_s / 60:.0f}-min separated vocals (language detected)",
            f"{transcribe_x:.1f}× real time",
            "≥ 4×",
            f"ffmpeg decode {decode_x:.0f}× real time",
            transcribe_x >= 4,
        ),
        Row(
            f"Alignment speed, {duration_s / 60:.0f}-min separated vocals",
            f"{align_x:.1f}× real time",
            "≥ 8×",
            f"ffmpeg decode {decode_x:.0f}× real time",
            align_x >= 8,
        ),
    ]
