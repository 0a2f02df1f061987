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
