"""Request-scoped values that travel in contextvars: logged, echoed in error envelopes, recorded in the audit
log. Set by the API middleware (and by other entry points that serve requests)."""

from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="-")
