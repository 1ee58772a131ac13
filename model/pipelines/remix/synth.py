"""Granular re-synthesis of one stem with a grain library: :func:`remix_stem`.

The stem is analysed once, its notes are given grains, and every grain is rendered in one
vectorised overlap-add:

1. **Analysis** (once per stem, on the mono downmix). One STFT at
   :attr:`SynthParams.analysis_sr` (taken a block of frames at a time) gives the log-mel
   spectral flux that librosa's ``onset_detect`` reads (``delta`` =
   :attr:`RemixSettings.onset_delta`, onsets at least :attr:`SynthParams.min_onset_gap_s`
   apart, backtracked to the energy minimum before each attack), and each frame's spectral
   centroid and MFCCs. The RMS envelope is taken at the stem's own rate every
   :attr:`SynthParams.envelope_hop_s`. The pitch contour of a ``bass`` or ``other`` stem comes
   from one call of :func:`~model.pipelines.remix.pitch.pitch_track` over the whole stem, at
   the envelope's hop; drums have none.
2. **Notes.** A note runs from an onset to the next one, or to where the envelope has fallen
   :attr:`SynthParams.note_floor_db` below the note's peak, whichever comes first. With
   ``snap_to_beats`` and a beat grid, a note's start moves to the nearest quarter-beat when it
   lies within :attr:`SynthParams.snap_window_s` of it.
3. **Grain choice.** Each note is described by its pitch (median log-f0 of its voiced frames),
   its loudness (log of its peak RMS), its brightness (log centroid) and a few MFCCs (1 to
   :attr:`SynthParams.n_timbre_mfcc`) over its first grain length. The timbre and loudness
   columns are z-scored within the stem's notes and, separately, within the library's grains,
   so the stem's loudest, brightest notes meet the library's loudest, brightest grains (a
   kick meets the kit's lowest hit whatever the two recordings' levels); pitch is absolute,
   :attr:`SynthParams.pitch_weight` units an octave. A voiced note is matched among the
   library's voiced grains on pitch and timbre, an unvoiced note or a drum hit among all
   grains on timbre alone. A ``scipy.spatial.cKDTree`` gives each note its
   :attr:`SynthParams.neighbours` nearest grains; :func:`grains_choose` then takes one of those
   within :attr:`SynthParams.tie_margin` of the nearest, drawn by a NumPy generator seeded with
   ``settings.seed``, and never the grain the previous note played.
4. **Synthesis.** A note is played by windows of ``grain_ms`` (``W`` samples) every ``W / 2``:
   the first starts flat on the note's onset (the grain's attack is never faded in), the
   following ones cross-fade with Hann halves (which sum to one), and the last holds to the
   note's end, where a release ramp closes it. With pitch mapping, the grain is resampled
   sample by sample to the stem's pitch contour (the contour's 10 ms frames interpolated; inside
   a note, unvoiced frames bridged and the tracker's octave slips moved into the note's octave),
   and each window starts where the previous one of its note had read to half-way, so two
   overlapping windows read the same grain samples at the same rate: a sustained, gliding or
   vibrato note follows the original's pitch frame by frame with seamless cross-fades. A
   ``bass`` or ``other`` grain shorter than its note loops over its last
   :attr:`SynthParams.loop_s` (after its attack; a whole number of its periods, so the jump
   back keeps the phase); a drum grain rings out once. Transposition is resampling (linear
   interpolation), which moves the formants with the pitch; they stay sensible because the
   pitch distance dominates the grain choice (a semitone costs as much as a standard deviation
   of loudness), so the ratio is usually a few semitones, and it is clamped to
   :attr:`SynthParams.max_shift_semitones`. Every grain fades out over its last
   :attr:`SynthParams.grain_fade_s` (a grain is cut where its sound falls under the library's
   split level, not at silence).
5. **Loudness.** Each window is scaled so that its RMS over its span equals the original's
   envelope there (the boost over a quiet stretch of grain is capped at
   :attr:`SynthParams.max_boost_db`). With ``settings.envelope`` on, the re-voiced stem then
   follows the original's envelope frame by frame (attack and decay: a gain of
   ``E_original / E_revoiced`` per envelope frame, within :attr:`SynthParams.follow_range_db`,
   interpolated between frames) and each note ends with a :attr:`SynthParams.release_s` ramp;
   off, each grain keeps its own attack and decay within its window and a note ends with a
   :attr:`SynthParams.click_s` ramp.
6. **Stereo, dry/wet.** The mono re-voicing is spread over the channels with the original's
   channel balance (each channel's RMS over the mono downmix's), and mixed with the original:
   ``wet * revoiced + (1 - wet) * original``.

The same inputs and seed give the same samples, bit for bit (no threads reduce in an order
that varies). Memory: a few copies of the stem (float32) and render chunks of
:attr:`SynthParams.chunk_samples` samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from model.pipelines.remix.pitch import pitch_track

if TYPE_CHECKING:
    from model.pipelines.remix.grains import GrainLibrary
    from model.pipelines.remix.settings import RemixSettings

__all__ = [
    "DEFAULT_SYNTH_PARAMS",
    "STEM_KINDS",
    "RemixPlan",
    "SynthParams",
    "grains_choose",
    "remix_plan",
    "remix_stem",
]

#: The stems :func:`remix_stem` re-voices.
STEM_KINDS = ("drums", "bass", "other")


@dataclass(frozen=True, slots=True)
class SynthParams:
    """Tuning of :func:`remix_stem`; times in seconds, levels in dB, frequencies in Hz."""

    analysis_sr: int = 22050
    """Rate the mono downmix is resampled to for the STFT (onsets, centroid, MFCCs); the stem's
    own rate when lower."""
    n_fft: int = 1024
    """STFT window in samples at ``analysis_sr`` (46 ms)."""
    hop_length: int = 256
    """STFT hop in samples at ``analysis_sr`` (11.6 ms): the onsets' time resolution."""
    n_mels: int = 64
    """Mel bands of the spectral flux and the MFCCs."""
    min_onset_gap_s: float = 0.05
    """Onsets closer than this to the previous one are not notes of their own (librosa's
    ``wait``): an attack's spectral flux often peaks twice within a few frames."""
    envelope_hop_s: float = 0.01
    """Hop of the RMS envelope (and of the pitch contour); each value is the RMS over two hops."""
    note_floor_db: float = 40.0
    """A note ends where its envelope falls this far below the note's peak."""
    voiced_share: float = 0.25
    """A note is voiced when at least this share of its pitch frames (and two) are voiced."""
    bass_range_hz: tuple[float, float] = (30.0, 500.0)
    other_range_hz: tuple[float, float] = (65.0, 2093.0)
    """Pitch range searched in a ``bass`` and an ``other`` stem."""
    octave_tolerance: float = 0.125
    """Pitch frames within this many octaves of a whole number of octaves from their note's pitch
    are octave slips of the tracker, and are moved into the note's octave."""
    n_timbre_mfcc: int = 4
    """MFCCs 1..n in the timbre descriptor (MFCC 0 is loudness, already there)."""
    pitch_weight: float = 12.0
    """Distance of one octave in the grain choice (1 per semitone; timbre and loudness columns
    are in standard deviations)."""
    mfcc_weight: float = 0.5
    """Weight of each MFCC column in the grain choice."""
    neighbours: int = 8
    """Nearest grains fetched per note (one more, so the previous note's grain can be left out)."""
    tie_margin: float = 0.5
    """Grains within this distance of the nearest count as equally good; the seed picks among them."""
    max_shift_semitones: float = 24.0
    """Transposition is clamped to this many semitones either way."""
    snap_window_s: float = 0.04
    """With ``snap_to_beats``, a note start this close to a grid point moves onto it."""
    snap_division: int = 4
    """Grid points per beat for ``snap_to_beats`` (4: sixteenths in 4/4)."""
    release_s: float = 0.015
    """Fade at a note's end with the envelope on."""
    click_s: float = 0.002
    """Fade at a note's end with it off, and at every note's start (no click)."""
    loop_s: float = 0.3
    """A grain shorter than its note loops over about this much of its end (after its attack),
    a whole number of its periods long, so the jump back is seamless."""
    grain_fade_s: float = 0.005
    """Every grain fades out over its last this many seconds (grains are cut where the style
    sound falls under the split level, not at silence)."""
    max_boost_db: float = 24.0
    """Most a window is raised over the level its grain's RMS would need (a quiet tail is not
    blown up to the note's level)."""
    follow_range_db: float = 12.0
    """Range of the envelope-following gain, either way."""
    chunk_samples: int = 1 << 20
    """Window samples rendered at once (bounds the render's temporary memory to some 80 MB)."""


DEFAULT_SYNTH_PARAMS = SynthParams()


@dataclass(frozen=True)
class RemixPlan:
    """The notes of a stem and the grain each plays, from :func:`remix_plan`.

    Attributes
    ----------
    starts, ends : np.ndarray, shape (n_notes,), int64
        Each note's first sample and the sample after its last, at the stem's rate; sorted,
        ``starts[i] < ends[i] <= starts[i + 1]``.
    grains : np.ndarray, shape (n_notes,), int64
        The library grain each note plays; never the same twice in a row (unless the library
        holds one grain).
    f0_hz : np.ndarray, shape (n_notes,), float32
        The note's pitch (median of its voiced frames); NaN for unvoiced notes and drums.
    """

    starts: NDArray[np.int64]
    ends: NDArray[np.int64]
    grains: NDArray[np.int64]
    f0_hz: NDArray[np.float32]

    @property
    def n_notes(self) -> int:
        return int(self.starts.shape[0])


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


# ------------------------------------------------------------------ public


def remix_stem(
    *,
    audio: np.ndarray,
    sr: int,
    library: GrainLibrary,
    settings: RemixSettings,
    kind: str,
    wet: float = 1.0,
    beats_s: np.ndarray | None = None,
    progress: Callable[[float], None] | None = None,
    params: SynthParams = DEFAULT_SYNTH_PARAMS,
) -> NDArray[np.float32]:
    """Re-voice one stem with the grains of ``library``, note for note (see the module docstring).

    Parameters
    ----------
    audio : np.ndarray, shape (channels, n_samples) or (n_samples,), float
        The original stem at ``sr``, one or two channels, full scale 1.0.
    sr : int
        Its sample rate in Hz (the library's grains are resampled to it).
    library : GrainLibrary
        The style sound's grains.
    settings : RemixSettings
        ``grain_ms``, ``pitch_mapping``, ``envelope``, ``snap_to_beats``, ``onset_delta``, ``seed``.
    kind : {"drums", "bass", "other"}
        Drums have no pitch contour and no pitch mapping; their grains are chosen by timbre and
        loudness alone.
    wet : float
        Share of the re-voiced stem in the output, 0..1; the rest is the original.
    beats_s : np.ndarray, shape (n_beats,), optional
        Beat times in seconds, ascending (the song's analysis); used with ``snap_to_beats``.
    params : SynthParams
        Tuning.

    Returns
    -------
    np.ndarray, shape (2, n_samples), float32
        Stereo, as long as the input. ``wet=0`` returns the original (both channels of a mono
        stem). Deterministic for the same inputs and seed.

    Raises
    ------
    ValueError
        On a bad shape, non-finite samples, an unknown ``kind``, ``wet`` outside 0..1 or
        unsorted ``beats_s``.

    Callback
    --------
    progress(fraction)
        Called with 0..1, non-decreasing, a few dozen times at most.
    """
    report = progress or (lambda fraction: None)
    original = _stereo(audio)
    _check(sr=sr, kind=kind, wet=wet)
    if wet == 0.0:
        report(1.0)
        return original.copy()
    analysis = _analyse(original, sr=sr, kind=kind, settings=settings, params=params)
    report(0.4)
    plan = _plan(analysis, sr=sr, library=library, settings=settings, kind=kind, beats_s=beats_s, params=params)
    report(0.5)
    revoiced = _render(analysis, plan, sr=sr, library=library, settings=settings, kind=kind, params=params,
                       progress=lambda fraction: report(0.5 + 0.4 * fraction))  # fmt: skip
    if settings.envelope:
        _follow_envelope(revoiced, target=analysis.power, hop=analysis.env_hop, params=params)
    balance = _channel_balance(original, analysis.mono) * np.float32(wet)
    del analysis, plan
    report(0.95)
    out = np.empty(original.shape, dtype=np.float32)
    for channel in range(2):  # one channel at a time: no (2, n) temporaries
        np.multiply(revoiced, balance[channel], out=out[channel])
        if wet < 1.0:
            out[channel] += original[channel] * np.float32(1.0 - wet)
    report(1.0)
    return out


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


def grains_choose(
    *, candidates: np.ndarray, distances: np.ndarray, rng: np.random.Generator, tie_margin: float
) -> NDArray[np.int64]:
    """One grain per note from its nearest candidates, never the previous note's grain.

    Parameters
    ----------
    candidates : np.ndarray, shape (n_notes, k), int
        Grain indices per note, nearest first.
    distances : np.ndarray, shape (n_notes, k), float
        Their distances.
    rng : np.random.Generator
        Picks among the candidates within ``tie_margin`` of the nearest allowed one; one draw
        per note, so the choice is a pure function of the seed.
    tie_margin : float
        In distance units.

    Returns
    -------
    np.ndarray, shape (n_notes,), int64
        A grain differs from the one before it whenever its row offers another.
    """
    candidates = np.asarray(candidates, dtype=np.int64)
    distances = np.asarray(distances, dtype=np.float64)
    draws = rng.random(candidates.shape[0])
    out = np.empty(candidates.shape[0], dtype=np.int64)
    previous = -1
    for j in range(candidates.shape[0]):
        row, dist = candidates[j], distances[j]
        allowed = row != previous
        if not allowed.any():
            pick = int(row[0])
        else:
            row, dist = row[allowed], dist[allowed]
            ties = row[dist <= dist.min() + tie_margin]
            pick = int(ties[int(draws[j] * ties.shape[0])])
        out[j] = previous = pick
    return out


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


def _library_descriptors(library: GrainLibrary, *, params: SynthParams) -> tuple[np.ndarray, np.ndarray]:
    """(z-scored timbre rows like :func:`_note_timbre`'s, log2 f0 with NaN for unvoiced grains)."""
    mfcc = np.asarray(library.mfcc, dtype=np.float64)[:, 1 : 1 + params.n_timbre_mfcc]
    if mfcc.shape[1] < params.n_timbre_mfcc:
        mfcc = np.pad(mfcc, ((0, 0), (0, params.n_timbre_mfcc - mfcc.shape[1])))
    timbre = np.column_stack((
        np.log(np.maximum(np.asarray(library.rms, dtype=np.float64), 1e-6)),
        np.log(np.maximum(np.asarray(library.centroid_hz, dtype=np.float64), 1.0)),
        mfcc,
    ))  # fmt: skip
    f0 = np.asarray(library.f0_hz, dtype=np.float64)
    voiced = np.isfinite(f0) & (f0 > 0) & (np.asarray(library.voicing) >= 0.5)
    return _descriptors(timbre, params=params), np.where(voiced, np.log2(np.where(voiced, f0, 1.0)), np.nan)


def _descriptors(raw: np.ndarray, *, params: SynthParams) -> np.ndarray:
    """Columns (log RMS, log centroid, MFCCs) z-scored, the MFCCs then weighted by
    :attr:`SynthParams.mfcc_weight`; a (near) constant column becomes zeros."""
    centred = raw - raw.mean(axis=0)
    spread = centred.std(axis=0)
    out = np.divide(centred, spread, out=np.zeros_like(centred), where=spread > 1e-9 * (1 + np.abs(raw).max(axis=0)))
    out[:, 2:] *= params.mfcc_weight
    return out


def _nearest(points: np.ndarray, queries: np.ndarray, *, k: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.spatial import cKDTree

    dist, index = cKDTree(points).query(queries, k=k)
    return np.asarray(index, dtype=np.int64).reshape(queries.shape[0], k), np.asarray(dist).reshape(queries.shape[0], k)


# ------------------------------------------------------------------ synthesis


def _render(
    analysis: _Analysis,
    plan: RemixPlan,
    *,
    sr: int,
    library: GrainLibrary,
    settings: RemixSettings,
    kind: str,
    params: SynthParams,
    progress: Callable[[float], None],
) -> NDArray[np.float32]:
    """The mono re-voicing: every note's windows, overlap-added (see the module docstring, 4-5).

    Windows are rendered in chunks as (windows, samples) matrices. A row's read rate in its
    grain varies sample by sample with the note's pitch contour, and each window starts where
    the previous one of its note had read to half-way, so two overlapping windows read the same
    grain positions at the same rate: the cross-fades are seamless, and a note is the grain
    resampled along the contour (with a jump back, a whole number of periods, where it loops).
    """
    n = analysis.mono.shape[0]
    out = np.zeros(n, dtype=np.float32)
    if plan.n_notes == 0:
        return out
    win = max(2, 2 * (round(settings.grain_ms / 1000 * sr) // 2))
    half = win // 2
    w = _windows(analysis, plan, half=half)
    contour = _contour(analysis, plan, library=library, settings=settings, params=params)
    t = np.arange(win)
    rise = np.where(t < half, np.sin(0.5 * np.pi * t / half) ** 2, 1.0).astype(np.float32)
    fall = np.where(t >= half, np.cos(0.5 * np.pi * (t - half) / half) ** 2, 1.0).astype(np.float32)
    release = max(1.0, (params.release_s if settings.envelope else params.click_s) * sr)
    attack = max(1.0, params.click_s * sr)
    lib_sr = float(library.sr)
    audio = np.asarray(library.audio, dtype=np.float32)
    lib_starts = np.asarray(library.starts, dtype=np.int64)
    lib_lengths = np.asarray(library.lengths, dtype=np.int64)
    lib_f0 = np.asarray(library.f0_hz, dtype=np.float64)
    lib_log_f0 = np.log2(np.where(np.isfinite(lib_f0) & (lib_f0 > 0), lib_f0, 1.0))
    lib_period = np.where(np.isfinite(lib_f0) & (lib_f0 > 0), lib_sr / np.where(lib_f0 > 0, lib_f0, 1.0), 0.0)
    lib_attack = np.asarray(library.attack_s, dtype=np.float64) * lib_sr
    boost_floor = np.asarray(library.rms, dtype=np.float64) * 10 ** (-params.max_boost_db / 20) + 1e-9
    grain_fade = max(1.0, params.grain_fade_s * lib_sr)
    limit = params.max_shift_semitones / 12
    loops = kind != "drums"  # a sustained note loops over its grain's end; a drum hit rings out once

    per_chunk = max(1, params.chunk_samples // win)
    n_windows = w["out_start"].shape[0]
    audio_next = audio[1:]  # audio_next[i] is audio[i + 1], without an index + 1 temporary
    carry_note, carry_phase = -1, 0.0
    for lo in range(0, n_windows, per_chunk):
        sel = slice(lo, min(lo + per_chunk, n_windows))
        g, note, span, out_start = w["grain"][sel], w["note"][sel], w["span"][sel], w["out_start"][sel]
        rows = np.arange(g.shape[0])
        step = np.full((g.shape[0], win), lib_sr / sr)
        moving = contour.mapped[note] if contour is not None else np.zeros(g.shape[0], dtype=bool)
        if moving.any():
            m = rows if moving.all() else np.flatnonzero(moving)
            frames = np.clip((out_start[m, None] + t[None, :]) / analysis.env_hop, contour.first[note[m], None],
                             contour.last[note[m], None])  # fmt: skip
            shift = np.interp(frames, np.arange(contour.log_f0.shape[0]), contour.log_f0)
            del frames
            shift -= lib_log_f0[g[m]][:, None]
            np.exp2(np.clip(shift, -limit, limit, out=shift), out=shift)
            if m is rows:
                step *= shift
            else:
                step[m] *= shift
            del shift
        read = np.cumsum(step, axis=1)
        read -= step  # read[:, i]: grain samples read before output sample i of the window
        # Each window starts where the previous one of its note was half-way (phase, unfolded).
        advance = read[:, half]
        before = np.cumsum(advance) - advance
        new_run = np.r_[True, note[1:] != note[:-1]]
        runs, run_of = np.flatnonzero(new_run), np.cumsum(new_run) - 1
        offset = np.where(note[runs] == carry_note, carry_phase, 0.0)
        phase = before - before[runs][run_of] + offset[run_of]
        carry_note, carry_phase = int(note[-1]), float(phase[-1] + advance[-1])
        length = lib_lengths[g].astype(np.float64)
        if loops:
            extent = read[rows, np.maximum(span - 1, 0)] + step[:, 0]
            loop_end = length - 1.0 - extent  # the last start from which the window reads no further
            loop_len = np.minimum(params.loop_s * lib_sr, loop_end - lib_attack[g])
            whole = np.floor(loop_len / np.where(lib_period[g] > 0, lib_period[g], 1.0)) * lib_period[g]
            loop_len = np.where(whole > 0, whole, loop_len)
            beyond = phase > loop_end
            base = loop_end - loop_len
            folded = base + np.mod(phase - base, np.maximum(loop_len, 1.0))
            phase = np.where(beyond & (loop_len >= 1.0), folded, np.where(beyond, np.maximum(0.0, loop_end), phase))
        del step
        pos = np.add(read, phase[:, None], out=read)
        # Rows that play fewer samples than a window, or read into their grain's last samples.
        short = span < win
        ending = pos[:, -1] > length - 1.0 - grain_fade
        i0 = pos.astype(np.int64)  # positions are >= 0: truncation is floor
        frac = (pos - i0).astype(np.float32)
        partial = np.flatnonzero(short | ending)
        if partial.size:
            i0[partial] = np.minimum(i0[partial], np.maximum(lib_lengths[g[partial]] - 2, 0)[:, None])
        i0 += lib_starts[g][:, None]
        values = audio[i0]
        values *= 1.0 - frac
        values += audio_next[i0] * frac
        del i0, frac
        if partial.size:
            local = pos[partial]
            fade = np.clip((length[partial, None] - 1.0 - local) / grain_fade, 0.0, 1.0)
            fade[t[None, :] >= span[partial, None]] = 0.0
            values[partial] *= fade
            del local, fade
        del pos, read
        source = np.sqrt(np.einsum("ij,ij->i", values, values, dtype=np.float64) / span)
        gain = (w["target"][sel] / np.maximum(source, boost_floor[g])).astype(np.float32)
        first, last = w["first"][sel], w["last"][sel]
        values *= np.where(first[:, None], np.float32(1.0), rise[None, :])
        values *= np.where(last[:, None], np.float32(1.0), fall[None, :])
        values *= gain[:, None]
        ends = np.flatnonzero(last | np.r_[last[1:], False])  # the release may reach into the last but one
        abs_t = out_start[ends, None] + t[None, :]
        values[ends] *= np.clip((plan.ends[note[ends], None] - abs_t) / release, 0.0, 1.0)
        starts = np.flatnonzero(first)
        abs_t = out_start[starts, None] + t[None, :]
        values[starts] *= np.clip((abs_t - plan.starts[note[starts], None] + 1) / attack, 0.0, 1.0)
        base_t = int(out_start[0])
        index = (out_start - base_t)[:, None] + t[None, :]
        summed = np.bincount(index.ravel(), weights=values.ravel())[: n - base_t]
        out[base_t : base_t + summed.shape[0]] += summed.astype(np.float32)
        progress(sel.stop / n_windows)
    return out


def _windows(analysis: _Analysis, plan: RemixPlan, *, half: int) -> dict[str, np.ndarray]:
    """Every synthesis window of every note, in time order: its note and grain, where it starts,
    how many samples it plays (``span``), whether it opens or closes its note, and the RMS the
    original has over those samples."""
    lengths = plan.ends - plan.starts
    last_k = np.maximum(0, -(-lengths // half) - 2)  # windows 0..K cover K + 2 halves
    counts = last_k + 1
    note = np.repeat(np.arange(plan.n_notes), counts)
    k = np.arange(note.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
    out_start = plan.starts[note] + k * half
    span = np.minimum(2 * half, plan.ends[note] - out_start)
    power_sums = np.concatenate(([0.0], np.cumsum(analysis.power)))
    hop, n_blocks = analysis.env_hop, analysis.power.shape[0]
    b0 = np.clip(out_start // hop, 0, n_blocks - 1)
    b1 = np.clip(-(-(out_start + span) // hop), b0 + 1, n_blocks)
    target = np.sqrt(np.maximum((power_sums[b1] - power_sums[b0]) / (b1 - b0), 0.0))
    return {"note": note, "grain": plan.grains[note], "out_start": out_start, "span": span, "target": target,
            "first": k == 0, "last": k == last_k[note]}  # fmt: skip


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


def _follow_envelope(revoiced: np.ndarray, *, target: np.ndarray, hop: int, params: SynthParams) -> None:
    """Scale ``revoiced`` in place so its envelope follows ``target`` (mean square per block)."""
    have = _block_power(revoiced, hop=hop)
    limit = 10 ** (params.follow_range_db / 20)
    ratio = np.sqrt(np.divide(target, have, out=np.zeros_like(have), where=have > 1e-20))
    gain = np.where(target > 0, np.clip(ratio, 1 / limit, limit), 0.0)
    gain = np.where(have > 1e-20, gain, 0.0)
    centres = (np.arange(gain.shape[0]) + 0.5) * hop
    step = 1 << 20
    for lo in range(0, revoiced.shape[0], step):
        idx = np.arange(lo, min(lo + step, revoiced.shape[0]), dtype=np.float64)
        revoiced[lo : lo + idx.shape[0]] *= np.interp(idx, centres, gain).astype(np.float32)


def _channel_balance(original: np.ndarray, mono: np.ndarray) -> NDArray[np.float32]:
    """Per channel, its RMS over the mono downmix's (1, 1 for a centred or mono stem)."""
    mono_ms = float(np.dot(mono, mono)) / mono.shape[0]
    if mono_ms <= 0.0:
        return np.ones(original.shape[0], dtype=np.float32)
    channel_ms = np.einsum("ij,ij->i", original, original, dtype=np.float64) / original.shape[1]
    return np.sqrt(channel_ms / mono_ms).astype(np.float32)
