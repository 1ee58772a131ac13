"""The band of a karaoke test song as notes, in any of its meters.

:mod:`bench.multitrack.plan` writes 4/4 bars only; these parts follow a :class:`Meter`: a drum
groove on the meter's eighth-note grid (the bar's first step accented, a crash every fourth bar),
a bass that always sounds the chord's root on the downbeat, chord comping that marks the meter
(oom-pah-pah in 3/4, rolling eighths in 6/8), and a pad. Every part ends on the final hit, the
downbeat after the last bar. Times are in beats from the first beat (:func:`offset_beats` gives
the lead-in); notes are the :data:`bench.multitrack.plan.Note` tuples that
:func:`bench.multitrack.midi.write_midi` writes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bench.karaoke.plan import LEAD_IN_S, METERS, KaraokePlan
from bench.multitrack.plan import BASS_CHANNEL, COMP_CHANNEL, DRUM_CHANNEL, PAD_CHANNEL, SCALES, Note

# Per meter, two grooves: General MIDI drum -> pattern over the bar's eighths
# (x accent, o normal, g ghost).
# fmt: off
GROOVES: dict[str, tuple[dict[int, str], dict[int, str]]] = {
    "4/4": ({36: "x...x...", 38: "..x...x.", 42: "oooooooo"},
            {36: "x..ox...", 38: "..x...xg", 42: "o.o.o.o."}),
    "3/4": ({36: "x.....", 38: "..o.o.", 42: "oooooo"},
            {36: "x...o.", 38: "..x...", 42: "o.o.o."}),
    "6/8": ({36: "x.....", 38: "...x..", 42: "oooooo"},
            {36: "x....o", 38: "...x..", 42: "ogoogo"}),
}
# Bass per bar: (beat, length in beats, tone) with R root, 5 fifth, 8 octave, A a chromatic
# approach to the next bar's root.
BASS_FIGURES: dict[str, tuple[tuple[tuple[float, float, str], ...], ...]] = {
    "4/4": (((0, 1.4, "R"), (1.5, 0.4, "R"), (2, 1.4, "5"), (3.5, 0.4, "A")),
            ((0, 0.9, "R"), (1, 0.9, "R"), (2, 0.9, "5"), (3, 0.9, "8"))),
    "3/4": (((0, 1.8, "R"), (2, 0.9, "5")),
            ((0, 0.9, "R"), (1, 0.9, "5"), (2, 0.9, "8"))),
    "6/8": (((0, 0.95, "R"), (1, 0.6, "5"), (5 / 3, 0.3, "A")),
            ((0, 0.6, "R"), (2 / 3, 0.3, "5"), (1, 0.6, "8"), (5 / 3, 0.3, "5"))),
}
# Chord hits per bar: (beat, length in beats); "arp" rolls the chord on eighths instead.
COMP_FIGURES: dict[str, tuple[tuple[tuple[float, float], ...] | str, ...]] = {
    "4/4": (((0, 0.85), (1, 0.85), (2, 0.85), (3, 0.85)), ((0, 1.4), (1.5, 0.45), (2, 1.4), (3.5, 0.45))),
    "3/4": (((1, 0.8), (2, 0.8)), "arp"),
    "6/8": ("arp", ((0, 0.95), (1, 0.95))),
}
# fmt: on
_HIT_VELOCITY = {"x": 108, "o": 84, "g": 40}
_DOWNBEAT_ACCENT = 12


def offset_beats(plan: KaraokePlan) -> float:
    """The lead-in in beats: add it to a part's times to place beat 0 at ``LEAD_IN_S``."""
    return LEAD_IN_S / plan.beat_s


def chord(plan: KaraokePlan, bar: int, *, size: int = 3) -> list[int]:
    """The chord of ``bar`` as MIDI pitch classes above C (root first, may exceed 12)."""
    scale = SCALES[plan.mode]
    degree = plan.progression[bar % len(plan.progression)]
    return [plan.tonic + scale[(degree + 2 * k) % 7] + 12 * ((degree + 2 * k) // 7) for k in range(size)]


def _voicing(pitch_classes: Sequence[int], *, centre: int) -> list[int]:
    """Each pitch class in the octave nearest ``centre`` (a MIDI note)."""
    return sorted(centre + ((pc - centre + 6) % 12) - 6 for pc in pitch_classes)


def _shift(notes: list[Note], by: float) -> list[Note]:
    return [(start + by, length, pitch, velocity, channel) for start, length, pitch, velocity, channel in notes]


def drum_part(plan: KaraokePlan, rng: np.random.Generator) -> list[Note]:
    meter = METERS[plan.meter]
    groove = GROOVES[plan.meter][plan.groove]
    step_beats = 1.0 / meter.steps_per_beat
    notes: list[Note] = []
    for bar in range(plan.n_bars):
        start = bar * meter.beats_per_bar
        for drum, pattern in groove.items():
            for step, hit in enumerate(pattern):
                if hit == ".":
                    continue
                velocity = _HIT_VELOCITY[hit] + (_DOWNBEAT_ACCENT if step == 0 else 0) + int(rng.integers(-6, 7))
                notes.append((start + step * step_beats, step_beats, drum, velocity, DRUM_CHANNEL))
        if bar % 4 == 0 or bar == plan.intro_bars:
            notes.append((float(start), 1.0, 49, 110, DRUM_CHANNEL))
    end = plan.n_bars * meter.beats_per_bar
    notes += [(float(end), 1.0, 36, 120, DRUM_CHANNEL), (float(end), 2.0, 49, 120, DRUM_CHANNEL)]
    return _shift(notes, offset_beats(plan))


def bass_part(plan: KaraokePlan, rng: np.random.Generator) -> list[Note]:
    meter = METERS[plan.meter]
    notes: list[Note] = []
    for bar in range(plan.n_bars):
        root = 28 + (chord(plan, bar)[0] - 28) % 12  # E1..D#2
        next_root = 28 + (chord(plan, bar + 1)[0] - 28) % 12
        tones = {"R": root, "5": root + 7, "8": root + 12, "A": next_root + int(rng.choice((-1, 1)))}
        for beat, length, tone in BASS_FIGURES[plan.meter][plan.groove]:
            velocity = (104 if beat == 0 else 84) + int(rng.integers(-6, 7))
            notes.append((bar * meter.beats_per_bar + beat, length, tones[tone], velocity, BASS_CHANNEL))
    end = plan.n_bars * meter.beats_per_bar
    notes.append((float(end), 2.0, 28 + (chord(plan, plan.n_bars)[0] - 28) % 12, 110, BASS_CHANNEL))
    return _shift(notes, offset_beats(plan))


def other_part(plan: KaraokePlan, rng: np.random.Generator) -> list[Note]:
    """Chord comping on one channel and a pad (from bar 2, one chord a bar) on another."""
    meter = METERS[plan.meter]
    figure = COMP_FIGURES[plan.meter][plan.groove]
    step_beats = 1.0 / meter.steps_per_beat
    notes: list[Note] = []
    for bar in range(plan.n_bars + 1):
        voicing = _voicing(chord(plan, bar), centre=60)
        start = float(bar * meter.beats_per_bar)
        if bar == plan.n_bars:  # the final hit
            notes += [(start, 2.0, pitch, 100, COMP_CHANNEL) for pitch in voicing]
            break
        if figure == "arp":
            tones = voicing + [voicing[0] + 12, voicing[1] + 12]
            order = (0, 1, 2, 3, 4, 3, 2, 1, 0)
            for step in range(meter.steps_per_bar):
                velocity = (82 if step == 0 else 68) + int(rng.integers(-6, 7))
                notes.append((start + step * step_beats, 2 * step_beats, tones[order[step]], velocity, COMP_CHANNEL))
        else:
            for beat, length in figure:
                velocity = (88 if beat == 0 else 76) + int(rng.integers(-6, 7))
                notes += [(start + beat, length, pitch, velocity, COMP_CHANNEL) for pitch in voicing]
        if bar >= 2:
            length = meter.beats_per_bar - 0.05
            notes += [
                (start, length, pitch, 56 + int(rng.integers(-5, 6)), PAD_CHANNEL)
                for pitch in _voicing(chord(plan, bar), centre=67)
            ]
    return _shift(notes, offset_beats(plan))
