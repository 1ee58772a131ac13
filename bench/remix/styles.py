"""Generated style sounds whose every hit and pitch is known, like the sample packs users upload.

Each is a row of one-shot sounds with silence between them (so ``librosa.effects.split`` at
20 dB finds each as one grain), mono at 44.1 kHz, peaking at -1 dBFS:

- :func:`drum_kit`: kicks (a sine swept down from ~130 to ~45 Hz), snares (band-passed noise over
  a 190 Hz body), closed and open hats (high-passed noise), toms (swept sines) and claps (noise in
  three bursts), each at three velocities with small random variations;
- :func:`bass_sound`: plucked harmonic tones (sawtooth-like partials, the upper ones decaying
  faster) at every third semitone from E1 to E3;
- :func:`keys_sound`: a sung-like harmonic tone with a vowel formant filter and vibrato, every
  third semitone from C3 to C6.

:data:`STYLE_F0_HZ` gives the fundamental of every pitched sound, in order.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

__all__ = ["BASS_MIDI", "KEYS_MIDI", "SR", "bass_sound", "drum_kit", "keys_sound", "midi_hz", "style_sounds"]

SR = 44100
BASS_MIDI = tuple(range(28, 53, 3))  # E1 .. E3
KEYS_MIDI = tuple(range(48, 85, 3))  # C3 .. C6
_GAP_S = 0.25
_PEAK = 10 ** (-1 / 20)


def midi_hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def _row(sounds: list[np.ndarray], *, sr: int) -> np.ndarray:
    gap = np.zeros(int(_GAP_S * sr), dtype=np.float64)
    out = np.concatenate([piece for sound in sounds for piece in (sound, gap)])
    return (out * (_PEAK / np.max(np.abs(out)))).astype(np.float32)


def _fade(x: np.ndarray, *, sr: int, attack_s: float = 0.001, release_s: float = 0.01) -> np.ndarray:
    n = x.shape[0]
    env = np.ones(n)
    a, r = max(1, int(attack_s * sr)), max(1, int(release_s * sr))
    env[:a] = np.linspace(0, 1, a)
    env[n - r :] *= np.linspace(1, 0, r)
    return x * env


def drum_kit(*, sr: int = SR, seed: int = 0) -> np.ndarray:
    """A kit of 18 one-shots (6 drums, 3 velocities each), float32 (n,)."""
    rng = np.random.default_rng([seed, 11])
    sounds = []
    for velocity in (1.0, 0.6, 0.35):
        for drum in ("kick", "snare", "hat", "open_hat", "tom", "clap"):
            sounds.append(velocity * _drum(drum, sr=sr, rng=rng))
    return _row(sounds, sr=sr)


def _drum(drum: str, *, sr: int, rng: np.random.Generator) -> np.ndarray:
    detune = 2 ** (rng.uniform(-0.5, 0.5) / 12)
    if drum in ("kick", "tom"):
        dur, f_hi, f_lo, decay = (0.45, 130.0, 45.0, 8.0) if drum == "kick" else (0.5, 220.0, 140.0, 6.0)
        t = np.arange(int(dur * sr)) / sr
        f = detune * (f_lo + (f_hi - f_lo) * np.exp(-t * 30))
        x = np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t * decay)
        x[: int(0.004 * sr)] += 0.5 * rng.standard_normal(int(0.004 * sr))
        return _fade(x, sr=sr)
    noise = rng.standard_normal(int(0.6 * sr))
    t = np.arange(noise.shape[0]) / sr
    if drum == "snare":
        band = signal.sosfilt(signal.butter(2, [900, 6000], "bandpass", fs=sr, output="sos"), noise)
        x = (0.8 * band + 0.6 * np.sin(2 * np.pi * 190 * detune * t)) * np.exp(-t * 18)
        return _fade(x[: int(0.3 * sr)], sr=sr)
    if drum in ("hat", "open_hat"):
        high = signal.sosfilt(signal.butter(4, 7000, "highpass", fs=sr, output="sos"), noise)
        decay, dur = (60.0, 0.08) if drum == "hat" else (9.0, 0.45)
        return _fade((high * np.exp(-t * decay))[: int(dur * sr)], sr=sr)
    band = signal.sosfilt(signal.butter(2, [1000, 3000], "bandpass", fs=sr, output="sos"), noise)
    bursts = sum(np.exp(-np.maximum(t - d, 0) * 40) * (t >= d) for d in (0.0, 0.012, 0.024))
    return _fade((band * bursts * np.exp(-t * 12))[: int(0.3 * sr)], sr=sr)


def _harmonic(f0: np.ndarray, *, sr: int, n_partials: int, decay_per_partial: float, t: np.ndarray) -> np.ndarray:
    phase = 2 * np.pi * np.cumsum(f0) / sr
    out = np.zeros_like(t)
    for k in range(1, n_partials + 1):
        if k * f0.max() >= 0.45 * sr:
            break
        out += np.sin(k * phase) / k * np.exp(-t * decay_per_partial * (k - 1))
    return out


def bass_sound(*, sr: int = SR) -> np.ndarray:
    """Plucked bass tones at :data:`BASS_MIDI` (1.2 s each), float32 (n,)."""
    sounds = []
    for note in BASS_MIDI:
        t = np.arange(int(1.2 * sr)) / sr
        f0 = np.full(t.shape, midi_hz(note))
        x = _harmonic(f0, sr=sr, n_partials=12, decay_per_partial=0.8, t=t)
        env = 0.6 + 0.4 * np.exp(-t * 6)
        sounds.append(_fade(x * env, sr=sr, attack_s=0.003, release_s=0.05))
    return _row(sounds, sr=sr)


def keys_sound(*, sr: int = SR) -> np.ndarray:
    """Sung-like tones at :data:`KEYS_MIDI` (0.9 s each, vowel "a", 5 Hz vibrato of 15 cents), float32 (n,)."""
    formants = signal.butter(2, [600, 1400], "bandpass", fs=sr, output="sos")
    sounds = []
    for note in KEYS_MIDI:
        t = np.arange(int(0.9 * sr)) / sr
        f0 = midi_hz(note) * 2 ** (0.15 / 12 * np.sin(2 * np.pi * 5 * t) * np.minimum(1, t / 0.3))
        x = _harmonic(f0, sr=sr, n_partials=24, decay_per_partial=0.0, t=t)
        x = 0.5 * x + signal.sosfilt(formants, x)
        sounds.append(_fade(x, sr=sr, attack_s=0.02, release_s=0.08))
    return _row(sounds, sr=sr)


def style_sounds(*, sr: int = SR) -> dict[str, np.ndarray]:
    """The style sound each stem is re-voiced with: drums, bass, other."""
    return {"drums": drum_kit(sr=sr), "bass": bass_sound(sr=sr), "other": keys_sound(sr=sr)}
