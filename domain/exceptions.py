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
    QUOTA_EXCEEDED = "quota_exceeded"
    PLAN_REQUIRED = "plan_required"
    BILLING_DISABLED = "billing_disabled"
    BILLING_ERROR = "billing_error"
    NO_SUBSCRIPTION = "no_subscription"
    INVALID_SIGNATURE = "invalid_signature"
    JOB_NOT_RETRYABLE = "job_not_retryable"
    STORAGE_ERROR = "storage_error"
    AUDIO_TOO_SHORT = "audio_too_short"
    REQUEST_TOO_LARGE = "request_too_large"
    ENGINE_UNAVAILABLE = "engine_unavailable"
    JOB_GONE = "job_gone"
    JOB_CONFLICT = "job_conflict"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    PRESET_LIMIT = "preset_limit"
    INVALID_LYRICS = "invalid_lyrics"
    LYRICS_CONFLICT = "lyrics_conflict"
    STYLE_LIMIT = "style_limit"
    STYLE_NOT_READY = "style_not_ready"
    # DRF's own codes, under the same strings, so that the one handler names every code it
    # answers with from this enum and DRF's errors keep the answers clients already know.
    PARSE_ERROR = "parse_error"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    PERMISSION_DENIED = "permission_denied"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    #: An API error of no more specific kind (DRF's ``APIException.default_code``).
    ERROR = "error"


class IsoMixError(Exception):
    """Root of our errors. ``message`` is shown to the user; ``code`` is for programs.

    Raised inside a background job, every ``IsoMixError`` is final: the job fails with
    ``message`` shown to the user and is not retried (bad input stays bad). Errors a retry
    may fix (a database or storage blip, a worker lost) are anything else.
    """

    status_code = 400

    def __init__(self, message: str, *, code: ErrorCode, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the API answer carries besides the body; none unless a subclass says."""
        return {}


class InvalidAudio(IsoMixError):
    """The file is not audio we can read. Final: a retry cannot fix it."""

    def __init__(self, message: str, *, code: ErrorCode = ErrorCode.INVALID_AUDIO, extra=None) -> None:
        super().__init__(message, code=code, extra=extra)


class FileTooLarge(IsoMixError):
    status_code = 413


class AudioTooLong(InvalidAudio):
    def __init__(self, message: str, *, extra=None) -> None:
        super().__init__(message, code=ErrorCode.AUDIO_TOO_LONG, extra=extra)


class AudioTooShort(InvalidAudio):
    def __init__(self, message: str, *, extra=None) -> None:
        super().__init__(message, code=ErrorCode.AUDIO_TOO_SHORT, extra=extra)


class RequestTooLarge(IsoMixError):
    status_code = 413


class MalformedBody(IsoMixError):
    """The request body cannot be parsed (not UTF-8, not JSON, nested too deep, NaN...)."""

    def __init__(self, message: str, *, code: ErrorCode = ErrorCode.PARSE_ERROR, extra=None) -> None:
        super().__init__(message, code=code, extra=extra)


class EngineUnavailable(IsoMixError):
    """The separation engine cannot run on this server (weights missing or damaged). Final."""

    status_code = 503


class JobGone(IsoMixError):
    """The job's row was deleted while it ran (its project was deleted): stop, keep nothing."""

    status_code = 404


class JobConflict(IsoMixError):
    """Another worker moved the job first (a duplicate message): this one leaves it alone."""

    status_code = 409


class NotReady(IsoMixError):
    status_code = 409


class JobNotRetryable(IsoMixError):
    status_code = 409


class PresetLimit(IsoMixError):
    """The project holds as many named mix presets as it may (``MIX_PRESETS_MAX``)."""

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message, code=ErrorCode.PRESET_LIMIT, extra={"max": limit})


class InvalidLyrics(IsoMixError):
    """Lyrics text or lines that cannot be used; ``field`` names what is wrong (``lines[3].words[0].start``)."""

    def __init__(self, message: str, *, field: str = "", extra=None) -> None:
        super().__init__(
            message, code=ErrorCode.INVALID_LYRICS, extra={**({"field": field} if field else {}), **(extra or {})}
        )
        self.field = field


class LyricsConflict(IsoMixError):
    """An edit made from an older version of the lyrics than the newest (another tab, or a re-run)."""

    status_code = 409

    def __init__(self, message: str, *, version: int) -> None:
        super().__init__(message, code=ErrorCode.LYRICS_CONFLICT, extra={"version": version})


class TooManyAttempts(IsoMixError):
    """Too many failed logins for an account or from an address: refused without checking
    the password until ``retry_after_s`` seconds have passed."""

    status_code = 429

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, code=ErrorCode.TOO_MANY_ATTEMPTS, extra={"retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s

    @property
    def headers(self) -> dict[str, str]:
        # When to come back is a header a client's HTTP library reads on its own.
        return {"Retry-After": str(self.retry_after_s)}
