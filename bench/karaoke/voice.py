"""The lead vocal: each word spoken by ``espeak-ng`` on its own and placed on the song's grid.

:func:`speak` asks espeak-ng for one word (a voice, a pitch, a speed) and trims its leading and
trailing silence by energy (:func:`voiced_bounds`), so the clip starts and ends where the word
does; :func:`sing` fits each :class:`SungWord` into its slot (re-speaking it faster when it is too
long) and places it at the slot's start. Because every word is placed alone, its start and end
in the vocal stem are known to the sample: they are the truth the alignment rows score against.

espeak-ng's ``-p`` moves the voice's base pitch (0..99, 50 the default); a melody is a pitch
per word, so the line rises and falls like a tune rather than a sentence.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

# espeak-ng's voices per Whisper language code; a variant ("+f3") is added per song.
ESPEAK_VOICES = {"en": "en-us", "pt": "pt-br"}
VARIANTS = ("m1", "m3", "f2", "f4")

_FRAME_S = 0.005
_FLOOR_DB = -36.0  # a frame this far below the word's loudest is silence
_FIT = 0.9  # a word fills at most this share of its slot, so the next word starts clear of it
_FADE_S = 0.002
_MAX_SPEED_WPM = 450  # espeak-ng's fastest


@dataclass(frozen=True)
class SungWord:
    """One word of the vocal line: where its slot starts and how long it is, and its pitch.

    Attributes
    ----------
    word : str
        The text espeak-ng speaks (punctuation is harmless).
    start_s : float
        Where the word's first voiced sample goes, seconds from the song's start.
    slot_s : float
        Time until the next word's slot, seconds; the word is fitted into ``0.9 * slot_s``.
    pitch : int
        espeak-ng's ``-p``, 0..99.
    """

    word: str
    start_s: float
    slot_s: float
    pitch: int


@dataclass(frozen=True)
class PlacedWord:
    """Where a word is in the vocal stem: its first and last voiced sample, in seconds."""

    word: str
    start: float
    end: float


def voiced_bounds(audio: np.ndarray, *, sr: int, floor_db: float = _FLOOR_DB) -> tuple[int, int]:
    """The sample span of ``audio`` whose energy is within ``floor_db`` of its loudest frame.

    Parameters
    ----------
    audio : np.ndarray, shape (n,)
        Mono samples.
    sr : int
        Sample rate in Hz.
    floor_db : float
        A 5 ms frame whose RMS is more than this many dB (negative) below the loudest frame's is
        silence.

    Returns
    -------
    (int, int)
        ``(first, stop)``: the first sample of the first loud frame and one past the last sample
        of the last loud frame, so ``audio[first:stop]`` is the word. ``(0, 0)`` for all-zero audio.
    """
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"audio must be mono, shape (n,), got {x.shape}")
    frame = max(1, int(round(_FRAME_S * sr)))
    n_frames = int(np.ceil(x.size / frame))
    padded = np.zeros(n_frames * frame)
    padded[: x.size] = x
    rms = np.sqrt(np.mean(padded.reshape(n_frames, frame) ** 2, axis=1))
    if n_frames == 0 or rms.max() == 0:
        return 0, 0
    loud = np.flatnonzero(rms >= rms.max() * 10 ** (floor_db / 20))
    return int(loud[0] * frame), int(min(x.size, (loud[-1] + 1) * frame))


def speak(word: str, *, voice: str, pitch: int, speed_wpm: int, sr: int) -> np.ndarray:
    """``word`` spoken by espeak-ng, trimmed to where its energy is (:func:`voiced_bounds`).

    Parameters
    ----------
    word : str
        One word.
    voice : str
        An espeak-ng voice, with an optional variant: ``"en-us"``, ``"pt-br+f2"``.
    pitch : int
        ``-p``, 0..99.
    speed_wpm : int
        ``-s``, words per minute (80..450).
    sr : int
        Output sample rate in Hz (espeak-ng speaks at 22 050 Hz; resampled polyphase).

    Returns
    -------
    np.ndarray, shape (n,), float32
        The word, its first and last samples voiced, 2 ms fades at both ends.

    Raises
    ------
    RuntimeError
        When espeak-ng is missing or fails.
    """
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is needed: run bench/install_bench_deps.sh")
    with tempfile.TemporaryDirectory(prefix="isomix-espeak-") as tmp:
        path = Path(tmp) / "word.wav"
        command = ["espeak-ng", "-v", voice, "-p", str(int(pitch)), "-s", str(int(speed_wpm)), "-w", str(path)]
        # "--" so that a word can never be read as an option.
        done = subprocess.run([*command, "--", word], capture_output=True)
        if done.returncode != 0:
            raise RuntimeError(f"espeak-ng failed on {word!r}: {done.stderr.decode()[-300:]}")
        audio, native_sr = sf.read(path, dtype="float64", always_2d=True)
    mono = audio.mean(axis=1)
    if native_sr != sr:
        mono = resample_poly(mono, sr, native_sr)
    first, stop = voiced_bounds(mono, sr=sr)
    clip = mono[first:stop].copy()
    fade = min(int(_FADE_S * sr), clip.size // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade + 1)[1:]  # the first sample stays non-zero
        clip[:fade] *= ramp
        clip[-fade:] *= ramp[::-1]
    return clip.astype(np.float32)


def sing(
    words: Sequence[SungWord], *, voice: str, duration_s: float, sr: int, speed_wpm: int, seed: int
) -> tuple[np.ndarray, list[PlacedWord]]:
    """The vocal stem of ``words`` and where each word ended up.

    Parameters
    ----------
    words : sequence of SungWord
        In time order; slots must not overlap.
    voice : str
        espeak-ng voice (see :func:`speak`).
    duration_s : float
        Length of the stem in seconds; every word must end inside it.
    sr : int
        Sample rate in Hz.
    speed_wpm : int
        espeak-ng's speed for a word that fits its slot; a word longer than 90 % of its slot is
        spoken again faster (in proportion, up to 450 wpm) and, if still too long, cut at 90 %
        with a 2 ms fade (rare: only a very long word in a very short slot).
    seed : int
        Seed of the per-word level (+-2 dB, as a singer's dynamics).

    Returns
    -------
    audio : np.ndarray, shape (round(duration_s * sr),), float32
        Peak 0.5; silence between words is digital zero.
    placed : list of PlacedWord
        Each word's first and last voiced sample in seconds (``start == SungWord.start_s`` to the
        sample).

    Raises
    ------
    ValueError
        When a word would start before 0 or end after ``duration_s``.
    """
    rng = np.random.default_rng([seed, 11])
    n = int(round(duration_s * sr))
    out = np.zeros(n, dtype=np.float64)
    placed: list[PlacedWord] = []
    spoken: dict[tuple[str, int, int], np.ndarray] = {}

    def clip_of(word: str, pitch: int, speed: int) -> np.ndarray:
        key = (word, pitch, speed)
        if key not in spoken:
            spoken[key] = speak(word, voice=voice, pitch=pitch, speed_wpm=speed, sr=sr)
        return spoken[key]

    for sung in words:
        room = int(_FIT * sung.slot_s * sr)
        clip = clip_of(sung.word, sung.pitch, speed_wpm)
        if clip.size > room:
            faster = min(_MAX_SPEED_WPM, int(np.ceil(speed_wpm * clip.size / room * 1.05)))
            clip = clip_of(sung.word, sung.pitch, faster)
        if clip.size > room:
            clip = clip[:room].copy()
            fade = min(int(_FADE_S * sr), clip.size // 2)
            clip[-fade:] *= np.linspace(1.0, 0.0, fade + 1)[:-1]
        at = int(round(sung.start_s * sr))
        if at < 0 or at + clip.size > n:
            raise ValueError(f"{sung.word!r} at {sung.start_s:.2f} s does not fit in {duration_s:.2f} s")
        gain = 10 ** (rng.uniform(-2.0, 2.0) / 20) / max(float(np.max(np.abs(clip))), 1e-9)
        out[at : at + clip.size] += gain * clip
        # The clip's first and last samples are voiced (trimmed by energy), so these are exact.
        placed.append(PlacedWord(sung.word, at / sr, (at + clip.size) / sr))
    peak = float(np.max(np.abs(out)))
    if peak > 0:
        out *= 0.5 / peak
    return out.astype(np.float32), placed
