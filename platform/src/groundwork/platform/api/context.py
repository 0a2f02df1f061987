"""Request-scoped values that travel in contextvars (logged and echoed in error envelopes)."""

from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="-")
