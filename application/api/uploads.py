"""Upload size limits enforced while the body streams in, not after it was all read."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import HttpRequest
from django.http.cookie import parse_cookie
from django.utils.translation import gettext as _
from rest_framework.throttling import UserRateThrottle

from business.selectors import plan_limits_for_user, user_for_api_token
from domain.exceptions import ErrorCode, FileTooLarge

#: Room for the multipart envelope and the small form fields around the file.
MULTIPART_OVERHEAD = 64 * 1024


def too_large(max_bytes: int) -> FileTooLarge:
    return FileTooLarge(
        _("The file is larger than %(mb)d MB.") % {"mb": max_bytes // 1_000_000},
        code=ErrorCode.FILE_TOO_LARGE,
        extra={"max_bytes": max_bytes},
    )


class LimitedUploadHandler(TemporaryFileUploadHandler):
    """Streams the file to disk and stops as soon as it passes ``max_bytes``.

    ``max_bytes`` may be a function, asked once when the first chunk arrives: the cap of the
    user's plan needs a query that only a request with a body should make.
    """

    def __init__(self, request: HttpRequest, *, max_bytes: int | Callable[[], int]) -> None:
        super().__init__(request)
        self._max_bytes = max_bytes
        self.received = 0

    @cached_property
    def max_bytes(self) -> int:
        return self._max_bytes() if callable(self._max_bytes) else self._max_bytes

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            if self.file is not None:
                self.file.close()  # a temporary file: closing deletes it
            raise too_large(self.max_bytes)
        return super().receive_data_chunk(raw_data, start)


def upload_handlers_install(request: HttpRequest, *, max_bytes: int | Callable[[], int]) -> None:
    """Stream uploads through :class:`LimitedUploadHandler`.

    Must run before anything reads the body: with session auth, DRF's CSRF check reads
    ``request.POST`` while it authenticates, which parses the whole upload.
    """
    request.upload_handlers = [LimitedUploadHandler(request, max_bytes=max_bytes)]


def upload_user(request: HttpRequest) -> AbstractBaseUser | None:
    """The user an upload request names, before DRF authenticates it: the session's, or the one
    whose API token it carries (``Authorization: Token <key>``). Only to size the upload cap:
    authentication proper still happens, and decides."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    scheme, _sep, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return user_for_api_token(key=key.strip()) if scheme.lower() == "token" else None


def upload_cap_for_headers(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The largest file the plan of the user these raw (ASGI) headers name allows, or ``None`` when
    they name nobody: for the body limit, before Django reads a byte. Only a size: the request is
    authenticated as usual afterwards."""
    meta = {}
    for name, value in headers:
        if name == b"authorization":
            meta["HTTP_AUTHORIZATION"] = value.decode("latin-1")
        elif name == b"cookie":
            meta["HTTP_COOKIE"] = value.decode("latin-1")
    request = HttpRequest()
    request.META.update(meta)
    request.COOKIES = parse_cookie(meta.get("HTTP_COOKIE", ""))
    request.user = _session_user(request)
    user = upload_user(request)
    return plan_limits_for_user(user=user).max_upload_bytes if user is not None else None


def _session_user(request: HttpRequest) -> AbstractBaseUser | AnonymousUser:
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not key or len(key) > 64:
        return AnonymousUser()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    return get_user(request)  # Django's own check of the session (its auth hash included)


def declared_size_check(request: HttpRequest, *, max_bytes: int) -> None:
    """Refuse a body whose declared length is over the limit, before reading any of it."""
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > max_bytes + MULTIPART_OVERHEAD:
        raise too_large(max_bytes)


class UploadRateThrottle(UserRateThrottle):
    """Uploads per user per period (``ISOMIX_UPLOAD_RATE``); reading is not limited."""

    scope = "uploads"

    def allow_request(self, request, view) -> bool:
        if request.method != "POST":
            return True
        return super().allow_request(request, view)


class StyleUploadHandler(LimitedUploadHandler):
    """Style sounds: each file at most ``file_max_bytes`` (asked once, when the first file
    starts: the plan's cap needs a query), the whole request at most ``max_bytes``."""

    def __init__(self, request: HttpRequest, *, max_bytes: int, file_max_bytes: Callable[[], int]) -> None:
        super().__init__(request, max_bytes=max_bytes)
        self._file_max_bytes = file_max_bytes
        self.file_received = 0
        self.files_seen = 0

    @cached_property
    def file_max_bytes(self) -> int:
        return self._file_max_bytes()

    def new_file(self, *args, **kwargs) -> None:
        self.file_received = 0
        self.files_seen += 1
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.file_received += len(raw_data)
        if self.received + len(raw_data) > self.max_bytes:
            if self.file is not None:
                self.file.close()
            raise styles_too_large(self.max_bytes)
        if self.file_received > self.file_max_bytes:
            if self.file is not None:
                self.file.close()
            name = (self.file_name or "")[:255]
            error = FileTooLarge(
                _("%(file)s: the file is larger than %(mb)d MB.")
                % {"file": name, "mb": self.file_max_bytes // 1_000_000},
                code=ErrorCode.FILE_TOO_LARGE,
                extra={"max_bytes": self.file_max_bytes, "file": name, "index": self.files_seen - 1},
            )
            raise error
        return super().receive_data_chunk(raw_data, start)


def style_upload_handlers_install(request: HttpRequest) -> None:
    """Stream style sounds through :class:`StyleUploadHandler` (before anything reads the body)."""
    from domain.remix import STYLE_REQUEST_MAX_BYTES
    from model.services.remix import style_limits_for

    def file_cap() -> int:
        user = upload_user(request)
        return style_limits_for(user=user)[0] if user is not None else 0

    request.upload_handlers = [StyleUploadHandler(request, max_bytes=STYLE_REQUEST_MAX_BYTES, file_max_bytes=file_cap)]


def styles_too_large(max_bytes: int) -> FileTooLarge:
    """A style upload request past its whole-body limit (several files together)."""
    return FileTooLarge(
        _("These files are larger than %(mb)d MB together: upload fewer at a time.") % {"mb": max_bytes // 1_000_000},
        code=ErrorCode.FILE_TOO_LARGE,
        extra={"max_bytes": max_bytes},
    )
