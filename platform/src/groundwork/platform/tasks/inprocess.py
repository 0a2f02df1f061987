"""`TaskQueue` as a bounded pool of threads in this process (the embedded default)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from groundwork.platform.errors import InvalidRequestError, QueueFullError
from groundwork.platform.tasks.protocols import TaskHandler, TaskPayload

logger = logging.getLogger(__name__)


class InProcessTaskQueue:
    """Threads share the process's models and indexes; at most `max_pending` tasks wait."""

    def __init__(self, handlers: Mapping[str, TaskHandler], *, workers: int, max_pending: int) -> None:
        self._handlers = handlers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="groundwork-task")
        self._max_pending = max_pending
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, name: str, payload: TaskPayload, *, countdown: float | None = None) -> None:
        """`countdown` is ignored: a retry runs as soon as a thread is free."""
        handler = self._handlers.get(name)
        if handler is None:
            raise InvalidRequestError(f"unknown task {name!r}")
        with self._idle:
            if self._pending >= self._max_pending:
                raise QueueFullError(f"{self._pending} tasks are waiting; try again later")
            self._pending += 1
        self._executor.submit(self._run, name, handler, dict(payload))

    def _run(self, name: str, handler: TaskHandler, payload: dict[str, Any]) -> None:
        try:
            handler(payload)
        except Exception:
            # The pipeline records per-document failures itself; this is a bug or an outage.
            logger.exception("task %s failed", name)
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def pending(self) -> int:
        with self._idle:
            return self._pending

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=False)
