"""Separation engines and their registry.

Importing this package is cheap (no torch, demucs or SciPy): engines import
their heavy dependencies when they first separate.

>>> engine = get_engine("auto", model_dir=None)       # doctest: +SKIP
>>> stems = engine.separate(audio, sr=44100)           # doctest: +SKIP
"""

from __future__ import annotations

from functools import cache

from model.engines.base import EngineError, ProgressFn, SeparationEngine, two_stems_of

__all__ = [
    "ENGINE_NAMES",
    "EngineError",
    "ProgressFn",
    "SeparationEngine",
    "get_engine",
    "resolve_engine_name",
    "two_stems_of",
]

ENGINE_NAMES: tuple[str, ...] = (
    "auto",
    "offline",
    "htdemucs",
    "htdemucs_ft",
    "htdemucs_6s",
    "demucs_unittest",
)


def resolve_engine_name(name: str = "auto", *, model_dir: str | None = None) -> str:
    """The concrete engine ``name`` stands for.

    Parameters
    ----------
    name : str
        One of :data:`ENGINE_NAMES`.
    model_dir : str or None
        Local Demucs model folder.

    Returns
    -------
    str
        ``name`` itself, except "auto": "htdemucs" when its weights are on
        disk (the model folder or the caches; nothing is downloaded), else
        "offline".

    Raises
    ------
    ValueError
        For an unknown name.
    """
    if name not in ENGINE_NAMES:
        raise ValueError(f"Unknown separation engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")
    if name != "auto":
        return name
    from model.engines.demucs_engine import demucs_weights_available

    return "htdemucs" if demucs_weights_available("htdemucs", model_dir=model_dir) else "offline"


def get_engine(name: str = "auto", *, model_dir: str | None = None, device: str = "cpu") -> SeparationEngine:
    """The engine for ``name``, one instance per process and resolved arguments.

    Parameters
    ----------
    name : str
        One of :data:`ENGINE_NAMES`; "auto" is resolved on every call by
        :func:`resolve_engine_name` (a cheap file lookup), so weights fetched
        while the process runs are picked up by the next call.
    model_dir : str or None
        Local Demucs model folder (ignored by "offline").
    device : str
        "cpu" or "cuda" (ignored by "offline", which runs on CPU).

    Returns
    -------
    SeparationEngine
        Models load lazily, on the first ``separate``.

    Raises
    ------
    ValueError
        For an unknown name or device.
    """
    return _get_engine(resolve_engine_name(name, model_dir=model_dir), model_dir, device)


@cache
def _get_engine(name: str, model_dir: str | None, device: str) -> SeparationEngine:
    if name == "offline":
        from model.engines.offline import OfflineEngine

        return OfflineEngine()
    from model.engines.demucs_engine import DemucsEngine

    return DemucsEngine(name, model_dir=model_dir, device=device)
