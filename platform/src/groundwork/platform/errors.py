"""Errors of the platform. Each has a stable `code`; the API maps classes to HTTP statuses in one place."""

from __future__ import annotations


class PlatformError(Exception):
    """Base class of every platform error."""

    code = "internal_error"


class NotFoundError(PlatformError):
    code = "not_found"


class ConflictError(PlatformError):
    code = "conflict"


class InvalidRequestError(PlatformError):
    code = "invalid_request"


class FileTooLargeError(InvalidRequestError):
    code = "file_too_large"


class UnsupportedFormatError(InvalidRequestError):
    code = "unsupported_format"


class UnsupportedContentError(UnsupportedFormatError):
    """The bytes are not what the type says: binary data under a text extension, a `.pdf` that is no PDF."""

    code = "unsupported_content"


class TooManyFilesError(InvalidRequestError):
    """A batch upload carries more files than `ingestion.max_batch_files`."""

    code = "too_many_files"


class QueueFullError(PlatformError):
    code = "queue_full"


class QueueUnavailableError(PlatformError):
    """The task broker (Redis) cannot be reached."""

    code = "queue_unavailable"


class StorageError(PlatformError):
    """The blob store or a `gs://` source failed (unreachable, denied, missing bucket)."""

    code = "storage_error"


class DataDirLockedError(PlatformError):
    """Another process (a server or a CLI command) owns the data directory's indexes."""

    code = "data_dir_locked"


class NotReadyError(PlatformError):
    code = "not_ready"


class AuthenticationError(PlatformError):
    """No valid credentials: no API key or token, or one that is unknown, revoked, expired or malformed."""

    code = "unauthenticated"


class PermissionDeniedError(PlatformError):
    """The principal is authenticated but its role does not allow the action."""

    code = "forbidden"


class RetryLaterError(PlatformError):
    """Refused for now; `retry_after_seconds` says when trying again makes sense (the Retry-After header)."""

    code = "retry_later"

    def __init__(self, message: str, *, retry_after_seconds: float) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class RateLimitedError(RetryLaterError):
    """The API key (or token subject) sent more requests than `access.rate_limit_per_minute` allows."""

    code = "rate_limited"


class OverloadedError(RetryLaterError):
    """The generation queue is full (`generation.max_waiting`); nothing was started."""

    code = "overloaded"


class RequestTooLargeError(InvalidRequestError):
    """The request body is larger than `api.max_request_bytes`."""

    code = "request_too_large"


class EmbeddingMismatchError(ConflictError):
    """The datastore's vectors were computed by another model, backend or precision than this process runs:
    they are not comparable, so searching or adding to it is refused (re-embed it, or run the recorded one)."""

    code = "embedding_mismatch"
