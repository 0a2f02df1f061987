"""Reading a vLLM server's Prometheus metrics in tests."""

from __future__ import annotations

import re

import httpx


def running_requests(base_url: str) -> float:
    """Requests the server is generating for now (`vllm:num_requests_running`, summed over its labels)."""
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    values = [float(m) for m in re.findall(r"^vllm:num_requests_running\{[^}]*\} ([0-9.e+-]+)$", text, re.M)]
    assert values, "vllm:num_requests_running is missing from /metrics"
    return sum(values)
