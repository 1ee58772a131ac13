"""Stem split of an accompaniment: drums, bass, other.

The bundled offline separator gets vocals and accompaniment from the Spleeter
network (:mod:`model.pipelines.spleeter_net`); :func:`split_accompaniment` splits the
accompaniment further on one STFT (93 ms Hann window, 23 ms hop at 44.1 kHz).
Two methods share steps 1-4 below:

- ``method="net"`` (the default): the DSP masks of steps 1-4 are inputs and the
  prior of a small mask network (:mod:`~model.pipelines.separation.net`, which
  describes it), trained on rendered songs and real band recordings; it gives
  drums and bass masks for the mid and the side channel, replacing step 5. On
  real recordings the DSP masks give most of a distorted guitar to the drums
  (broadband and noisy) and the bass (palm-muted low strings); the network
  learned to keep it in "other".
- ``method="dsp"``: the cheap, deterministic DSP alone, as the first release
  split (``OfflineEngine(legacy=True)``, the benchmark's baseline):

1. **Harmonic / percussive** soft masks from the channel-mean magnitude
   (Fitzgerald 2010): sustained partials are smooth along time, drum hits along
   frequency. The smoothers are grey openings (running min, then max) followed
   by a running mean, a cheap stand-in for the usual median filters that scores
   the same on our test songs at a fraction of the cost.
2. **Kick band** (below ~120 Hz): a kick's thump is narrow-band, so smoothing
   along frequency does not flag it; there, "percussive" is instead what
   exceeds the sustained level (a ~0.2 s opening along time), except at the
   bass's partials, which are half shielded.
3. **Bass** takes the harmonic part below a soft crossover (~180 Hz), plus the
   harmonic series of the bass line above it: the bass fundamental is tracked
   frame by frame (harmonic-sum salience over 35-280 Hz on the harmonic
   magnitude, median-smoothed) and a comb of Gaussian bumps at its partials,
   decaying with partial number, claims a share of those bins. Content below
   20 Hz (DC offsets, rumble) is never bass.
4. **Drums** get the percussive mask, with a prior towards drums in the top
   octaves (above ~6 kHz an accompaniment is mostly cymbals and snare noise,
   and a cymbal's sustained wash passes the harmonic smoother); **other** is
   the rest.
5. **Stereo**: the masks act on mid and side. Kick, snare and bass are usually
   centred, so the drums and bass masks claim the side channel only as far as
   each is measured to be wide in this chunk; the rest of the side is "other".
6. **Wiener refinement** below ~2 kHz, where bass partials and chord notes
   overlap: the masked estimates give each stem a power spectrogram and a
   per-frequency stereo covariance, and one multichannel Wiener filter
   (Duong et al. 2010, as in Nugraha / Liutkus' norbert) re-distributes the
   mixture between them. Stems that sit at different places in the stereo
   field (a panned comping part against a centred bass) separate better than
   with one mask for both channels.

The masks sum to one in every bin, and "other" is formed as
``accompaniment - drums - bass`` in the time domain, so the three stems sum to
the input exactly (up to float rounding).

Its STFT is :func:`~model.pipelines.separation.stft.stft`, long input goes
through :func:`~model.pipelines.separation.chunks.process_in_chunks`, and the
Wiener step is :func:`~model.pipelines.separation.wiener.wiener`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from model.pipelines.separation.chunks import process_in_chunks
from model.pipelines.separation.net import NetWeights, default_weights, net_masks
from model.pipelines.separation.stft import FloatArray, as_stereo, frame_sizes, istft, stft
from model.pipelines.separation.wiener import wiener

__all__ = ["ACCOMPANIMENT_STEMS", "DEFAULT_PARAMS", "SplitParams", "split_accompaniment"]

ACCOMPANIMENT_STEMS = ("drums", "bass", "other")


@dataclass(frozen=True, slots=True)
class SplitParams:
    """Tuning of :func:`split_accompaniment`; times in seconds, frequencies in Hz.

    The defaults were tuned for median-frame SDR on songs rendered with General
    MIDI instruments (the generator in bench/multitrack/, seeds 100-115, not the
    benchmark's own songs) and on two sets of our own renders.
    """

    frame_s: float = 0.0929
    """STFT window length (rounded to a power of two: 4096 at 44.1 kHz)."""
    overlap: int = 4
    """STFT window / hop ratio (4: hop 1024 at 44.1 kHz; 8 scores ~0.05 dB more)."""
    harmonic_s: float = 0.2
    """Time extent of the harmonic smoother (grey opening, then a mean)."""
    percussive_hz: float = 80.0
    """Frequency extent of the percussive smoother (grey opening, then a mean)."""
    mask_power: float = 1.5
    """Exponent of the harmonic / percussive soft masks (2 = Wiener-like)."""
    drums_high_hz: float = 6000.0
    drums_high_bias: float = 30.0
    """Prior for the top octaves, where cymbals and snare noise dominate an
    accompaniment and sustained cymbal wash passes the harmonic smoother: the
    percussive estimate is weighted by ``1 + bias / (1 + (drums_high_hz / f)^4)``
    (x31 well above ``drums_high_hz``, x16 at it, ~x3 an octave below)."""
    bass_crossover_hz: float = 180.0
    """Harmonic energy below this goes to bass whatever its pitch."""
    bass_f0_min_hz: float = 35.0
    bass_f0_max_hz: float = 280.0
    """Search range of the bass fundamental."""
    bass_salience_harmonics: int = 8
    """Partials summed when scoring a fundamental candidate."""
    bass_partials_max_hz: float = 1200.0
    """Bass partials above this stay in "other"."""
    bass_partial_decay: float = 0.3
    """Partial ``h`` (1-based) claims ``exp(-decay * (h - 1))`` of its bins."""
    bass_partial_width: float = 1.8
    """Standard deviation of a partial's bump, in STFT bins."""
    bass_track_smooth_s: float = 0.08
    """Median smoothing of the fundamental track."""
    bass_max_partials: int = 12
    """Highest bass partial number claimed."""
    bass_width_fraction: float = 0.25
    """Bump width is capped at this fraction of the partial spacing ``f0``."""
    infrasonic_hz: float = 20.0
    """Content below this (DC offsets, rumble) goes to "other", never to bass."""
    kick_band_hz: float = 120.0
    """Below this, percussive = what exceeds the sustained level (0 = off)."""
    kick_harmonic_s: float = 0.2
    """Time extent of the sustained-level smoother in the kick band."""
    kick_comb_protect: float = 0.5
    """How much the bass partials are shielded from the kick-band transient rule."""
    side_width_ref: float = 0.3
    """Side/mid energy ratio at which a stem counts as fully stereo (see
    :func:`_side_weights`)."""
    wiener_iterations: int = 1
    """Multichannel Wiener passes over the masked estimates (0 = off; a second
    pass scores ~0.1 dB lower)."""
    wiener_max_hz: float = 2000.0
    """The Wiener refinement acts below this; above, it gains nothing on our
    songs and would cost most of its time."""


DEFAULT_PARAMS = SplitParams()


def _smooth(mag: FloatArray, size: int, axis: int) -> FloatArray:
    """Grey opening then running mean along ``axis``: a fast median stand-in.

    The opening (running min, then running max) removes peaks narrower than
    ``size`` (drum hits along time, partials along frequency); the mean smooths
    its staircase. Edges repeat the border value.
    """
    if size <= 1:
        return mag
    opened = _running(np.maximum, _running(np.minimum, mag, size, axis), size, axis)
    return _running(np.add, opened, size, axis) / np.float32(size)


def _running(op: np.ufunc, x: FloatArray, size: int, axis: int) -> FloatArray:
    """Centred running reduction with ``op`` over ``size`` (odd) samples.

    Shifted whole-array operations: for the short kernels used here this is a
    few times faster than scipy.ndimage's 1-D filters.
    """
    r = size // 2
    pad = [(0, 0)] * x.ndim
    pad[axis] = (r, r)
    xp = np.pad(x, pad, mode="edge")
    n = x.shape[axis]

    def view(i: int) -> FloatArray:
        index = [slice(None)] * x.ndim
        index[axis] = slice(i, i + n)
        return xp[tuple(index)]

    out = view(0).copy()
    for i in range(1, size):
        op(out, view(i), out=out)
    return out


def _odd(n: float) -> int:
    k = max(1, int(round(n)))
    return k if k % 2 else k + 1


def _bass_f0(harmonic: FloatArray, *, bin_hz: float, hop_s: float, params: SplitParams) -> NDArray[np.float64]:
    """Frame-wise bass fundamental in Hz from a harmonic magnitude (frames, bins)."""
    n_frames, n_bins = harmonic.shape
    grid = params.bass_f0_min_hz * 2.0 ** (
        np.arange(0.0, 12 * np.log2(params.bass_f0_max_hz / params.bass_f0_min_hz), 1 / 3) / 12
    )
    top = min(n_bins - 1, int(grid[-1] * params.bass_salience_harmonics / bin_hz) + 2)
    comp = np.sqrt(harmonic[:, : top + 1])  # compress so one loud partial cannot win alone
    salience = np.zeros((n_frames, grid.size), dtype=np.float32)
    for h in range(1, params.bass_salience_harmonics + 1):
        pos = grid * h / bin_hz
        i0 = np.floor(pos).astype(np.intp)
        ok = i0 + 1 <= top
        frac = (pos - i0)[ok].astype(np.float32)
        i0 = i0[ok]
        val = comp[:, i0] * (1 - frac) + comp[:, i0 + 1] * frac
        salience[:, ok] += val * np.float32(0.85 ** (h - 1))
    log_f0 = np.log2(grid[np.argmax(salience, axis=1)])
    k = _odd(params.bass_track_smooth_s / hop_s)
    return 2.0 ** ndimage.median_filter(log_f0, size=k, mode="nearest")


def _bass_comb(f0: NDArray[np.float64], *, n_bins: int, bin_hz: float, params: SplitParams) -> FloatArray:
    """Share of each (frame, bin) claimed by the bass partials, shape (frames, bins)."""
    n_frames = f0.size
    top = min(n_bins, int(params.bass_partials_max_hz / bin_hz) + 4)
    comb = np.zeros((n_frames, top), dtype=np.float32)
    rows = np.arange(n_frames)
    n_partials = min(params.bass_max_partials, int(params.bass_partials_max_hz / params.bass_f0_min_hz))
    reach = int(np.ceil(3 * params.bass_partial_width))
    width = np.minimum(params.bass_partial_width, params.bass_width_fraction * f0 / bin_hz)
    for h in range(1, n_partials + 1):
        freq = f0 * h
        live = freq < params.bass_partials_max_hz
        if not live.any():
            break
        centre = freq / bin_hz
        weight = np.float32(np.exp(-params.bass_partial_decay * (h - 1)))
        base = np.rint(centre).astype(np.intp)
        for off in range(-reach, reach + 1):
            b = base + off
            ok = live & (b >= 0) & (b < top)
            val = weight * np.exp(-0.5 * ((b[ok] - centre[ok]) / width[ok]) ** 2)
            np.maximum.at(comb, (rows[ok], b[ok]), val.astype(np.float32))
    out = np.zeros((n_frames, n_bins), dtype=np.float32)
    out[:, :top] = comb
    return out


def _accompaniment_masks(
    mag: FloatArray, *, sr: int, n_fft: int, hop: int, params: SplitParams
) -> tuple[FloatArray, FloatArray]:
    """Drums and bass masks (frames, bins) in [0, 1]; "other" is the rest."""
    bin_hz = sr / n_fft
    hop_s = hop / sr
    harm = _smooth(mag, _odd(params.harmonic_s / hop_s), axis=0)
    perc = _smooth(mag, _odd(params.percussive_hz / bin_hz), axis=1)
    p = params.mask_power
    freqs = np.arange(mag.shape[1], dtype=np.float32) * np.float32(bin_hz)
    high = np.float32(params.drums_high_bias) / (1 + (np.float32(params.drums_high_hz) / np.maximum(freqs, 1)) ** 4)
    hp, pp = harm**p, perc**p * (1 + high)
    drums = pp / (hp + pp + np.float32(1e-12))
    harmonic = 1 - drums
    f0 = _bass_f0(mag * harmonic, bin_hz=bin_hz, hop_s=hop_s, params=params)
    comb = _bass_comb(f0, n_bins=mag.shape[1], bin_hz=bin_hz, params=params)
    n_kick = int(np.ceil(params.kick_band_hz / bin_hz))
    if n_kick > 0:
        low_mag = np.ascontiguousarray(mag[:, :n_kick])
        sustained = _smooth(low_mag, _odd(params.kick_harmonic_s / hop_s), axis=0)
        transient = np.maximum(low_mag - sustained, 0)
        transient *= 1 - np.float32(params.kick_comb_protect) * comb[:, :n_kick]
        tp, sp = transient**p, sustained**p
        drums[:, :n_kick] = tp / (tp + sp + np.float32(1e-12))
        harmonic = 1 - drums
    low = 1 / (1 + (freqs / np.float32(params.bass_crossover_hz)) ** 8)
    share = np.maximum(comb, low[None, :])
    share[:, freqs < params.infrasonic_hz] = 0
    bass = harmonic * share
    return drums.astype(np.float32, copy=False), bass.astype(np.float32, copy=False)


def _expand(x: FloatArray) -> FloatArray:
    return np.repeat(x, 2, axis=0) if x.shape[0] == 1 else x


def _from_mid_side(ms: FloatArray) -> FloatArray:
    return np.stack([ms[0] + ms[1], ms[0] - ms[1]])


def _side_weights(
    mid_side: NDArray[np.complex64],
    drums: FloatArray,
    bass: FloatArray,
    *,
    sr: int,
    n_fft: int,
    params: SplitParams,
) -> tuple[np.float32, np.float32]:
    """How much of the side channel the drums and the bass masks may claim.

    The bass's width is measured where the bass dominates (harmonic part
    below the crossover), the drums' where cymbals dominate (percussive part
    above 4 kHz): side/mid energy ratio over ``side_width_ref``, capped at 1.
    """
    freqs = np.arange(drums.shape[1]) * (sr / n_fft)
    mid2 = mid_side[0].real ** 2 + mid_side[0].imag ** 2
    side2 = mid_side[1].real ** 2 + mid_side[1].imag ** 2

    def width(mask: FloatArray, band: NDArray[np.bool_]) -> np.float32:
        m = mask[:, band] ** 2
        ratio = (side2[:, band] * m).sum() / ((mid2[:, band] * m).sum() + 1e-12)
        return np.float32(min(1.0, ratio / params.side_width_ref))

    low = freqs < params.bass_crossover_hz
    high = freqs > 4000.0
    return width(drums, high), width(1 - drums, low)


def split_accompaniment(
    accompaniment: np.ndarray,
    *,
    sr: int,
    params: SplitParams = DEFAULT_PARAMS,
    chunk_s: float = 60.0,
    method: Literal["net", "dsp"] = "net",
    weights: NetWeights | None = None,
) -> dict[str, FloatArray]:
    """Split an accompaniment into drums, bass and other.

    Parameters
    ----------
    accompaniment : np.ndarray, shape (2, n_samples), float32
        The mixture without vocals (mono input may be shape (1, n_samples)).
    sr : int
        Sample rate in Hz (any; 44.1 kHz is what the defaults were tuned at).
    params : SplitParams
        Tuning; the defaults suit pop-like material.
    chunk_s : float
        Longer input is processed in chunks of this many seconds with 1 s
        crossfades, bounding memory to roughly 16 MB per second of chunk.
    method : {"net", "dsp"}
        ``"net"``: the DSP masks corrected by the mask network of
        :mod:`~model.pipelines.separation.net` (the default; imports torch).
        ``"dsp"``: the DSP masks alone, as the first release split.
    weights : NetWeights, optional
        The network for ``"net"``; by default :func:`~model.pipelines.separation.net.default_weights`
        (loaded once per process; OSError or ValueError if the file is missing or altered).

    Returns
    -------
    dict with keys ``"drums"``, ``"bass"``, ``"other"``
        Each shape like ``accompaniment``, float32; they sum to
        ``accompaniment`` up to float rounding.
    """
    x = as_stereo(accompaniment, "accompaniment")
    if sr <= 0:
        raise ValueError(f"sr must be positive, got {sr}")
    if method not in ("net", "dsp"):
        raise ValueError(f"method must be net or dsp, got {method!r}")
    if method == "net" and weights is None:
        weights = default_weights()
    n_fft, hop = frame_sizes(sr, params.frame_s, params.overlap)

    def run(chunk: FloatArray) -> dict[str, FloatArray]:
        n = chunk.shape[-1]
        spec = stft(_expand(chunk), n_fft=n_fft, hop=hop)
        mag = np.abs(spec).mean(axis=0)
        drums_m, bass_m = _accompaniment_masks(mag, sr=sr, n_fft=n_fft, hop=hop, params=params)
        # Masks act on mid and side: a centred source (kick, snare, most bass
        # lines) lives in the mid only, so the side goes to the drums and bass
        # only as far as they are measured to be stereo themselves.
        mid_side = np.stack([spec[0] + spec[1], spec[0] - spec[1]]) * np.float32(0.5)
        del spec
        if weights is not None:
            drums_m, bass_m = net_masks(
                np.abs(mid_side), dsp_drums=drums_m, dsp_bass=bass_m, bin_hz=sr / n_fft, weights=weights
            )
            drums_ms, bass_ms = mid_side * drums_m, mid_side * bass_m
        else:
            side_drums, side_bass = _side_weights(mid_side, drums_m, bass_m, sr=sr, n_fft=n_fft, params=params)
            drums_ms = mid_side * np.stack([drums_m, drums_m * side_drums])
            bass_ms = mid_side * np.stack([bass_m, bass_m * side_bass])
        low = min(mid_side.shape[-1], int(params.wiener_max_hz / (sr / n_fft)) + 1)
        if params.wiener_iterations > 0 and low > 0:
            drums_ms[..., :low], bass_ms[..., :low] = wiener(
                mid_side[..., :low],
                [drums_ms[..., :low], bass_ms[..., :low]],
                iterations=params.wiener_iterations,
            )
        drums = _from_mid_side(istft(drums_ms, n_fft=n_fft, hop=hop, n_samples=n))
        bass = _from_mid_side(istft(bass_ms, n_fft=n_fft, hop=hop, n_samples=n))
        drums, bass = drums[: chunk.shape[0]], bass[: chunk.shape[0]]
        return {"drums": drums, "bass": bass, "other": chunk - drums - bass}

    return process_in_chunks(x, chunk_samples=int(chunk_s * sr), overlap_samples=sr, fn=run)
