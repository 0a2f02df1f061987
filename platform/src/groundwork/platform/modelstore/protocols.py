"""The one role the model store needs from Cloud Storage: the objects of a bucket."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object as the bucket reports it."""

    name: str
    size: int
    md5: str | None
    """Base64 MD5 computed by Cloud Storage on upload; None for composite objects."""


class ObjectStore(Protocol):
    """Objects of one bucket. Every method raises `TransferError` when Cloud Storage fails."""

    @property
    def bucket(self) -> str: ...

    def upload_file(self, name: str, path: Path) -> StoredObject:
        """Upload `path` as `name` (replacing it) and return the object as stored."""
        ...

    def download_file(self, name: str, path: Path) -> None:
        """Write the object's bytes to `path`. Raises `ModelNotFoundError` if there is no such object."""
        ...

    def read(self, name: str) -> bytes | None:
        """A small object's bytes; None if it does not exist."""
        ...

    def write(self, name: str, data: bytes, *, if_absent: bool = False) -> None:
        """Write a small object. With `if_absent`, raise `ModelExistsError` rather than replace one."""
        ...

    def list(self, prefix: str) -> list[StoredObject]:
        """Every object whose name starts with `prefix`, in name order."""
        ...

    def delete(self, name: str) -> None:
        """Delete an object; absent objects are not an error."""
        ...


ObjectStoreFactory = Callable[[str], ObjectStore]
"""Opens the `ObjectStore` of a bucket by name."""
