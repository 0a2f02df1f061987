"""The typed Python client of the Groundwork REST API: `Groundwork` (sync) and `AsyncGroundwork` (async).

    from groundwork.client import Groundwork

    with Groundwork("http://127.0.0.1:8000", api_key="gw_...") as gw:
        hits = gw.search("how do we roll out?", ["handbook"]).hits

It depends only on httpx and pydantic; see docs/client.md."""

from groundwork.client.async_client import AsyncGroundwork
from groundwork.client.errors import (
    APIError,
    AuthenticationError,
    ConflictError,
    ConnectionError,
    GroundworkError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RetryLaterError,
    ServerError,
    StreamError,
    UnavailableError,
)
from groundwork.client.events import (
    AnswerEvent,
    ClaimEvent,
    DeltaEvent,
    DoneEvent,
    ErrorEvent,
    NoticeEvent,
    RetrievalEvent,
    UnknownEvent,
)
from groundwork.client.models import Filter, UploadFile
from groundwork.client.retry import RetryPolicy
from groundwork.client.sync_client import Groundwork

__all__ = [
    "APIError",
    "AnswerEvent",
    "AsyncGroundwork",
    "AuthenticationError",
    "ClaimEvent",
    "ConflictError",
    "ConnectionError",
    "DeltaEvent",
    "DoneEvent",
    "ErrorEvent",
    "Filter",
    "Groundwork",
    "GroundworkError",
    "InvalidRequestError",
    "NotFoundError",
    "NoticeEvent",
    "PermissionDeniedError",
    "RateLimitedError",
    "RetrievalEvent",
    "RetryLaterError",
    "RetryPolicy",
    "ServerError",
    "StreamError",
    "UnavailableError",
    "UnknownEvent",
    "UploadFile",
]
