"""A `Generator` for any OpenAI-compatible chat completions server (vLLM's `api_server`, on CPU, GPU or TPU).

Every request is streamed (`stream: true`), so `generate()` measures time-to-first-token too. Connection failures
that prove the request never reached the server are retried with jittered exponential backoff; nothing is retried
once the server has accepted the request. Closing the stream early closes the HTTP connection, and vLLM aborts a
request whose client disconnected, so abandoned generations stop consuming the engine.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

import httpx

from groundwork.serving.errors import (
    GeneratorRequestError,
    GeneratorResponseError,
    GeneratorTimeout,
    GeneratorUnavailable,
)
from groundwork.serving.retry import RetryPolicy
from groundwork.serving.sse import SSEDecoder
from groundwork.serving.types import Completion, CompletionDelta, GenerationRequest, Timings, Usage

logger = logging.getLogger(__name__)

_UNAVAILABLE_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True, slots=True)
class OpenAIClientConfig:
    """Where the server is and how patiently to talk to it."""

    base_url: str
    """Server root, e.g. `http://127.0.0.1:8000` (a trailing `/v1` is accepted and ignored)."""
    model: str
    """The served model name (vLLM's `--served-model-name`)."""
    api_key: str | None = None
    """Sent as `Authorization: Bearer ...` when set (vLLM's `--api-key`)."""
    connect_timeout_s: float = 5.0
    """Seconds to establish a TCP connection."""
    read_timeout_s: float = 60.0
    """Seconds to wait for the next bytes of a response, including the first token after a long prefill."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    """Retries of connection failures (never of a request the server accepted)."""
    health_timeout_s: float = 2.0
    """Seconds `check_health()` waits for `/health`."""


class OpenAIChatGenerator:
    """Streams chat completions from `POST {base_url}/v1/chat/completions`.

    Cheap to construct; the connection pool opens on first use. Call `aclose()` (or use `async with`) when done.
    """

    def __init__(self, config: OpenAIClientConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._config = config
        root = config.base_url.rstrip("/")
        self._root = root.removesuffix("/v1")
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._client = httpx.AsyncClient(
            base_url=self._root,
            headers=headers,
            timeout=httpx.Timeout(config.read_timeout_s, connect=config.connect_timeout_s),
            transport=transport,
        )

    @property
    def config(self) -> OpenAIClientConfig:
        return self._config

    async def __aenter__(self) -> OpenAIChatGenerator:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def check_health(self) -> bool:
        try:
            response = await self._client.get("/health", timeout=self._config.health_timeout_s)
        except httpx.HTTPError as exc:
            logger.debug("health check of %s failed: %r", self._root, exc)
            return False
        return response.status_code == 200

    async def generate(self, request: GenerationRequest) -> Completion:
        parts: list[str] = []
        finish_reason: str | None = None
        usage: Usage | None = None
        ttft: float | None = None
        started = time.perf_counter()
        stats = _StreamStats()
        async with aclosing(self._stream(request, stats)) as deltas:
            async for delta in deltas:
                if delta.text and ttft is None:
                    ttft = time.perf_counter() - started
                parts.append(delta.text)
                finish_reason = delta.finish_reason or finish_reason
                usage = delta.usage or usage
        timings = Timings(ttft_s=ttft, total_s=time.perf_counter() - started, retries=stats.retries)
        return Completion(
            text="".join(parts), finish_reason=finish_reason, usage=usage, timings=timings, model=self._config.model
        )

    def stream(self, request: GenerationRequest) -> AsyncGenerator[CompletionDelta, None]:
        return self._stream(request, _StreamStats())

    async def _stream(self, request: GenerationRequest, stats: _StreamStats) -> AsyncGenerator[CompletionDelta, None]:
        body = _request_body(self._config.model, request)
        delays = self._config.retry.delays()
        while True:
            try:
                response = await self._client.send(
                    self._client.build_request("POST", "/v1/chat/completions", json=body), stream=True
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # The request never reached the server: safe to send again.
                delay = next(delays, None)
                if delay is None:
                    raise GeneratorUnavailable(
                        f"cannot connect to {self._root} after {stats.retries + 1} attempts: {exc}"
                    ) from exc
                stats.retries += 1
                logger.info("connection to %s failed (%r); retry %d in %.2f s", self._root, exc, stats.retries, delay)
                await asyncio.sleep(delay)
                continue
            except httpx.TimeoutException as exc:
                raise GeneratorTimeout(f"{self._root} did not answer in time: {exc}") from exc
            except httpx.HTTPError as exc:
                raise GeneratorUnavailable(f"request to {self._root} failed before a response: {exc}") from exc
            break
        try:
            await _raise_for_status(response)
            async for delta in _read_deltas(response):
                yield delta
        except httpx.TimeoutException as exc:
            raise GeneratorTimeout(f"{self._root} stopped streaming for {self._config.read_timeout_s} s") from exc
        except httpx.HTTPError as exc:
            raise GeneratorResponseError(f"stream from {self._root} broke off: {exc}") from exc
        finally:
            # Closing an unfinished response closes its connection; vLLM then aborts the request.
            await response.aclose()


@dataclass(slots=True)
class _StreamStats:
    retries: int = 0


def _request_body(model: str, request: GenerationRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.stop:
        body["stop"] = list(request.stop)
    if request.seed is not None:
        body["seed"] = request.seed
    return body


async def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code == 200:
        return
    detail = (await response.aread()).decode("utf-8", errors="replace")[:2000]
    message = f"{response.request.url} answered HTTP {response.status_code}: {_error_message(detail)}"
    if response.status_code in _UNAVAILABLE_STATUSES:
        raise GeneratorUnavailable(message)
    if 400 <= response.status_code < 500:
        raise GeneratorRequestError(message, status_code=response.status_code)
    raise GeneratorResponseError(message)


def _error_message(body: str) -> str:
    """The `message` of an OpenAI-style error body, or the raw body."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body
    if isinstance(payload, dict):
        error = payload.get("error", payload)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
    return body


async def _read_deltas(response: httpx.Response) -> AsyncIterator[CompletionDelta]:
    decoder = SSEDecoder()
    async for chunk in response.aiter_bytes():
        for event in decoder.feed(chunk):
            if event.data == "[DONE]":
                return
            delta = parse_chunk(event.data)
            if delta is not None:
                yield delta
    raise GeneratorResponseError("the stream ended without [DONE]: the server closed the connection mid-answer")


def parse_chunk(data: str) -> CompletionDelta | None:
    """Turn one `chat.completion.chunk` JSON payload into a delta; None for chunks that carry nothing
    (the role-only first chunk). An `error` payload (vLLM reports in-stream failures this way) raises."""
    try:
        payload = json.loads(data)
    except ValueError as exc:
        raise GeneratorResponseError(f"malformed stream chunk: {data[:200]!r}") from exc
    if not isinstance(payload, dict):
        raise GeneratorResponseError(f"unexpected stream chunk: {data[:200]!r}")
    if "error" in payload:
        raise GeneratorResponseError(f"the server failed mid-stream: {_error_message(data)}")
    usage = _usage(payload.get("usage"))
    text = ""
    finish_reason: str | None = None
    for choice in payload.get("choices") or []:
        content = (choice.get("delta") or {}).get("content")
        if content:
            text += content
        finish_reason = choice.get("finish_reason") or finish_reason
    if not text and finish_reason is None and usage is None:
        return None
    return CompletionDelta(text=text, finish_reason=finish_reason, usage=usage)


def _usage(raw: object) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    try:
        return Usage(prompt_tokens=int(raw["prompt_tokens"]), completion_tokens=int(raw["completion_tokens"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise GeneratorResponseError(f"malformed usage in stream: {raw!r}") from exc
