"""The language model this process answers with: a supervised local vLLM, a remote OpenAI-compatible server,
or none. Starting a local server takes tens of seconds, so it starts in the background: until it is healthy
(or if it dies for good) answers are extractive and say so."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from groundwork.platform.config import GenerationConfig, StorageConfig
from groundwork.platform.modelstore.resolver import model_resolvers
from groundwork.serving.engine import EngineConfig, LocalEngine
from groundwork.serving.errors import ServingError
from groundwork.serving.openai_client import OpenAIChatGenerator, OpenAIClientConfig
from groundwork.serving.protocols import Generator
from groundwork.serving.tokens import TokenCounter

logger = logging.getLogger(__name__)


class GenerationRuntime:
    def __init__(
        self,
        config: GenerationConfig,
        *,
        storage: StorageConfig | None = None,
        pid_file: Path | None = None,
        stop_timeout_s: float = 15.0,
    ) -> None:
        """`storage` configures the Cloud Storage client that pulls `gs://` models (emulator, project);
        default: Application Default Credentials. `pid_file` records the local vLLM server's pid, so one
        left by a killed process is stopped at the next start; `stop_timeout_s` bounds each step of `stop()`."""
        self._pid_file = pid_file
        self._stop_timeout_s = stop_timeout_s
        self._config = config
        self._cache_dir = config.cache_dir.expanduser()
        self._storage = storage or StorageConfig()
        self._engine: LocalEngine | None = None
        self._generator: Generator | None = None
        self._counter: TokenCounter | None = None
        self._thread: threading.Thread | None = None
        self.failure: str | None = None
        self._ready = threading.Event()
        self._start_lock = threading.Lock()
        self._started = False

    def start(self, *, wait: bool = False) -> None:
        """Connect to (or start) the model; with `wait`, block until it is usable or has failed.
        Idempotent: a second call waits for (or returns) what the first started."""
        with self._start_lock:
            if not self._started:
                self._begin()
                self._started = True
        if wait:
            self._ready.wait()

    def _begin(self) -> None:
        config = self._config
        if config.backend == "none":
            self.failure = "no language model is configured (generation.backend=none)"
            self._ready.set()
            return
        if config.backend == "remote":
            if not config.base_url:
                raise ServingError("generation.backend=remote needs generation.base_url")
            self._generator = self._client(config.base_url)
            if config.tokenizer_dir:
                self._counter = TokenCounter.from_model_dir(Path(config.tokenizer_dir))
            self._ready.set()
            return
        self._thread = threading.Thread(target=self._start_local, name="vllm-start", daemon=True)
        self._thread.start()

    def _client(self, base_url: str) -> OpenAIChatGenerator:
        return OpenAIChatGenerator(
            OpenAIClientConfig(
                base_url=base_url,
                model=self._config.served_model_name,
                read_timeout_s=self._config.request_timeout_seconds,
            )
        )

    def _start_local(self) -> None:
        config = self._config
        engine = LocalEngine(
            EngineConfig(
                python=Path(config.vllm_python).expanduser().absolute(),
                model=config.model,
                cache_dir=self._cache_dir,
                served_model_name=config.served_model_name,
                port=config.port,
                max_model_len=config.context_window,
                startup_timeout_s=config.startup_timeout_seconds,
                extra_args=tuple(config.vllm_args),
                pid_file=self._pid_file,
                stop_timeout_s=self._stop_timeout_s,
            ),
            resolvers=model_resolvers(self._storage, self._cache_dir),
        )
        self._engine = engine
        try:
            engine.start()
            self._counter = TokenCounter.from_model_dir(engine.prepared_model.path)
            self._generator = self._client(engine.base_url)
            logger.info("local language model ready at %s (%s)", engine.base_url, engine.model_name)
        except (ServingError, OSError) as exc:
            self.failure = str(exc)
            logger.error("local language model failed to start: %s", exc)
        finally:
            self._ready.set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    def generator(self) -> Generator | None:
        """The generator, or None while the model is starting or unavailable."""
        return self._generator

    @property
    def base_url(self) -> str | None:
        """The OpenAI-compatible server answers come from: the local engine's or the remote one's."""
        if self._engine is not None:
            return self._engine.base_url
        return self._config.base_url or None

    def token_counter(self) -> Callable[[str], int] | None:
        """Counts tokens with the served model's tokenizer, once it is known."""
        return self._counter.count if self._counter else None

    async def aclose(self) -> None:
        if self._generator is not None:
            await self._generator.aclose()

    def stop(self) -> None:
        if self._engine is not None:
            self._engine.stop()
