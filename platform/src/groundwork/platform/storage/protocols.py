"""The `BlobStore` role."""

from __future__ import annotations

from typing import Protocol


class BlobStore(Protocol):
    """Stores immutable byte objects under string keys (`a/b/c`).

    Keys are `/`-separated segments, none empty, `.` or `..` (`InvalidRequestError` otherwise). Failures of
    the underlying storage raise `StorageError`."""

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
        """Remove every key under the folder `prefix` (keys starting with `prefix/`; a key equal to `prefix`
        is not touched); returns how many."""
        ...
