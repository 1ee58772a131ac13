"""The lead vocal: each line spoken by espeak-ng as one phrase, every word's time read from it.

A line is spoken whole, so its words run into each other as they do when sung, and a recogniser
hears phrases rather than isolated words. espeak-ng is driven through its C library
(``libespeak-ng.so.1``, installed with the ``espeak-ng`` package) by :class:`_Espeak`, because
the library reports a *word event* at the sample where each word begins; the command-line tool
does not. :func:`speak_line` speaks a line and gives its clip and each word's span: from one word
event to the next, trimmed by energy (:func:`voiced_bounds`), so a word starts at its first
voiced sample and ends at its last. The clip starts at the first word's first voiced sample;
:mod:`bench.karaoke.songs` places it on a downbeat, so the truth the alignment rows score against
is exact to the sample.

espeak-ng's pitch parameter (0..99, 50 the default) sets the line's base pitch; a tune is a pitch
per line that rises and falls from one line to the next.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import html
import threading
from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly

# espeak-ng's voices per Whisper language code; a variant ("+f2") is added per song.
ESPEAK_VOICES = {"en": "en-us", "pt": "pt-br"}
VARIANTS = ("m1", "m3", "f2", "f4")

_FRAME_S = 0.005
_FLOOR_DB = -36.0  # a frame this far below the word's loudest is silence
_FADE_S = 0.002
WORD_GAP_10MS = 4  # espeak-ng's pause between words, in 10 ms units: 40 ms, a singer's breath of air


@dataclass(frozen=True)
class PlacedWord:
    """Where a word is in a clip or a stem: its first and last voiced sample, in seconds."""

    word: str
    start: float
    end: float


class _Event(ctypes.Structure):
    """``espeak_EVENT`` of ``speak_lib.h``."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))
_SYNCHRONOUS = 2  # AUDIO_OUTPUT_SYNCHRONOUS: the callback gets the samples, nothing is played
_EVENT_END_OF_LIST, _EVENT_WORD = 0, 1
_RATE, _PITCH, _WORDGAP = 1, 3, 7  # espeak_PARAMETER
_CHARS_UTF8, _SSML = 1, 0x10
_POSITION_CHARACTER = 1


class _Espeak:
    """libespeak-ng in synchronous mode: text in, (samples at :attr:`sr`, word start samples) out.

    The library keeps global state, so one instance serves the process, behind a lock.
    """

    _instance: _Espeak | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            self._lib = ctypes.CDLL(name)
        except OSError as exc:
            raise RuntimeError("libespeak-ng is needed: run bench/install_bench_deps.sh") from exc
        self.sr = int(self._lib.espeak_Initialize(_SYNCHRONOUS, 0, None, 0))
        if self.sr <= 0:
            raise RuntimeError("libespeak-ng failed to initialise")
        self._chunks: list[np.ndarray] = []
        self._words: list[tuple[int, int]] = []
        self._callback = _CALLBACK(self._on_synth)  # kept: the library holds only the pointer
        self._lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> _Espeak:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _on_synth(self, wav, n_samples, events) -> int:
        if wav and n_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n_samples,)).astype(np.float64) / 32768.0)
        i = 0
        while events[i].type != _EVENT_END_OF_LIST:
            if events[i].type == _EVENT_WORD:
                self._words.append((int(events[i].text_position), int(events[i].sample)))
            i += 1
        return 0

    def speak(
        self, text: str, *, voice: str, pitch: int, speed_wpm: int, ssml: bool = False
    ) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """``text`` spoken: (mono float64 samples at :attr:`sr`, a ``(text_position, sample)`` per
        word event: the word's first character, 1-based, in ``text``, and the sample it starts at)."""
        with self._lock:
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise RuntimeError(f"espeak-ng has no voice {voice!r}")
            for parameter, value in ((_RATE, speed_wpm), (_PITCH, pitch), (_WORDGAP, WORD_GAP_10MS)):
                self._lib.espeak_SetParameter(parameter, int(value), 0)
            self._chunks, self._words = [], []
            data = text.encode("utf-8")
            flags = _CHARS_UTF8 | (_SSML if ssml else 0)
            status = self._lib.espeak_Synth(data, len(data) + 1, 0, _POSITION_CHARACTER, 0, flags, None, None)
            self._lib.espeak_Synchronize()
            if status != 0 or not self._chunks:
                raise RuntimeError(f"espeak-ng failed on {text!r} (status {status})")
            return np.concatenate(self._chunks), list(self._words)


def _word_starts(words: list[str], *, voice: str, pitch: int, speed_wpm: int) -> tuple[np.ndarray, list[int]]:
    """The line spoken, and the sample each of ``words`` starts at (espeak-ng's sample rate).

    espeak-ng speaks some unstressed words as one with the word before ("on the" in English),
    with one word event for both. Such a word is spoken again after a 10 ms SSML break, which
    gives it an event of its own; the line is spoken as plain text when no word needs one.
    """
    engine = _Espeak.get()
    broken: set[int] = set()
    for _attempt in range(3):
        pieces, offsets, length = [], [], len("<speak>") if broken else 0
        for i, word in enumerate(words):
            pause = '<break time="10ms"/>' if i in broken else ""
            offsets.append(length + len(pause))  # where the word's text starts
            pieces.append(pause + html.escape(word))
            length += len(pieces[-1]) + 1
        text = " ".join(pieces)
        audio, events = engine.speak(
            f"<speak>{text}</speak>" if broken else text,
            voice=voice,
            pitch=pitch,
            speed_wpm=speed_wpm,
            ssml=bool(broken),
        )
        index = {offset + 1: i for i, offset in enumerate(offsets)}  # text positions are 1-based
        starts: dict[int, int] = {}
        for position, sample in events:
            if position in index:
                starts.setdefault(index[position], sample)
        missing = set(range(len(words))) - set(starts)
        if not missing:
            ordered = [starts[i] for i in range(len(words))]
            if any(b <= a for a, b in zip(ordered[:-1], ordered[1:], strict=True)):
                raise RuntimeError(f"espeak-ng's word events are out of order in {' '.join(words)!r}")
            return audio, ordered
        broken |= missing
    raise RuntimeError(f"espeak-ng gives no word event for {[words[i] for i in sorted(missing)]}")


def speak_line(text: str, *, voice: str, pitch: int, speed_wpm: int, sr: int) -> tuple[np.ndarray, list[PlacedWord]]:
    """``text`` spoken as one phrase, and where each of its words is in the clip.

    Parameters
    ----------
    text : str
        One line of lyrics: words separated by spaces, no digits (espeak-ng would read a number
        as several words).
    voice : str
        An espeak-ng voice, with an optional variant: ``"en-us"``, ``"pt-br+f2"``.
    pitch : int
        Base pitch, 0..99.
    speed_wpm : int
        Words per minute (80..450).
    sr : int
        Output sample rate in Hz (espeak-ng speaks at 22 050 Hz; resampled polyphase).

    Returns
    -------
    clip : np.ndarray, shape (n,), float32
        From the first word's first voiced sample to the last word's last, 2 ms fades at both ends.
    words : list of PlacedWord
        One per word of ``text.split()``, in seconds from the clip's start; the first starts at 0,
        each ends before the next starts, the last ends at the clip's end.

    Raises
    ------
    RuntimeError
        When libespeak-ng is missing or fails, or gives no start for a word.
    """
    engine = _Espeak.get()
    words = text.split()
    audio, starts = _word_starts(words, voice=voice, pitch=pitch, speed_wpm=speed_wpm)
    if engine.sr != sr:
        audio = resample_poly(audio, sr, engine.sr)
    bounds = [int(round(s * sr / engine.sr)) for s in starts] + [audio.size]
    spans = []
    for word, a, b in zip(words, bounds[:-1], bounds[1:], strict=True):
        first, stop = voiced_bounds(audio[a:b], sr=sr)
        if stop <= first:
            raise RuntimeError(f"espeak-ng spoke no sound for {word!r} in {text!r}")
        spans.append((a + first, a + stop))
    origin, last = spans[0][0], spans[-1][1]
    clip = audio[origin:last].copy()
    fade = min(int(_FADE_S * sr), clip.size // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade + 1)[1:]  # the first sample stays non-zero
        clip[:fade] *= ramp
        clip[-fade:] *= ramp[::-1]
    placed = [PlacedWord(w, (a - origin) / sr, (b - origin) / sr) for w, (a, b) in zip(words, spans, strict=True)]
    return clip.astype(np.float32), placed


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
