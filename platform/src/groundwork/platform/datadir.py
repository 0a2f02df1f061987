"""The data directory lock: one process at a time owns a data directory's indexes (one writer per index)."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import IO

from groundwork.platform.errors import DataDirLockedError

LOCK_FILE = ".groundwork.lock"


class DataDirLock:
    def __init__(self, handle: IO[str], path: Path) -> None:
        self._handle = handle
        self.path = path

    @classmethod
    def acquire(cls, data_dir: Path, *, owner: str) -> DataDirLock:
        """Take the lock or raise `DataDirLockedError` naming the process that holds it."""
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / LOCK_FILE
        handle = open(path, "a+")  # noqa: SIM115 - held for the life of the process
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise DataDirLockedError(
                f"data directory {data_dir} is in use by {holder}; stop it, or point the command at that "
                "server with --url / GROUNDWORK_URL"
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "owner": owner}))
        handle.flush()
        return cls(handle, path)

    def release(self) -> None:
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
