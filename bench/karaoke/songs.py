"""The karaoke test set: rendered songs whose beats, meter, tempo and every word's times are known.

:func:`render_song` renders a :class:`~bench.karaoke.plan.KaraokePlan`: the band (drums, bass,
other) as MIDI parts (:mod:`bench.karaoke.parts`) rendered by fluidsynth with the General MIDI
soundfont, exactly as :mod:`bench.multitrack` renders its stems (and balanced by its
:func:`~bench.multitrack.midi.balance`), and the lead vocal spoken line by line by espeak-ng
(:mod:`bench.karaoke.voice`, :func:`sing_plan`) while fluidsynth runs. The mixture is the sum of the four stems;
the :class:`SongTruth` (beats, downbeats, tempo, meter, language, every word's start and end) is
what the plan put where.

:func:`render_set` renders (or reuses) the set in its own cache folder (``var/bench/karaoke/``,
seeds from 1000: apart from the separation set), :func:`render_long` the 3-min song of the speed
rows, and :func:`load_song` reads a song folder back.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from bench.karaoke.parts import bass_part, drum_part, other_part
from bench.karaoke.plan import (
    LEAD_IN_S,
    REST_S,
    KaraokePlan,
    beat_times,
    downbeat_times,
    long_plan,
    set_plans,
    vocal_line,
)
from bench.karaoke.voice import speak_line
from bench.multitrack.midi import _fluidsynth_start, _read_fit, balance, write_midi
from bench.multitrack.plan import BASS_CHANNEL, COMP_CHANNEL, DRUM_CHANNEL, PAD_CHANNEL, STEMS

# Bump when anything that changes the rendered audio or its truth changes: it invalidates caches.
GENERATOR_VERSION = 2
SR = 44100


@dataclass(frozen=True)
class TrueWord:
    """A sung word as written in the lyrics, and its first and last voiced sample, in seconds."""

    word: str
    start: float
    end: float


@dataclass(frozen=True)
class TrueLine:
    text: str
    words: tuple[TrueWord, ...]


@dataclass(frozen=True)
class SongTruth:
    """What a test song holds, as the benchmark scores it.

    Attributes
    ----------
    language : str
        Whisper's code, ``"en"`` or ``"pt"``.
    meter : str
        ``"4/4"``, ``"3/4"`` or ``"6/8"``.
    bpm : float
        Beats per minute (the dotted quarter in 6/8).
    beats, downbeats : tuple of float
        Seconds.
    lines : tuple of TrueLine
        The lyrics as sung, in order.
    duration_s : float
    """

    language: str
    meter: str
    bpm: float
    beats: tuple[float, ...]
    downbeats: tuple[float, ...]
    lines: tuple[TrueLine, ...]
    duration_s: float

    @property
    def words(self) -> list[TrueWord]:
        return [word for line in self.lines for word in line.words]

    @property
    def text_lines(self) -> list[str]:
        """The lyrics a user would paste: one line of text per sung line."""
        return [line.text for line in self.lines]

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> SongTruth:
        lines = tuple(
            TrueLine(line["text"], tuple(TrueWord(w["word"], w["start"], w["end"]) for w in line["words"]))
            for line in data["lines"]
        )
        return cls(
            language=data["language"],
            meter=data["meter"],
            bpm=float(data["bpm"]),
            beats=tuple(data["beats"]),
            downbeats=tuple(data["downbeats"]),
            lines=lines,
            duration_s=float(data["duration_s"]),
        )


def sing_plan(plan: KaraokePlan, *, sr: int = SR) -> tuple[np.ndarray, tuple[TrueLine, ...]]:
    """The vocal stem of ``plan`` and its lines, each word where it is sung.

    The lines of :func:`~bench.karaoke.plan.vocal_line` are spoken one by one
    (:func:`~bench.karaoke.voice.speak_line`); each starts on the first downbeat after the intro
    or after the last line's bars and a rest of at least :data:`~bench.karaoke.plan.REST_S`, takes
    the whole bars it needs, and has a level of its own (+-2 dB). Singing stops at the line that
    would reach the last bar.

    Returns
    -------
    audio : np.ndarray, shape (round(plan.duration_s * sr),), float32
        Peak 0.5; digital silence between lines.
    lines : tuple of TrueLine
        Each word's first and last voiced sample, in seconds from the song's start.
    """
    n = int(round(plan.duration_s * sr))
    out = np.zeros(n, dtype=np.float64)
    rng = np.random.default_rng([plan.seed, 11])
    rest_bars = max(1, int(np.ceil(REST_S / plan.bar_s)))
    lines: list[TrueLine] = []
    bar = plan.intro_bars
    for sung in vocal_line(plan):
        clip, words = speak_line(sung.text, voice=plan.voice, pitch=sung.pitch, speed_wpm=plan.speed_wpm, sr=sr)
        bars = max(1, int(np.ceil(clip.size / sr / plan.bar_s)))
        if bar + bars > plan.n_bars - 1:
            break
        at = int(round((LEAD_IN_S + bar * plan.bar_s) * sr))
        gain = 10 ** (rng.uniform(-2.0, 2.0) / 20) / max(float(np.max(np.abs(clip))), 1e-9)
        out[at : at + clip.size] += gain * clip
        lines.append(TrueLine(sung.text, tuple(TrueWord(w.word, at / sr + w.start, at / sr + w.end) for w in words)))
        bar += bars + rest_bars
    peak = float(np.max(np.abs(out)))
    if peak > 0:
        out *= 0.5 / peak
    return out.astype(np.float32), tuple(lines)


def render_song(plan: KaraokePlan, *, sr: int = SR, workdir: Path) -> tuple[dict[str, np.ndarray], SongTruth]:
    """Render one song, its stems and its truth.

    Parameters
    ----------
    plan : KaraokePlan
    sr : int
        Sample rate in Hz.
    workdir : Path
        Folder for the MIDI and intermediate WAV files (created if missing).

    Returns
    -------
    stems : dict of str -> np.ndarray, shape (2, n), float32
        ``vocals``, ``drums``, ``bass``, ``other`` and ``mixture`` (their sum, peak -1 dBFS), with
        ``n = round(plan.duration_s * sr)``.
    truth : SongTruth
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    n = int(round(plan.duration_s * sr))
    rng = np.random.default_rng([plan.seed, 3])
    pan = int(rng.integers(30, 50))
    parts = {
        "drums": (drum_part(plan, rng), {DRUM_CHANNEL: plan.kit}, {}),
        "bass": (bass_part(plan, rng), {BASS_CHANNEL: plan.bass_program}, {}),
        "other": (
            other_part(plan, rng),
            {COMP_CHANNEL: plan.comp_program, PAD_CHANNEL: plan.pad_program},
            {COMP_CHANNEL: pan, PAD_CHANNEL: 128 - pan},
        ),
    }
    end_beat = plan.duration_s / plan.beat_s + 1.0
    processes = {}
    for stem, (notes, programs, pans) in parts.items():
        midi_path = workdir / f"{stem}.mid"
        write_midi(
            midi_path, notes=notes, bpm=plan.bpm, programs=programs, pans=pans, end_beat=end_beat, seed=plan.seed
        )
        processes[stem] = _fluidsynth_start(midi_path, workdir / f"{stem}.wav", sr=sr)
    vocal, lines = sing_plan(plan, sr=sr)  # while fluidsynth runs
    raw = {"vocals": np.stack([vocal, vocal]).astype(np.float64)}
    for stem, process in processes.items():
        _, stderr = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"fluidsynth failed on {stem}: {stderr.decode()[-500:]}")
        raw[stem] = _read_fit(workdir / f"{stem}.wav", n=n)
    balanced = balance({stem: raw[stem] for stem in STEMS}, rng=np.random.default_rng([plan.seed, 5]))
    stems = {stem: audio.astype(np.float32) for stem, audio in balanced.items()}
    stems["mixture"] = np.sum([stems[stem] for stem in STEMS], axis=0, dtype=np.float32)
    truth = SongTruth(
        language=plan.language,
        meter=plan.meter,
        bpm=plan.bpm,
        beats=tuple(float(t) for t in beat_times(plan)),
        downbeats=tuple(float(t) for t in downbeat_times(plan)),
        lines=lines,
        duration_s=n / sr,
    )
    return stems, truth


def _write_cached(plan: KaraokePlan, folder: Path, *, sr: int) -> Path:
    """Render ``plan`` into ``folder`` unless a matching render is there; whole or not at all."""
    meta = {"generator_version": GENERATOR_VERSION, "sr": sr, "plan": asdict(plan)}
    try:
        cached = json.loads((folder / "song.json").read_text())
        if {k: cached.get(k) for k in meta} == json.loads(json.dumps(meta)) and all(
            (folder / f"{name}.wav").exists() for name in (*STEMS, "mixture")
        ):
            return folder
    except (OSError, ValueError):
        pass
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".render-") as tmp:
        staging = Path(tmp) / "song"
        staging.mkdir()
        stems, truth = render_song(plan, sr=sr, workdir=Path(tmp) / "work")
        for name, audio in stems.items():
            # 32-bit float, so that the stems still sum to the mixture.
            sf.write(staging / f"{name}.wav", audio.T, sr, subtype="FLOAT")
        meta["truth"] = truth.to_json()
        (staging / "song.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False))
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    return folder


def render_set(*, n_songs: int = 10, out_dir: Path, sr: int = SR) -> list[Path]:
    """Render (or reuse) the karaoke set: ``out_dir/song{i:02d}`` per song of :func:`set_plans`.

    Each folder holds ``vocals.wav``, ``drums.wav``, ``bass.wav``, ``other.wav``,
    ``mixture.wav`` (stereo, 32-bit float) and ``song.json`` (plan and truth). A folder whose
    ``song.json`` matches the plan, ``sr`` and :data:`GENERATOR_VERSION` is reused; a new one is
    written in a temporary folder and renamed into place.

    Returns
    -------
    list of Path
        The song folders in order; read one with :func:`load_song`.
    """
    return [
        _write_cached(plan, Path(out_dir) / f"song{i:02d}", sr=sr) for i, plan in enumerate(set_plans(n_songs=n_songs))
    ]


def render_long(*, out_dir: Path, duration_s: float = 180.0, sr: int = SR) -> Path:
    """Render (or reuse) the speed rows' song (:func:`~bench.karaoke.plan.long_plan`) in ``out_dir/long``."""
    return _write_cached(long_plan(duration_s=duration_s), Path(out_dir) / "long", sr=sr)


def load_song(folder: Path) -> tuple[dict[str, np.ndarray], SongTruth]:
    """A folder written by :func:`render_set`: (name -> float32 array (2, n), its truth)."""
    folder = Path(folder)
    stems = {
        name: sf.read(folder / f"{name}.wav", dtype="float32", always_2d=True)[0].T.copy()
        for name in (*STEMS, "mixture")
    }
    return stems, load_truth(folder)


def load_truth(folder: Path) -> SongTruth:
    """Only the truth of a folder written by :func:`render_set` (no audio read)."""
    return SongTruth.from_json(json.loads((Path(folder) / "song.json").read_text())["truth"])
