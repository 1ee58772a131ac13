"""The features every estimate reads, computed once per song.

:func:`song_features` downmixes the mix (and the drums stem, when given) to mono and resamples
it to ``feature_sr`` (11 025 Hz). One Hann STFT of the drums (or, without them, of the mix)
gives the log-mel onset envelopes the beat tracker and the downbeat cues read; one STFT of the
mix at half that rate, with the same window length in samples (twice the frequency resolution),
gives the chroma and the bass spectrum the key, chord-change and bass-change cues read. All
frames are 23 ms apart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import soxr
from numpy.typing import NDArray
from scipy import fft as sp_fft

from model.pipelines.analysis.params import AnalysisParams

__all__ = ["FloatArray", "Features", "song_features"]

FloatArray = NDArray[np.float32]

_WORKERS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1))
# Frames per FFT call: keeps the windowed copy of the frames small.
_FRAME_BLOCK = 2048


@dataclass(frozen=True, slots=True)
class Features:
    """Frame-rate features of one song; frame ``t`` is centred on ``t / frame_rate`` seconds.

    Attributes
    ----------
    frame_rate : float
        Frames per second (``feature_sr / hop_length``).
    onset : np.ndarray, shape (n_frames,), float32
        Log-mel spectral flux over all bands (of the drums stem when given, else of the mix):
        what the beat tracker follows.
    kick : np.ndarray, shape (n_frames,), float32
        The same flux over the bands below ``kick_max_hz`` (kick drum, bass onsets).
    chroma : np.ndarray, shape (n_frames, 12), float32
        Magnitude chroma of the mix between ``chroma_min_hz`` and ``chroma_max_hz``, every
        semitone weighing alike (:func:`_chroma_weights`), pitch class 0 = C.
    chroma_sums : np.ndarray, shape (n_frames + 1, 12), float64
        Running sums of ``chroma`` over frames (row 0 is zeros): the mean over any span of
        frames is a difference of two rows.
    bass_sums : np.ndarray, shape (n_frames + 1, n_bass_bins), float64
        Running sums of the mix's magnitude spectrum between ``bass_min_hz`` and
        ``bass_max_hz``, whose changes mark new bass notes.
    """

    frame_rate: float
    onset: FloatArray
    kick: FloatArray
    chroma: FloatArray
    chroma_sums: NDArray[np.float64]
    bass_sums: NDArray[np.float64]

    @property
    def n_frames(self) -> int:
        return int(self.onset.shape[0])


def song_features(*, mix: FloatArray, sr: int, drums: FloatArray | None, params: AnalysisParams) -> Features:
    """The features of a song.

    Parameters
    ----------
    mix : np.ndarray, shape (channels, n_samples), float32
        The song, at ``sr``.
    sr : int
        Sample rate of ``mix`` and ``drums`` in Hz.
    drums : np.ndarray, shape (channels, n_samples), float32, or None
        The separated drums stem, same length as ``mix``.
    params : AnalysisParams

    Returns
    -------
    Features
    """
    fsr = params.feature_sr
    mono = _mono(mix, sr=sr, feature_sr=fsr)
    source = mono if drums is None else _mono(drums, sr=sr, feature_sr=fsr)
    onset_mag = _magnitude(source, n_fft=params.n_fft, hop=params.hop_length)
    n_frames = onset_mag.shape[0]
    mel_fb = _mel_filters(fsr, params.n_fft, params.n_mels)
    flux = _log_flux(np.square(onset_mag) @ mel_fb.T, top_db=params.top_db)
    kick_bands = _mel_centres(fsr, params.n_mels) <= params.kick_max_hz

    # The harmonic features: the same window length in samples at half the rate (twice the
    # frequency resolution, 5.4 Hz at the defaults, for bass notes) and the same hop in
    # samples (every other frame: chords and bass notes last far longer than 46 ms), each
    # frame then standing for the two frames it spans.
    hsr = fsr / 2
    low = soxr.resample(mono, fsr, hsr, quality="HQ").astype(np.float32, copy=False)
    harmonic = _magnitude(low, n_fft=params.n_fft, hop=params.hop_length)
    harmonic = _fit_frames(np.repeat(harmonic, 2, axis=0), n_frames)
    freqs = np.arange(params.n_fft // 2 + 1) * hsr / params.n_fft
    bass_bins = (freqs >= params.bass_min_hz) & (freqs <= params.bass_max_hz)
    weights = _chroma_weights(hsr, params.n_fft, params.chroma_min_hz, params.chroma_max_hz)
    chroma = harmonic @ weights.T
    return Features(
        frame_rate=fsr / params.hop_length,
        onset=flux.mean(axis=1),
        kick=flux[:, kick_bands].mean(axis=1),
        chroma=chroma,
        chroma_sums=_running_sums(chroma),
        bass_sums=_running_sums(harmonic[:, bass_bins]),
    )


def _running_sums(x: FloatArray) -> NDArray[np.float64]:
    """Cumulative sums over rows with a leading row of zeros, shape (n + 1, d), float64."""
    out = np.zeros((x.shape[0] + 1, x.shape[1]))
    np.cumsum(x, axis=0, dtype=np.float64, out=out[1:])
    return out


def _fit_frames(x: FloatArray, n_frames: int) -> FloatArray:
    """``x`` cut or zero-padded to ``n_frames`` rows (the half-rate STFT may differ by one)."""
    if x.shape[0] >= n_frames:
        return x[:n_frames]
    return np.vstack([x, np.zeros((n_frames - x.shape[0], x.shape[1]), dtype=x.dtype)])


def _mono(x: FloatArray, *, sr: int, feature_sr: int) -> FloatArray:
    # Row by row: the caller's array may be a transposed (n_samples, channels) buffer, over
    # which a mean along axis 0 is many times slower.
    mono = np.array(x[0], dtype=np.float32)
    for channel in x[1:]:
        mono += channel
    mono *= np.float32(1.0 / x.shape[0])
    if sr == feature_sr:
        return mono
    # soxr's medium quality: its pass band reaches 0.9 of the new Nyquist, more than the
    # features use, at a fraction of the cost of the HQ filter.
    return soxr.resample(mono, sr, feature_sr, quality="HQ").astype(np.float32, copy=False)


def _magnitude(y: FloatArray, *, n_fft: int, hop: int) -> FloatArray:
    """Centred Hann STFT magnitude, shape (n_frames, n_fft // 2 + 1); frame t centred on t * hop."""
    pad = n_fft // 2
    n_frames = 1 + len(y) // hop
    yp = np.zeros((n_frames - 1) * hop + n_fft, dtype=np.float32)
    yp[pad : pad + len(y)] = y[: len(yp) - pad]
    frames = np.lib.stride_tricks.sliding_window_view(yp, n_fft)[::hop]
    window = _hann(n_fft)
    out = np.empty((n_frames, n_fft // 2 + 1), dtype=np.float32)
    for t0 in range(0, n_frames, _FRAME_BLOCK):
        spec = sp_fft.rfft(frames[t0 : t0 + _FRAME_BLOCK] * window, axis=-1, workers=_WORKERS)
        out[t0 : t0 + _FRAME_BLOCK] = np.abs(spec)
    return out


def _log_flux(mel_power: FloatArray, *, top_db: float) -> FloatArray:
    """Half-wave rectified first difference of the log-mel power, shape (n_frames, n_mels).

    As librosa's ``onset_strength``: power in dB, floored ``top_db`` below the song's peak so
    that noise in near-silent bands does not count as onsets.
    """
    db = 10.0 * np.log10(np.maximum(mel_power, 1e-10))
    floor = db.max() - top_db
    db = np.maximum(db, floor)
    flux = np.empty_like(db)
    # Before the first frame is silence: a song that starts on a beat has an onset there.
    flux[0] = db[0] - floor
    flux[1:] = np.maximum(db[1:] - db[:-1], 0.0)
    return flux


@lru_cache(maxsize=4)
def _mel_filters(sr: int, n_fft: int, n_mels: int) -> FloatArray:
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmax=sr / 2)


@lru_cache(maxsize=4)
def _mel_centres(sr: int, n_mels: int) -> NDArray[np.float64]:
    import librosa

    return librosa.mel_frequencies(n_mels=n_mels + 2, fmax=sr / 2)[1:-1]


@lru_cache(maxsize=4)
def _chroma_weights(sr: float, n_fft: int, fmin: float, fmax: float) -> FloatArray:
    """Pitch-class weights of the STFT bins between ``fmin`` and ``fmax``, shape (12, n_bins).

    Each bin goes to its nearest semitone with a triangular weight (1 on the semitone, 0 half
    a semitone away), and each semitone's bins share a total weight of one, so that every
    octave counts alike: the bass and the chords, not just the many bins of the upper
    octaves, tell the harmony.
    """
    freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    weights = np.zeros((12, freqs.size))
    inside = np.flatnonzero((freqs >= fmin) & (freqs <= fmax))
    pitch = 12.0 * np.log2(freqs[inside] / 440.0) + 69.0
    nearest = np.rint(pitch).astype(np.int64)
    share = np.clip(1.0 - 2.0 * np.abs(pitch - nearest), 0.0, 1.0)
    per_semitone = np.bincount(nearest - nearest.min())[nearest - nearest.min()]
    weights[nearest % 12, inside] = share / per_semitone
    return weights.astype(np.float32)


@lru_cache(maxsize=4)
def _hann(n: int) -> FloatArray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)
