"""When to retry a request and how long to wait: the server's Retry-After when it sends one, else exponential
backoff; both capped and jittered so that many clients refused at once do not come back at once."""

from __future__ import annotations

import random
from dataclasses import dataclass

RETRY_STATUSES_ANY = frozenset({429, 503})
"""Refused before anything was done (rate limit, full queue, starting): safe to resend any request."""
RETRY_STATUSES_IDEMPOTENT = frozenset({502, 504})
"""May have been half-done: resent only for idempotent calls (as are broken connections)."""


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    """Retries after the first attempt (0: never retry)."""
    backoff: float = 0.5
    """The first wait without Retry-After, in seconds; doubled on every retry."""
    max_delay: float = 30.0
    """No single wait is longer than this, whatever Retry-After says."""
    jitter: float = 0.25
    """Each wait is lengthened by a random fraction up to this."""

    def should_retry(self, attempt: int, *, status: int | None, idempotent: bool) -> bool:
        """`attempt` counts from 0; `status` None means the connection failed."""
        if attempt >= self.max_retries:
            return False
        if status is None:
            return idempotent
        return status in RETRY_STATUSES_ANY or (idempotent and status in RETRY_STATUSES_IDEMPOTENT)

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number `attempt + 1`."""
        base = self.backoff * (2.0**attempt)
        wait = min(self.max_delay, max(base, retry_after or 0.0))
        spread: float = (rng or random.Random()).uniform(0, self.jitter)
        return wait * (1 + spread)
