"""The data directory lock: one process at a time owns a data directory's indexes (one writer per index).

In scale-out mode (`ingestion.queue=celery`) API and worker processes share the directory: each holds the
lock *shared*, which keeps an embedded-mode process (exclusive) out while they run and vice versa; the
indexes then serialise their writers per datastore themselves (`IndexManager` in shared mode)."""

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
    def acquire(cls, data_dir: Path, *, owner: str, shared: bool = False) -> DataDirLock:
        """Take the lock or raise `DataDirLockedError` naming the process that holds it."""
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / LOCK_FILE
        handle = open(path, "a+")  # noqa: SIM115 - held for the life of the process
        try:
            fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise DataDirLockedError(
                f"data directory {data_dir} is in use by {holder}; stop it, or point the command at that "
                "server with --url / GROUNDWORK_URL"
            ) from exc
        if not shared:
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"pid": os.getpid(), "owner": owner}))
        else:
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"owner": "scale-out processes (API servers and Celery workers)"}))
        handle.flush()
        return cls(handle, path)

    def release(self) -> None:
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
