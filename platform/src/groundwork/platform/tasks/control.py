"""Stopping and cancelling ingestion work in flight, shared by the document service (which deletes) and the
pipeline (which checks): `stopping` is set at shutdown, `cancel(document_id)` when a document is deleted while
it is being processed, which also kills the parser process working on it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class WorkControl:
    """Thread-safe; one per process."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._cancelled: set[str] = set()
        self._active: dict[str, list[Callable[[], None]]] = {}

    def cancel(self, document_id: str) -> None:
        """Stop processing `document_id` (it was deleted): running kill callbacks are called at once."""
        with self._lock:
            self._cancelled.add(document_id)
            callbacks = list(self._active.get(document_id, ()))
        for callback in callbacks:
            callback()

    def is_cancelled(self, document_id: str) -> bool:
        with self._lock:
            return document_id in self._cancelled

    def forget(self, document_id: str) -> None:
        """The document's processing ended; a later version starts uncancelled."""
        with self._lock:
            self._cancelled.discard(document_id)

    @contextmanager
    def active(self, document_id: str, on_cancel: Callable[[], None]) -> Iterator[None]:
        """While inside, `cancel(document_id)` calls `on_cancel` (e.g. kill the parser subprocess)."""
        with self._lock:
            self._active.setdefault(document_id, []).append(on_cancel)
            cancelled = document_id in self._cancelled
        try:
            if cancelled:
                on_cancel()
            yield
        finally:
            with self._lock:
                callbacks = self._active.get(document_id, [])
                if on_cancel in callbacks:
                    callbacks.remove(on_cancel)
                if not callbacks:
                    self._active.pop(document_id, None)
