"""Values exchanged with a `Generator`: frozen, framework-free, cheap to build and compare."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of a chat conversation."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """What to generate.

    `messages` is rendered with the served model's own chat template by the server. `stop` strings end the
    generation early (they are not part of the returned text). `seed` makes sampling reproducible on one server.
    """

    messages: tuple[ChatMessage, ...]
    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        if not self.messages:
            raise ValueError("a generation request needs at least one message")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {self.max_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as reported by the server (the model's own tokenizer)."""

    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class Timings:
    """Client-side timings of one request, in seconds from the moment the request was sent.

    `ttft_s` is the time to the first non-empty text delta (None if no text came back); `total_s` the time to
    the end of the stream; `retries` how many connection attempts failed before the request went through.
    """

    ttft_s: float | None
    total_s: float
    retries: int = 0


@dataclass(frozen=True, slots=True)
class CompletionDelta:
    """One piece of a streamed completion. Concatenating every `text` gives the full completion text.

    The last delta of a stream carries `finish_reason` ("stop", "length", ...) and, when the server reports it,
    `usage`.
    """

    text: str
    finish_reason: str | None = None
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class Completion:
    """A finished generation."""

    text: str
    finish_reason: str | None
    usage: Usage | None
    timings: Timings
    model: str = ""
