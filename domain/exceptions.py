"""The one error family of IsoMix: a code for programs, a plain message for people."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    INVALID_AUDIO = "invalid_audio"
    FILE_TOO_LARGE = "file_too_large"
    AUDIO_TOO_LONG = "audio_too_long"
    EMPTY_FILE = "empty_file"
    UNSUPPORTED_FORMAT = "unsupported_format"
    NOT_FOUND = "not_found"
    NOT_READY = "not_ready"
    INVALID_INPUT = "invalid_input"
    FORMAT_NOT_ALLOWED = "format_not_allowed"
    JOB_NOT_RETRYABLE = "job_not_retryable"
    STORAGE_ERROR = "storage_error"


class IsoMixError(Exception):
    """Root of our errors. ``message`` is shown to the user; ``code`` is for programs."""

    status_code = 400

    def __init__(self, message: str, *, code: ErrorCode, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}


class InvalidAudio(IsoMixError):
    """The file is not audio we can read. Final: a retry cannot fix it."""

    def __init__(self, message: str, *, code: ErrorCode = ErrorCode.INVALID_AUDIO, extra=None) -> None:
        super().__init__(message, code=code, extra=extra)


class FileTooLarge(IsoMixError):
    status_code = 413


class AudioTooLong(InvalidAudio):
    def __init__(self, message: str, *, extra=None) -> None:
        super().__init__(message, code=ErrorCode.AUDIO_TOO_LONG, extra=extra)


class NotReady(IsoMixError):
    status_code = 409


class JobNotRetryable(IsoMixError):
    status_code = 409
