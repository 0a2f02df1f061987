"""`BlobStore` on a local directory (the embedded default)."""

from __future__ import annotations

import shutil
from pathlib import Path

from groundwork.platform.errors import NotFoundError
from groundwork.platform.storage.keys import key_parts
from groundwork.retrieval.durable import atomic_write_bytes


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        return self._root.joinpath(*key_parts(key))

    def put(self, key: str, data: bytes) -> None:
        atomic_write_bytes(self._path(key), data)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError(f"blob {key!r} not found") from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        path = self._path(prefix.rstrip("/"))
        if not path.is_dir():
            return 0
        count = sum(1 for item in path.rglob("*") if item.is_file())
        shutil.rmtree(path)
        return count
