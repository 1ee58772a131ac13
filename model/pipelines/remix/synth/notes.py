"""Steps 1 and 2 of :mod:`model.pipelines.remix.synth`: a stem's analysis, its notes, their plan.

:func:`remix_plan` gives the notes :func:`~model.pipelines.remix.synth.remix_stem` finds in a
stem and the grain each plays. The analysis (``_analyse``) is taken once per stem: one STFT a
block of frames at a time (the onsets, each frame's centroid and MFCCs), the RMS envelope, one
pitch track. The notes (``_notes``, ``_snap``) run from onset to onset, cut where the envelope
falls, and are given their pitch and timbre (``_note_pitch``, ``_note_timbre``) and their
grains (``_plan``, through :mod:`~model.pipelines.remix.synth.choice`). ``_contour`` is the pitch
each note's grain is resampled to, frame by frame, for the render.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from model.pipelines.remix.pitch import pitch_track
from model.pipelines.remix.synth.choice import _descriptors, _library_descriptors, _nearest, grains_choose
from model.pipelines.remix.synth.params import DEFAULT_SYNTH_PARAMS, STEM_KINDS, RemixPlan, SynthParams

if TYPE_CHECKING:
    from model.pipelines.remix.grains import GrainLibrary
    from model.pipelines.remix.settings import RemixSettings

__all__ = ["remix_plan"]


@dataclass(frozen=True)
class _Analysis:
    mono: NDArray[np.float32]  # (n,)
    power: NDArray[np.float64]  # (n_blocks,) smoothed mean square per envelope hop
    env_hop: int  # samples at sr
    log_f0: NDArray[np.float64] | None  # (n_pitch_frames,) log2 Hz, NaN unvoiced; frame i at i * env_hop
    onsets: NDArray[np.int64]  # samples at sr
    frame_hop: float  # STFT hop in samples at sr
    centroid: NDArray[np.float64]  # (n_frames,) Hz
    mfcc: NDArray[np.float64]  # (n_frames, n_timbre_mfcc)


def remix_plan(
    *,
    audio: np.ndarray,
    sr: int,
    library: GrainLibrary,
    settings: RemixSettings,
    kind: str,
    beats_s: np.ndarray | None = None,
    params: SynthParams = DEFAULT_SYNTH_PARAMS,
) -> RemixPlan:
    """The notes :func:`remix_stem` finds in ``audio`` and the grain it gives each (same arguments)."""
    _check(sr=sr, kind=kind, wet=1.0)
    analysis = _analyse(_stereo(audio), sr=sr, kind=kind, settings=settings, params=params)
    return _plan(analysis, sr=sr, library=library, settings=settings, kind=kind, beats_s=beats_s, params=params)


# ------------------------------------------------------------------ analysis


def _stereo(audio: np.ndarray) -> NDArray[np.float32]:
    x = np.asarray(audio)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] not in (1, 2) or x.shape[1] == 0:
        raise ValueError(f"audio must be (n,) or (1 or 2, n) with n > 0, got shape {np.shape(audio)}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"audio must be floating point, got {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all():
        raise ValueError("audio holds NaN or infinite samples")
    return np.repeat(x, 2, axis=0) if x.shape[0] == 1 else x


def _check(*, sr: int, kind: str, wet: float) -> None:
    if sr <= 0:
        raise ValueError(f"sr must be positive, got {sr}")
    if kind not in STEM_KINDS:
        raise ValueError(f"kind must be one of {', '.join(STEM_KINDS)}, got {kind!r}")
    if not 0.0 <= wet <= 1.0:
        raise ValueError(f"wet must be within 0..1, got {wet}")


def _analyse(original: np.ndarray, *, sr: int, kind: str, settings: RemixSettings, params: SynthParams) -> _Analysis:
    import librosa

    mono = (original[0] + original[1]) * np.float32(0.5)
    env_hop = max(1, round(params.envelope_hop_s * sr))
    power = _block_power(mono, hop=env_hop)

    a_sr = min(params.analysis_sr, sr)
    y = mono if a_sr == sr else _resample(mono, sr=sr, target_sr=a_sr)
    if y.shape[0] < params.n_fft:  # shorter than one window: zeros after it (no notes to miss there)
        y = np.pad(y, (0, params.n_fft - y.shape[0]))
    mel, centroid = _spectra(y, sr=a_sr, params=params)
    log_mel = librosa.power_to_db(mel)
    # n_fft: librosa shifts the flux by half a window to put each peak on its attack.
    flux = librosa.onset.onset_strength(S=log_mel, sr=a_sr, n_fft=params.n_fft, hop_length=params.hop_length)
    frame_hop = params.hop_length * sr / a_sr
    frames = librosa.onset.onset_detect(
        onset_envelope=flux,
        sr=a_sr,
        hop_length=params.hop_length,
        delta=settings.onset_delta,
        wait=max(1, round(params.min_onset_gap_s * a_sr / params.hop_length)),
        backtrack=True,
    )
    onsets = np.unique(np.round(np.asarray(frames) * frame_hop).astype(np.int64))
    onsets = _first_sound(onsets, power=power, hop=env_hop, sr=sr, params=params)

    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=1 + params.n_timbre_mfcc)[1:].T.astype(np.float64)
    del y, mel, log_mel

    log_f0 = None
    if kind != "drums":
        fmin, fmax = params.bass_range_hz if kind == "bass" else params.other_range_hz
        track = pitch_track(audio=mono, sr=sr, fmin_hz=fmin, fmax_hz=min(fmax, 0.45 * sr), hop_length=env_hop)
        log_f0 = np.where(track.voiced, np.log2(np.where(track.voiced, track.f0_hz, 1.0)), np.nan)
    return _Analysis(mono=mono, power=power, env_hop=env_hop, log_f0=log_f0, onsets=onsets, frame_hop=frame_hop,
                     centroid=centroid, mfcc=mfcc)  # fmt: skip


def _spectra(y: NDArray[np.float32], *, sr: int, params: SynthParams) -> tuple[np.ndarray, np.ndarray]:
    """(mel power spectrogram (n_mels, n_frames), spectral centroid in Hz (n_frames,)) of ``y``,
    frames centred on ``i * hop_length`` as ``librosa.stft`` centres them (zero padding). The STFT
    is taken a block of frames at a time and reduced at once: a 10-min stem's whole complex
    spectrogram would take 200 MB."""
    import librosa

    n_fft, hop = params.n_fft, params.hop_length
    n_frames = 1 + y.shape[0] // hop
    padded = np.pad(y, (n_fft // 2, n_fft // 2 + hop))
    mel_basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=params.n_mels).astype(np.float32)
    freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft).astype(np.float32)
    mel = np.empty((params.n_mels, n_frames), dtype=np.float32)
    centroid = np.empty(n_frames, dtype=np.float64)
    block = 4096
    for lo in range(0, n_frames, block):
        hi = min(n_frames, lo + block)
        segment = padded[lo * hop : (hi - 1) * hop + n_fft]
        magnitude = np.abs(librosa.stft(segment, n_fft=n_fft, hop_length=hop, center=False))
        centroid[lo:hi] = (freqs @ magnitude) / (magnitude.sum(axis=0) + 1e-12)
        mel[:, lo:hi] = mel_basis @ np.square(magnitude, out=magnitude)
    return mel, centroid


def _resample(x: NDArray[np.float32], *, sr: int, target_sr: int) -> NDArray[np.float32]:
    import soxr

    return soxr.resample(x, sr, target_sr, quality="HQ").astype(np.float32, copy=False)


def _block_power(x: NDArray[np.float32], *, hop: int) -> NDArray[np.float64]:
    """Mean square of every ``hop`` samples (the last block zero-padded), smoothed over
    neighbouring blocks with weights 1/4, 1/2, 1/4; block ``i`` is centred on ``(i + 1/2) hop``."""
    whole = x.shape[0] // hop
    blocks = x[: whole * hop].reshape(whole, hop)
    ms = np.einsum("ij,ij->i", blocks, blocks, dtype=np.float64) / hop
    if x.shape[0] > whole * hop:
        tail = x[whole * hop :].astype(np.float64)
        ms = np.append(ms, np.dot(tail, tail) / hop)
    if ms.shape[0] < 3:
        return ms
    return np.convolve(np.pad(ms, 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")


def _first_sound(onsets: np.ndarray, *, power: np.ndarray, hop: int, sr: int, params: SynthParams) -> NDArray[np.int64]:
    """Onsets, with one added where the stem first sounds if that is well before the first onset
    (two onset gaps: a note already sounding at the start has no attack to detect)."""
    peak = power.max(initial=0.0)
    if peak <= 0.0:
        return onsets[:0]
    loud = np.flatnonzero(power >= peak * 10 ** (-params.note_floor_db / 10))
    first = int(loud[0]) * hop
    if onsets.size == 0 or first < onsets[0] - 2 * params.min_onset_gap_s * sr:
        onsets = np.concatenate(([first], onsets))
    return onsets


# ------------------------------------------------------------------ notes and grains


def _plan(
    analysis: _Analysis,
    *,
    sr: int,
    library: GrainLibrary,
    settings: RemixSettings,
    kind: str,
    beats_s: np.ndarray | None,
    params: SynthParams,
) -> RemixPlan:
    n = analysis.mono.shape[0]
    starts, ends = _notes(analysis, n=n, params=params)
    if settings.snap_to_beats and beats_s is not None and starts.size:
        starts, ends = _snap(starts, ends, beats_s=beats_s, sr=sr, params=params)
    f0 = np.full(starts.shape[0], np.nan)
    if analysis.log_f0 is not None:
        f0 = _note_pitch(analysis.log_f0, starts, ends, hop=analysis.env_hop, params=params)
    if starts.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return RemixPlan(starts=empty, ends=empty, grains=empty, f0_hz=np.zeros(0, dtype=np.float32))

    grain_len = max(1, round(settings.grain_ms / 1000 * sr))
    timbre = _descriptors(_note_timbre(analysis, starts, np.minimum(ends, starts + grain_len)), params=params)
    lib_timbre, lib_log_f0 = _library_descriptors(library, params=params)
    voiced_grains = np.flatnonzero(np.isfinite(lib_log_f0))
    pitched = np.isfinite(f0) & (voiced_grains.size > 0)

    k_all = min(params.neighbours + 1, library.n_grains)
    candidates = np.zeros((starts.shape[0], k_all), dtype=np.int64)
    distances = np.full((starts.shape[0], k_all), np.inf)
    if (~pitched).any():
        cand, dist = _nearest(lib_timbre, timbre[~pitched], k=k_all)
        candidates[~pitched], distances[~pitched] = cand, dist
    if pitched.any():
        k = min(k_all, voiced_grains.size)
        points = np.column_stack((params.pitch_weight * lib_log_f0[voiced_grains], lib_timbre[voiced_grains]))
        queries = np.column_stack((params.pitch_weight * f0[pitched], timbre[pitched]))
        cand, dist = _nearest(points, queries, k=k)
        # Rows with fewer voiced candidates than k_all repeat their nearest (never chosen twice in a row).
        candidates[pitched] = np.pad(voiced_grains[cand], ((0, 0), (0, k_all - k)), mode="edge")
        distances[pitched] = np.pad(dist, ((0, 0), (0, k_all - k)), constant_values=np.inf)
    rng = np.random.default_rng([settings.seed, STEM_KINDS.index(kind)])
    grains = grains_choose(candidates=candidates, distances=distances, rng=rng, tie_margin=params.tie_margin)
    f0_hz = np.where(np.isfinite(f0), np.exp2(np.where(np.isfinite(f0), f0, 0.0)), np.nan).astype(np.float32)
    return RemixPlan(starts=starts, ends=ends, grains=grains, f0_hz=f0_hz)


def _notes(analysis: _Analysis, *, n: int, params: SynthParams) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Each onset to the next, cut where the envelope falls ``note_floor_db`` under the note's peak."""
    onsets = analysis.onsets[(analysis.onsets >= 0) & (analysis.onsets < n)]
    nexts = np.append(onsets[1:], n)[: onsets.shape[0]]
    power, hop = analysis.power, analysis.env_hop
    floor = 10 ** (-params.note_floor_db / 10)
    ends = nexts.copy()
    for j, (start, stop) in enumerate(zip(onsets, nexts, strict=True)):
        b0, b1 = start // hop, max(start // hop + 1, -(-stop // hop))
        segment = power[b0:b1]
        peak = int(np.argmax(segment))
        quiet = np.flatnonzero(segment[peak:] < segment[peak] * floor)
        if quiet.size:
            ends[j] = min(stop, (b0 + peak + int(quiet[0]) + 1) * hop)
    keep = ends > onsets
    return onsets[keep].astype(np.int64), ends[keep].astype(np.int64)


def _snap(starts: np.ndarray, ends: np.ndarray, *, beats_s: np.ndarray, sr: int, params: SynthParams):
    beats = np.asarray(beats_s, dtype=np.float64).reshape(-1)
    if beats.size == 0:
        return starts, ends
    if not np.isfinite(beats).all() or np.any(np.diff(beats) <= 0):
        raise ValueError("beats_s must be finite and strictly ascending")
    steps = np.arange(params.snap_division) / params.snap_division
    grid = np.append((beats[:-1, None] + np.diff(beats)[:, None] * steps).reshape(-1), beats[-1]) * sr
    at = np.clip(np.searchsorted(grid, starts), 1, grid.size - 1) if grid.size > 1 else np.zeros_like(starts)
    nearest = np.where(np.abs(grid[at - 1] - starts) <= np.abs(grid[at] - starts), grid[at - 1], grid[at])
    if grid.size == 1:
        nearest = np.full(starts.shape, grid[0])
    snapped = np.where(np.abs(nearest - starts) <= params.snap_window_s * sr, np.round(nearest), starts)
    snapped = np.maximum(snapped.astype(np.int64), 0)
    ends = np.minimum(ends, np.append(snapped[1:], np.iinfo(np.int64).max))
    keep = (ends > snapped) & np.append(snapped[1:] > snapped[:-1], True)
    return snapped[keep], ends[keep]


def _note_pitch(log_f0: np.ndarray, starts: np.ndarray, ends: np.ndarray, *, hop: int, params: SynthParams):
    """Median log2-f0 of each note's voiced frames; NaN for a note voiced on too few."""
    out = np.full(starts.shape[0], np.nan)
    n_frames = log_f0.shape[0]
    for j in range(starts.shape[0]):
        a = min(n_frames, -(-int(starts[j]) // hop))
        b = min(n_frames, max(a + 1, int(ends[j]) // hop + 1))
        values = log_f0[a:b]
        voiced = values[np.isfinite(values)]
        if voiced.size >= max(2, params.voiced_share * values.size):
            out[j] = float(np.median(voiced))
    return out


def _note_timbre(analysis: _Analysis, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """(n_notes, 2 + n_timbre_mfcc): log peak RMS, log mean centroid, mean MFCCs over [start, stop)."""
    power, hop = analysis.power, analysis.env_hop
    features = np.column_stack((np.log(np.maximum(analysis.centroid, 1.0)), analysis.mfcc))
    sums = np.vstack((np.zeros((1, features.shape[1])), np.cumsum(features, axis=0)))
    n_frames = features.shape[0]
    a = np.clip(np.round(starts / analysis.frame_hop).astype(np.int64), 0, n_frames - 1)
    b = np.clip(np.round(stops / analysis.frame_hop).astype(np.int64), a + 1, n_frames)
    means = (sums[b] - sums[a]) / (b - a)[:, None]
    peaks = np.array(
        [power[s // hop : max(s // hop + 1, -(-e // hop))].max() for s, e in zip(starts, stops, strict=True)]
    )
    return np.column_stack((0.5 * np.log(np.maximum(peaks, 1e-12)), means))


# ------------------------------------------------------------------ the pitch contour


@dataclass(frozen=True)
class _Contour:
    log_f0: NDArray[np.float64]  # (n_frames,) log2 Hz the re-voicing follows, frame i at i * env_hop
    first: NDArray[np.int64]  # (n_notes,) each note's first and last frame
    last: NDArray[np.int64]
    mapped: NDArray[np.bool_]  # (n_notes,) the note is transposed


def _contour(
    analysis: _Analysis, plan: RemixPlan, *, library: GrainLibrary, settings: RemixSettings, params: SynthParams
) -> _Contour | None:
    """The pitch each note's grain is resampled to, frame by frame; None when nothing is transposed.

    Inside a note, unvoiced frames are interpolated between its voiced ones (held at its ends),
    and a frame about a whole number of octaves from the note's pitch (within
    :attr:`SynthParams.octave_tolerance`) is moved into the note's octave first: a tracker's
    octave slips (a bass attack often reads an octave low for a few frames) must not become
    octave blips in the re-voicing.
    """
    if analysis.log_f0 is None or not settings.pitch_mapping:
        return None
    grain_f0 = np.asarray(library.f0_hz, dtype=np.float64)[plan.grains]
    mapped = np.isfinite(plan.f0_hz) & np.isfinite(grain_f0) & (grain_f0 > 0)
    if not mapped.any():
        return None
    raw, hop = analysis.log_f0, analysis.env_hop
    n_frames = raw.shape[0]
    first = np.clip(-(-plan.starts // hop), 0, n_frames - 1)
    last = np.clip((plan.ends - 1) // hop, first, n_frames - 1)
    out = np.zeros(n_frames)
    tolerance = params.octave_tolerance
    for j in np.flatnonzero(mapped):
        a, b = int(first[j]), int(last[j]) + 1
        note_pitch = math.log2(float(plan.f0_hz[j]))
        values = raw[a:b]
        distance = values - note_pitch
        octaves = np.round(np.nan_to_num(distance))
        slip = (octaves != 0) & (np.abs(distance - octaves) <= tolerance)
        values = np.where(slip, values - octaves, values)
        voiced = np.flatnonzero(np.isfinite(values))
        out[a:b] = np.interp(np.arange(b - a), voiced, values[voiced]) if voiced.size else note_pitch
    return _Contour(log_f0=out, first=first, last=last, mapped=mapped)
