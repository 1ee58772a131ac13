"""Benchmark-only baselines the product never uses.

- :func:`hpss_baseline`: four stems from a plain median-filter HPSS of the
  *mixture* with fixed bands, the yardstick the quality benchmark reports beside
  the offline engine's scores;
- :class:`RandomWeightsDemucsEngine`: the released htdemucs architecture with
  random weights, for timing the Demucs path where the released weights are
  absent.

torch and demucs are imported only when a random-weights engine is built.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from scipy import ndimage

from model.engines.demucs_engine import DemucsEngine
from model.pipelines.separation import process_in_chunks
from model.pipelines.separation.stft import FloatArray, as_stereo, frame_sizes, istft, stft

__all__ = ["BASELINE_STEMS", "RANDOM_WEIGHTS_MODELS", "RandomWeightsDemucsEngine", "hpss_baseline"]

BASELINE_STEMS = ("vocals", "drums", "bass", "other")
RANDOM_WEIGHTS_MODELS = ("htdemucs", "htdemucs_ft", "htdemucs_6s")


def hpss_baseline(mixture: np.ndarray, *, sr: int, chunk_s: float = 60.0) -> dict[str, FloatArray]:
    """Four stems from a plain harmonic/percussive split of the mixture.

    The benchmark baseline: no model, no pitch tracking, fixed bands.

    - STFT of ~46 ms (2048 at 44.1 kHz), hop a quarter of it; harmonic and
      percussive magnitudes from 17-point median filters along time and along
      frequency; Wiener-like soft masks (power 2).
    - drums = percussive part;
    - bass = harmonic part below 200 Hz;
    - vocals = harmonic part between 200 Hz and 4 kHz (the singing-voice band);
    - other = harmonic part above 4 kHz.

    The bands have soft (4th-order) crossovers and every mask sums to one, so
    the stems sum to ``mixture``.

    Parameters
    ----------
    mixture : np.ndarray, shape (2, n_samples), float32
    sr : int
        Sample rate in Hz.
    chunk_s : float
        Chunk length for bounded memory, in seconds.

    Returns
    -------
    dict with keys ``"vocals"``, ``"drums"``, ``"bass"``, ``"other"``
        Each shape like ``mixture``, float32.
    """
    x = as_stereo(mixture, "mixture")
    if sr <= 0:
        raise ValueError(f"sr must be positive, got {sr}")
    n_fft, hop = frame_sizes(sr, 0.0464, 4)
    freqs = np.arange(n_fft // 2 + 1, dtype=np.float32) * np.float32(sr / n_fft)
    below_200 = 1 / (1 + (freqs / 200.0) ** 4)
    below_4k = 1 / (1 + (freqs / 4000.0) ** 4)

    def run(chunk: FloatArray) -> dict[str, FloatArray]:
        spec = stft(chunk, n_fft=n_fft, hop=hop)
        mag = np.abs(spec).mean(axis=0)
        harm = ndimage.median_filter(mag, size=(17, 1), mode="nearest")
        perc = ndimage.median_filter(mag, size=(1, 17), mode="nearest")
        perc_m = perc**2 / (harm**2 + perc**2 + np.float32(1e-12))
        harm_m = 1 - perc_m
        n = chunk.shape[-1]
        masks = {
            "drums": perc_m,
            "bass": harm_m * below_200,
            "vocals": harm_m * (below_4k - below_200).clip(0, None),
        }
        out = {k: istft(spec * m, n_fft=n_fft, hop=hop, n_samples=n) for k, m in masks.items()}
        out["other"] = chunk - out["drums"] - out["bass"] - out["vocals"]
        return out

    return process_in_chunks(x, chunk_samples=int(chunk_s * sr), overlap_samples=sr, fn=run)


class RandomWeightsDemucsEngine(DemucsEngine):
    """A Demucs engine with the real architecture and random weights.

    For timing benchmarks where the released weights are absent: the compute
    is that of the real model, the stems are meaningless. The model is built
    here, not on the first :meth:`separate`, so a timed separation does not
    include building it.

    Parameters
    ----------
    model_name : str
        One of :data:`RANDOM_WEIGHTS_MODELS`.
    device : str
        ``"cpu"`` or ``"cuda"`` (``"cuda:N"``).
    seed : int
        Seed of the random weights (torch's global generator is left as it was).

    Raises
    ------
    ValueError
        For a model outside the htdemucs family, or an unknown device.
    """

    def __init__(self, model_name: str = "htdemucs", *, device: str = "cpu", seed: int = 0) -> None:
        if model_name not in RANDOM_WEIGHTS_MODELS:
            raise ValueError(f"random weights support the htdemucs family, not {model_name!r}")
        super().__init__(model_name, device=device)
        self.model_name = f"{model_name} (random weights)"
        self._random_model = _random_htdemucs(model_name, seed)
        self._random_model.eval()

    def load(self) -> Any:
        """The random model built by the constructor (nothing is read from disk)."""
        return self._random_model


def _random_htdemucs(model_name: str, seed: int) -> Any:
    """The published htdemucs architecture with random weights (benchmarks only)."""
    import torch
    from demucs.apply import BagOfModels
    from demucs.htdemucs import HTDemucs

    sources = ["drums", "bass", "other", "vocals"]
    if model_name == "htdemucs_6s":
        sources += ["guitar", "piano"]
    # The released htdemucs config (demucs grids/mmi.py): 4 layers, a 5-layer
    # cross-domain transformer, 512 bottom channels, dconv in encoder and
    # decoder, 7.8 s training segment. ~42M parameters, like the release.
    kwargs = dict(
        sources=sources,
        dconv_mode=3,
        depth=4,
        t_layers=5,
        bottom_channels=512,
        segment=Fraction(39, 5),
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        if model_name == "htdemucs_ft":
            n = len(sources)
            models = [HTDemucs(**kwargs) for _ in range(n)]
            weights = [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
            return BagOfModels(models, weights)
        return HTDemucs(**kwargs)
