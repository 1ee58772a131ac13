"""The parts of the test-song generator that need no synthesiser.

The fluidsynth rendering of the instrument stems is exercised by the benchmark
itself (``bench/run/quality.py`` renders the set with :func:`bench.multitrack.render_set`).
"""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import pytest
from scipy import signal
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from bench.multitrack import (
    FORMANTS,
    SCALES,
    STYLES,
    VOICE_RANGES,
    VOWELS,
    SungNote,
    Voice,
    melody,
    plan_song,
    sing,
    write_midi,
)
from bench.multitrack.voice import _vowel_filters

SR = 44100


def _pitch_hz(audio: np.ndarray, *, sr: int, expected_hz: float) -> float:
    """Mean pitch (geometric, so vibrato averages out) of a sustained note.

    Autocorrelation pitch per 46 ms frame, searched within half an octave of the
    expected pitch, refined by parabolic interpolation.
    """
    frame, hop = 2048, 512
    shortest = int(sr / (expected_hz * 2**0.5))
    longest = int(sr / (expected_hz / 2**0.5)) + 1
    pitches = []
    for start in range(0, audio.size - frame, hop):
        spectrum = np.fft.rfft(audio[start : start + frame] * np.hanning(frame), 2 * frame)
        correlation = np.fft.irfft(np.abs(spectrum) ** 2)[:frame]
        lag = shortest + int(np.argmax(correlation[shortest:longest]))
        before, at, after = correlation[lag - 1 : lag + 2]
        pitches.append(sr / (lag + 0.5 * (before - after) / (before - 2 * at + after)))
    return float(2 ** np.mean(np.log2(pitches)))


def _spectral_peaks_hz(audio: np.ndarray, *, sr: int, f0_hz: float) -> np.ndarray:
    """Peaks of the harmonic envelope: the spectrum's running maximum over one
    harmonic spacing, smoothed over the same width."""
    freqs, power = signal.welch(audio, sr, nperseg=16384)
    width = int(1.2 * f0_hz / (freqs[1] - freqs[0]))
    envelope = uniform_filter1d(maximum_filter1d(10 * np.log10(power + 1e-20), width), width)
    return freqs[signal.find_peaks(envelope, prominence=2)[0]]


@pytest.mark.parametrize("midi", [45, 52, 57, 64, 69, 72, 76])
def test_sustained_note_is_sung_at_the_requested_pitch(midi):
    # given a 2 s note with the default vibrato, drift and jitter
    note = SungNote(start_s=0.1, end_s=2.1, midi=midi, vowel="a")

    # when
    audio = sing(notes=[note], duration_s=2.2, sr=SR, voice=Voice(), seed=midi)

    # then the pitch over the sustained part is within 1 % of the note
    expected = 440.0 * 2 ** ((midi - 69) / 12)
    measured = _pitch_hz(audio[int(0.4 * SR) : int(2.0 * SR)], sr=SR, expected_hz=expected)
    assert abs(measured / expected - 1) < 0.01


def test_vibrato_modulates_the_pitch_by_the_requested_depth():
    note = SungNote(start_s=0.1, end_s=2.1, midi=57, vowel="o")
    voice = Voice(vibrato_st=0.5, drift_st=0.0, jitter_st=0.0)

    audio = sing(notes=[note], duration_s=2.2, sr=SR, voice=voice)

    frame = 2048
    track = [
        _pitch_hz(audio[start : start + frame + 1], sr=SR, expected_hz=220.0)
        for start in range(int(0.8 * SR), int(2.0 * SR), 256)
    ]
    semitones = 12 * np.log2(np.array(track) / 220.0)
    # a 46 ms analysis window flattens the peaks a little
    assert 0.35 < np.max(np.abs(semitones)) < 0.55


@pytest.mark.parametrize("singer", sorted(FORMANTS))
@pytest.mark.parametrize("vowel", VOWELS)
def test_vowel_filter_peaks_at_the_first_two_formants(singer, vowel):
    # when: the frequency response of the vowel's resonator bank
    bank = _vowel_filters(Voice(formants=singer), sr=SR)[vowel]
    freqs = np.linspace(100.0, 6000.0, 20000)
    response = sum(signal.freqz(b, a, worN=freqs, fs=SR)[1] for b, a in bank)
    peaks = freqs[signal.find_peaks(20 * np.log10(np.abs(response)))[0]]

    # then it has a peak within 6 % of F1 and of F2
    for formant in FORMANTS[singer][vowel][0][:2]:
        assert np.min(np.abs(peaks / formant - 1)) < 0.06, (formant, peaks)


@pytest.mark.parametrize("vowel", ["a", "e", "i", "o"])
def test_sung_vowel_has_spectral_peaks_near_the_formant_table(vowel):
    # given a low, long tenor note, so the harmonics sample the envelope densely
    midi = 43
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    note = SungNote(start_s=0.1, end_s=3.9, midi=midi, vowel=vowel)

    # when
    audio = sing(notes=[note], duration_s=4.0, sr=SR, voice=Voice(formants="tenor"), seed=1)

    # then the harmonic envelope peaks within 8 % of F1 and F2
    peaks = _spectral_peaks_hz(audio[int(0.5 * SR) : int(3.5 * SR)], sr=SR, f0_hz=f0)
    for formant in FORMANTS["tenor"][vowel][0][:2]:
        assert np.min(np.abs(peaks / formant - 1)) < 0.08, (formant, peaks)


def test_fricative_adds_high_band_noise_before_the_vowel():
    # given the same syllable with and without an "s"
    plain = sing(notes=[SungNote(0.5, 1.5, 57, "a")], duration_s=2.0, sr=SR, seed=4)
    hissed = sing(notes=[SungNote(0.5, 1.5, 57, "a", consonant="s")], duration_s=2.0, sr=SR, seed=4)

    # then the 80 ms before the vowel carry 4.5-10 kHz energy only in the "s" version
    sos = signal.butter(4, (4500, 10000), btype="band", fs=SR, output="sos")
    window = slice(int(0.42 * SR), int(0.5 * SR))
    assert np.sum(signal.sosfilt(sos, hissed)[window] ** 2) > 100 * np.sum(signal.sosfilt(sos, plain)[window] ** 2)


def test_vocal_is_digital_silence_between_phrases():
    # given two phrases 3 s apart
    notes = [
        SungNote(0.5, 1.0, 60, "a", "l"),
        SungNote(1.0, 1.6, 62, "e", "t"),
        SungNote(4.6, 5.4, 64, "o", "s"),
    ]

    # when
    audio = sing(notes=notes, duration_s=6.0, sr=SR, seed=5)

    # then
    assert np.all(audio[: int(0.1 * SR)] == 0)
    assert np.all(audio[int(2.0 * SR) : int(4.1 * SR)] == 0)
    assert np.all(audio[int(5.8 * SR) :] == 0)
    assert np.sqrt(np.mean(audio[int(0.6 * SR) : int(1.5 * SR)] ** 2)) > 0.05
    assert np.max(np.abs(audio)) == pytest.approx(1.0)


def test_unknown_vowel_is_refused():
    with pytest.raises(ValueError):
        sing(notes=[SungNote(0.1, 0.5, 60, "y")], duration_s=1.0, sr=SR)


def test_eight_consecutive_seeds_give_eight_styles_at_80_to_150_bpm():
    plans = [plan_song(seed=seed, duration_s=30.0) for seed in range(8)]

    assert sorted(plan.style for plan in plans) == sorted(style.name for style in STYLES)
    assert all(80 <= plan.bpm <= 150 for plan in plans)
    assert len({(plan.tonic, plan.mode) for plan in plans}) >= 5
    assert plans == [plan_song(seed=seed, duration_s=30.0) for seed in range(8)]
    assert all(plan.n_bars * 4 * plan.beat_s >= 30.0 for plan in plans)


@pytest.mark.parametrize("seed", range(8))
def test_melody_stays_in_key_and_range_and_leaves_gaps(seed):
    plan = plan_song(seed=seed, duration_s=30.0)

    notes = melody(plan=plan)

    low, high = VOICE_RANGES[plan.voice]
    assert all(low <= note.midi <= high for note in notes)
    assert all((note.midi - plan.tonic) % 12 in SCALES[plan.mode] for note in notes)
    assert all(a.end_s <= b.start_s + 1e-9 for a, b in zip(notes, notes[1:], strict=False))
    gaps = [b.start_s - a.end_s for a, b in zip(notes, notes[1:], strict=False)]
    assert max(gaps) > 2 * 4 * plan.beat_s  # the two-bar break
    assert notes[0].start_s >= 4 * plan.beat_s  # the instrumental first bar
    assert any(22.0 <= note.start_s < 30.0 for note in notes)  # sung to the end


def test_midi_file_puts_drums_on_channel_10(tmp_path: Path):
    # given a bar of kick and snare and a bass note
    notes = [(0.0, 0.25, 36, 100, 9), (1.0, 0.25, 38, 90, 9), (0.0, 1.0, 40, 80, 0)]

    # when
    write_midi(
        tmp_path / "x.mid",
        notes=notes,
        bpm=120.0,
        programs={9: 25, 0: 33},
        pans={0: 64},
        end_beat=4.0,
    )

    # then
    midi = mido.MidiFile(tmp_path / "x.mid")
    ons = [m for m in midi.tracks[0] if m.type == "note_on"]
    assert sorted((m.channel, m.note) for m in ons) == [(0, 40), (9, 36), (9, 38)]
    assert {(m.channel, m.program) for m in midi.tracks[0] if m.type == "program_change"} == {(9, 25), (0, 33)}
    assert midi.length == pytest.approx(2.0, abs=0.01)  # four beats at 120 BPM
