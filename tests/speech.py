"""Spoken words at known times, for the lyrics tests: each word is spoken by espeak-ng on its own
and placed where the test says, so every word's start and end are known to the sample."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

#: espeak-ng's voices for the languages the tests speak.
VOICES = {"en": "en-us", "pt": "pt-br"}


@dataclass(frozen=True)
class PlacedWord:
    word: str
    start: float
    end: float


def spoken_word(word: str, *, language: str, sr: int, pitch: int = 50, speed_wpm: int = 150) -> np.ndarray:
    """``word`` spoken by espeak-ng, trimmed to where its energy is, as float32 mono at ``sr``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "word.wav"
        subprocess.run(
            ["espeak-ng", "-v", VOICES[language], "-s", str(speed_wpm), "-p", str(pitch), "-w", str(path), word],
            check=True,
            capture_output=True,
        )
        audio, native_sr = sf.read(path, dtype="float32")
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    audio = resample_poly(audio, sr, native_sr).astype(np.float32)
    envelope = np.abs(audio)
    loud = np.flatnonzero(envelope > 0.02 * envelope.max())
    return audio[loud[0] : loud[-1] + 1]


def spoken_line(
    words: list[str], *, language: str, sr: int, start_s: float, gap_s: float = 0.12
) -> tuple[np.ndarray, list[PlacedWord]]:
    """The words one after another from ``start_s`` with ``gap_s`` between them: (audio from 0 s,
    where each word is)."""
    pieces, placed, t = [], [], start_s
    for i, word in enumerate(words):
        audio = spoken_word(word, language=language, sr=sr, pitch=40 + 8 * (i % 4))
        pieces.append((t, audio))
        placed.append(PlacedWord(word, t, t + len(audio) / sr))
        t += len(audio) / sr + gap_s
    out = np.zeros(int(np.ceil(t * sr)) + sr, dtype=np.float32)
    for at, audio in pieces:
        i = int(round(at * sr))
        out[i : i + len(audio)] += audio
    return out, placed


def click_track(*, bpm: float, duration_s: float, sr: int, accent_every: int = 4) -> np.ndarray:
    """A drum-like click on every beat from 0 s, louder on each bar's first beat."""
    out = np.zeros(int(duration_s * sr), dtype=np.float32)
    click = np.exp(-np.arange(int(0.03 * sr)) / (0.004 * sr)) * np.sin(
        2 * np.pi * 1800 * np.arange(int(0.03 * sr)) / sr
    )
    kick = np.exp(-np.arange(int(0.12 * sr)) / (0.03 * sr)) * np.sin(2 * np.pi * 60 * np.arange(int(0.12 * sr)) / sr)
    period = 60.0 / bpm
    for n in range(int(duration_s / period) + 1):
        i = int(round(n * period * sr))
        sound = 0.5 * click + (0.8 * kick[: len(click)] if n % accent_every == 0 else 0)
        end = min(len(out), i + len(sound))
        if i < end:
            out[i:end] += sound[: end - i]
    return out
