"""Request limits that protect the service: per-key rate limits and the bounded generation queue."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from groundwork.platform.errors import OverloadedError, RateLimitedError


class RateLimiter:
    """A token bucket per key: `burst` requests at once, refilled at `per_minute / 60` per second. In memory,
    per process (behind N API replicas a key gets up to N times the rate)."""

    def __init__(self, per_minute: int, burst: int, *, max_keys: int = 100_000) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._max_keys = max_keys
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._rate > 0

    def check(self, key: str) -> None:
        """Take one request from `key`'s bucket or raise `RateLimitedError` with the seconds until one is free."""
        if not self.enabled:
            return
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - last) * self._rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self._rate
                raise RateLimitedError(
                    f"rate limit of {round(self._rate * 60)} requests per minute exceeded",
                    retry_after_seconds=max(1, math.ceil(wait)),
                )
            if len(self._buckets) >= self._max_keys and key not in self._buckets:
                self._buckets.clear()  # bounded memory; a cleared bucket starts full, which only errs lenient
            self._buckets[key] = (tokens - 1.0, now)


class GenerationAdmission:
    """At most `max_concurrent` generations at once and `max_waiting` waiting for a slot; a request beyond
    that, or one that waited `timeout` seconds, is refused with `OverloadedError` before anything started."""

    def __init__(self, max_concurrent: int, max_waiting: int, timeout: float) -> None:
        self._max_concurrent = max_concurrent
        self._max_waiting = max_waiting
        self._timeout = timeout
        self._running = 0
        self._waiting = 0
        self._slots: asyncio.Semaphore | None = None
        self._recent_seconds = 5.0
        """A moving average of how long a generation holds its slot (for Retry-After)."""

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return self._waiting

    def _retry_after(self) -> float:
        return float(min(60, max(1, math.ceil(self._recent_seconds * (self._waiting + 1) / self._max_concurrent))))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._max_concurrent)
        slots = self._slots
        if slots.locked():
            if self._waiting >= self._max_waiting:
                raise OverloadedError(
                    f"{self._running} answers are being generated and {self._waiting} are waiting; try again later",
                    retry_after_seconds=self._retry_after(),
                )
            self._waiting += 1
            try:
                await asyncio.wait_for(slots.acquire(), timeout=self._timeout)
            except TimeoutError as exc:
                raise OverloadedError(
                    f"no generation slot became free within {self._timeout:.0f}s; try again later",
                    retry_after_seconds=self._retry_after(),
                ) from exc
            finally:
                self._waiting -= 1
        else:
            await slots.acquire()
        self._running += 1
        started = time.monotonic()
        try:
            yield
        finally:
            self._running -= 1
            slots.release()
            self._recent_seconds = 0.8 * self._recent_seconds + 0.2 * (time.monotonic() - started)
