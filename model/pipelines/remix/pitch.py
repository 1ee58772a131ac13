"""A fast YIN pitch tracker with its own smoothing: :func:`pitch_track`.

The method (de Cheveigné & Kawahara 2002, "YIN, a fundamental frequency estimator for speech
and music"), vectorised over frames and run in blocks of frames so that memory stays flat
however long the stem:

1. **Analysis rate.** The mono signal is resampled (soxr) to the lowest rate of
   :attr:`PitchParams.analysis_rates` at which the shortest period sought (``1 / fmax_hz``)
   still spans :attr:`PitchParams.min_period_samples` samples: 11 025 Hz for a bass line,
   22 050 Hz up to C7. Nothing above the analysis Nyquist frequency helps find a period that
   long, and the work falls with the rate.
2. **Difference function.** For each frame, ``d(τ) = Σ_j (x_j - x_{j+τ})²`` over an
   integration window of ``W`` samples, written as ``E(0) + E(τ) - 2 r(τ)``: the sliding
   energies ``E`` come from one cumulative sum, the cross-correlation ``r`` from one real FFT
   of the window and one of the frame (``W + τ_max`` samples), so a frame costs
   ``O(L log L)`` instead of ``O(W τ_max)``.
3. **Cumulative-mean normalisation** ``d'(τ) = d(τ) τ / Σ_{k≤τ} d(k)``, then the
   **absolute threshold**: the period is the first trough of ``d'`` below
   :attr:`PitchParams.trough_threshold` (the global minimum when there is none), refined by
   **parabolic interpolation**; the interpolated minimum is the frame's aperiodicity and
   ``1 - aperiodicity`` its confidence.
4. **Voicing with hysteresis.** A frame is voiced when its aperiodicity is below
   :attr:`PitchParams.voiced_off` and it belongs to a run of such frames that holds one below
   the stricter :attr:`PitchParams.voiced_on` (a note's steady part) and lasts at least
   :attr:`PitchParams.min_voiced_s`; frames far below the loudest (``silence_db``) or under an
   absolute floor are never voiced (YIN finds periods in dither).
5. **Octave-jump repair.** A voiced frame whose pitch lies about a whole number of octaves
   from the median of its voiced neighbours (:attr:`PitchParams.octave_context_s`) is moved by
   those octaves: YIN's errors are octave errors on a frame or two, a centred median keeps
   real leaps (more than half its window lies on the new note).
6. **Median smoothing** of log-f0 over :attr:`PitchParams.median_s`, voiced frames only.

Frame ``i`` is centred on input sample ``i * hop_length`` (librosa's ``center=True``
convention), so ``times_s`` lines up with librosa features at the same hop.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import fft as sp_fft

__all__ = ["DEFAULT_PITCH_PARAMS", "PitchParams", "PitchTrack", "pitch_track"]

_WORKERS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1))


@dataclass(frozen=True, slots=True)
class PitchParams:
    """Tuning of :func:`pitch_track`; times in seconds, levels in dB, ``d'`` values unitless.

    The defaults were chosen on generated signals with known pitch (harmonic tones with
    vibrato and glides, a bass line and a melody at 44.1 kHz, with a little noise): see
    ``bench/run/remix_analysis.py``, which scores them against ``librosa.pyin``.
    """

    analysis_rates: tuple[int, ...] = (11025, 22050)
    """Candidate analysis rates in Hz, tried from the lowest; the input rate is used when none
    fits (the signal is never upsampled)."""
    min_period_samples: float = 10.0
    """The analysis rate is the lowest at which a period of ``1 / fmax_hz`` spans this many
    samples (parabolic interpolation then resolves it to a few cents)."""
    range_margin_semitones: float = 1.0
    """The lag search reaches this far beyond ``fmin_hz`` and ``fmax_hz`` (a note at the
    range's edge with vibrato is still found); estimates are then clipped to the range."""
    trough_threshold: float = 0.1
    """YIN's absolute threshold: the period is the first trough of ``d'`` below this."""
    voiced_on: float = 0.2
    """A voiced run must hold a frame whose aperiodicity (interpolated ``d'`` minimum) is
    below this."""
    voiced_off: float = 0.35
    """Frames stay voiced while their aperiodicity is below this."""
    min_voiced_s: float = 0.03
    """Voiced runs shorter than this are dropped (blips in noise)."""
    silence_db: float = -60.0
    """Frames whose RMS is this far below the loudest frame's are unvoiced."""
    silence_floor: float = 1e-5
    """Frames whose RMS (full scale 1.0) is below this (-100 dBFS) are unvoiced."""
    octave_context_s: float = 0.1
    """Length of the centred median window (over voiced frames) that octave jumps are judged
    against."""
    octave_tolerance: float = 0.25
    """A frame is an octave jump when its distance to that median is within this many
    octaves of a non-zero whole number of octaves."""
    median_s: float = 0.025
    """Length of the final median filter over voiced log-f0 (at least one frame)."""
    block_frames: int = 2048
    """Frames processed at once: a block's arrays take about ``block_frames * 8 * L`` bytes
    for frames of ``L`` samples (some 20 MB at the defaults)."""


DEFAULT_PITCH_PARAMS = PitchParams()


@dataclass(frozen=True)
class PitchTrack:
    """A pitch contour from :func:`pitch_track`.

    Attributes
    ----------
    f0_hz : np.ndarray, shape (n_frames,), float32
        Fundamental frequency in Hz; NaN where unvoiced.
    voiced : np.ndarray, shape (n_frames,), bool
    confidence : np.ndarray, shape (n_frames,), float32
        ``1 - aperiodicity``, 0..1 (0 for silent frames), whether or not the frame is voiced.
    sr : int
        Sample rate of the audio the track was computed from, in Hz.
    hop_length : int
        Frame hop in samples at ``sr``: frame ``i`` is centred on sample ``i * hop_length``.
    """

    f0_hz: NDArray[np.float32]
    voiced: NDArray[np.bool_]
    confidence: NDArray[np.float32]
    sr: int
    hop_length: int

    @property
    def n_frames(self) -> int:
        return int(self.f0_hz.shape[0])

    @property
    def times_s(self) -> NDArray[np.float64]:
        """Frame centres in seconds, shape (n_frames,)."""
        return np.arange(self.n_frames) * (self.hop_length / self.sr)


def pitch_track(
    *,
    audio: np.ndarray,
    sr: int,
    fmin_hz: float = 32.7,
    fmax_hz: float = 2093.0,
    hop_length: int = 256,
    frame_length: int = 2048,
    params: PitchParams = DEFAULT_PITCH_PARAMS,
) -> PitchTrack:
    """The pitch contour of a monophonic (or mostly monophonic) signal.

    Parameters
    ----------
    audio : np.ndarray, shape (n_samples,) or (channels, n_samples), float
        The signal at ``sr``; several channels are averaged first.
    sr : int
        Its sample rate in Hz.
    fmin_hz, fmax_hz : float
        The pitch range searched, in Hz (default C1-C7, as ``librosa.pyin``'s C2-C7 widened to
        the bass's lowest octave).
    hop_length : int
        Frame hop in samples at ``sr``.
    frame_length : int
        Frame length in samples at ``sr``; the YIN integration window is half of it, but never
        shorter than one period of ``fmin_hz`` (a period must be seen whole), and each frame
        reaches one longest period further.
    params : PitchParams
        The tracker's tuning.

    Returns
    -------
    PitchTrack
        ``1 + n_samples // hop_length`` frames, frame ``i`` centred on sample
        ``i * hop_length``.

    Raises
    ------
    ValueError
        ``audio`` empty, not 1-D or 2-D, or not finite; a non-positive rate, hop or frame;
        ``fmin_hz`` not below ``fmax_hz``, or ``fmax_hz`` at or above the Nyquist frequency.
    """
    x = _mono(audio)
    if sr <= 0 or hop_length <= 0 or frame_length <= 0:
        raise ValueError("sr, hop_length and frame_length must be positive")
    if not (0 < fmin_hz < fmax_hz < sr / 2):
        raise ValueError(f"need 0 < fmin_hz < fmax_hz < sr / 2, got {fmin_hz}, {fmax_hz} at {sr} Hz")

    n_frames = 1 + x.shape[0] // hop_length
    a_sr = _analysis_rate(sr=sr, fmax_hz=fmax_hz, params=params)
    y = _resample(x, sr=sr, target_sr=a_sr)
    margin = 2 ** (params.range_margin_semitones / 12)
    tau_min = max(2, math.floor(a_sr / (fmax_hz * margin)))
    tau_max = math.ceil(a_sr * margin / fmin_hz)
    window = max(round(frame_length / 2 * a_sr / sr), tau_max)
    length = window + tau_max + 2
    n_fft = sp_fft.next_fast_len(length, real=True)

    # Frame i is centred on input sample i * hop: a lag τ compares the samples from the
    # frame's start to W + τ past it, so the frame starts (W + τ_c) / 2 early, τ_c the range's
    # geometric centre (a glide is then read where it is, not a few milliseconds late).
    centres = np.round(np.arange(n_frames) * (hop_length * a_sr / sr)).astype(np.int64)
    pad = length
    y_pad = np.zeros(y.shape[0] + 2 * pad, dtype=np.float32)
    y_pad[pad : pad + y.shape[0]] = y
    starts = centres + pad - (window + round(math.sqrt(tau_min * tau_max))) // 2

    # Sliding energy over the integration window, once for the whole signal (float64 sums).
    cumulative = np.concatenate(([0.0], np.cumsum(np.square(y_pad, dtype=np.float64))))
    sliding = (cumulative[window:] - cumulative[:-window]).astype(np.float32)
    rms = np.sqrt(np.maximum(sliding[starts], 0.0) / window)

    period = np.zeros(n_frames, dtype=np.float64)
    aperiodicity = np.ones(n_frames, dtype=np.float64)
    # A strided view where the hop is a whole number of samples at the analysis rate (the
    # usual case: 44.1 or 22.05 kHz in), else a gather.
    step = hop_length * a_sr / sr
    whole = step == int(step)
    framed = np.lib.stride_tricks.sliding_window_view(y_pad, length)
    lagged = np.lib.stride_tricks.sliding_window_view(sliding, tau_max + 2)
    for lo in range(0, n_frames, params.block_frames):
        hi = min(lo + params.block_frames, n_frames)
        if whole:
            rows = slice(starts[lo], starts[hi - 1] + 1, int(step))
        else:
            rows = starts[lo:hi]
        period[lo:hi], aperiodicity[lo:hi] = _yin_block(
            framed[rows],
            lagged[rows],
            window=window,
            tau_min=tau_min,
            tau_max=tau_max,
            n_fft=n_fft,
            threshold=params.trough_threshold,
        )

    loud = rms >= max(params.silence_floor, (rms.max() if rms.size else 0.0) * 10 ** (params.silence_db / 20))
    aperiodicity = np.where(loud, aperiodicity, 1.0)
    frame_s = hop_length / sr
    voiced = _hysteresis(
        aperiodicity,
        on=params.voiced_on,
        off=params.voiced_off,
        min_frames=max(1, round(params.min_voiced_s / frame_s)),
    )
    log_f0 = np.full(n_frames, np.nan)
    log_f0[voiced] = np.log2(a_sr / period[voiced])
    log_f0 = _repair_octaves(log_f0, window=_odd(params.octave_context_s / frame_s), tolerance=params.octave_tolerance)
    log_f0 = _voiced_median(log_f0, window=_odd(params.median_s / frame_s))
    f0 = np.clip(np.exp2(log_f0), fmin_hz, fmax_hz)
    return PitchTrack(
        f0_hz=f0.astype(np.float32),
        voiced=voiced,
        confidence=np.clip(1.0 - aperiodicity, 0.0, 1.0).astype(np.float32),
        sr=int(sr),
        hop_length=int(hop_length),
    )


# ------------------------------------------------------------------ steps


def _mono(audio: np.ndarray) -> NDArray[np.float32]:
    x = np.asarray(audio)
    if x.ndim == 2:
        x = x.mean(axis=0)
    if x.ndim != 1 or x.shape[0] == 0:
        raise ValueError(f"audio must be (n_samples,) or (channels, n_samples), got shape {np.shape(audio)}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"audio must be floating point, got {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all():
        raise ValueError("audio holds NaN or infinite samples")
    return x


def _analysis_rate(*, sr: int, fmax_hz: float, params: PitchParams) -> int:
    for rate in sorted(params.analysis_rates):
        if rate <= sr and rate / fmax_hz >= params.min_period_samples:
            return rate
    return sr


def _resample(x: NDArray[np.float32], *, sr: int, target_sr: int) -> NDArray[np.float32]:
    if target_sr == sr:
        return x
    import soxr

    return soxr.resample(x, sr, target_sr, quality="HQ").astype(np.float32, copy=False)


def _yin_block(
    frames: NDArray[np.float32],
    energy: NDArray[np.float32],
    *,
    window: int,
    tau_min: int,
    tau_max: int,
    n_fft: int,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(period in samples, aperiodicity 0..1) of each frame, shape (n_frames,) each.

    ``frames`` is (n_frames, window + tau_max + 2) and ``energy`` (n_frames, tau_max + 2) the
    sliding energies ``E(τ) = Σ_{τ<=j<τ+W} x_j²`` of each frame: lags 0..tau_max + 1 are
    computed so that every candidate in tau_min..tau_max has both neighbours for the trough
    test. float32 throughout: ``d'`` is compared to thresholds of 0.1-0.35.
    """
    n_lags = tau_max + 2
    spec_w = sp_fft.rfft(frames[:, :window], n=n_fft, axis=1, workers=_WORKERS)
    spec_f = sp_fft.rfft(frames, n=n_fft, axis=1, workers=_WORKERS)
    spec_f *= np.conj(spec_w)
    # r(τ) = Σ_{j<W} x_j x_{j+τ}; no circular wrap: j + τ < W + n_lags <= n_fft.
    corr = sp_fft.irfft(spec_f, n=n_fft, axis=1, workers=_WORKERS)[:, 1:n_lags]
    # d(τ) = E(0) + E(τ) - 2 r(τ), for τ >= 1 (d(0) = 0).
    diff = corr
    diff *= -2.0
    diff += energy[:, 1:]
    diff += energy[:, :1]
    np.maximum(diff, 0.0, out=diff)
    # d'(τ) = d(τ) τ / Σ_{1<=k<=τ} d(k); 1 where the running sum is 0 (silence).
    running = np.cumsum(diff, axis=1, dtype=np.float32)
    floor = np.float32(1e-7) * (energy[:, :1] + np.float32(1e-12))
    norm = np.ones_like(diff)
    diff *= np.arange(1, n_lags, dtype=np.float32)
    np.divide(diff, running, out=norm, where=running > floor)

    # Lag τ is norm[:, τ - 1]; the segment holds tau_min - 1 .. tau_max + 1.
    seg = norm[:, tau_min - 2 : tau_max + 1]
    mid = seg[:, 1:-1]
    trough = (mid < seg[:, :-2]) & (mid <= seg[:, 2:])
    below = trough & (mid < threshold)
    masked = np.where(trough, mid, np.float32(np.inf))
    fallback = np.where(trough.any(axis=1), np.argmin(masked, axis=1), np.argmin(mid, axis=1))
    pick = np.where(below.any(axis=1), np.argmax(below, axis=1), fallback)
    tau = tau_min + pick
    rows = np.arange(frames.shape[0])
    y0 = norm[rows, tau - 2].astype(np.float64)
    y1 = norm[rows, tau - 1].astype(np.float64)
    y2 = norm[rows, tau].astype(np.float64)
    curvature = y0 - 2.0 * y1 + y2
    shift = np.zeros_like(y1)
    np.divide(0.5 * (y0 - y2), curvature, out=shift, where=curvature > 1e-9)
    shift = np.clip(shift, -0.5, 0.5)
    minimum = y1 - 0.25 * (y0 - y2) * shift
    return tau + shift, np.clip(minimum, 0.0, 1.0)


def _hysteresis(aperiodicity: np.ndarray, *, on: float, off: float, min_frames: int) -> NDArray[np.bool_]:
    """Runs of frames below ``off`` that hold a frame below ``on`` and last ``min_frames``."""
    weak = aperiodicity < off
    if not weak.any():
        return weak
    edges = np.diff(np.concatenate(([0], weak.astype(np.int8), [0])))
    run_starts, run_ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    strong = np.concatenate(([0], np.cumsum(aperiodicity < on)))
    keep = (strong[run_ends] > strong[run_starts]) & (run_ends - run_starts >= min_frames)
    marks = np.zeros(aperiodicity.shape[0] + 1, dtype=np.int64)
    np.add.at(marks, run_starts[keep], 1)
    np.add.at(marks, run_ends[keep], -1)
    return np.cumsum(marks[:-1]) > 0


def _odd(frames: float) -> int:
    n = max(1, round(frames))
    return n if n % 2 else n + 1


def _nan_median_windows(values: np.ndarray, *, window: int, rows: np.ndarray) -> np.ndarray:
    """Median of the non-NaN values in the centred ``window`` around each index of ``rows``."""
    half = window // 2
    padded = np.concatenate((np.full(half, np.nan), values, np.full(half, np.nan)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, window)[rows]
    ordered = np.sort(windows, axis=1)  # NaN sort last
    count = np.sum(~np.isnan(windows), axis=1)
    lower = ordered[np.arange(rows.shape[0]), (count - 1) // 2]
    upper = ordered[np.arange(rows.shape[0]), count // 2]
    return 0.5 * (lower + upper)


def _repair_octaves(log_f0: np.ndarray, *, window: int, tolerance: float) -> np.ndarray:
    rows = np.flatnonzero(~np.isnan(log_f0))
    if rows.size == 0 or window <= 1:
        return log_f0
    context = _nan_median_windows(log_f0, window=window, rows=rows)
    distance = log_f0[rows] - context
    octaves = np.round(distance)
    jump = (octaves != 0) & (np.abs(distance - octaves) < tolerance)
    out = log_f0.copy()
    out[rows[jump]] -= octaves[jump]
    return out


def _voiced_median(log_f0: np.ndarray, *, window: int) -> np.ndarray:
    rows = np.flatnonzero(~np.isnan(log_f0))
    if rows.size == 0 or window <= 1:
        return log_f0
    out = log_f0.copy()
    out[rows] = _nan_median_windows(log_f0, window=window, rows=rows)
    return out
