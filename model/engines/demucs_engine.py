"""Demucs engines (htdemucs, htdemucs_ft, htdemucs_6s, demucs_unittest).

Weights are never downloaded here: :func:`demucs_weights_available` and the
loader only look in places that ``manage.py fetch_models`` (or the ``demucs``
command line) may have filled:

1. ``model_dir`` (the ``DEMUCS_MODEL_DIR`` setting): demucs's "local repo"
   layout, ``<name>.yaml`` (optional; the bag definition shipped in the demucs
   package is used otherwise) and ``<sig>-<checksum>.th``, ``<sig>.th`` or
   ``<sig>.safetensors`` per model of the bag;
2. the torch hub cache, ``<TORCH_HOME or XDG_CACHE_HOME/torch>/hub/checkpoints/``,
   where demucs's legacy remote loader stores ``<sig>-<checksum>.th`` (file
   names from ``demucs/remote/files.txt``);
3. the Hugging Face cache, where demucs 4.1's hub loader stores
   ``adefossez/HTDemucs*/<sig>.safetensors`` (looked up with
   ``huggingface_hub.try_to_load_from_cache``, which never touches the network).

``demucs_unittest`` is the tiny untrained model demucs builds for its own tests
(``demucs.pretrained.get_model("demucs_unittest")`` returns before any hub
lookup); it needs no weights.

torch and demucs are imported lazily, inside functions.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import Any

import numpy as np

from model.engines.base import FOUR_STEMS, SIX_STEMS, EngineError, ProgressFn, validate_audio

logger = logging.getLogger(__name__)

DEMUCS_MODELS: tuple[str, ...] = ("htdemucs", "htdemucs_ft", "htdemucs_6s", "demucs_unittest")
_NEEDS_NO_WEIGHTS = frozenset({"demucs_unittest"})
_HF_NAMESPACE = "adefossez"
CHUNK_S = 60.0
"""Outer chunk length in seconds (bounds memory; demucs splits further inside)."""
OVERLAP_S = 1.0
"""Crossfade between outer chunks, in seconds."""


# ------------------------------------------------------------ weight lookup ---


@dataclass(frozen=True, slots=True)
class _Bag:
    """Where the files of one named model (a bag of sub-models) are."""

    signatures: tuple[str, ...]
    files: tuple[Path | None, ...]
    weights: list[list[float]] | None
    segment: float | None

    @property
    def complete(self) -> bool:
        return all(f is not None for f in self.files)


def _demucs_package_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("demucs")
    if spec is None or not spec.submodule_search_locations:
        raise EngineError("The 'demucs' package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _torch_hub_checkpoints() -> Path:
    """torch.hub's checkpoint folder, computed as torch does, without importing torch."""
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch"
    )
    return Path(os.path.expanduser(torch_home)) / "hub" / "checkpoints"


def _remote_file_names() -> dict[str, str]:
    """Signature -> released file name, from demucs's packaged ``remote/files.txt``."""
    names: dict[str, str] = {}
    text = (_demucs_package_dir() / "remote" / "files.txt").read_text()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line.startswith("root:"):
            continue
        names[line.split("-", 1)[0]] = line
    return names


def _hf_cached(name: str, filename: str) -> Path | None:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    repo = "HTDemucs" if name == "htdemucs" else "HTDemucs-" + name.removeprefix("htdemucs_")
    found = try_to_load_from_cache(f"{_HF_NAMESPACE}/{repo}", filename)
    return Path(found) if isinstance(found, str) else None


def _find_bag(model_name: str, model_dir: str | None) -> _Bag:
    import yaml

    local = Path(model_dir) if model_dir else None
    yaml_path = None
    for candidate in (
        local / f"{model_name}.yaml" if local else None,
        _hf_cached(model_name, f"{model_name}.yaml"),
        _demucs_package_dir() / "remote" / f"{model_name}.yaml",
    ):
        if candidate is not None and candidate.is_file():
            yaml_path = candidate
            break
    if yaml_path is None:
        raise EngineError(f"No bag definition for Demucs model {model_name!r}")
    bag = yaml.safe_load(yaml_path.read_text())
    sigs = tuple(str(s) for s in bag["models"])
    released = _remote_file_names()
    hub = _torch_hub_checkpoints()
    files: list[Path | None] = []
    for sig in sigs:
        found: Path | None = None
        if local is not None and local.is_dir():
            for pattern in (f"{sig}-*.th", f"{sig}.th", f"{sig}.safetensors"):
                hits = sorted(local.glob(pattern))
                if hits:
                    found = hits[0]
                    break
        if found is None and sig in released and (hub / released[sig]).is_file():
            found = hub / released[sig]
        if found is None:
            found = _hf_cached(model_name, f"{sig}.safetensors")
        files.append(found)
    return _Bag(sigs, tuple(files), bag.get("weights"), bag.get("segment"))


def demucs_weights_available(model_name: str, *, model_dir: str | None) -> bool:
    """Whether every weights file of ``model_name`` is on disk (no download).

    Parameters
    ----------
    model_name : str
        One of :data:`DEMUCS_MODELS`.
    model_dir : str or None
        The local model folder setting, searched first.

    Returns
    -------
    bool
        True for ``demucs_unittest`` (no weights); for the others, True when
        all files of the bag are in ``model_dir``, the torch hub cache or the
        Hugging Face cache. False for unknown names or a missing demucs package.
    """
    if model_name in _NEEDS_NO_WEIGHTS:
        return True
    if model_name not in DEMUCS_MODELS:
        return False
    try:
        return _find_bag(model_name, model_dir).complete
    except (EngineError, OSError, KeyError, ValueError) as exc:
        logger.debug("Demucs weights lookup for %s failed: %s", model_name, exc)
        return False


# ----------------------------------------------------------------- loading ---


def _load_file(path: Path) -> Any:
    from demucs.states import load_model

    if path.suffix == ".safetensors":
        from demucs.hf import load_safetensors_model

        return load_safetensors_model(path)
    sig, _, checksum = path.stem.partition("-")
    if checksum:
        from demucs.repo import check_checksum

        # The released files carry a sha256 prefix in their names: refuse a
        # corrupted or swapped file before unpickling it.
        check_checksum(path, checksum)
    # demucs.states.load_model unpickles (torch.load(weights_only=False)): the
    # files come only from the operator's model folder or the caches filled by
    # fetch_models from the official release, never from user uploads.
    return load_model(path)


def _load_pretrained(model_name: str, model_dir: str | None) -> Any:
    if model_name in _NEEDS_NO_WEIGHTS:
        from demucs.pretrained import get_model

        return get_model(model_name)  # built in code; returns before any hub lookup
    bag = _find_bag(model_name, model_dir)
    if not bag.complete:
        missing = [s for s, f in zip(bag.signatures, bag.files, strict=True) if f is None]
        raise EngineError(
            f"Demucs weights for {model_name!r} not found (missing {missing}); "
            "run `manage.py fetch_models` or set the model folder."
        )
    from demucs.apply import BagOfModels

    models = [_load_file(f) for f in bag.files if f is not None]
    return BagOfModels(models, bag.weights, bag.segment)


# ------------------------------------------------------------------ engine ---


class DemucsEngine:
    """Separation with a Demucs model.

    Parameters
    ----------
    model_name : str
        One of :data:`DEMUCS_MODELS`.
    model_dir : str or None
        Local model folder, searched before the caches.
    device : str
        ``"cpu"`` or ``"cuda"`` (``"cuda:N"``).
    overlap : float
        Overlap of demucs's internal segments, as a fraction.
    shifts : int
        Random-shift averaging passes (0 = deterministic, fastest).

    Raises
    ------
    ValueError
        For an unknown model name or device.

    Notes
    -----
    The model is loaded on the first :meth:`separate` (or :meth:`load`) and kept.
    """

    def __init__(
        self,
        model_name: str,
        *,
        model_dir: str | None = None,
        device: str = "cpu",
        overlap: float = 0.25,
        shifts: int = 0,
    ) -> None:
        if model_name not in DEMUCS_MODELS:
            raise ValueError(f"Unknown Demucs model {model_name!r}; choose one of {', '.join(DEMUCS_MODELS)}")
        if not (device == "cpu" or device == "cuda" or device.startswith("cuda:")):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
        self.name = model_name
        self.model_name = model_name
        self.stems: tuple[str, ...] = SIX_STEMS if model_name == "htdemucs_6s" else FOUR_STEMS
        self.model_dir = model_dir
        self.device = device
        self.overlap = overlap
        self.shifts = shifts
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> Any:
        """Load (once) and return the demucs model, on :attr:`device`."""
        with self._lock:
            if self._model is None:
                import torch

                if "OMP_NUM_THREADS" not in os.environ and hasattr(os, "sched_getaffinity"):
                    torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))
                if self.device.startswith("cuda") and not torch.cuda.is_available():
                    raise EngineError(f"Device {self.device!r} requested but CUDA is unavailable")
                try:
                    model = _load_pretrained(self.name, self.model_dir)
                except EngineError:
                    raise
                except Exception as exc:  # corrupt file, version mismatch, ...
                    raise EngineError(f"Cannot load Demucs model {self.name!r}: {exc}") from exc
                model.eval()
                self._model = model
                logger.info("Loaded Demucs model %s on %s", self.name, self.device)
            return self._model

    def separate(self, audio: np.ndarray, *, sr: int, progress: ProgressFn | None = None) -> dict[str, np.ndarray]:
        """Separate a song with Demucs.

        Parameters
        ----------
        audio : np.ndarray, shape (2, n_samples), float32
            Mono ``(1, n)`` or ``(n,)`` is duplicated to stereo.
        sr : int
            Sample rate in Hz; resampled to the model's rate (44.1 kHz) and back.
        progress : callable, optional
            See Callback.

        Returns
        -------
        dict of str to np.ndarray
            One entry per name in :attr:`stems`, each shape (2, n_samples),
            float32, at ``sr``. (Demucs stems sum to the mix only approximately.)

        Raises
        ------
        ValueError
            On unusable input.
        EngineError
            If the model cannot be loaded or inference fails.

        Callback
        --------
        ``progress(fraction)`` after each internal demucs segment (~7.8 s of
        audio for htdemucs).

        Notes
        -----
        The input goes through demucs in outer chunks of 60 s with 1 s
        crossfades (bounded memory for long songs); within a chunk,
        ``apply_model`` splits into the model's training segments with
        ``overlap``.
        """
        from model.pipelines.separation import process_in_chunks

        x = validate_audio(audio, sr=sr)
        model = self.load()
        model_sr = int(model.samplerate)
        # Demucs normalises the mixture by its global mean and std (demucs CLI).
        ref = x.mean(axis=0)
        mean, std = float(ref.mean()), float(ref.std()) + 1e-8
        chunk = int(CHUNK_S * sr)
        overlap = int(OVERLAP_S * sr)
        n = x.shape[-1]
        starts = 1 if n <= chunk else -(-(n - chunk) // (chunk - overlap)) + 1
        done = [0]
        expected = [1]
        reported = [0.0]

        def on_segment(info: dict[str, Any]) -> None:
            if progress is not None and info.get("state") == "end":
                done[0] += 1
                reported[0] = min(0.99, done[0] / expected[0])
                progress(reported[0])

        def run(part: np.ndarray) -> dict[str, np.ndarray]:
            import torch
            from demucs.apply import apply_model

            seg_in = _resample((part - mean) / std, sr_in=sr, sr_out=model_sr)
            # Expected number of segment callbacks, for progress.
            per_model = _segments(model, seg_in.shape[-1], self.overlap)
            expected[0] = max(expected[0], per_model * starts)
            mix = torch.from_numpy(np.ascontiguousarray(seg_in))[None]
            try:
                with torch.inference_mode():
                    out = apply_model(
                        model,
                        mix,
                        shifts=self.shifts,
                        split=True,
                        overlap=self.overlap,
                        device=self.device,
                        progress=False,
                        callback=on_segment,
                    )
            except RuntimeError as exc:
                raise EngineError(f"Demucs inference failed: {exc}") from exc
            est = out[0].float().cpu().numpy() * std + mean
            result = {}
            for i, source in enumerate(model.sources):
                y = _resample(est[i], sr_in=model_sr, sr_out=sr)[:, : part.shape[-1]]
                result[source] = np.ascontiguousarray(y, dtype=np.float32)
            return result

        stems = process_in_chunks(x, chunk_samples=chunk, overlap_samples=overlap, fn=run)
        if progress is not None:
            progress(1.0)  # segment counts are estimates; always end on 1.0
        missing = [s for s in self.stems if s not in stems]
        if missing:
            raise EngineError(f"Demucs model {self.name!r} did not return stems {missing}")
        return {name: stems[name] for name in self.stems}


def _segments(model: Any, length: int, overlap: float) -> int:
    """Number of segment callbacks apply_model makes for one chunk."""
    models = getattr(model, "models", [model])
    total = 0
    for sub in models:
        seg_len = int(sub.samplerate * float(sub.segment))
        stride = max(1, int((1 - overlap) * seg_len))
        total += len(range(0, length, stride))
    return max(1, total)


def _resample(x: np.ndarray, *, sr_in: int, sr_out: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if sr_in == sr_out:
        return x
    from scipy.signal import resample_poly

    g = gcd(sr_in, sr_out)
    return resample_poly(x, sr_out // g, sr_in // g, axis=-1).astype(np.float32, copy=False)
