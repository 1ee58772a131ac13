"""Stored files: written whole or not at all, deleted after the deletion that frees them commits."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from domain.exceptions import ErrorCode, IsoMixError

_CHUNK = 1 << 20


def storage_put(*, key: str, content: IO[bytes] | Path) -> str:
    """Write ``content`` whole under ``key``, replacing what was there (re-runs are idempotent).

    A write that fails part-way leaves nothing under ``key``.
    """
    if default_storage.exists(key):
        default_storage.delete(key)
    try:
        if isinstance(content, Path):
            with content.open("rb") as fh:
                saved = default_storage.save(key, File(fh))
        else:
            saved = default_storage.save(key, File(content))
    except BaseException:
        if default_storage.exists(key):
            default_storage.delete(key)
        raise
    if saved != key:  # the storage renamed it: someone else wrote the key meanwhile
        default_storage.delete(saved)
        raise IsoMixError(_("The file could not be stored."), code=ErrorCode.STORAGE_ERROR)
    return key


def storage_delete_on_commit(keys: list[str]) -> None:
    transaction.on_commit(lambda: storage_delete_now(keys))


@contextmanager
def storage_local_copy(key: str) -> Iterator[Path]:
    """A local path to the stored file ``key`` (the file itself on local disk)."""
    try:
        yield Path(default_storage.path(key))
        return
    except NotImplementedError:
        pass
    suffix = Path(key).suffix
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        with default_storage.open(key, "rb") as src:
            shutil.copyfileobj(src, tmp, _CHUNK)
        tmp.flush()
        yield Path(tmp.name)


def storage_delete_now(keys: list[str]) -> None:
    """Delete stored files right away (for files no committed row points at)."""
    for key in keys:
        if key and default_storage.exists(key):
            default_storage.delete(key)


@contextmanager
def storage_open_stream(key: str) -> Iterator[IO[bytes]]:
    """The stored file ``key``, open for reading in pieces: never held whole in memory.

    Local files are read from disk. django-storages' ``S3File`` downloads the whole object
    on its first read (into memory, unless ``AWS_S3_MAX_MEMORY_SIZE`` is set), so from S3
    the object's HTTP body is read instead, as it arrives.
    """
    handle = default_storage.open(key, "rb")
    s3_object = getattr(handle, "obj", None)  # S3File names its boto3 Object; opening it read nothing yet
    if s3_object is None:
        with handle:
            yield handle
        return
    body = s3_object.get()["Body"]
    try:
        yield body
    finally:
        body.close()
