"""The `BlobStore` role."""

from __future__ import annotations

from typing import Protocol


class BlobStore(Protocol):
    """Stores immutable byte objects under string keys (`a/b/c`)."""

    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key` durably, replacing any object there."""
        ...

    def get(self, key: str) -> bytes:
        """Bytes under `key`; raises `NotFoundError` if absent."""
        ...

    def delete(self, key: str) -> None:
        """Remove `key`; absent keys are ignored."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every key under `prefix`; returns how many."""
        ...
