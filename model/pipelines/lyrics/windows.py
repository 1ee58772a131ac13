"""Where the voice is in a vocals stem, and the ≤30 s windows Whisper hears it in.

Whisper's encoder hears exactly 30 s at a time. The engine cuts the song into windows of at most
that length, each starting and ending in a pause, and encodes each once: the same encoder output
serves the rough transcription, the language detection and the word alignment, which is what
makes the known-lyrics path fast (the encoder is most of the cost on a CPU).

The level measure is a frame RMS in dBFS on a 20 ms grid, computed once per song; the song's
*floor* (the level of its pauses: stem bleed, reverb tails, noise) and its *voiced level* are
percentiles of it, so every threshold here is relative to the song itself, not to full scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "HOP_S",
    "Levels",
    "VoiceClock",
    "Window",
    "WindowParams",
    "active_regions",
    "frame_rms_db",
    "pack_windows",
    "song_levels",
]

HOP_S = 0.02
"""The level grid, in seconds (Whisper's own token resolution)."""
_SILENT_DB = -100.0
_DIGITAL_SILENCE_DB = -90.0


@dataclass(frozen=True, slots=True)
class Levels:
    """A song's loudness landmarks, in dBFS of 20 ms frame RMS.

    Attributes
    ----------
    floor_db : float
        10th percentile: the level of the pauses.
    voiced_db : float
        95th percentile: the level of the sung parts.
    """

    floor_db: float
    voiced_db: float

    @property
    def contrast_db(self) -> float:
        """How far the voice stands above the pauses, in dB."""
        return self.voiced_db - self.floor_db

    def threshold_db(self, fraction: float, *, max_below_voiced_db: float = 30.0) -> float:
        """The level ``fraction`` (0..1) of the way from the floor up to the voiced level, in dB,
        but never more than ``max_below_voiced_db`` below the voiced level (a song whose pauses
        are digital silence would otherwise count breaths and bleed as voice)."""
        return max(self.floor_db + fraction * self.contrast_db, self.voiced_db - max_below_voiced_db)


@dataclass(frozen=True, slots=True)
class WindowParams:
    """Tuning of :func:`active_regions` and :func:`pack_windows`; times in seconds."""

    max_window_s: float = 30.0
    """Whisper's input length; a window never exceeds it."""
    pad_s: float = 0.25
    """Kept before and after the voice at a window's edges (soft onsets, breaths, tails)."""
    merge_gap_s: float = 0.3
    """Pauses shorter than this inside a phrase do not split a region."""
    min_region_s: float = 0.1
    """Level-only regions shorter than this (a click, a drum hit in the bleed) are ignored."""
    level_fraction: float = 0.3
    """Where between floor and voiced level a frame counts as voiced (see :meth:`Levels.threshold_db`)."""
    min_contrast_db: float = 6.0
    """Below this floor-to-voice contrast the level says nothing: the whole song counts as voiced."""
    silent_song_db: float = -60.0
    """A song whose voiced level is below this (dBFS) has no voice at all."""
    fill_fraction: float = 0.6
    """A window is cut at the longest pause that leaves it at least this full (of ``max_window_s``)."""


DEFAULT_WINDOW_PARAMS = WindowParams()


@dataclass(frozen=True, slots=True)
class Window:
    """A stretch of the song Whisper hears in one pass.

    Attributes
    ----------
    start, end : float
        Seconds; ``end - start <= max_window_s``.
    voiced : tuple of (float, float)
        The active regions inside it (seconds, clipped to the window), in order.
    """

    start: float
    end: float
    voiced: tuple[tuple[float, float], ...]

    @property
    def duration_s(self) -> float:
        return self.end - self.start

    @property
    def voiced_s(self) -> float:
        """Seconds of voice inside the window."""
        return float(sum(b - a for a, b in self.voiced))


def frame_rms_db(audio: np.ndarray, *, sr: int, hop_s: float = HOP_S) -> np.ndarray:
    """RMS level of consecutive ``hop_s`` frames, in dBFS.

    Parameters
    ----------
    audio : np.ndarray, shape (n_samples,), float
        Mono waveform in [-1, 1].
    sr : int
        Sample rate in Hz.
    hop_s : float
        Frame length and hop, seconds (frames do not overlap).

    Returns
    -------
    np.ndarray, shape (ceil(n_samples / hop),), float32
        Frame ``i`` covers ``[i * hop_s, (i + 1) * hop_s)``; the last frame is zero-padded.
        Digital silence is -100 dB.
    """
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"audio must be mono, shape (n_samples,), got {x.shape}")
    hop = max(1, int(round(hop_s * sr)))
    n = -(-x.size // hop)
    padded = np.zeros(n * hop, dtype=np.float32)
    padded[: x.size] = x
    power = np.mean(padded.reshape(n, hop).astype(np.float64) ** 2, axis=1)
    return (10.0 * np.log10(np.maximum(power, 10 ** (_SILENT_DB / 10)))).astype(np.float32)


def song_levels(rms_db: np.ndarray) -> Levels:
    """The floor (10th percentile) and voiced level (95th) of :func:`frame_rms_db` frames.

    The floor leaves out digital silence (below -90 dBFS): a separated vocal is exactly zero
    where the separator heard no voice at all, and those frames say nothing about the level
    of the pauses between sung words (bleed, reverb), which is what the floor stands for.
    """
    if rms_db.size == 0:
        return Levels(_SILENT_DB, _SILENT_DB)
    audible = rms_db[rms_db > _DIGITAL_SILENCE_DB]
    voiced = float(np.percentile(rms_db, 95.0))
    floor = float(np.percentile(audible, 10.0)) if audible.size >= 0.1 * rms_db.size else float(rms_db.min())
    return Levels(floor, voiced)


def active_regions(
    rms_db: np.ndarray,
    *,
    levels: Levels,
    speech: list[tuple[float, float]] | None = None,
    hop_s: float = HOP_S,
    params: WindowParams = DEFAULT_WINDOW_PARAMS,
) -> list[tuple[float, float]]:
    """Where someone may be singing: the voice-activity detector's regions and the loud frames.

    Parameters
    ----------
    rms_db : np.ndarray, shape (n_frames,)
        :func:`frame_rms_db` of the vocals.
    levels : Levels
        :func:`song_levels` of ``rms_db``.
    speech : list of (start_s, end_s), optional
        A voice-activity detector's regions. Sung phrases are where detectors trained on speech
        fail most, so the level adds what they miss; a bare level would count bleed.
    hop_s : float
        The frame hop of ``rms_db``, seconds.
    params : WindowParams

    Returns
    -------
    list of (start_s, end_s)
        Sorted, disjoint, merged across pauses shorter than ``params.merge_gap_s``.
    """
    duration_s = rms_db.size * hop_s
    if levels.voiced_db < params.silent_song_db:
        loud = np.zeros(rms_db.size, dtype=bool)
    elif levels.contrast_db < params.min_contrast_db:
        loud = np.ones(rms_db.size, dtype=bool)
    else:
        loud = rms_db > levels.threshold_db(params.level_fraction)
    regions = [(a * hop_s, b * hop_s) for a, b in _runs(loud) if (b - a) * hop_s >= params.min_region_s]
    regions += [(max(0.0, a), min(duration_s, b)) for a, b in speech or () if b > a]
    return _merge(sorted(regions), gap_s=params.merge_gap_s)


def pack_windows(
    regions: list[tuple[float, float]],
    *,
    rms_db: np.ndarray,
    duration_s: float,
    hop_s: float = HOP_S,
    params: WindowParams = DEFAULT_WINDOW_PARAMS,
) -> list[Window]:
    """Group active regions into windows of at most ``params.max_window_s``, cut in pauses.

    Parameters
    ----------
    regions : list of (start_s, end_s)
        :func:`active_regions`.
    rms_db : np.ndarray, shape (n_frames,)
        Frame levels, used to cut a region longer than a window at its quietest frame.
    duration_s : float
        The song's length, seconds.
    hop_s : float
        The frame hop of ``rms_db``, seconds.
    params : WindowParams

    Returns
    -------
    list of Window
        In time order, not overlapping. A window is cut at the longest pause that leaves it at
        least ``fill_fraction`` full (fewer, fuller windows cost fewer encoder passes; a long
        pause is the safest place to cut); a phrase with no pause for 30 s is cut at its
        quietest 20 ms between 60 % and 100 % of the window.
    """
    limit = params.max_window_s
    pieces = _split_long(regions, rms_db=rms_db, hop_s=hop_s, limit_s=limit - 2 * params.pad_s, params=params)
    windows: list[Window] = []
    i = 0
    while i < len(pieces):
        start = max(pieces[i][0] - params.pad_s, windows[-1].end if windows else 0.0)
        # The furthest region that still fits, then the longest pause among those far enough.
        j = i
        while j + 1 < len(pieces) and pieces[j + 1][1] + params.pad_s - start <= limit:
            j += 1
        if j + 1 < len(pieces):
            candidates = [
                k for k in range(i, j + 1) if pieces[k][1] + params.pad_s - start >= params.fill_fraction * limit
            ]
            if candidates:
                j = max(candidates, key=lambda k: (pieces[k + 1][0] - pieces[k][1], k))
        end = pieces[j][1] + params.pad_s
        if j + 1 < len(pieces):
            end = min(end, (pieces[j][1] + pieces[j + 1][0]) / 2)  # leave the next window its pad
        end = min(end, duration_s, start + limit)
        voiced = tuple((max(a, start), min(b, end)) for a, b in pieces[i : j + 1])
        windows.append(Window(start=start, end=end, voiced=voiced))
        i = j + 1
    return windows


def _split_long(
    regions: list[tuple[float, float]], *, rms_db: np.ndarray, hop_s: float, limit_s: float, params: WindowParams
) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in regions:
        while b - a > limit_s:
            lo = int((a + params.fill_fraction * limit_s) / hop_s)
            hi = max(lo + 1, int((a + limit_s) / hop_s))
            cut = (lo + int(np.argmin(rms_db[lo:hi]))) * hop_s if lo < rms_db.size else a + limit_s
            cut = min(max(cut, a + hop_s), a + limit_s)
            out.append((a, cut))
            a = cut
        out.append((a, b))
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` frame index pairs of the True runs of ``mask``."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def _merge(regions: list[tuple[float, float]], *, gap_s: float) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for a, b in regions:
        if merged and a - merged[-1][1] < gap_s:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


@dataclass(frozen=True, slots=True)
class VoiceClock:
    """A clock that runs only while someone sings: song time <-> seconds of voice so far.

    Interpolating in voice time puts words the rough pass missed where the voice is, never in
    an instrumental break between two heard words.

    Attributes
    ----------
    region_start_s, region_length_s : np.ndarray, shape (n_regions,)
        The voiced regions, in song seconds, in order.
    voice_at_start_s : np.ndarray, shape (n_regions,)
        Seconds of voice before each region.
    """

    region_start_s: np.ndarray
    region_length_s: np.ndarray
    voice_at_start_s: np.ndarray

    @classmethod
    def from_windows(cls, windows: list[Window]) -> VoiceClock:
        regions = [region for window in windows for region in window.voiced if region[1] > region[0]]
        start = np.array([a for a, _b in regions], dtype=np.float64)
        length = np.array([b - a for a, b in regions], dtype=np.float64)
        before = np.concatenate([[0.0], np.cumsum(length)[:-1]]) if length.size else np.zeros(0)
        return cls(start, length, before)

    @property
    def total_s(self) -> float:
        """Seconds of voice in the song."""
        return float(self.region_length_s.sum())

    def to_voice(self, t: np.ndarray) -> np.ndarray:
        """Song seconds to voice seconds (a pause maps to the voice time at its start)."""
        t = np.asarray(t, dtype=np.float64)
        if self.region_start_s.size == 0:
            return np.zeros_like(t)
        i = np.clip(np.searchsorted(self.region_start_s, t, side="right") - 1, 0, None)
        return self.voice_at_start_s[i] + np.clip(t - self.region_start_s[i], 0.0, self.region_length_s[i])

    def to_song(self, v: np.ndarray, *, side: str = "start") -> np.ndarray:
        """Voice seconds to song seconds.

        A voice time at a region's end is also the next region's start; ``side="start"`` gives
        the next region's start (where a word would begin), ``side="end"`` this region's end.
        """
        v = np.asarray(v, dtype=np.float64)
        if self.region_start_s.size == 0:
            return np.zeros_like(v)
        ends = self.voice_at_start_s + self.region_length_s
        i = np.searchsorted(ends, v, side="right" if side == "start" else "left")
        i = np.clip(i, 0, ends.size - 1)
        return self.region_start_s[i] + np.clip(v - self.voice_at_start_s[i], 0.0, self.region_length_s[i])
