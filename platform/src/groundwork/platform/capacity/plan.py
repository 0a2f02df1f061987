"""Ask for accelerator capacity only when work is waiting: the decision, apart from where the depth comes from."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decision:
    request: bool
    count: int
    """Pods to ask capacity for (0 when `request` is False)."""
    reason: str


def decide(depth: int, *, threshold: int, per_pod: int | None = None, max_count: int = 1) -> Decision:
    """Request capacity when more than `threshold` tasks wait. With `per_pod`, ask for one pod per `per_pod`
    waiting tasks (at least 1, at most `max_count`); without it, for `max_count` pods."""
    if depth <= threshold:
        return Decision(False, 0, f"{depth} waiting, not above {threshold}: no capacity requested")
    count = max_count if per_pod is None else min(max_count, max(1, math.ceil(depth / per_pod)))
    return Decision(True, count, f"{depth} waiting, above {threshold}: requesting capacity for {count} pods")
