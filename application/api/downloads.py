"""Serving stored files to their owner."""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404


def stored_file_response(*, key: str, filename: str, as_attachment: bool) -> FileResponse:
    if not key or not default_storage.exists(key):
        raise Http404("The file is gone.")
    content_type = mimetypes.guess_type(PurePosixPath(key).name)[0] or "application/octet-stream"
    return FileResponse(
        default_storage.open(key, "rb"),
        as_attachment=as_attachment,
        filename=filename,
        content_type=content_type,
    )
