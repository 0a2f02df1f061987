"""The one place that maps exceptions to HTTP statuses and the error envelope
`{"error": {"code", "message", "request_id"}}`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from groundwork.platform import errors
from groundwork.platform.request_context import request_id
from groundwork.retrieval.errors import InvalidQueryError

logger = logging.getLogger(__name__)

STATUS_BY_ERROR: list[tuple[type[Exception], int]] = [
    (errors.AuthenticationError, 401),
    (errors.PermissionDeniedError, 403),
    (errors.RateLimitedError, 429),
    (errors.OverloadedError, 503),
    (errors.RequestTooLargeError, 413),
    (errors.FileTooLargeError, 413),
    (errors.TooManyFilesError, 413),
    (errors.UnsupportedFormatError, 415),
    (errors.InvalidRequestError, 400),
    (InvalidQueryError, 400),
    (errors.NotFoundError, 404),
    (errors.ConflictError, 409),
    (errors.DataDirLockedError, 409),
    (errors.QueueFullError, 503),
    (errors.QueueUnavailableError, 503),
    (errors.NotReadyError, 503),
    (errors.StorageError, 502),
]


RETRY_AFTER_UNAVAILABLE_SECONDS = 5
"""Retry-After of a 503 without an estimate of its own (queue full or unreachable, server starting)."""

_HTTP_CODES = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_format",
    422: "invalid_request",
}
"""Codes of the errors Starlette raises itself (malformed multipart, unknown route, wrong method)."""


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    rid = request_id.get()
    return JSONResponse(
        status_code=status,
        content={"error": {"code": code, "message": message, "request_id": rid}},
        headers={"X-Request-ID": rid, **(headers or {})},
    )


def _headers_for(exc: errors.PlatformError) -> dict[str, str]:
    if isinstance(exc, errors.AuthenticationError):
        return {"WWW-Authenticate": 'Bearer realm="groundwork"'}
    if isinstance(exc, errors.RetryLaterError):
        return {"Retry-After": str(max(1, round(exc.retry_after_seconds)))}
    if isinstance(exc, (errors.QueueFullError, errors.QueueUnavailableError, errors.NotReadyError)):
        return {"Retry-After": str(RETRY_AFTER_UNAVAILABLE_SECONDS)}
    return {}


def _status_for(exc: Exception) -> int:
    for error_type, status in STATUS_BY_ERROR:
        if isinstance(exc, error_type):
            return status
    return 500


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.PlatformError)
    async def platform_error(_request: Request, exc: errors.PlatformError) -> JSONResponse:
        return error_response(_status_for(exc), exc.code, str(exc), _headers_for(exc))

    @app.exception_handler(InvalidQueryError)
    async def query_error(_request: Request, exc: InvalidQueryError) -> JSONResponse:
        return error_response(400, "invalid_request", str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = "; ".join(f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors())
        return error_response(422, "invalid_request", details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        code = _HTTP_CODES.get(status) or ("internal_error" if status >= 500 else "invalid_request")
        return error_response(status, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal_error", "internal error; see the server log for this request id")
