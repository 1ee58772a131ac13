"""The learned accompaniment split: a small convolutional mask network.

:func:`~model.pipelines.separation.accompaniment.split_accompaniment` (method
``"net"``, the default) asks this module for the drums and bass masks; the
rest of the split (mid/side, the inverse STFT, "other" as the remainder) is the
same as the DSP method's. The method:

1. **Bands.** The 2049 bins of the 4096-point STFT are pooled into
   :data:`N_BANDS` bands by triangular weights that sum to one in every bin
   (:func:`band_weights`): one band per bin below 400 Hz, where kick, bass and
   the guitar's low strings sit a few bins apart, then 1/16-octave bands.
   Band masks are read back at the bins through the same weights (linear
   interpolation between band centres).
2. **Inputs**, per frame and band, on the mid and side channels: the log of
   the band magnitude over the chunk's mean mid magnitude (loudness does not
   matter), the log side/mid ratio (double-tracked guitars are wide, kick,
   snare and bass centred), the DSP split's drums and bass masks (its
   harmonic/percussive and bass-pitch analysis, a strong prior the net
   corrects).
3. **Network**: the bands' features are the channels of a 1-D network over
   time (650 = 5 x 130 in): a 1x1 layer to 160 channels, four residual
   3-tap layers dilated 1, 2, 4 and 8 frames (receptive field 31 frames,
   0.7 s), GELU, and a 1x1 head with 6 x 130 outputs: per band, a softmax
   over drums, bass and other for the mid and one for the side channel. The
   logits are added to the log of the DSP masks (the prior), so an untrained
   head reproduces the DSP split. 0.54 M weights (2.2 MB), ~1.1 MFLOP per
   frame: ~2 s per 3 minutes of audio on 2 cores.
4. **Masks**: the drums and bass band masks become bin masks; the split's
   Wiener refinement below 2 kHz follows as for the DSP method (without it
   the guitar share outside "other" is ~0.02 higher and the rendered set's SDR
   ~0.7 dB lower); "other" is the remainder in the time domain, so the stems
   sum to the input exactly.

Training (``bench/accompaniment_net.py`` reproduces the weights): rendered
General MIDI songs (``bench.multitrack``, seeds 200-247 plus eight more punk
seeds with overdrive / distortion guitars, 30 s each, Spleeter's accompaniment
as input, the exact stems as targets) and the four Frets on Fire *tuning* songs
(``bench.realmusic.TUNING_SONGS``; the isolated guitar is "other", the rest of
the band is labelled by the DSP split). Target masks are the stems' share of
the band magnitude; the loss is their squared error weighted by the input
band magnitude. Figures are in :data:`TRAINING`.

The weights are a plain NumPy ``.npz`` (no pickle) whose SHA-256 is checked
before loading (:func:`load_weights`). torch is imported inside functions.
"""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from model.pipelines.separation.stft import FloatArray

__all__ = [
    "N_BANDS",
    "TRAINING",
    "WEIGHTS_PATH",
    "WEIGHTS_SHA256",
    "NetWeights",
    "band_weights",
    "default_weights",
    "features",
    "load_weights",
    "net_masks",
]

WEIGHTS_PATH = Path(__file__).with_name("weights") / "accompaniment_net.npz"
"""The trained weights, stored in the repository."""
WEIGHTS_SHA256 = "eaf55c2fbf8971fe617b145281e200b5e0fde55374ab9845da06141f5495d4a0"
"""SHA-256 of :data:`WEIGHTS_PATH`; a file that does not match is refused."""
TRAINING = (
    "56 rendered songs (30 s) + 4 Frets on Fire tuning songs (14 min), 40 % of the patches real; "
    "1400 Adam steps (one-cycle, max lr 3e-3) of 16 patches x 128 frames; weighted mask MSE 0.254 -> 0.040; "
    "3-9 min on 2 shared CPU cores (plus ~8 min of rendering and Spleeter for the data)"
)
"""How the shipped weights were trained (data, steps, loss, time)."""

LINEAR_MAX_HZ = 400.0
"""Below this every STFT bin is its own band."""
BANDS_PER_OCTAVE = 16
"""Resolution above :data:`LINEAR_MAX_HZ`."""
N_BANDS = 130
"""Bands: 37 linear ones (one per bin at 44.1 kHz), then 1/16-octave ones up to ~20 kHz."""
N_FEATURES = 5
"""Input features per band: mid and side log magnitude, log side/mid, DSP drums, DSP bass."""

NetWeights = dict[str, NDArray[np.float32]]


def band_centres_hz() -> NDArray[np.float64]:
    """The :data:`N_BANDS` band centres in Hz (the same at every sample rate)."""
    step = 44100 / 4096
    lin = np.arange(int(LINEAR_MAX_HZ / step)) * step
    n_log = N_BANDS - lin.size
    log = lin.size * step * 2.0 ** (np.arange(n_log) / BANDS_PER_OCTAVE)
    return np.concatenate([lin, log])


def _band_index(*, n_bins: int, bin_hz: float) -> tuple[NDArray[np.intp], FloatArray]:
    """Per bin: the band centre below it and its fractional position towards the next."""
    centres = band_centres_hz()
    freqs = np.arange(n_bins, dtype=np.float64) * bin_hz
    idx = np.clip(np.searchsorted(centres, freqs, side="right") - 1, 0, centres.size - 2)
    frac = np.clip((freqs - centres[idx]) / (centres[idx + 1] - centres[idx]), 0.0, 1.0)
    return idx, frac.astype(np.float32)


def band_weights(*, n_bins: int, bin_hz: float) -> FloatArray:
    """Triangular band weights, shape (N_BANDS, bins); each bin's column sums to one.

    A bin between two band centres is shared between them linearly; bins above
    the top centre belong to the top band.
    """
    idx, frac = _band_index(n_bins=n_bins, bin_hz=bin_hz)
    w = np.zeros((N_BANDS, n_bins), dtype=np.float32)
    w[idx, np.arange(n_bins)] = 1 - frac
    w[idx + 1, np.arange(n_bins)] += frac
    return w


def _pool(x: FloatArray, weights: FloatArray) -> FloatArray:
    """Band averages of ``x`` (..., bins) -> (..., bands)."""
    from scipy import sparse

    norm = np.maximum(weights.sum(axis=1, keepdims=True), np.float32(1e-6))
    pool = sparse.csr_matrix(weights / norm)
    flat = x.reshape(-1, x.shape[-1])
    return np.asarray(pool @ flat.T).T.reshape(*x.shape[:-1], -1).astype(np.float32, copy=False)


def _unpool(bands: FloatArray, *, n_bins: int, bin_hz: float) -> FloatArray:
    """Band values (..., bands) read at the bins (..., bins): linear between band centres."""
    idx, frac = _band_index(n_bins=n_bins, bin_hz=bin_hz)
    return bands[..., idx] * (1 - frac) + bands[..., idx + 1] * frac


def features(
    mid_side_mag: FloatArray, *, dsp_drums: FloatArray, dsp_bass: FloatArray, weights: FloatArray
) -> FloatArray:
    """Network input from mid/side magnitudes and the DSP masks.

    Parameters
    ----------
    mid_side_mag : np.ndarray, shape (2, frames, bins), float32
        Magnitude of the mid and side STFTs.
    dsp_drums, dsp_bass : np.ndarray, shape (frames, bins), float32
        The DSP split's masks.
    weights : np.ndarray, shape (bands, bins)
        From :func:`band_weights`.

    Returns
    -------
    np.ndarray, shape (N_FEATURES, frames, bands), float32
    """
    mid, side = _pool(mid_side_mag[0], weights), _pool(mid_side_mag[1], weights)
    ref = np.float32(mid.mean() + 1e-8)
    eps = np.float32(1e-4)
    log_mid = np.log(mid / ref + eps)
    log_side = np.log(side / ref + eps)
    return np.stack(
        [
            log_mid / 4,
            log_side / 4,
            np.clip(log_side - log_mid, -8, 4) / 4,
            _pool(dsp_drums, weights) * 2 - 1,
            _pool(dsp_bass, weights) * 2 - 1,
        ]
    ).astype(np.float32, copy=False)


def load_weights(path: Path = WEIGHTS_PATH, *, sha256: str = WEIGHTS_SHA256) -> NetWeights:
    """The network's arrays from ``path``, after checking its SHA-256.

    Raises
    ------
    OSError
        If the file cannot be read.
    ValueError
        If its digest is not ``sha256`` or it is not a plain array archive.
    """
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ValueError(f"{path}: SHA-256 {digest} does not match the expected {sha256}")
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {name: np.asarray(archive[name], dtype=np.float32) for name in archive.files}


_default_lock = threading.Lock()
_default: NetWeights | None = None


def default_weights() -> NetWeights:
    """The shipped weights (:data:`WEIGHTS_PATH`), loaded and checked once per process."""
    global _default
    with _default_lock:
        if _default is None:
            _default = load_weights(WEIGHTS_PATH, sha256=WEIGHTS_SHA256)
        return _default


def n_layers(weights: NetWeights) -> int:
    return sum(1 for name in weights if name.startswith("res") and name.endswith(".w"))


def dilation(i: int) -> int:
    """Time dilation of residual layer ``i``."""
    return 2 ** (i % 4)


def forward(weights: NetWeights, x: object) -> object:
    """Logits (batch, 2, 3, bands, frames) from features (batch, N_FEATURES, bands, frames); torch tensors.

    The same function trains the network (``weights`` may hold torch parameters).
    """
    import torch
    from torch.nn import functional as F  # noqa: N812 - the conventional alias

    def t(name: str) -> torch.Tensor:
        w = weights[name]
        return w if isinstance(w, torch.Tensor) else torch.from_numpy(w)

    b, c, n_f, n_t = x.shape
    h = F.gelu(F.conv1d(x.reshape(b, c * n_f, n_t), t("inp.w"), t("inp.b")))
    for i in range(n_layers(weights)):
        d = dilation(i)
        h = h + F.gelu(F.conv1d(h, t(f"res{i}.w"), t(f"res{i}.b"), padding=d, dilation=d))
    out = F.conv1d(h, t("out.w"), t("out.b")).reshape(b, 2, 3, n_f, n_t)
    # The DSP masks are the prior: the network adds to their log-odds.
    drums, bass = (x[:, 3] + 1) / 2, (x[:, 4] + 1) / 2
    prior = torch.log(torch.stack([drums, bass, 1 - drums - bass], dim=1).clamp_min(1e-3))
    return out + prior[:, None]


def net_masks(
    mid_side_mag: FloatArray,
    *,
    dsp_drums: FloatArray,
    dsp_bass: FloatArray,
    bin_hz: float,
    weights: NetWeights,
) -> tuple[FloatArray, FloatArray]:
    """Drums and bass masks for the mid and side channels.

    Parameters
    ----------
    mid_side_mag : np.ndarray, shape (2, frames, bins), float32
        Magnitude of the mid and side STFTs.
    dsp_drums, dsp_bass : np.ndarray, shape (frames, bins), float32
        The DSP split's masks (inputs of the network).
    bin_hz : float
        STFT bin spacing in Hz.
    weights : NetWeights
        From :func:`load_weights`.

    Returns
    -------
    drums, bass : np.ndarray, shape (2, frames, bins), float32
        Masks in [0, 1] for mid (index 0) and side (index 1); with "other"
        they sum to one in every bin.
    """
    import torch

    n_bins = mid_side_mag.shape[-1]
    bands = band_weights(n_bins=n_bins, bin_hz=bin_hz)
    x = features(mid_side_mag, dsp_drums=dsp_drums, dsp_bass=dsp_bass, weights=bands)
    with torch.inference_mode():
        logits = forward(weights, torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1)))[None])
        probs = torch.softmax(logits[0], dim=1).numpy()  # (2, 3, bands, frames)
    drums = _unpool(probs[:, 0].transpose(0, 2, 1), n_bins=n_bins, bin_hz=bin_hz)
    bass = _unpool(probs[:, 1].transpose(0, 2, 1), n_bins=n_bins, bin_hz=bin_hz)
    return drums.astype(np.float32, copy=False), bass.astype(np.float32, copy=False)
