"""Rendered multitrack songs whose stems are known exactly, for separation benchmarks.

Each song is planned from a seed: a style (groove, instruments), a tempo between 80
and 150 BPM, a key and mode, a chord progression and a sung melody. The instrument
parts are written as one MIDI file per stem and rendered separately by the
``fluidsynth`` command-line synthesiser with the General MIDI soundfont of Debian's
``fluid-soundfont-gm`` package (drums on MIDI channel 10). The lead vocal is
synthesised here: a band-limited glottal pulse with vibrato, drift and jitter,
breath noise, a parallel formant filter gliding between the vowels a, e, i, o, u,
and noise consonants at syllable onsets. Because each stem is rendered on its own
and the mixture is their sum, the stems are the exact ground truth.

System dependencies are installed by ``bench/install_bench_deps.sh``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import mido
import numpy as np
import soundfile as sf
from scipy import signal

STEMS = ("vocals", "drums", "bass", "other")
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
# Bump when anything that changes the rendered audio changes: it invalidates caches.
GENERATOR_VERSION = 1

_TICKS_PER_BEAT = 480
_DRUM_CHANNEL = 9  # MIDI channel 10, counted from 1
_BASS_CHANNEL, _COMP_CHANNEL, _PAD_CHANNEL = 0, 1, 2
_FADE_OUT_S = 1.0
# Stem RMS levels in dBFS before the shared peak normalisation: a pop balance with
# the lead vocal on top.
_LEVELS_DB = {"vocals": -17.0, "drums": -19.5, "bass": -20.5, "other": -21.0}
_MIX_PEAK = 10 ** (-1.0 / 20)  # -1 dBFS

# ---------------------------------------------------------------------------------
# Music plan
# ---------------------------------------------------------------------------------

SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
}
# Diatonic chord roots as scale degrees (0 = tonic), one chord per bar.
PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (0, 5, 3, 4), (5, 3, 0, 4), (0, 3, 4, 3), (0, 2, 3, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 6, 2)),
    "dorian": ((0, 3, 0, 3), (0, 6, 3, 0), (0, 1, 0, 6)),
    "mixolydian": ((0, 6, 3, 0), (0, 3, 6, 0), (0, 4, 6, 3)),
}


@dataclass(frozen=True)
class Style:
    """A groove and its instrumentation.

    ``drums`` maps a General MIDI drum note to a 16-step bar pattern where ``x`` is
    an accent, ``o`` a normal hit and ``g`` a ghost note. ``swing`` is where the
    off-beat eighth falls inside the beat (0.5 is straight, 0.66 a triplet shuffle).
    """

    name: str
    bpm: tuple[int, int]
    modes: tuple[str, ...]
    drums: dict[int, str]
    kits: tuple[int, ...]
    swing: float
    bass: str
    bass_programs: tuple[int, ...]
    comp: str
    comp_programs: tuple[int, ...]
    pad_programs: tuple[int, ...]


# One row per style: name, BPM range, modes, drum patterns, kits, swing, bass figure,
# bass programs, comping figure, comping programs, pad programs.
# fmt: off
STYLES = (
    Style("pop_rock", (108, 128), ("major",),
          {36: "x.....o.x.o.....", 38: "....x.......x...", 42: "o.o.o.o.o.o.o.o."},
          (0, 8), 0.5, "roots8", (33, 34), "strum", (25, 27), (48, 49)),
    Style("ballad", (80, 90), ("major", "minor"),
          {36: "x.........o.....", 38: "........x.......", 42: "o.g.o.g.o.g.o.g."},
          (8, 0), 0.5, "whole", (33, 35), "arp", (0, 4, 46), (48, 89)),
    Style("disco", (116, 128), ("minor", "dorian"),
          {36: "x...x...x...x...", 39: "....x.......x...", 46: "..o...o...o...o.",
           42: "o...o...o...o..."},
          (24, 0), 0.5, "octave", (38, 39, 33), "offbeat", (4, 16, 27), (50, 48)),
    Style("funk", (96, 112), ("dorian", "mixolydian"),
          {36: "x..o..o...x..o..", 38: "....x..g.g..x..g", 42: "xgogxgogxgogxgog"},
          (0, 16), 0.54, "sync", (36, 33), "stabs", (27, 4, 16), (61, 89)),
    Style("shuffle", (92, 120), ("mixolydian", "major"),
          {36: "x.......x.......", 38: "....x.......x...", 51: "x.o.x.o.x.o.x.o.",
           44: "....o.......o..."},
          (32, 40), 0.66, "walk", (32, 33), "block", (0, 16), (16, 48)),
    Style("hiphop", (80, 96), ("minor",),
          {36: "x......o..x.....", 39: "....x.......x...", 42: "o.o.o.o.o.o.oxo."},
          (25,), 0.58, "sync", (38, 39), "block", (4, 5), (89, 88)),
    Style("bossa", (126, 144), ("major", "minor"),
          {36: "x..ox..ox..ox..o", 37: "o..o..o...o..o..", 42: "g.g.g.g.g.g.g.g."},
          (40, 0), 0.5, "root_fifth", (32, 33), "arp", (24,), (48, 49)),
    Style("punk", (140, 150), ("major", "minor"),
          {36: "x.o.x.o.x.o.x.o.", 38: "....x.......x...", 42: "x.x.x.x.x.x.x.x."},
          (16,), 0.5, "roots8", (34,), "power", (29, 30), (18,)),
)
# fmt: on
_STYLE_BY_NAME = {style.name: style for style in STYLES}
_HIT_VELOCITY = {"x": 112, "o": 88, "g": 42}

# Bass figures per bar: (beat, length in beats, tone) with tone R root, 3 third,
# 5 fifth, 8 octave, A chromatic approach to the next bar's root.
_BASS_FIGURES = {
    "roots8": tuple((i * 0.5, 0.42, "R") for i in range(8)),
    "whole": ((0.0, 2.8, "R"), (3.0, 0.9, "5")),
    "octave": tuple((i * 0.5, 0.35, "R" if i % 2 == 0 else "8") for i in range(8)),
    "sync": ((0.0, 0.6, "R"), (0.75, 0.2, "R"), (1.5, 0.45, "5"), (2.5, 0.4, "R"), (3.0, 0.45, "8"), (3.5, 0.4, "A")),
    "walk": ((0.0, 0.9, "R"), (1.0, 0.9, "3"), (2.0, 0.9, "5"), (3.0, 0.9, "A")),
    "root_fifth": ((0.0, 1.4, "R"), (1.5, 0.45, "R"), (2.0, 1.4, "5"), (3.5, 0.45, "A")),
}


@dataclass(frozen=True)
class SongPlan:
    """Everything random about a song, drawn once from its seed."""

    seed: int
    style: str
    bpm: float
    tonic: int  # pitch class, 0 = C
    mode: str
    progression: tuple[int, ...]
    kit: int
    bass_program: int
    comp_program: int
    pad_program: int
    voice: str  # key of FORMANTS
    n_bars: int

    @property
    def beat_s(self) -> float:
        return 60.0 / self.bpm


def plan_song(*, seed: int, duration_s: float = 30.0) -> SongPlan:
    """Draw a song plan; consecutive seeds walk through the styles in turn.

    Parameters
    ----------
    seed : int
        Non-negative seed; the plan is a pure function of it and ``duration_s``.
    duration_s : float
        Length of the song in seconds, which sets the number of bars.

    Returns
    -------
    SongPlan
    """
    if seed < 0 or duration_s <= 0:
        raise ValueError("seed must be >= 0 and duration_s > 0")
    rng = np.random.default_rng([seed, 0])
    style = STYLES[seed % len(STYLES)]
    bpm = float(rng.integers(style.bpm[0], style.bpm[1] + 1))
    mode = str(rng.choice(style.modes))
    progressions = PROGRESSIONS[mode]
    return SongPlan(
        seed=seed,
        style=style.name,
        bpm=bpm,
        tonic=int(rng.integers(12)),
        mode=mode,
        progression=progressions[int(rng.integers(len(progressions)))],
        kit=int(rng.choice(style.kits)),
        bass_program=int(rng.choice(style.bass_programs)),
        comp_program=int(rng.choice(style.comp_programs)),
        pad_program=int(rng.choice(style.pad_programs)),
        voice=str(rng.choice(("tenor", "soprano"))),
        n_bars=int(np.ceil(duration_s / (4 * 60.0 / bpm))) + 1,
    )


def _chord(plan: SongPlan, bar: int, *, size: int = 3) -> list[int]:
    """Chord of ``bar`` as semitones above the tonic (root first, may exceed 12)."""
    scale = SCALES[plan.mode]
    degree = plan.progression[bar % len(plan.progression)]
    return [scale[(degree + 2 * k) % 7] + 12 * ((degree + 2 * k) // 7) for k in range(size)]


def _voicing(pitch_classes: Sequence[int], *, centre: int) -> list[int]:
    """Place each pitch class in the octave nearest ``centre`` (a MIDI note)."""
    return sorted(centre + ((pc - centre + 6) % 12) - 6 for pc in pitch_classes)


def _swung(beat: float, swing: float) -> float:
    """Map a straight beat position to its swung position (off-beat eighths late)."""
    whole = np.floor(beat)
    frac = beat - whole
    if frac < 0.5:
        return float(whole + frac * 2 * swing)
    return float(whole + swing + (frac - 0.5) * 2 * (1 - swing))


# One note: (start beat, length in beats, MIDI pitch, velocity 1..127, channel).
_Note = tuple[float, float, int, int, int]


def _drum_part(plan: SongPlan, rng: np.random.Generator) -> list[_Note]:
    style = _STYLE_BY_NAME[plan.style]
    notes: list[_Note] = []
    for bar in range(plan.n_bars):
        lift = 8 if bar >= plan.n_bars // 2 else 0  # the second half is louder
        fill = bar % 4 == 3
        for drum, pattern in style.drums.items():
            for step, hit in enumerate(pattern):
                if hit == "." or (fill and step >= 12):
                    continue
                velocity = _HIT_VELOCITY[hit] + lift + int(rng.integers(-8, 9))
                notes.append((bar * 4 + step / 4, 0.25, drum, velocity, _DRUM_CHANNEL))
        if fill:  # a tom run over the last beat
            for step, tom in zip(range(12, 16), (50, 48, 45, 41), strict=True):
                notes.append((bar * 4 + step / 4, 0.25, tom, 100 + int(rng.integers(-8, 9)), _DRUM_CHANNEL))
        if bar % 4 == 0:
            notes.append((bar * 4.0, 1.0, 49, 110, _DRUM_CHANNEL))
    return notes


def _bass_part(plan: SongPlan, rng: np.random.Generator) -> list[_Note]:
    style = _STYLE_BY_NAME[plan.style]
    notes: list[_Note] = []
    for bar in range(plan.n_bars):
        root = 28 + (plan.tonic + _chord(plan, bar)[0] - 28) % 12  # E1..D#2
        next_root = 28 + (plan.tonic + _chord(plan, bar + 1)[0] - 28) % 12
        third = root + (_chord(plan, bar)[1] - _chord(plan, bar)[0])
        tones = {"R": root, "3": third, "5": root + 7, "8": root + 12, "A": next_root + int(rng.choice((-1, 1)))}
        for beat, length, tone in _BASS_FIGURES[style.bass]:
            velocity = (100 if beat == 0 else 84) + int(rng.integers(-6, 7))
            notes.append((bar * 4 + beat, length, tones[tone], velocity, _BASS_CHANNEL))
    return notes


def _other_part(plan: SongPlan, rng: np.random.Generator) -> list[_Note]:
    """Chord comping on one channel and a sustained pad (from bar 2) on another."""
    style = _STYLE_BY_NAME[plan.style]
    notes: list[_Note] = []
    for bar in range(plan.n_bars):
        chord = [plan.tonic + step for step in _chord(plan, bar, size=4 if style.name == "shuffle" else 3)]
        voicing = _voicing(chord, centre=60)
        start = bar * 4.0
        if style.comp == "strum":  # D.DU.UDU on eighths, strings 0.02 beat apart
            for eighth, stroke in enumerate("D.DU.UDU"):
                if stroke == ".":
                    continue
                strings = voicing + [voicing[0] + 12]
                strings = strings if stroke == "D" else strings[::-1]
                velocity = (90 if stroke == "D" else 70) + int(rng.integers(-6, 7))
                for k, pitch in enumerate(strings):
                    notes.append((start + eighth / 2 + k * 0.02, 0.45, pitch, velocity, _COMP_CHANNEL))
        elif style.comp == "power":  # root-fifth-octave, down strokes on eighths
            root = 40 + (chord[0] - 40) % 12
            for eighth in range(8):
                velocity = 100 + int(rng.integers(-8, 9))
                for k, pitch in enumerate((root, root + 7, root + 12)):
                    notes.append((start + eighth / 2 + k * 0.015, 0.42, pitch, velocity, _COMP_CHANNEL))
        elif style.comp == "arp":
            tones = voicing + [voicing[0] + 12, voicing[1] + 12]
            order = (0, 1, 2, 3, 4, 3, 2, 1)
            for eighth, index in enumerate(order):
                notes.append((start + eighth / 2, 0.9, tones[index], 72 + int(rng.integers(-8, 9)), _COMP_CHANNEL))
        else:
            hits = {
                "block": ((0.0, 1.8), (2.0, 1.8)),
                "offbeat": ((0.5, 0.3), (1.5, 0.3), (2.5, 0.3), (3.5, 0.3)),
                "stabs": ((0.0, 0.2), (0.75, 0.2), (1.5, 0.2), (2.75, 0.2), (3.5, 0.3)),
            }[style.comp]
            for beat, length in hits:
                velocity = 84 + int(rng.integers(-8, 9))
                for pitch in voicing:
                    notes.append((start + beat, length, pitch, velocity, _COMP_CHANNEL))
        if bar >= 2:
            for pitch in _voicing(chord[:3], centre=67):
                notes.append((start, 3.95, pitch, 58 + int(rng.integers(-5, 6)), _PAD_CHANNEL))
    return notes


# ---------------------------------------------------------------------------------
# Vocal synthesis
# ---------------------------------------------------------------------------------

VOWELS = ("a", "e", "i", "o", "u")
# Formant centre frequencies (Hz), levels (dB) and bandwidths (Hz) of sung vowels,
# after the classic tenor and soprano tables used for FOF / formant synthesis.
FORMANTS: dict[str, dict[str, tuple[tuple[float, ...], ...]]] = {
    "tenor": {
        "a": ((650, 1080, 2650, 2900, 3250), (0, -6, -7, -8, -22), (80, 90, 120, 130, 140)),
        "e": ((400, 1700, 2600, 3200, 3580), (0, -14, -12, -14, -20), (70, 80, 100, 120, 120)),
        "i": ((290, 1870, 2800, 3250, 3540), (0, -15, -18, -20, -30), (40, 90, 100, 120, 120)),
        "o": ((400, 800, 2600, 2800, 3000), (0, -10, -12, -12, -26), (40, 80, 100, 120, 120)),
        "u": ((350, 600, 2700, 2900, 3300), (0, -20, -17, -14, -26), (40, 60, 100, 120, 120)),
    },
    "soprano": {
        "a": ((800, 1150, 2900, 3900, 4950), (0, -6, -32, -20, -50), (80, 90, 120, 130, 140)),
        "e": ((350, 2000, 2800, 3600, 4950), (0, -20, -15, -40, -56), (60, 100, 120, 150, 200)),
        "i": ((270, 2140, 2950, 3900, 4950), (0, -12, -26, -26, -44), (60, 90, 100, 120, 120)),
        "o": ((450, 800, 2830, 3800, 4950), (0, -11, -22, -22, -50), (70, 80, 100, 130, 135)),
        "u": ((325, 700, 2700, 3800, 4950), (0, -16, -35, -40, -60), (50, 60, 170, 180, 200)),
    },
}
VOICE_RANGES = {"tenor": (48, 67), "soprano": (57, 76)}
# Consonants: (noise band in Hz, length in s, level in dB against the vowels). The
# noise bands apply to the unvoiced ones; "h" is breath sent through the vocal tract
# and the nasals and "l" are voiced murmurs, so their band and level are unused.
CONSONANTS = {
    "s": ((4500.0, 10000.0), 0.09, -6.0),
    "sh": ((1800.0, 5000.0), 0.09, -7.0),
    "f": ((1200.0, 9000.0), 0.07, -16.0),
    "t": ((2500.0, 8000.0), 0.025, -3.0),
    "k": ((1200.0, 3500.0), 0.03, -5.0),
    "p": ((300.0, 2500.0), 0.02, -9.0),
    "h": ((0.0, 0.0), 0.07, 0.0),
    "m": ((0.0, 0.0), 0.07, 0.0),
    "n": ((0.0, 0.0), 0.06, 0.0),
    "l": ((0.0, 0.0), 0.05, 0.0),
}
_MURMURS = ("m", "n", "l")


@dataclass(frozen=True)
class SungNote:
    """One sung syllable: its vowel is held from ``start_s`` to ``end_s``.

    The consonant, if any, sits just before ``start_s`` so that the vowel lands on
    the beat, as singers do. ``velocity`` is a linear loudness in (0, 1].
    """

    start_s: float
    end_s: float
    midi: float
    vowel: str
    consonant: str = ""
    velocity: float = 1.0


@dataclass(frozen=True)
class Voice:
    """A singer: formant table, vibrato, pitch drift and jitter, breathiness."""

    formants: str = "tenor"
    formant_scale: float = 1.0
    vibrato_hz: float = 5.5
    vibrato_st: float = 0.45  # peak deviation in semitones once the vibrato is grown
    drift_st: float = 0.08
    jitter_st: float = 0.04
    breathiness: float = 0.25


def _one_pole(x: np.ndarray, *, tau_s: float, sr: int) -> np.ndarray:
    """Smooth ``x`` with a unity-gain one-pole low-pass of time constant ``tau_s``."""
    pole = np.exp(-1.0 / (tau_s * sr))
    return signal.lfilter([1 - pole], [1, -pole], x, zi=[x[0] * pole])[0]


def _slow_noise(rng: np.random.Generator, n: int, *, cutoff_hz: float, sr: int) -> np.ndarray:
    """Unit-RMS Gaussian noise low-passed at ``cutoff_hz``."""
    sos = signal.butter(2, cutoff_hz, fs=sr, output="sos")
    noise = signal.sosfilt(sos, rng.standard_normal(n))
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def _glottal_pulses(f0: np.ndarray, *, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Band-limited glottal closure pulses for the pitch track ``f0`` (Hz).

    The source is the derivative of a PolyBLEP sawtooth: one band-limited negative
    pulse per period at glottal closure, with a flat harmonic spectrum that the
    formant filter then shapes. Returns the pulses and the phase in [0, 1).
    """
    dt = f0 / sr
    phase = np.cumsum(dt) % 1.0
    saw = 2 * phase - 1
    low = phase < dt
    high = phase > 1 - dt
    x = phase[low] / dt[low]
    saw[low] -= 2 * x - x * x - 1
    x = (phase[high] - 1) / dt[high]
    saw[high] -= x * x + 2 * x + 1
    pulses = np.diff(saw, prepend=saw[0]) - 2 * dt
    return pulses, phase


def _vowel_filters(voice: Voice, *, sr: int) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """Second-order band-pass resonators (b, a), with gain and sign, for each vowel.

    The signs alternate so that neighbouring resonators add between their peaks
    instead of cancelling, as in Klatt's parallel formant synthesiser.
    """
    filters = {}
    for vowel, (freqs, levels, bandwidths) in FORMANTS[voice.formants].items():
        bank = []
        for k, (freq, level, bandwidth) in enumerate(zip(freqs, levels, bandwidths, strict=True)):
            centre = min(freq * voice.formant_scale, 0.45 * sr)
            b, a = signal.iirpeak(centre, centre / bandwidth, fs=sr)
            bank.append(((-1) ** k * 10 ** (level / 20) * b, a))
        filters[vowel] = bank
    return filters


def sing(
    *,
    notes: Sequence[SungNote],
    duration_s: float,
    sr: int = 44100,
    voice: Voice = Voice(),
    seed: int = 0,
) -> np.ndarray:
    """Synthesise a dry, mono lead vocal singing ``notes``.

    Source-filter synthesis: a band-limited glottal pulse train whose pitch follows
    the notes with portamento, a scoop into each phrase, delayed vibrato, slow drift
    and fast jitter; breath noise gated by the glottal cycle; five parallel formant
    resonators per vowel, the vowels cross-faded at syllable changes (coarticulation);
    noise consonants before the syllables that have one; a loudness envelope with
    closures before plosives. The output is exactly zero from 0.3 s after a phrase
    ends until shortly before the next one, so silent stretches are digital silence.

    Parameters
    ----------
    notes : sequence of SungNote
        The syllables, in time order; notes that touch form a legato phrase.
    duration_s : float
        Length of the output in seconds.
    sr : int
        Sample rate in Hz.
    voice : Voice
        The singer.
    seed : int
        Seed of the random parts (drift, jitter, breath, shimmer, consonant noise).

    Returns
    -------
    np.ndarray, shape (n,), float64
        ``n = round(duration_s * sr)`` samples, peak about 1 where sung loudest.
    """
    if sr <= 0 or duration_s <= 0:
        raise ValueError("sr and duration_s must be positive")
    n = int(round(duration_s * sr))
    rng = np.random.default_rng([seed, 1])
    notes = sorted(notes, key=lambda note: note.start_s)
    for note in notes:
        if note.vowel not in VOWELS or (note.consonant and note.consonant not in CONSONANTS):
            raise ValueError(f"unknown vowel or consonant in {note}")

    def index(time_s: float) -> int:
        return int(np.clip(round(time_s * sr), 0, n))

    pitch = np.full(n, notes[0].midi if notes else 60.0)
    loudness = np.zeros(n)
    vibrato_depth = np.zeros(n)
    vowel_weights = np.zeros((len(VOWELS), n))
    breath = np.zeros(n)  # envelope of "h"
    active = np.zeros(n, dtype=bool)
    scoop = np.zeros(n)
    previous_end = -1.0
    for note in notes:
        start, end = index(note.start_s), index(note.end_s)
        if end <= start:
            continue
        legato = abs(note.start_s - previous_end) < 1e-3
        pitch[start:] = note.midi
        t = np.arange(end - start) / sr
        # Long notes sag a little in level, as breath runs out.
        loudness[start:end] = note.velocity * (1 - 0.15 * t / max(t[-1], 1e-3))
        vibrato_depth[start:end] = voice.vibrato_st * np.clip((t - 0.18) / 0.35, 0, 1)
        vowel_weights[VOWELS.index(note.vowel), start:end] = 1
        if not legato:
            scoop[start:end] = -0.6 * np.exp(-t / 0.05)
        if note.consonant:
            length = CONSONANTS[note.consonant][1]
            c_start = index(note.start_s - length)
            if note.consonant in _MURMURS:  # voiced, closed mouth: quiet and dark
                loudness[c_start:start] = 0.35 * note.velocity
                vowel_weights[:, c_start:start] = 0
                vowel_weights[VOWELS.index("u"), c_start:start] = 1
            else:
                loudness[c_start:start] = 0
                if note.consonant == "h":
                    breath[c_start:start] = note.velocity
                    vowel_weights[:, c_start:start] = 0
                    vowel_weights[VOWELS.index(note.vowel), c_start:start] = 1
                else:
                    if note.consonant in ("t", "k", "p"):  # closure before the burst
                        loudness[index(note.start_s - length - 0.03) : start] = 0
            active[c_start:end] = True
        active[start:end] = True
        previous_end = note.end_s
    # Vowel weights before the first and after the last note: hold the nearest vowel.
    voiced = vowel_weights.sum(axis=0) > 0
    if voiced.any():
        fill = np.maximum.accumulate(np.where(voiced, np.arange(n), 0))
        first = int(np.argmax(voiced))
        fill[:first] = first
        vowel_weights = vowel_weights[:, fill]

    # Pitch track in MIDI units, then Hz.
    pitch = _one_pole(pitch, tau_s=0.025, sr=sr) + _one_pole(scoop, tau_s=0.01, sr=sr)
    rate = voice.vibrato_hz * (1 + 0.04 * _slow_noise(rng, n, cutoff_hz=0.5, sr=sr))
    vibrato = np.sin(2 * np.pi * np.cumsum(rate) / sr + rng.uniform(0, 2 * np.pi))
    pitch += _one_pole(vibrato_depth, tau_s=0.05, sr=sr) * vibrato
    pitch += voice.drift_st * _slow_noise(rng, n, cutoff_hz=1.5, sr=sr)
    pitch += voice.jitter_st * _slow_noise(rng, n, cutoff_hz=60.0, sr=sr)
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    pulses, phase = _glottal_pulses(f0, sr=sr)

    # Loudness: smoothed attacks and releases, shimmer, pulses louder when loud.
    loudness = _one_pole(loudness, tau_s=0.012, sr=sr)
    loudness *= 1 + 0.05 * _slow_noise(rng, n, cutoff_hz=30.0, sr=sr)
    pulse_rms = 2 * np.sqrt(np.mean(f0 / sr))  # RMS of one unit pulse per period
    noise = rng.standard_normal(n) * pulse_rms
    open_phase = 0.5 - 0.5 * np.cos(2 * np.pi * phase)  # breath flows while open
    breath = _one_pole(breath, tau_s=0.01, sr=sr)
    excitation = loudness * (pulses + voice.breathiness * open_phase * noise)
    excitation += 0.6 * breath * noise

    # Formants: each vowel's resonator bank on the whole excitation, cross-faded.
    weights = np.stack([_one_pole(w, tau_s=0.03, sr=sr) for w in vowel_weights])
    out = np.zeros(n)
    for vowel, bank in _vowel_filters(voice, sr=sr).items():
        weight = weights[VOWELS.index(vowel)]
        if not weight.any():
            continue
        shaped = sum(signal.lfilter(b, a, excitation) for b, a in bank)
        out += weight * shaped
    # Lips and room-free capture: a gentle top-end roll-off above 6 kHz.
    out = signal.sosfilt(signal.butter(1, 6000.0, fs=sr, output="sos"), out)

    voiced_level = np.sqrt(np.mean(out[loudness > 0.5] ** 2)) if (loudness > 0.5).any() else 1.0
    for note in notes:
        if note.consonant not in CONSONANTS or note.consonant in ("h", *_MURMURS):
            continue
        (low, high), length, level_db = CONSONANTS[note.consonant]
        c_start, start = index(note.start_s - length), index(note.start_s)
        m = start - c_start + index(0.012)  # overlaps the vowel onset a little
        if m <= 0 or c_start >= n:
            continue
        burst = signal.sosfilt(
            signal.butter(2, (low, min(high, 0.45 * sr)), btype="band", fs=sr, output="sos"), rng.standard_normal(m)
        )
        shape = np.minimum(np.linspace(0, 4, m), 1) * np.minimum(np.linspace(3, 0, m), 1)
        if note.consonant in ("t", "k", "p"):
            shape = np.exp(-np.arange(m) / (0.3 * m))
        burst *= shape / (np.sqrt(np.mean(burst**2)) + 1e-12)
        level = voiced_level * note.velocity * 10 ** (level_db / 20)
        stop = min(c_start + m, n)
        out[c_start:stop] += level * burst[: stop - c_start]

    # Digital silence outside the phrases (the resonators ring for a few ms only).
    reach = int(0.3 * sr)
    counts = np.concatenate([[0], np.cumsum(active)])
    lo = np.clip(np.arange(n) - reach, 0, n)
    hi = np.clip(np.arange(n) + reach + 1, 0, n)
    out *= counts[hi] > counts[lo]
    peak = np.max(np.abs(out)) if out.any() else 1.0
    return out / peak


def melody(*, plan: SongPlan) -> list[SungNote]:
    """The song's sung line: two-bar phrases on chord tones and scale steps.

    Every pitch is in the song's scale and the singer's range; notes on the beat and
    phrase endings are chord tones. Phrases last 5 to 7 beats of every 8, the first
    bar is instrumental and two bars near the middle are a break, so the vocal stem
    has silent stretches, as a real one does.

    Parameters
    ----------
    plan : SongPlan

    Returns
    -------
    list of SungNote
        In time order, times in seconds (swung like the band).
    """
    rng = np.random.default_rng([plan.seed, 4])
    style = _STYLE_BY_NAME[plan.style]
    scale = SCALES[plan.mode]
    low, high = VOICE_RANGES[plan.voice]
    pitches = [p for p in range(low, high + 1) if (p - plan.tonic) % 12 in scale]
    cells = ((1.0,), (0.5, 0.5), (1.5, 0.5), (0.75, 0.25), (0.5, 1.0, 0.5), (2.0,))
    words = [
        (c, v)
        for c in ("", "", "l", "m", "n", "s", "sh", "t", "k", "p", "h", "f")
        for v in ("a", "a", "e", "i", "o", "o", "u")
    ]
    notes: list[SungNote] = []
    current = len(pitches) // 2
    bar = 1
    break_bar = (plan.n_bars // 2) | 1  # phrases start on odd bars
    while bar < plan.n_bars:
        if bar == break_bar:
            bar += 2
            continue
        length = float(rng.choice((5.0, 6.0, 7.0)))  # beats sung out of the 8
        beat = 0.0
        durations: list[float] = []
        while beat < length - 1.5:
            cell = cells[int(rng.integers(len(cells)))]
            durations.extend(cell)
            beat += sum(cell)
        durations.append(max(length - beat, 1.0))
        beat = 0.0
        for k, duration in enumerate(durations):
            chord = {(plan.tonic + tone) % 12 for tone in _chord(plan, bar + int(beat // 4))}
            current = int(np.clip(current + rng.choice((-2, -1, -1, 0, 1, 1, 2, 3, -3)), 0, len(pitches) - 1))
            if beat % 1 == 0 or k == len(durations) - 1:  # strong beats on chord tones
                candidates = [i for i, p in enumerate(pitches) if p % 12 in chord]
                current = min(candidates, key=lambda i: abs(i - current))
            consonant, vowel = words[int(rng.integers(len(words)))]
            if k > 0 and rng.random() < 0.2:  # melisma: the same vowel, no consonant
                consonant, vowel = "", notes[-1].vowel
            start = _swung(bar * 4 + beat, style.swing) * plan.beat_s
            end = _swung(bar * 4 + beat + duration, style.swing) * plan.beat_s
            velocity = float(rng.uniform(0.75, 1.0)) * (1.0 if beat % 1 == 0 else 0.9)
            notes.append(SungNote(start, end, float(pitches[current]), vowel, consonant, velocity))
            beat += duration
        bar += 2
    return notes


def _voice_for(plan: SongPlan, rng: np.random.Generator) -> Voice:
    return Voice(
        formants=plan.voice,
        formant_scale=float(rng.uniform(0.95, 1.05)),
        vibrato_hz=float(rng.uniform(4.8, 6.2)),
        vibrato_st=float(rng.uniform(0.3, 0.6)),
        breathiness=float(rng.uniform(0.15, 0.35)),
    )


# ---------------------------------------------------------------------------------
# MIDI and fluidsynth
# ---------------------------------------------------------------------------------


def write_midi(
    path: Path,
    *,
    notes: Sequence[_Note],
    bpm: float,
    programs: dict[int, int],
    pans: dict[int, int],
    swing: float = 0.5,
    end_beat: float,
    seed: int = 0,
) -> None:
    """Write a type-0 Standard MIDI File.

    Parameters
    ----------
    path : Path
        Output ``.mid`` file.
    notes : sequence of (start_beat, length_beats, pitch, velocity, channel)
        The notes. Start times are swung with ``swing`` and humanised by up to
        +-4 ms (drums) or +-8 ms (others), drawn from ``seed``.
    bpm : float
        Tempo in beats per minute.
    programs, pans : dict of channel -> value
        General MIDI program (on channel 9: the drum kit) and pan (0..127).
    swing : float
        Position of the off-beat eighth inside the beat.
    end_beat : float
        Time of the end-of-track event, in beats.
    seed : int
        Seed of the humanisation.
    """
    rng = np.random.default_rng([seed, 2])
    ticks_per_s = _TICKS_PER_BEAT * bpm / 60.0
    events: list[tuple[int, int, mido.Message]] = []
    for start, length, pitch, velocity, channel in notes:
        spread = 0.004 if channel == _DRUM_CHANNEL else 0.008
        on = _swung(start, swing) * _TICKS_PER_BEAT + rng.uniform(-spread, spread) * ticks_per_s
        off = _swung(start + length, swing) * _TICKS_PER_BEAT
        on_tick = max(int(round(on)), 0)
        off_tick = max(int(round(off)), on_tick + 1)
        velocity = int(np.clip(velocity, 1, 127))
        events.append((on_tick, 1, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)))
        events.append((off_tick, 0, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
    events.sort(key=lambda event: (event[0], event[1]))

    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm)))
    for channel, program in programs.items():
        track.append(mido.Message("program_change", channel=channel, program=program))
        for control, value in ((7, 100), (10, pans.get(channel, 64)), (91, 30), (93, 0)):
            track.append(mido.Message("control_change", channel=channel, control=control, value=value))
    now = 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    end_tick = max(int(round(end_beat * _TICKS_PER_BEAT)), now)
    track.append(mido.MetaMessage("end_of_track", time=end_tick - now))
    midi = mido.MidiFile(type=0, ticks_per_beat=_TICKS_PER_BEAT)
    midi.tracks.append(track)
    midi.save(str(path))


def _fluidsynth_start(midi_path: Path, wav_path: Path, *, sr: int) -> subprocess.Popen:
    """Start rendering ``midi_path`` to a float WAV; fluidsynth is deterministic."""
    if shutil.which("fluidsynth") is None or not SOUNDFONT.exists():
        raise RuntimeError("fluidsynth and the FluidR3 GM soundfont are needed: run bench/install_bench_deps.sh")
    # No shell, no MIDI input, quiet; reverb on, chorus off; float samples, no dither.
    options = f"-n -i -q -g 0.5 -r {sr} -R 1 -C 0 -O float -T wav".split()
    command = ["fluidsynth", *options, "-F", str(wav_path), str(SOUNDFONT), str(midi_path)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _read_fit(path: Path, *, n: int) -> np.ndarray:
    """Read a WAV as float64 (2, n), cut or zero-padded to ``n`` samples."""
    audio, _ = sf.read(path, dtype="float64", always_2d=True)
    out = np.zeros((2, n))
    m = min(n, audio.shape[0])
    out[:, :m] = audio[:m, :2].T if audio.shape[1] >= 2 else audio[:m, 0]
    return out


def _render_raw(plan: SongPlan, *, n: int, sr: int, workdir: Path) -> dict[str, np.ndarray]:
    """Render the four stems of ``plan`` at the synthesiser's own levels, (2, n) each."""
    style = _STYLE_BY_NAME[plan.style]
    rng = np.random.default_rng([plan.seed, 3])
    workdir.mkdir(parents=True, exist_ok=True)
    pan_comp = int(rng.integers(30, 50))
    parts = {
        "drums": (_drum_part(plan, rng), {_DRUM_CHANNEL: plan.kit}, {}),
        "bass": (_bass_part(plan, rng), {_BASS_CHANNEL: plan.bass_program}, {}),
        "other": (
            _other_part(plan, rng),
            {_COMP_CHANNEL: plan.comp_program, _PAD_CHANNEL: plan.pad_program},
            {_COMP_CHANNEL: pan_comp, _PAD_CHANNEL: 128 - pan_comp},
        ),
    }
    end_beat = n / sr / plan.beat_s + 2.0
    processes = {}
    for stem, (notes, programs, pans) in parts.items():
        midi_path = workdir / f"{stem}.mid"
        write_midi(
            midi_path,
            notes=notes,
            bpm=plan.bpm,
            programs=programs,
            pans=pans,
            swing=style.swing,
            end_beat=end_beat,
            seed=plan.seed,
        )
        processes[stem] = _fluidsynth_start(midi_path, workdir / f"{stem}.wav", sr=sr)
    # The vocal is synthesised while the fluidsynth processes run.
    vocal = sing(
        notes=melody(plan=plan),
        duration_s=n / sr,
        sr=sr,
        voice=_voice_for(plan, np.random.default_rng([plan.seed, 7])),
        seed=plan.seed,
    )
    stems = {"vocals": np.stack([vocal, vocal])}
    for stem, process in processes.items():
        _, stderr = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"fluidsynth failed on {stem}: {stderr.decode()[-500:]}")
        stems[stem] = _read_fit(workdir / f"{stem}.wav", n=n)
    return {stem: stems[stem] for stem in STEMS}


def _balance(stems: dict[str, np.ndarray], *, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Set each stem to its RMS target (+-1 dB per song), then scale all stems by one
    factor so the mixture peaks at -1 dBFS."""
    out = {}
    for stem, audio in stems.items():
        rms = np.sqrt(np.mean(audio**2))
        target = 10 ** ((_LEVELS_DB[stem] + rng.uniform(-1, 1)) / 20)
        out[stem] = audio * (target / rms) if rms > 0 else audio
    mixture = sum(out.values())
    peak = max(np.max(np.abs(mixture)), *(np.max(np.abs(a)) for a in out.values()))
    return {stem: audio * (_MIX_PEAK / peak) for stem, audio in out.items()}


# ---------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------


def render_song(*, seed: int, duration_s: float = 30.0, sr: int = 44100, workdir: Path) -> dict[str, np.ndarray]:
    """Render one song and its stems.

    Parameters
    ----------
    seed : int
        Song seed (see :func:`plan_song`); the audio is a pure function of the
        arguments other than ``workdir``.
    duration_s : float
        Length in seconds; the last second fades out (all stems alike).
    sr : int
        Sample rate in Hz.
    workdir : Path
        Folder for the intermediate MIDI and WAV files (created if missing).

    Returns
    -------
    dict of str -> np.ndarray, shape (2, n), float32
        ``vocals``, ``drums``, ``bass``, ``other`` and ``mixture``, with
        ``n = round(duration_s * sr)``. The mixture is the sum of the four stems
        (to float32 rounding) and peaks at -1 dBFS.
    """
    n = int(round(duration_s * sr))
    plan = plan_song(seed=seed, duration_s=duration_s)
    stems = _balance(_render_raw(plan, n=n, sr=sr, workdir=Path(workdir)), rng=np.random.default_rng([seed, 5]))
    fade = np.ones(n)
    fade_n = min(int(_FADE_OUT_S * sr), n)
    fade[n - fade_n :] = np.linspace(1, 0, fade_n) ** 2
    out = {stem: (audio * fade).astype(np.float32) for stem, audio in stems.items()}
    out["mixture"] = np.sum([out[stem] for stem in STEMS], axis=0, dtype=np.float32)
    return out


def _meta(*, seed: int, duration_s: float, sr: int) -> dict:
    plan = plan_song(seed=seed, duration_s=duration_s)
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "duration_s": duration_s,
        "sr": sr,
        "plan": asdict(plan),
    }


def render_set(
    *,
    n_songs: int = 8,
    out_dir: Path,
    duration_s: float = 30.0,
    sr: int = 44100,
    first_seed: int = 0,
) -> list[Path]:
    """Render (or reuse) a benchmark set: one folder of WAV files per song.

    Song ``i`` has seed ``first_seed + i``; eight consecutive seeds cover the eight
    styles. Each folder ``out_dir/song{i:02d}`` holds ``vocals.wav``, ``drums.wav``,
    ``bass.wav``, ``other.wav`` and ``mixture.wav`` (stereo, 32-bit float, so that the
    stems still sum to the mixture) and ``song.json`` (seed, plan, levels). A folder
    whose ``song.json`` matches the arguments and :data:`GENERATOR_VERSION` is reused;
    a new one is written whole in a temporary folder and then renamed into place.

    Parameters
    ----------
    n_songs : int
        Number of songs.
    out_dir : Path
        Cache folder (the benchmark uses ``var/bench/``).
    duration_s : float
        Length of each song in seconds.
    sr : int
        Sample rate in Hz.
    first_seed : int
        Seed of the first song.

    Returns
    -------
    list of Path
        The song folders, in seed order; read one with :func:`load_song`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    folders = []
    for i in range(n_songs):
        seed = first_seed + i
        folder = out_dir / f"song{i:02d}"
        meta = _meta(seed=seed, duration_s=duration_s, sr=sr)
        folders.append(folder)
        try:
            cached = json.loads((folder / "song.json").read_text())
            if {k: cached.get(k) for k in meta} == json.loads(json.dumps(meta)) and all(
                (folder / f"{name}.wav").exists() for name in (*STEMS, "mixture")
            ):
                continue
        except (OSError, ValueError):
            pass
        with tempfile.TemporaryDirectory(dir=out_dir, prefix=".render-") as tmp:
            staging = Path(tmp) / "song"
            staging.mkdir()
            audio = render_song(seed=seed, duration_s=duration_s, sr=sr, workdir=Path(tmp) / "work")
            for name, stem in audio.items():
                sf.write(staging / f"{name}.wav", stem.T, sr, subtype="FLOAT")
            meta["rms_dbfs"] = {
                name: round(float(20 * np.log10(np.sqrt(np.mean(stem.astype(np.float64) ** 2)) + 1e-12)), 2)
                for name, stem in audio.items()
            }
            (staging / "song.json").write_text(json.dumps(meta, indent=2))
            if folder.exists():
                shutil.rmtree(folder)
            staging.rename(folder)
    return folders


def load_song(folder: Path) -> dict[str, np.ndarray]:
    """Read a folder written by :func:`render_set`: name -> float32 array (2, n)."""
    return {
        name: sf.read(Path(folder) / f"{name}.wav", dtype="float32", always_2d=True)[0].T.copy()
        for name in (*STEMS, "mixture")
    }


def render_long_song(*, duration_s: float, sr: int = 44100, seed: int = 0, workdir: Path | None = None) -> np.ndarray:
    """Render a long mixture cheaply, for speed and memory benchmarks.

    One 30 s song is rendered, and a whole number of its bars is looped with
    variation: each pass changes every stem's gain by up to +-2 dB and, one pass in
    four, drops the drums or the vocal; passes join with 20 ms cross-fades on bar
    lines. The last second fades out.

    Parameters
    ----------
    duration_s : float
        Length in seconds (e.g. 180 or 600).
    sr : int
        Sample rate in Hz.
    seed : int
        Song seed.
    workdir : Path, optional
        Folder for intermediate files; a temporary one by default.

    Returns
    -------
    np.ndarray, shape (2, round(duration_s * sr)), float32
        The mixture, peak at most -1 dBFS.
    """
    if duration_s <= 0:
        raise ValueError("duration_s must be positive")
    plan = plan_song(seed=seed, duration_s=30.0)
    with tempfile.TemporaryDirectory() as tmp:
        stems = _balance(
            _render_raw(plan, n=30 * sr, sr=sr, workdir=Path(workdir or tmp)), rng=np.random.default_rng([seed, 5])
        )
    bar_n = int(round(4 * plan.beat_s * sr))
    xfade = int(0.02 * sr)
    loop_n = bar_n * ((30 * sr - xfade) // bar_n)
    n = int(round(duration_s * sr))
    out = np.zeros((2, n), dtype=np.float32)
    rng = np.random.default_rng([seed, 6])
    ramp = np.linspace(0, 1, xfade, dtype=np.float32)
    for k, offset in enumerate(range(0, n, loop_n)):
        gains = {stem: 10 ** (rng.uniform(-2, 2) / 20) for stem in STEMS}
        if k > 0 and k % 4 == 2:
            gains[str(rng.choice(("drums", "vocals")))] = 0.0
        length = min(loop_n + xfade, n - offset)
        segment = np.zeros((2, length), dtype=np.float32)
        for stem in STEMS:
            segment += (gains[stem] * stems[stem][:, :length]).astype(np.float32)
        if k > 0:
            segment[:, :xfade] *= ramp[: min(xfade, length)]
        if length == loop_n + xfade:
            segment[:, loop_n:] *= ramp[::-1]
        out[:, offset : offset + length] += segment
    fade_n = min(int(_FADE_OUT_S * sr), n)
    out[:, n - fade_n :] *= np.linspace(1, 0, fade_n, dtype=np.float32) ** 2
    peak = float(np.max(np.abs(out)))
    if peak > _MIX_PEAK:
        out *= np.float32(_MIX_PEAK / peak)
    return out


def main() -> None:
    """Render a set and print each song's plan and stem levels (``python -m``)."""
    import argparse
    import time

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("var/bench"))
    parser.add_argument("--songs", type=int, default=8)
    parser.add_argument("--duration", type=float, default=30.0)
    args = parser.parse_args()
    began = time.perf_counter()
    folders = render_set(n_songs=args.songs, out_dir=args.out, duration_s=args.duration)
    print(f"{len(folders)} songs in {time.perf_counter() - began:.1f} s")
    for folder in folders:
        meta = json.loads((folder / "song.json").read_text())
        plan = meta["plan"]
        levels = "  ".join(f"{k} {v:6.1f}" for k, v in meta["rms_dbfs"].items())
        print(
            f"{folder.name} {plan['style']:<9} {plan['bpm']:5.0f} BPM {plan['mode']:<10}"
            f" {plan['voice']:<7} RMS dBFS: {levels}"
        )


if __name__ == "__main__":
    main()
