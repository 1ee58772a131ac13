"""The plan of a karaoke test song, drawn from its seed: meter, tempo, language, band and the sung line.

:func:`plan_song` draws a :class:`KaraokePlan`; :func:`set_plans` lays out the benchmark set so
that it covers both meters, both languages and both ends of the tempo range whatever the seeds
draw (:data:`SET_LAYOUT`); :func:`long_plan` is the 3-min song of the speed rows. The truth a plan
implies is computed here too: the beat grid (:func:`beat_times`, :func:`downbeat_times`) and the
lines of the tune (:func:`vocal_line`, which :mod:`bench.karaoke.songs` has the voice sing).

A beat is the pulse a listener taps: the quarter note in 4/4 and 3/4, the dotted quarter in 6/8
(two beats of three eighths a bar); ``bpm`` counts those.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.karaoke.lyrics import LYRICS
from bench.karaoke.voice import ESPEAK_VOICES, VARIANTS
from bench.multitrack.plan import PROGRESSIONS


@dataclass(frozen=True)
class Meter:
    """A time signature as the band plays it.

    Attributes
    ----------
    name : str
        As the analysis reports it: ``"4/4"``, ``"3/4"``, ``"6/8"``.
    beats_per_bar : int
        Beats (taps) in a bar.
    steps_per_beat : int
        Eighth notes in a beat: 2 in simple meters, 3 in compound ones; the drum patterns are
        written on this grid.
    """

    name: str
    beats_per_bar: int
    steps_per_beat: int

    @property
    def steps_per_bar(self) -> int:
        return self.beats_per_bar * self.steps_per_beat


METERS = {m.name: m for m in (Meter("4/4", 4, 2), Meter("3/4", 3, 2), Meter("6/8", 2, 3))}

# Song i of the set: (meter, language, tempo range in BPM). Five songs per language, five in
# 4/4, four in 3/4 and one in 6/8, tempi from 70 to 170; the seed draws inside each range.
SET_LAYOUT: tuple[tuple[str, str, tuple[int, int]], ...] = (
    ("4/4", "en", (70, 78)),
    ("3/4", "pt", (72, 84)),
    ("4/4", "pt", (92, 104)),
    ("3/4", "en", (96, 110)),
    ("6/8", "en", (70, 84)),
    ("4/4", "en", (118, 132)),
    ("3/4", "pt", (126, 140)),
    ("4/4", "pt", (150, 162)),
    ("3/4", "en", (150, 165)),
    ("4/4", "pt", (162, 170)),
)
FIRST_SEED = 1000  # apart from the separation set's seeds (0, 1, 2, ...)
LEAD_IN_S = 0.25  # silence before the first beat
TAIL_S = 2.0  # after the last downbeat's final hit, the reverb rings out

_KITS = (0, 8, 16, 32)
_BASS_PROGRAMS = (32, 33, 34, 35)
_COMP_PROGRAMS = (0, 4, 24, 25, 27)
_PAD_PROGRAMS = (48, 49, 89)
REST_S = 1.2  # at least this much between sung lines


@dataclass(frozen=True)
class KaraokePlan:
    """Everything random about a song, drawn once from its seed."""

    seed: int
    meter: str  # key of METERS
    bpm: float
    language: str  # Whisper's code, key of LYRICS
    voice: str  # espeak-ng voice with its variant
    speed_wpm: int
    tonic: int  # pitch class, 0 = C
    mode: str
    progression: tuple[int, ...]
    groove: int  # which of the meter's two patterns
    kit: int
    bass_program: int
    comp_program: int
    pad_program: int
    n_bars: int  # bars played before the final hit
    intro_bars: int
    first_line: int

    @property
    def beat_s(self) -> float:
        return 60.0 / self.bpm

    @property
    def bar_s(self) -> float:
        return METERS[self.meter].beats_per_bar * self.beat_s

    @property
    def duration_s(self) -> float:
        """Length of the audio: lead-in, the bars, the final hit's downbeat and the tail."""
        return LEAD_IN_S + self.n_bars * self.bar_s + TAIL_S


def plan_song(*, seed: int, meter: str, language: str, bpm_range: tuple[int, int], duration_s: float) -> KaraokePlan:
    """Draw a song plan.

    Parameters
    ----------
    seed : int
        Non-negative; the plan is a pure function of the arguments.
    meter : {"4/4", "3/4", "6/8"}
    language : {"en", "pt"}
    bpm_range : (int, int)
        Inclusive range the tempo (beats per minute, see the module docstring) is drawn from.
    duration_s : float
        Rough length in seconds; the song ends on a downbeat near it.

    Returns
    -------
    KaraokePlan
    """
    if seed < 0 or duration_s <= LEAD_IN_S + TAIL_S:
        raise ValueError("seed must be >= 0 and duration_s longer than the lead-in and tail")
    if meter not in METERS or language not in LYRICS:
        raise ValueError(f"unknown meter {meter!r} or language {language!r}")
    rng = np.random.default_rng([seed, 0])
    bpm = float(rng.integers(bpm_range[0], bpm_range[1] + 1))
    bar_s = METERS[meter].beats_per_bar * 60.0 / bpm
    mode = str(rng.choice(("major", "minor")))
    progressions = PROGRESSIONS[mode]
    return KaraokePlan(
        seed=seed,
        meter=meter,
        bpm=bpm,
        language=language,
        voice=f"{ESPEAK_VOICES[language]}+{rng.choice(VARIANTS)}",
        speed_wpm=int(rng.integers(135, 161)),
        tonic=int(rng.integers(12)),
        mode=mode,
        progression=progressions[int(rng.integers(len(progressions)))],
        groove=int(rng.integers(2)),
        kit=int(rng.choice(_KITS)),
        bass_program=int(rng.choice(_BASS_PROGRAMS)),
        comp_program=int(rng.choice(_COMP_PROGRAMS)),
        pad_program=int(rng.choice(_PAD_PROGRAMS)),
        n_bars=max(4, int(round((duration_s - LEAD_IN_S - TAIL_S) / bar_s))),
        intro_bars=2 if bar_s >= 1.5 else 4,
        first_line=int(rng.integers(len(LYRICS[language]))),
    )


def set_plans(*, n_songs: int, first_seed: int = FIRST_SEED) -> list[KaraokePlan]:
    """The plans of the benchmark set: song ``i`` follows ``SET_LAYOUT[i % 10]``, 64–86 s long."""
    plans = []
    for i in range(n_songs):
        meter, language, bpm_range = SET_LAYOUT[i % len(SET_LAYOUT)]
        seed = first_seed + i
        duration_s = float(np.random.default_rng([seed, 1]).uniform(64.0, 86.0))
        plans.append(plan_song(seed=seed, meter=meter, language=language, bpm_range=bpm_range, duration_s=duration_s))
    return plans


def long_plan(*, duration_s: float = 180.0) -> KaraokePlan:
    """The speed rows' song: 4/4 at 120 BPM, in English, about ``duration_s`` long."""
    return plan_song(seed=FIRST_SEED + 900, meter="4/4", language="en", bpm_range=(120, 120), duration_s=duration_s)


def beat_times(plan: KaraokePlan) -> np.ndarray:
    """Every beat in seconds, the final hit's downbeat included: shape (n_bars * beats_per_bar + 1,)."""
    n = plan.n_bars * METERS[plan.meter].beats_per_bar + 1
    return LEAD_IN_S + np.arange(n) * plan.beat_s


def downbeat_times(plan: KaraokePlan) -> np.ndarray:
    """The first beat of every bar in seconds, the final hit's included: shape (n_bars + 1,)."""
    return LEAD_IN_S + np.arange(plan.n_bars + 1) * plan.bar_s


@dataclass(frozen=True)
class SungLine:
    """A line of the tune: its text and espeak-ng's base pitch for it (0..99)."""

    text: str
    pitch: int


def vocal_line(plan: KaraokePlan) -> list[SungLine]:
    """The lines the song may sing, in order, each with its pitch.

    Lines follow in order from ``plan.first_line``, wrapping round; there are ``plan.n_bars`` of
    them, more than can fit, and :func:`~bench.karaoke.songs.sing_plan` sings them from the first
    downbeat after the intro, each on a downbeat, with at least :data:`REST_S` between two, until
    the bars run out (the last bar is left to the band). The pitch is a bounded random walk in
    steps of 6 around espeak-ng's default of 50, so the tune rises and falls from line to line.
    """
    rng = np.random.default_rng([plan.seed, 4])
    lines = LYRICS[plan.language]
    out, step = [], 0
    for k in range(plan.n_bars):
        step = int(np.clip(step + rng.choice((-2, -1, 0, 1, 2)), -4, 4))
        out.append(SungLine(lines[(plan.first_line + k) % len(lines)], int(np.clip(50 + 6 * step, 20, 80))))
    return out
