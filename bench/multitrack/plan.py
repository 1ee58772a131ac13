"""The plan of a test song, drawn from its seed, and its instrument parts as notes.

:func:`plan_song` draws a :class:`SongPlan` (style, tempo, key and mode, chord
progression, instruments, singer); :func:`drum_part`, :func:`bass_part` and
:func:`other_part` write its instrument stems as :data:`Note` tuples on the MIDI
channels named here, for :mod:`bench.multitrack.midi` to render. The sung line is
in :mod:`bench.multitrack.voice`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# The four stems of every song (the mixture is their sum).
STEMS = ("vocals", "drums", "bass", "other")

DRUM_CHANNEL = 9  # MIDI channel 10, counted from 1
BASS_CHANNEL, COMP_CHANNEL, PAD_CHANNEL = 0, 1, 2

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
STYLE_BY_NAME = {style.name: style for style in STYLES}
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


def chord_of(plan: SongPlan, bar: int, *, size: int = 3) -> list[int]:
    """Chord of ``bar`` as semitones above the tonic (root first, may exceed 12)."""
    scale = SCALES[plan.mode]
    degree = plan.progression[bar % len(plan.progression)]
    return [scale[(degree + 2 * k) % 7] + 12 * ((degree + 2 * k) // 7) for k in range(size)]


def _voicing(pitch_classes: Sequence[int], *, centre: int) -> list[int]:
    """Place each pitch class in the octave nearest ``centre`` (a MIDI note)."""
    return sorted(centre + ((pc - centre + 6) % 12) - 6 for pc in pitch_classes)


def swung(beat: float, swing: float) -> float:
    """Map a straight beat position to its swung position (off-beat eighths late)."""
    whole = np.floor(beat)
    frac = beat - whole
    if frac < 0.5:
        return float(whole + frac * 2 * swing)
    return float(whole + swing + (frac - 0.5) * 2 * (1 - swing))


# One note: (start beat, length in beats, MIDI pitch, velocity 1..127, channel).
Note = tuple[float, float, int, int, int]


def drum_part(plan: SongPlan, rng: np.random.Generator) -> list[Note]:
    style = STYLE_BY_NAME[plan.style]
    notes: list[Note] = []
    for bar in range(plan.n_bars):
        lift = 8 if bar >= plan.n_bars // 2 else 0  # the second half is louder
        fill = bar % 4 == 3
        for drum, pattern in style.drums.items():
            for step, hit in enumerate(pattern):
                if hit == "." or (fill and step >= 12):
                    continue
                velocity = _HIT_VELOCITY[hit] + lift + int(rng.integers(-8, 9))
                notes.append((bar * 4 + step / 4, 0.25, drum, velocity, DRUM_CHANNEL))
        if fill:  # a tom run over the last beat
            for step, tom in zip(range(12, 16), (50, 48, 45, 41), strict=True):
                notes.append((bar * 4 + step / 4, 0.25, tom, 100 + int(rng.integers(-8, 9)), DRUM_CHANNEL))
        if bar % 4 == 0:
            notes.append((bar * 4.0, 1.0, 49, 110, DRUM_CHANNEL))
    return notes


def bass_part(plan: SongPlan, rng: np.random.Generator) -> list[Note]:
    style = STYLE_BY_NAME[plan.style]
    notes: list[Note] = []
    for bar in range(plan.n_bars):
        root = 28 + (plan.tonic + chord_of(plan, bar)[0] - 28) % 12  # E1..D#2
        next_root = 28 + (plan.tonic + chord_of(plan, bar + 1)[0] - 28) % 12
        third = root + (chord_of(plan, bar)[1] - chord_of(plan, bar)[0])
        tones = {"R": root, "3": third, "5": root + 7, "8": root + 12, "A": next_root + int(rng.choice((-1, 1)))}
        for beat, length, tone in _BASS_FIGURES[style.bass]:
            velocity = (100 if beat == 0 else 84) + int(rng.integers(-6, 7))
            notes.append((bar * 4 + beat, length, tones[tone], velocity, BASS_CHANNEL))
    return notes


def other_part(plan: SongPlan, rng: np.random.Generator) -> list[Note]:
    """Chord comping on one channel and a sustained pad (from bar 2) on another."""
    style = STYLE_BY_NAME[plan.style]
    notes: list[Note] = []
    for bar in range(plan.n_bars):
        chord = [plan.tonic + step for step in chord_of(plan, bar, size=4 if style.name == "shuffle" else 3)]
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
                    notes.append((start + eighth / 2 + k * 0.02, 0.45, pitch, velocity, COMP_CHANNEL))
        elif style.comp == "power":  # root-fifth-octave, down strokes on eighths
            root = 40 + (chord[0] - 40) % 12
            for eighth in range(8):
                velocity = 100 + int(rng.integers(-8, 9))
                for k, pitch in enumerate((root, root + 7, root + 12)):
                    notes.append((start + eighth / 2 + k * 0.015, 0.42, pitch, velocity, COMP_CHANNEL))
        elif style.comp == "arp":
            tones = voicing + [voicing[0] + 12, voicing[1] + 12]
            order = (0, 1, 2, 3, 4, 3, 2, 1)
            for eighth, index in enumerate(order):
                notes.append((start + eighth / 2, 0.9, tones[index], 72 + int(rng.integers(-8, 9)), COMP_CHANNEL))
        else:
            hits = {
                "block": ((0.0, 1.8), (2.0, 1.8)),
                "offbeat": ((0.5, 0.3), (1.5, 0.3), (2.5, 0.3), (3.5, 0.3)),
                "stabs": ((0.0, 0.2), (0.75, 0.2), (1.5, 0.2), (2.75, 0.2), (3.5, 0.3)),
            }[style.comp]
            for beat, length in hits:
                velocity = 84 + int(rng.integers(-8, 9))
                for pitch in voicing:
                    notes.append((start + beat, length, pitch, velocity, COMP_CHANNEL))
        if bar >= 2:
            for pitch in _voicing(chord[:3], centre=67):
                notes.append((start, 3.95, pitch, 58 + int(rng.integers(-5, 6)), PAD_CHANNEL))
    return notes
