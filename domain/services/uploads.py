"""Uploads, checked by their content before anything is stored."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from domain.audio import AudioInfo, audio_probe
from domain.exceptions import ErrorCode, FileTooLarge
from domain.services.files import _CHUNK
from domain.work_dirs import WorkDirKind, work_dir


@dataclass(frozen=True)
class InspectedUpload:
    path: Path
    info: AudioInfo
    sha256: str
    size_bytes: int


@contextmanager
def upload_inspect(*, upload: UploadedFile, max_bytes: int, max_duration_s: float) -> Iterator[InspectedUpload]:
    """Validate an upload by its content and yield it as a local file with its facts.

    Raises ``FileTooLarge``, ``InvalidAudio`` or ``AudioTooLong``; nothing is stored.
    """
    if upload.size is not None and upload.size > max_bytes:
        raise FileTooLarge(
            _("The file is larger than %(mb)d MB.") % {"mb": max_bytes // 1_000_000},
            code=ErrorCode.FILE_TOO_LARGE,
            extra={"max_bytes": max_bytes},
        )
    with work_dir(kind=WorkDirKind.UPLOAD) as tmpdir:
        digest = hashlib.sha256()
        size = 0
        # A neutral name: ffmpeg must judge the content, never the client's extension.
        path = Path(tmpdir) / "upload.bin"
        if _hard_link(upload, path):  # already on disk: read it once, copy nothing
            for chunk in upload.chunks(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        else:
            with path.open("wb") as out:
                for chunk in upload.chunks(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        info = audio_probe(path=path, max_duration_s=max_duration_s)
        yield InspectedUpload(path=path, info=info, sha256=digest.hexdigest(), size_bytes=size)


def _hard_link(upload: UploadedFile, path: Path) -> bool:
    if not hasattr(upload, "temporary_file_path"):
        return False
    try:
        os.link(upload.temporary_file_path(), path)
    except OSError:  # another filesystem: copy instead
        return False
    return True
