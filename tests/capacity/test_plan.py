from __future__ import annotations

from groundwork.platform.capacity.plan import decide


def test_no_capacity_while_the_queue_is_at_or_below_the_threshold() -> None:
    assert not decide(0, threshold=0).request
    decision = decide(100, threshold=100, max_count=4)
    assert (decision.request, decision.count) == (False, 0)
    assert "not above 100" in decision.reason


def test_above_the_threshold_asks_for_max_count_or_one_pod_per_batch_of_tasks() -> None:
    assert (decide(101, threshold=100, max_count=4).count) == 4
    assert decide(101, threshold=100, per_pod=50, max_count=4).count == 3
    assert decide(1, threshold=0, per_pod=50, max_count=4).count == 1
    assert decide(10_000, threshold=0, per_pod=50, max_count=4).count == 4
