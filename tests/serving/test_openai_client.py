"""The OpenAI-compatible client's failure handling: retries only on connection failures, never after a response
started; HTTP errors and stalls become serving errors. Failures are injected with real sockets (a refused port,
a stdlib HTTP server); successful streams replay bytes captured from a real vLLM server."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from groundwork.serving.errors import (
    GeneratorRequestError,
    GeneratorResponseError,
    GeneratorTimeout,
    GeneratorUnavailable,
)
from groundwork.serving.openai_client import OpenAIChatGenerator, OpenAIClientConfig
from groundwork.serving.retry import RetryPolicy
from groundwork.serving.types import ChatMessage, GenerationRequest
from tests.serving.captured import VLLM_CHAT_STREAM, VLLM_CHAT_TEXT
from tests.serving.http_stub import serve, sse_response, stall, status_response

T = TypeVar("T")
REQUEST = GenerationRequest(messages=(ChatMessage(role="user", content="hi"),), max_tokens=8)
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay_s=0.05, max_delay_s=0.2)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def client(url: str, **overrides: Any) -> OpenAIChatGenerator:
    config: dict[str, Any] = {"base_url": url, "model": "m", "retry": FAST_RETRY, "read_timeout_s": 5.0}
    config.update(overrides)
    return OpenAIChatGenerator(OpenAIClientConfig(**config))


def test_replayed_vllm_stream_becomes_a_completion() -> None:
    async def go() -> None:
        with serve(sse_response(VLLM_CHAT_STREAM)) as server:
            async with client(server.url + "/v1") as generator:
                completion = await generator.generate(REQUEST)
        assert completion.text == VLLM_CHAT_TEXT
        assert completion.finish_reason == "length"
        assert completion.usage is not None and completion.usage.completion_tokens > 0
        assert completion.timings.ttft_s is not None and completion.timings.retries == 0
        assert server.requests == ["POST /v1/chat/completions"]

    run(go())


def test_refused_connections_are_retried_then_reported_unavailable() -> None:
    async def go() -> None:
        port = free_port()  # nothing listens: every connect is refused
        started = time.perf_counter()
        async with client(f"http://127.0.0.1:{port}") as generator:
            with pytest.raises(GeneratorUnavailable, match="after 4 attempts") as caught:
                await generator.generate(REQUEST)
        elapsed = time.perf_counter() - started
        assert caught.value.__cause__ is not None, "the httpx exception is chained"
        assert elapsed < 0.05 + 0.1 + 0.2 + 1.0, "waits are bounded by the policy"

    run(go())


def test_a_server_that_comes_up_late_is_reached_by_retrying() -> None:
    async def go() -> None:
        port = free_port()
        policy = RetryPolicy(max_attempts=30, base_delay_s=0.1, max_delay_s=0.1)
        with serve(sse_response(VLLM_CHAT_STREAM), port=port, delay_s=0.4) as server:
            async with client(f"http://127.0.0.1:{port}", retry=policy) as generator:
                completion = await generator.generate(REQUEST)
            assert server.requests == ["POST /v1/chat/completions"]
        assert completion.text == VLLM_CHAT_TEXT
        assert completion.timings.retries >= 1

    run(go())


def test_a_stream_that_breaks_off_is_not_retried() -> None:
    async def go() -> None:
        cut = VLLM_CHAT_STREAM.index(b"\n\n", len(VLLM_CHAT_STREAM) // 2)  # after several tokens
        with serve(sse_response(VLLM_CHAT_STREAM, cut_after=cut)) as server:
            async with client(server.url) as generator:
                received: list[str] = []
                with pytest.raises(GeneratorResponseError):
                    async for delta in generator.stream(REQUEST):
                        received.append(delta.text)
            assert server.requests == ["POST /v1/chat/completions"], "sent once: tokens had been streamed"
        assert "".join(received) and VLLM_CHAT_TEXT.startswith("".join(received))

    run(go())


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, GeneratorRequestError),
        (404, GeneratorRequestError),
        (500, GeneratorResponseError),
        (503, GeneratorUnavailable),
        (502, GeneratorUnavailable),
    ],
)
def test_http_errors_are_translated_and_not_retried(status: int, error: type[Exception]) -> None:
    body = b'{"error": {"message": "This model\'s maximum context length is 2048 tokens", "code": 400}}'

    async def go() -> None:
        with serve(status_response(status, body)) as server:
            async with client(server.url) as generator:
                with pytest.raises(error, match="maximum context length is 2048"):
                    await generator.generate(REQUEST)
            assert server.requests == ["POST /v1/chat/completions"]

    run(go())


def test_a_stalled_server_times_out() -> None:
    async def go() -> None:
        with serve(stall(3.0)) as server:
            async with client(server.url, read_timeout_s=0.3) as generator:
                started = time.perf_counter()
                with pytest.raises(GeneratorTimeout):
                    await generator.generate(REQUEST)
                assert time.perf_counter() - started < 2.0
            assert server.requests == ["POST /v1/chat/completions"], "a read timeout is not retried"

    run(go())


def test_health_is_a_boolean_and_never_raises() -> None:
    async def go() -> None:
        async with client(f"http://127.0.0.1:{free_port()}") as generator:
            assert await generator.check_health() is False
        with serve(status_response(200, b"")) as server:
            async with client(server.url) as generator:
                assert await generator.check_health() is True
            assert server.requests == ["GET /health"]
        with serve(status_response(503, b"")) as server:
            async with client(server.url) as generator:
                assert await generator.check_health() is False

    run(go())


def test_retry_delays_are_jittered_capped_and_bounded_in_number() -> None:
    policy = RetryPolicy(max_attempts=6, base_delay_s=0.5, max_delay_s=2.0)
    samples = [list(policy.delays()) for _ in range(200)]
    assert all(len(s) == 5 for s in samples)
    caps = [0.5, 1.0, 2.0, 2.0, 2.0]
    assert all(0 <= d <= cap for s in samples for d, cap in zip(s, caps, strict=True))
    assert len({s[0] for s in samples}) > 100, "jittered, not lockstep"
    assert list(RetryPolicy(max_attempts=1).delays()) == []
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
