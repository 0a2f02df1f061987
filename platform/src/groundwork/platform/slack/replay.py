"""Refusing replayed requests: a request whose signature was already seen in the last 5 minutes is a copy.

Only requests with a valid signature are remembered (only Slack can make those), for as long as their timestamp
is acceptable. The memory is bounded: when it is full the oldest signature is forgotten and the *watermark*
moves up to its timestamp, so every request as old as a forgotten one is refused from then on. A copy is thus
never accepted; under a flood the window of acceptable timestamps only narrows. The memory is per process:
several API replicas behind a load balancer each keep their own (docs/slack.md).
"""

from __future__ import annotations

import heapq
import threading


class ReplayGuard:
    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._seen: set[str] = set()
        self._by_time: list[tuple[int, str]] = []
        self._watermark = -1
        self._lock = threading.Lock()

    def first_sighting(self, signature: str, timestamp: int, *, now: float, tolerance_seconds: int) -> bool:
        """Record a verified request; False if it is a replay (seen before, or as old as a forgotten one)."""
        with self._lock:
            horizon = now - tolerance_seconds
            while self._by_time and self._by_time[0][0] < horizon:
                _, old = heapq.heappop(self._by_time)
                self._seen.discard(old)
            if signature in self._seen or timestamp <= self._watermark:
                return False
            self._seen.add(signature)
            heapq.heappush(self._by_time, (timestamp, signature))
            while len(self._by_time) > self._max:
                forgotten_at, forgotten = heapq.heappop(self._by_time)
                self._seen.discard(forgotten)
                self._watermark = max(self._watermark, forgotten_at)
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)
