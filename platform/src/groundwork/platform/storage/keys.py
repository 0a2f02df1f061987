"""Blob keys: `/`-separated names every blob store accepts the same way."""

from __future__ import annotations

from groundwork.platform.errors import InvalidRequestError


def key_parts(key: str) -> list[str]:
    """The segments of `key`; raises `InvalidRequestError` for an empty key or an empty, `.` or `..` segment,
    so no store can be led outside its root and every store accepts exactly the same keys."""
    parts = key.split("/")
    if not key or any(part in {"", ".", ".."} for part in parts):
        raise InvalidRequestError(f"invalid blob key {key!r}")
    return parts
