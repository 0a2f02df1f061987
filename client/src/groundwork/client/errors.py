"""One exception hierarchy for every failure the client reports. Each error carries the API's stable `code`
(the `error.code` of the response envelope, e.g. `not_found`, `rate_limited`), the HTTP `status` and the
server's `request_id`, so a log line or a support ticket can name the exact request."""

from __future__ import annotations

from typing import Any


class GroundworkError(Exception):
    """Base class of every error the client raises."""

    default_code = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.status = status
        self.request_id = request_id
        self.retry_after = retry_after
        """Seconds the server asked to wait (the Retry-After header), when it said."""

    def __str__(self) -> str:
        where = f" (request {self.request_id})" if self.request_id else ""
        return f"{self.message}{where}"


class ConnectionError(GroundworkError):
    """The server could not be reached, or the connection broke (after the retries an idempotent call gets)."""

    default_code = "connection_error"


class APIError(GroundworkError):
    """The server answered with an error status."""


class InvalidRequestError(APIError):
    """400, 413, 415 or 422: the request is malformed or refused as it is (`invalid_request`, `file_too_large`,
    `unsupported_format`, `request_too_large`, ...)."""

    default_code = "invalid_request"


class AuthenticationError(APIError):
    """401: no API key or token, or one that is unknown, revoked or expired."""

    default_code = "unauthenticated"


class PermissionDeniedError(APIError):
    """403: the principal's role does not allow the action."""

    default_code = "forbidden"


class NotFoundError(APIError):
    """404: no such resource, or one the principal may not read (they look the same)."""

    default_code = "not_found"


class ConflictError(APIError):
    """409: the resource exists, or another process holds what the request needs."""

    default_code = "conflict"


class RetryLaterError(APIError):
    """Refused for now (429 or 503); `retry_after` says when trying again makes sense."""

    default_code = "retry_later"


class RateLimitedError(RetryLaterError):
    """429: the key sent more requests than the server's rate limit allows."""

    default_code = "rate_limited"


class UnavailableError(RetryLaterError):
    """503: overloaded, queue full, or still starting."""

    default_code = "unavailable"


class ServerError(APIError):
    """Any other 5xx."""

    default_code = "internal_error"


class StreamError(APIError):
    """An answer stream ended with an `error` event."""

    default_code = "stream_error"


_BY_STATUS: dict[int, type[APIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: InvalidRequestError,
    409: ConflictError,
    413: InvalidRequestError,
    415: InvalidRequestError,
    422: InvalidRequestError,
    429: RateLimitedError,
    503: UnavailableError,
}


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    if value.strip().replace(".", "", 1).isdigit():
        return max(0.0, float(value))
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def error_from_response(status: int, body: Any, headers: Any, text: str = "") -> APIError:
    """The error for an HTTP error response: its envelope's code, message and request id."""
    envelope = body.get("error") if isinstance(body, dict) else None
    if isinstance(envelope, dict):
        code = str(envelope.get("code") or "")
        message = str(envelope.get("message") or text or f"HTTP {status}")
        request_id = envelope.get("request_id")
    else:
        code, message, request_id = "", text or f"HTTP {status}", None
    request_id = request_id or headers.get("x-request-id")
    kind = _BY_STATUS.get(status) or (ServerError if status >= 500 else InvalidRequestError)
    return kind(
        message,
        code=code or None,
        status=status,
        request_id=str(request_id) if request_id else None,
        retry_after=parse_retry_after(headers.get("retry-after")),
    )
