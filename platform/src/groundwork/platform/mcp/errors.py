"""Tool and resource failures as MCP errors that carry the REST API's error code: `error.data` is
`{"code", "status", "request_id", "retry_after"}` and the message starts with the code, so an agent (and its
user) sees `not_found`, `forbidden`, `rate_limited`, ... exactly as the API would have said."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from groundwork.client.errors import GroundworkError
from groundwork.platform import errors
from groundwork.platform.api.errors import STATUS_BY_ERROR
from groundwork.retrieval.errors import InvalidQueryError

INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
JSONRPC_BY_STATUS = {401: -32001, 403: -32003, 429: -32029, 503: -32053}
"""Server-defined JSON-RPC codes (the -32000..-32099 range) for the statuses a caller acts on differently."""


def jsonrpc_code(status: int) -> int:
    if status in JSONRPC_BY_STATUS:
        return JSONRPC_BY_STATUS[status]
    return INVALID_PARAMS if 400 <= status < 500 else INTERNAL_ERROR


def mcp_error(code: str, message: str, status: int, rid: str | None, retry_after: float | None = None) -> MCPError:
    data = {"code": code, "status": status, "request_id": rid, "retry_after": retry_after}
    return MCPError(jsonrpc_code(status), f"{code}: {message}", data)


def http_status(exc: Exception) -> int:
    """The status the REST API answers `exc` with."""
    return next((status for kind, status in STATUS_BY_ERROR if isinstance(exc, kind)), 500)


@asynccontextmanager
async def as_mcp_errors(rid: str | None = None) -> AsyncIterator[None]:
    """Translate what the services or the client raise into an `MCPError` with the API's code."""
    try:
        yield
    except MCPError:
        raise
    except GroundworkError as exc:
        raise mcp_error(exc.code, exc.message, exc.status or 502, exc.request_id, exc.retry_after) from exc
    except errors.PlatformError as exc:
        retry = exc.retry_after_seconds if isinstance(exc, errors.RetryLaterError) else None
        raise mcp_error(exc.code, str(exc), http_status(exc), rid, retry) from exc
    except InvalidQueryError as exc:
        raise mcp_error("invalid_request", str(exc), 400, rid) from exc
    except (ValidationError, ValueError) as exc:
        raise mcp_error("invalid_request", str(exc), 422, rid) from exc
