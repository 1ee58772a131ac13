"""Generated test audio: known signals written in the formats users upload."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf

CODECS = {
    "wav": ["-c:a", "pcm_s16le"],
    "flac": ["-c:a", "flac"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "128k"],
    "m4a": ["-c:a", "aac", "-b:a", "128k"],
    "aac": ["-c:a", "aac", "-b:a", "128k", "-f", "adts"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "3"],
}


def song(*, duration_s: float = 4.0, sr: int = 44100, channels: int = 2, seed: int = 0) -> np.ndarray:
    """A small "song" of shape (channels, n): kick clicks at 120 BPM, a 55 Hz bass, a chord, a vibrato voice."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * sr)) / sr
    kick = np.zeros_like(t)
    for beat in np.arange(0, duration_s, 0.5):
        i = int(beat * sr)
        n = min(int(0.08 * sr), t.size - i)
        env = np.exp(-np.arange(n) / (0.015 * sr))
        kick[i : i + n] += env * np.sin(2 * np.pi * 60 * np.arange(n) / sr)
    bass = 0.3 * np.sin(2 * np.pi * 55 * t)
    chord = sum(0.08 * np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0))
    vib = 5 * np.sin(2 * np.pi * 5.5 * t)
    phase = 2 * np.pi * np.cumsum(440 + vib) / sr
    voice = 0.2 * sum(np.sin(k * phase) / k for k in range(1, 6))
    mono = 0.5 * kick + bass + chord + voice + 0.002 * rng.standard_normal(t.size)
    mono = 0.8 * mono / np.max(np.abs(mono))
    return np.tile(mono.astype(np.float32), (channels, 1))


def write_song(path: Path, *, duration_s: float = 4.0, sr: int = 44100, channels: int = 2, seed: int = 0) -> Path:
    """Write :func:`song` to ``path`` in the format its suffix names (through ffmpeg for lossy ones)."""
    audio = song(duration_s=duration_s, sr=sr, channels=channels, seed=seed)
    fmt = path.suffix.lstrip(".").lower()
    if fmt in ("wav", "flac"):
        sf.write(str(path), audio.T, sr)
        return path
    src = path.with_suffix(".src.wav")
    sf.write(str(src), audio.T, sr)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), *CODECS[fmt], str(path)], check=True)
    src.unlink()
    return path


def style_sound(*, pitches_hz=(110.0, 220.0, 330.0), note_s: float = 0.3, gap_s: float = 0.2, sr: int = 44100):
    """A "style sound" of shape (n,): one harmonic tone burst per pitch, each with a quick attack and
    a decay, silence between them (so a grain library finds one grain per burst)."""
    parts = []
    t = np.arange(int(note_s * sr)) / sr
    env = np.minimum(1.0, t / 0.005) * np.exp(-t / (note_s / 2))
    for f0 in pitches_hz:
        tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 5))
        parts += [0.5 * env * tone / 2, np.zeros(int(gap_s * sr))]
    return np.concatenate(parts).astype(np.float32)


def style_wav(**kwargs) -> bytes:
    """:func:`style_sound` as WAV bytes (mono, 16-bit), as a user would upload it."""
    import io

    sr = kwargs.get("sr", 44100)
    buffer = io.BytesIO()
    sf.write(buffer, style_sound(**kwargs), sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
