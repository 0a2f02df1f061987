"""A bounded map whose entries expire: event ids already handled, Slack member lists and profiles."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """At most `max_entries` entries, each kept `ttl_seconds` after it was stored (0: nothing is kept). When full,
    the entry stored first is dropped. Safe to use from several threads."""

    def __init__(self, ttl_seconds: float, max_entries: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return len(self._entries)

    def get(self, key: K) -> V | None:
        with self._lock:
            self._expire(self._clock())
            entry = self._entries.get(key)
            return None if entry is None else entry[1]

    def put(self, key: K, value: V) -> None:
        if self._ttl <= 0:
            return
        with self._lock:
            now = self._clock()
            self._expire(now)
            self._entries.pop(key, None)
            self._entries[key] = (now + self._ttl, value)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def add_if_absent(self, key: K, value: V) -> bool:
        """Store `value` unless `key` is present; True if it was stored (the first sighting)."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            if key in self._entries:
                return False
            if self._ttl > 0:
                self._entries[key] = (now + self._ttl, value)
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)
            return True

    def pop(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def _expire(self, now: float) -> None:
        # Entries are kept in insertion order with one TTL, so the expired ones are at the front.
        while self._entries:
            key, (expires, _) = next(iter(self._entries.items()))
            if expires > now:
                return
            del self._entries[key]
