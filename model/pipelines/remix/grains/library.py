"""A grain library and its storage: :class:`GrainLibrary`, an ``.npz`` of plain arrays.

:meth:`GrainLibrary.to_npz` writes plain arrays (``np.savez``, nothing pickled);
:meth:`GrainLibrary.from_npz` reads every array's header before its data (a bound on what a
hostile file can make us allocate), refuses object arrays, and checks every key, dtype, shape and
bound before it trusts one (the bytes come back from storage or a cache).
"""

from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["LIBRARY_SR", "MAX_LIBRARY_SAMPLES", "GrainLibrary"]

#: Style sounds are decoded mono at this rate (Hz) before their library is built.
LIBRARY_SR = 44100
#: Most samples :meth:`GrainLibrary.from_npz` accepts (10 min at :data:`LIBRARY_SR`, 106 MB of
#: float32): what a style sound can become, with room to spare, and a bound on what a bad
#: file can make us allocate.
MAX_LIBRARY_SAMPLES = 600 * LIBRARY_SR
# The audio at that bound, and 16 MiB for the descriptors (4000 grains take 300 kB).
_MAX_NPZ_BYTES = 4 * MAX_LIBRARY_SAMPLES + 16 * 2**20


# (dtype, shape) of every array in a library's npz; "n" is the grain count, "s" the samples.
_NPZ_LAYOUT: dict[str, tuple[str, tuple[str, ...]]] = {
    "sr": ("<i8", ()),
    "audio": ("<f4", ("s",)),
    "starts": ("<i8", ("n",)),
    "lengths": ("<i8", ("n",)),
    "source_s": ("<f4", ("n",)),
    "f0_hz": ("<f4", ("n",)),
    "voicing": ("<f4", ("n",)),
    "rms": ("<f4", ("n",)),
    "centroid_hz": ("<f4", ("n",)),
    "mfcc": ("<f4", ("n", "m")),
    "attack_s": ("<f4", ("n",)),
}


@dataclass(frozen=True)
class GrainLibrary:
    """The grains of a style sound and their descriptors.

    Attributes
    ----------
    sr : int
        Sample rate of ``audio`` in Hz.
    audio : np.ndarray, shape (n_samples,), float32
        Every grain's samples, one grain after another.
    starts : np.ndarray, shape (n_grains,), int64
        Where grain ``i`` begins in ``audio``.
    lengths : np.ndarray, shape (n_grains,), int64
        Its length in samples.
    source_s : np.ndarray, shape (n_grains,), float32
        Where it began in the style sound, in seconds.
    f0_hz : np.ndarray, shape (n_grains,), float32
        Median f0 of its voiced frames in Hz; NaN when none is voiced.
    voicing : np.ndarray, shape (n_grains,), float32
        Share of its frames that are voiced, 0..1.
    rms : np.ndarray, shape (n_grains,), float32
        Linear RMS of its samples (full scale 1.0).
    centroid_hz : np.ndarray, shape (n_grains,), float32
        Spectral centroid of its summed magnitude spectrum, in Hz.
    mfcc : np.ndarray, shape (n_grains, n_mfcc), float32
        Mean MFCCs of its frames.
    attack_s : np.ndarray, shape (n_grains,), float32
        Time from its start to the first point of its RMS envelope at 90 % of the peak.
    """

    sr: int
    audio: NDArray[np.float32]
    starts: NDArray[np.int64]
    lengths: NDArray[np.int64]
    source_s: NDArray[np.float32]
    f0_hz: NDArray[np.float32]
    voicing: NDArray[np.float32]
    rms: NDArray[np.float32]
    centroid_hz: NDArray[np.float32]
    mfcc: NDArray[np.float32]
    attack_s: NDArray[np.float32]

    @property
    def n_grains(self) -> int:
        return int(self.starts.shape[0])

    @property
    def duration_s(self) -> float:
        """Length of all grains together, in seconds."""
        return float(np.sum(self.lengths)) / self.sr

    def grain(self, i: int) -> NDArray[np.float32]:
        """Grain ``i``'s samples, shape (lengths[i],), float32 (a view into ``audio``)."""
        if not -self.n_grains <= i < self.n_grains:
            raise IndexError(f"grain {i} of {self.n_grains}")
        start = int(self.starts[i])
        return self.audio[start : start + int(self.lengths[i])]

    def to_npz(self) -> bytes:
        """The library as ``.npz`` bytes (``np.savez``: plain arrays, nothing pickled)."""
        buffer = io.BytesIO()
        arrays = {name: np.asarray(getattr(self, name), dtype=dtype) for name, (dtype, _) in _NPZ_LAYOUT.items()}
        np.savez(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_npz(cls, data: bytes) -> GrainLibrary:
        """A library from :meth:`to_npz`'s bytes, checked before it is trusted.

        Raises
        ------
        ValueError
            Not an npz; a key missing or unknown; an array pickled (object dtype), of another
            dtype or shape than :meth:`to_npz` writes, or larger than
            :data:`MAX_LIBRARY_SAMPLES`; a grain outside ``audio``; a non-finite value (NaN
            is allowed in ``f0_hz`` only); a negative RMS, centroid or attack; a voicing
            outside 0..1; no grain at all.
        """
        arrays = _read_npz(data)
        sizes: dict[str, int] = {}
        for name, (dtype, shape) in _NPZ_LAYOUT.items():
            array = arrays[name]
            if array.dtype != np.dtype(dtype):
                raise ValueError(f"grain library: {name} is {array.dtype}, not {np.dtype(dtype)}")
            if array.ndim != len(shape):
                raise ValueError(f"grain library: {name} has {array.ndim} dimensions, not {len(shape)}")
            for axis, symbol in zip(array.shape, shape, strict=True):
                if sizes.setdefault(symbol, axis) != axis:
                    raise ValueError(f"grain library: {name} has {axis} entries where {sizes[symbol]} were expected")
        n = sizes["n"]
        if n == 0:
            raise ValueError("grain library: no grains")
        sr = int(arrays["sr"])
        if not 1000 <= sr <= 384_000:
            raise ValueError(f"grain library: sample rate {sr} Hz")
        starts, lengths = arrays["starts"], arrays["lengths"]
        if np.any(starts < 0) or np.any(lengths < 1) or np.any(starts > sizes["s"] - lengths):
            raise ValueError("grain library: a grain lies outside its audio")
        for name in ("audio", "source_s", "voicing", "rms", "centroid_hz", "mfcc", "attack_s"):
            if not np.isfinite(arrays[name]).all():
                raise ValueError(f"grain library: {name} holds NaN or infinity")
        f0 = arrays["f0_hz"]
        if np.isinf(f0).any() or np.any(f0[~np.isnan(f0)] <= 0):
            raise ValueError("grain library: f0_hz must be positive or NaN")
        if np.any(arrays["voicing"] < 0) or np.any(arrays["voicing"] > 1):
            raise ValueError("grain library: voicing outside 0..1")
        for name in ("rms", "centroid_hz", "attack_s", "source_s"):
            if np.any(arrays[name] < 0):
                raise ValueError(f"grain library: negative {name}")
        names = {f.name for f in fields(cls)}
        return cls(**{name: (sr if name == "sr" else arrays[name]) for name in names})

    def scatter(self, *, max_points: int = 500) -> list[dict[str, Any]]:
        """The grains as points for the page's pitch/loudness plot, at most ``max_points``
        (spread evenly over the library when there are more).

        Returns
        -------
        list of dict
            ``{"i": index, "f0_hz": Hz to 0.1 or None when unvoiced, "rms_db": dBFS to 0.1
            (floored at -120), "start_s": where it began in the style sound, "duration_s"}``,
            times to the millisecond.
        """
        if max_points < 1:
            return []
        n = self.n_grains
        chosen = np.arange(n) if n <= max_points else np.unique(np.linspace(0, n - 1, max_points).round().astype(int))
        rms_db = 20 * np.log10(np.maximum(self.rms[chosen].astype(np.float64), 1e-6))
        return [
            {
                "i": int(i),
                "f0_hz": None if np.isnan(self.f0_hz[i]) else round(float(self.f0_hz[i]), 1),
                "rms_db": round(float(db), 1),
                "start_s": round(float(self.source_s[i]), 3),
                "duration_s": round(float(self.lengths[i]) / self.sr, 3),
            }
            for i, db in zip(chosen, rms_db, strict=True)
        ]


def _read_npz(data: bytes) -> dict[str, np.ndarray]:
    """The arrays of an npz, each header checked before its data is read.

    ``np.load`` allocates what an array's header declares before it reads the data, so a
    hostile header (a shape of 10**12) would exhaust memory: every header is read first and
    the arrays' total size bounded by :data:`MAX_LIBRARY_SAMPLES` of audio. ``allow_pickle=False`` refuses object
    arrays (a pickle runs code when loaded).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ValueError("grain library: not bytes")
    try:
        archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
        members = {name.removesuffix(".npy"): name for name in archive.namelist()}
        if set(members) != set(_NPZ_LAYOUT) or len(members) != len(archive.namelist()):
            missing = sorted(set(_NPZ_LAYOUT) - set(members))
            extra = sorted(set(members) - set(_NPZ_LAYOUT))
            raise ValueError(f"grain library: keys missing {missing}, unknown {extra}")
        declared = 0
        for member in members.values():
            with archive.open(member) as stream:
                version = np.lib.format.read_magic(stream)
                if version not in ((1, 0), (2, 0)):  # what np.savez writes
                    raise ValueError(f"grain library: {member} has npy format {version}")
                read_header = (
                    np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                )
                shape, _fortran, dtype = read_header(stream)
            if dtype.hasobject:
                raise ValueError(f"grain library: {member} is an object array")
            declared += math.prod(shape) * dtype.itemsize
            if declared > _MAX_NPZ_BYTES:
                raise ValueError(f"grain library: {member} is too large")
        with np.load(io.BytesIO(bytes(data)), allow_pickle=False) as npz:
            return {name: npz[name] for name in _NPZ_LAYOUT}
    except ValueError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, RuntimeError, TypeError) as error:
        raise ValueError(f"grain library: unreadable npz ({error})") from error
