"""The roles of the serving area. Implementations are adapters (an OpenAI-compatible HTTP client for vLLM).

Constructors are cheap and open nothing; network connections are made on first use.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol

from groundwork.serving.types import Completion, CompletionDelta, GenerationRequest


class Generator(Protocol):
    """Generates chat completions from a language model.

    Errors are `groundwork.serving.errors.GeneratorError` subclasses, never transport exceptions.
    """

    async def generate(self, request: GenerationRequest) -> Completion:
        """Generate the whole completion and return it with usage and timings."""
        ...

    def stream(self, request: GenerationRequest) -> AsyncGenerator[CompletionDelta, None]:
        """Yield the completion as it is generated.

        Stopping early (breaking out of the loop, cancelling the task, or `aclose()` on the iterator) releases
        the request on the server: generation stops there and no further tokens are computed. Use
        `contextlib.aclosing(generator.stream(request))` to release it at a known point rather than when the
        iterator is garbage-collected. A failure after the first delta is never retried.
        """
        ...

    async def check_health(self) -> bool:
        """True if the server answers its health check now; never raises."""
        ...

    async def aclose(self) -> None:
        """Close network connections. The generator must not be used afterwards."""
        ...
