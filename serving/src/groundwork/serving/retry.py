"""Retry timing: capped exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
Jitter"), so that many clients reconnecting to a restarted server do not arrive in lockstep."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry a request that could not reach the server.

    Only failures that prove the request was never sent (connection refused, connect timeout) are retried;
    see `OpenAIChatGenerator`.
    """

    max_attempts: int = 4
    """Total attempts including the first; 1 disables retries."""
    base_delay_s: float = 0.25
    """Upper bound of the wait before the first retry; doubles with each further retry."""
    max_delay_s: float = 4.0
    """Upper bound of any single wait."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if self.base_delay_s < 0 or self.max_delay_s < 0:
            raise ValueError("retry delays must be >= 0")

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """The waits before retry 1, 2, ... (`max_attempts - 1` values): uniform in [0, min(cap, base * 2**n)]."""
        draw = (rng or random.Random()).uniform
        for attempt in range(self.max_attempts - 1):
            yield draw(0.0, min(self.max_delay_s, self.base_delay_s * 2**attempt))
