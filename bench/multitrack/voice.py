"""Vocal synthesis: the lead vocal stem is sung here, not by the synthesiser.

:func:`sing` renders sung notes with a band-limited glottal pulse with vibrato,
drift and jitter, breath noise, a parallel formant filter gliding between the
vowels a, e, i, o, u, and noise consonants at syllable onsets; :func:`melody`
writes the sung line of a :class:`~bench.multitrack.plan.SongPlan` and
:func:`voice_for` draws its singer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import signal

from bench.multitrack.plan import SCALES, STYLE_BY_NAME, SongPlan, chord_of, swung

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
    style = STYLE_BY_NAME[plan.style]
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
            chord = {(plan.tonic + tone) % 12 for tone in chord_of(plan, bar + int(beat // 4))}
            current = int(np.clip(current + rng.choice((-2, -1, -1, 0, 1, 1, 2, 3, -3)), 0, len(pitches) - 1))
            if beat % 1 == 0 or k == len(durations) - 1:  # strong beats on chord tones
                candidates = [i for i, p in enumerate(pitches) if p % 12 in chord]
                current = min(candidates, key=lambda i: abs(i - current))
            consonant, vowel = words[int(rng.integers(len(words)))]
            if k > 0 and rng.random() < 0.2:  # melisma: the same vowel, no consonant
                consonant, vowel = "", notes[-1].vowel
            start = swung(bar * 4 + beat, style.swing) * plan.beat_s
            end = swung(bar * 4 + beat + duration, style.swing) * plan.beat_s
            velocity = float(rng.uniform(0.75, 1.0)) * (1.0 if beat % 1 == 0 else 0.9)
            notes.append(SungNote(start, end, float(pitches[current]), vowel, consonant, velocity))
            beat += duration
        bar += 2
    return notes


def voice_for(plan: SongPlan, rng: np.random.Generator) -> Voice:
    return Voice(
        formants=plan.voice,
        formant_scale=float(rng.uniform(0.95, 1.05)),
        vibrato_hz=float(rng.uniform(4.8, 6.2)),
        vibrato_st=float(rng.uniform(0.3, 0.6)),
        breathiness=float(rng.uniform(0.15, 0.35)),
    )
