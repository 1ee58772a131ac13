"""Synthetic test signals with known stems (no audio files, no network)."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

SR = 44100


def click_train(*, sr: int, n: int, period_s: float = 0.5, seed: int = 0) -> np.ndarray:
    """Kick-drum clicks: 10 ms broadband bursts decaying in 1.5 ms, every ``period_s``."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n)
    length = int(0.01 * sr)
    env = np.exp(-np.arange(length) / (0.0015 * sr))
    for start in range(int(period_s * sr / 4), n - length, int(period_s * sr)):
        out[start : start + length] += 0.6 * rng.standard_normal(length) * env
    return out


def sine(freq_hz: float, *, sr: int, n: int, amp: float) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq_hz * np.arange(n) / sr)


def chord(*, sr: int, n: int) -> np.ndarray:
    """A sustained C major triad (C4 E4 G4) with three partials per note."""
    t = np.arange(n) / sr
    return sum(0.06 / k * np.sin(2 * np.pi * k * f * t) for f in (261.63, 329.63, 392.0) for k in (1, 2, 3))


def voice(*, sr: int, n: int, seed: int = 0) -> np.ndarray:
    """A sung-vowel-like tone: glottal harmonics (-12 dB/octave), 5.5 Hz vibrato
    of +-0.6 semitone, vowel formants, a short melody of held notes."""
    rng = np.random.default_rng(seed)
    notes = [220.0, 246.9, 277.2, 246.9, 293.7, 261.6, 220.0, 329.6]
    per = n // len(notes)
    f0 = np.repeat(notes, per)
    f0 = np.concatenate([f0, np.full(n - f0.size, notes[-1])])
    t = np.arange(n) / sr
    a = np.exp(-1 / (0.04 * sr))  # 40 ms portamento
    log_f0 = lfilter([1 - a], [1, -a], np.log(f0), zi=[a * np.log(f0[0])])[0]
    f = np.exp(log_f0) * 2 ** (0.6 * np.sin(2 * np.pi * 5.5 * t) / 12)
    phase = np.cumsum(f / sr)
    src = sum(np.sin(2 * np.pi * k * phase) / k**2 for k in range(1, 40))
    src = src + 0.02 * rng.standard_normal(n)
    y = np.zeros(n)
    for fc, bw, gain in ((700, 80, 1.0), (1200, 100, 0.5), (2600, 130, 0.25), (3400, 200, 0.2)):
        r = np.exp(-np.pi * bw / sr)
        th = 2 * np.pi * fc / sr
        y += gain * lfilter([1 - r], [1, -2 * r * np.cos(th), r * r], src)
    # syllables: 30 ms fades at each note boundary
    env = np.ones(n)
    fade = int(0.03 * sr)
    for k in range(1, len(notes)):
        env[k * per - fade : k * per + fade] = np.abs(np.linspace(-1, 1, 2 * fade))
    y *= env
    return 0.25 * y / np.abs(y).max()


def drum_bass_bed(*, sr: int, n: int, seed: int = 1) -> np.ndarray:
    """Kick thumps, snare-like noise bursts and a low-passed sawtooth bass."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n)
    beat = int(0.5 * sr)
    for k, start in enumerate(range(0, n - int(0.3 * sr), beat)):
        length = int(0.3 * sr)
        tt = np.arange(length) / sr
        if k % 2 == 0:
            out[start : start + length] += 0.5 * np.sin(2 * np.pi * 55 * tt) * np.exp(-tt / 0.08)
        else:
            out[start : start + length] += 0.3 * rng.standard_normal(length) * np.exp(-tt / 0.05)
    t = np.arange(n) / sr
    saw = 2 * ((55 * t) % 1.0) - 1
    a = np.exp(-2 * np.pi * 400 / sr)
    out += 0.15 * lfilter([1 - a], [1, -a], saw)
    return out


def stereo(x: np.ndarray) -> np.ndarray:
    return np.stack([x, x]).astype(np.float32)


def projection(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Share of ``reference`` found in ``estimate``: <e, r> / <r, r>."""
    e = np.asarray(estimate, dtype=np.float64).ravel()
    r = np.asarray(reference, dtype=np.float64).ravel()
    return float(np.dot(e, r) / np.dot(r, r))


def band_energy(x: np.ndarray, *, sr: int, lo_hz: float, hi_hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(np.asarray(x, dtype=np.float64), axis=-1)) ** 2
    freqs = np.fft.rfftfreq(x.shape[-1], 1 / sr)
    return float(spectrum[..., (freqs >= lo_hz) & (freqs <= hi_hz)].sum())
