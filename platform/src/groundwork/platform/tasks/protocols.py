"""The `TaskQueue` role and the registry that names task functions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

TaskPayload = Mapping[str, Any]
"""JSON-serialisable: ids and URIs, never document contents."""
TaskHandler = Callable[[TaskPayload], None]


class TaskQueue(Protocol):
    """Runs named tasks asynchronously. Tasks must be idempotent: any task may run more than once."""

    def submit(self, name: str, payload: TaskPayload, *, countdown: float | None = None) -> None:
        """Schedule task `name`; raises `QueueFullError` when the queue is at capacity. `countdown`: run no
        earlier than that many seconds from now (a retry's backoff), if the queue supports delays."""
        ...

    def pending(self) -> int:
        """Tasks submitted and not yet finished."""
        ...

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no task is pending; False on timeout."""
        ...

    def close(self) -> None:
        """Stop accepting tasks and wait for running ones."""
        ...
