"""A zip of stored files, streamed as it is written: memory stays flat however large the files.

``zipfile`` writes to a small buffer that the generator empties after every piece, so at
most one piece (:data:`PIECE_BYTES`) and the zip's own bookkeeping are held at a time.
Entries are ``ZIP_STORED``: the stems are FLAC, already compressed. The output is not
seekable, so each entry's sizes and CRC follow its data (a data descriptor), which every
unzip tool reads; an entry over 4 GiB is written as Zip64.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.core.files.storage import default_storage
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from domain.exceptions import ErrorCode, NotReady
from domain.mix import stem_filename
from domain.models import Project
from domain.selectors import stems_ordered
from domain.services import storage_open_stream

#: How much of a file is read, written and sent at a time (bytes).
PIECE_BYTES = 256 * 1024


@dataclass(frozen=True)
class ArchiveEntry:
    """One stored file in the archive: its name there, its storage key and size, its date."""

    name: str
    key: str
    size_bytes: int
    modified: datetime


class _Pieces:
    """The file ``zipfile`` writes to: holds what it wrote until :meth:`take`. No ``tell``/``seek``."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def zip_stream(entries: Iterable[ArchiveEntry]) -> Iterator[bytes]:
    """The bytes of a zip of ``entries``, piece by piece (never an empty piece)."""
    out = _Pieces()
    with zipfile.ZipFile(out, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry.name, date_time=entry.modified.timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            info.file_size = entry.size_bytes  # zipfile decides on Zip64 from the size it is told
            with storage_open_stream(entry.key) as src, archive.open(info, mode="w") as dst:
                while piece := src.read(PIECE_BYTES):
                    dst.write(piece)
                    if data := out.take():
                        yield data
            if data := out.take():  # the entry's data descriptor
                yield data
    if data := out.take():  # the central directory
        yield data


def stem_archive_entries(*, project: Project) -> list[ArchiveEntry]:
    """The project's lossless stems as archive entries, ``<song>-<kind>.flac`` in display order.

    Raises ``NotReady`` before the stems exist, and 404 when one of their files is gone
    (checked before the first byte is sent: a zip cannot say so half-way).
    """
    stems = stems_ordered(project)
    if project.status != Project.Status.READY or not stems:
        raise NotReady(_("The stems of this song are not ready yet."), code=ErrorCode.NOT_READY)
    entries = []
    for stem in stems:
        if not default_storage.exists(stem.file_key):
            raise Http404("The file is gone.")
        entries.append(
            ArchiveEntry(
                name=stem_filename(project_name=project.name, kind=stem.kind, ext="flac"),
                key=stem.file_key,
                size_bytes=default_storage.size(stem.file_key),
                modified=timezone.localtime(stem.created_at),
            )
        )
    return entries
