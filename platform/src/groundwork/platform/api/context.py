"""Request-scoped values (the request id lives in platform core, where the audit log reads it)."""

from groundwork.platform.request_context import request_id

__all__ = ["request_id"]
