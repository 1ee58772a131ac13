"""Downloads go through short-lived signed links, never through guessable paths.

The API views authorise the user, then redirect to a link that works for a few minutes:
a presigned URL when files live in S3 (the bytes never pass through the web process),
else a link to :func:`signed_file` carrying a signed, timestamped token.
"""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator, Iterator
from pathlib import PurePosixPath

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse

_SALT = "isomix.files"
_END = object()


class _PiecesInThreads:
    """Streaming responses that stay streaming under ASGI.

    Served over ASGI (uvicorn), Django 5.2 turns a synchronous iterator into a list before
    sending any of it (``StreamingHttpResponse.__aiter__``): a whole file, or a whole zip of
    stems, in the web process's memory. Here each piece is read in a worker thread and sent
    before the next is read. Over WSGI (and in the test client) nothing changes.
    """

    streaming_content: Iterator[bytes]

    async def __aiter__(self) -> AsyncIterator[bytes]:
        pieces = iter(self.streaming_content)
        read = sync_to_async(next, thread_sensitive=False)
        while (piece := await read(pieces, _END)) is not _END:
            yield piece


class StreamingResponse(_PiecesInThreads, StreamingHttpResponse):
    """``StreamingHttpResponse`` that streams under ASGI too."""


class _FileResponse(_PiecesInThreads, FileResponse):
    #: Django reads 4 KiB at a time: a thread hop per 4 KiB, a thousand for one preview.
    block_size = 256 * 1024


def _is_s3() -> bool:
    from storages.backends.s3 import S3Storage

    return isinstance(default_storage, S3Storage)


def signed_download_redirect(*, key: str, filename: str, as_attachment: bool) -> HttpResponseRedirect:
    """A redirect to a link for ``key`` that expires after ``ISOMIX_DOWNLOAD_URL_TTL_S``."""
    if not key or not default_storage.exists(key):
        raise Http404("The file is gone.")
    ttl = settings.ISOMIX_DOWNLOAD_URL_TTL_S
    if _is_s3():
        disposition = "attachment" if as_attachment else "inline"
        url = default_storage.url(
            key,
            parameters={
                "ResponseContentDisposition": f'{disposition}; filename="{filename}"',
                "ResponseContentType": _content_type(key),
            },
            expire=ttl,
        )
    else:
        token = signing.dumps({"k": key, "f": filename, "a": as_attachment}, salt=_SALT, compress=True)
        url = reverse("signed-file", kwargs={"token": token})
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "private, no-store"
    return response


def signed_file(request: HttpRequest, token: str) -> FileResponse:
    """Serve a local file named by a signed token that has not expired."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.ISOMIX_DOWNLOAD_URL_TTL_S)
    except signing.BadSignature as exc:  # includes SignatureExpired
        raise Http404("This link has expired or is not valid.") from exc
    key = data["k"]
    if not default_storage.exists(key):
        raise Http404("The file is gone.")
    response = _FileResponse(
        default_storage.open(key, "rb"), as_attachment=data["a"], filename=data["f"], content_type=_content_type(key)
    )
    response["Cache-Control"] = "private, max-age=300"
    return response


def _content_type(key: str) -> str:
    return mimetypes.guess_type(PurePosixPath(key).name)[0] or "application/octet-stream"
