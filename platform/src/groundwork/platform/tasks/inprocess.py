"""`TaskQueue` as a bounded pool of threads in this process (the embedded default).

Tasks wait in one line per datastore (a payload's `datastore_id`), and idle threads take them round-robin
across datastores; a second task of a datastore that is already running waits while another datastore has
work. So one datastore's slow or hostile upload never holds back another's documents. Threads are daemons:
`close(grace)` stops taking tasks, drops the waiting ones (their documents stay `queued` in the metadata
store and are re-enqueued at the next start), waits up to `grace` seconds for the running ones, and returns.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Mapping
from typing import Any

from groundwork.platform.errors import InvalidRequestError, QueueFullError
from groundwork.platform.tasks.protocols import TaskHandler, TaskPayload

logger = logging.getLogger(__name__)

_Task = tuple[str, TaskHandler, dict[str, Any]]


class InProcessTaskQueue:
    """Threads share the process's models and indexes; at most `max_pending` tasks wait or run."""

    def __init__(self, handlers: Mapping[str, TaskHandler], *, workers: int, max_pending: int) -> None:
        self._handlers = handlers
        self._max_pending = max_pending
        self._lines: OrderedDict[str, deque[_Task]] = OrderedDict()
        self._running: dict[str, int] = {}
        self._pending = 0
        self._closed = False
        self._cond = threading.Condition()
        self._threads = [
            threading.Thread(target=self._work, name=f"groundwork-task-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, name: str, payload: TaskPayload, *, countdown: float | None = None) -> None:
        """`countdown` is ignored: a retry runs as soon as a thread is free."""
        handler = self._handlers.get(name)
        if handler is None:
            raise InvalidRequestError(f"unknown task {name!r}")
        key = str(payload.get("datastore_id") or "")
        with self._cond:
            if self._closed:
                raise QueueFullError("the server is shutting down; try again later")
            if self._pending >= self._max_pending:
                raise QueueFullError(f"{self._pending} tasks are waiting; try again later")
            self._pending += 1
            self._lines.setdefault(key, deque()).append((name, handler, dict(payload)))
            self._cond.notify()

    def _next(self) -> tuple[str, _Task] | None:
        """The next task (round-robin; a datastore not running first), or None when closed."""
        with self._cond:
            while True:
                if self._closed:
                    return None
                if self._lines:
                    keys = list(self._lines)
                    key = next((k for k in keys if not self._running.get(k)), keys[0])
                    line = self._lines.pop(key)
                    task = line.popleft()
                    if line:
                        self._lines[key] = line  # to the back of the rotation
                    self._running[key] = self._running.get(key, 0) + 1
                    return key, task
                self._cond.wait()

    def _work(self) -> None:
        while (item := self._next()) is not None:
            key, (name, handler, payload) = item
            try:
                handler(payload)
            except Exception:
                # The pipeline records per-document failures itself; this is a bug or an outage.
                logger.exception("task %s failed", name)
            finally:
                with self._cond:
                    self._pending -= 1
                    self._running[key] -= 1
                    if not self._running[key]:
                        del self._running[key]
                    self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return self._pending

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout=timeout)

    def close(self, grace: float | None = None) -> None:
        """Stop taking tasks; drop those waiting; wait up to `grace` seconds (None: for ever) for those running.

        With `grace` None every waiting task runs first (the local CLI: its own submissions must finish)."""
        if grace is None:
            self.wait_idle()
        deadline = None if grace is None else time.monotonic() + grace
        with self._cond:
            self._closed = True
            dropped = sum(len(line) for line in self._lines.values())
            self._pending -= dropped
            self._lines.clear()
            self._cond.notify_all()
            while self._running:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    logger.warning("%d tasks still running at the end of the grace period", sum(self._running.values()))
                    break
                self._cond.wait(left)
        if dropped:
            logger.info("%d waiting tasks left for the next start (their documents stay queued)", dropped)
