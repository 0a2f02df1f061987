"""Values of the answer flow: what goes in, what streams out, what comes back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from groundwork.platform.search import MetadataFilter, SearchHit
from groundwork.serving.types import ChatMessage


@dataclass(frozen=True)
class GenerationOptions:
    """What a caller may set about the model's part of an answer (the OpenAI-compatible endpoint's options).
    None: the platform's setting."""

    max_tokens: int | None = None
    """At most `generation.answer_tokens` (the context budget reserves that much)."""
    temperature: float | None = None
    stop: tuple[str, ...] = ()
    instructions: str | None = None
    """The caller's own instructions (OpenAI system messages), given to the model after the grounding rules."""
    history: tuple[ChatMessage, ...] = ()
    """Earlier turns of the caller's conversation (user and assistant), given to the model before the question."""


@dataclass(frozen=True)
class AnswerRequest:
    question: str
    datastore_ids: Sequence[str]
    filters: Sequence[MetadataFilter] = ()
    conversation_id: str | None = None
    """Continue this stored conversation (its earlier questions give the follow-up its context)."""
    previous_questions: Sequence[str] = ()
    """Earlier questions of a conversation kept by the caller (OpenAI-style clients send the history)."""
    top_k: int | None = None
    """Passages to retrieve; None: the `answers.top_k` setting."""
    surface: str = "answer"
    """Where the question came from (`answer`, `chat.completions`, `slack`, `cli`): the audit log's action."""
    draft: bool = False
    """Also stream the model's raw, unverified text as `draft` events (off by default; clearly labelled)."""
    options: GenerationOptions = GenerationOptions()


@dataclass(frozen=True)
class Citation:
    """`[n]` in the answer text refers to this passage: `text` is `document.text[start:end]`."""

    number: int
    chunk_id: int
    document_id: str
    datastore_id: str
    title: str
    source_uri: str
    start_offset: int
    end_offset: int
    page: int | None
    heading_path: list[str]
    quote: str


@dataclass(frozen=True)
class ClaimResult:
    text: str
    citations: list[int]
    supported: bool
    score: float
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AnswerResult:
    answer: str
    """The answer with inline [n] markers (unsupported claims removed or flagged, per settings)."""
    citations: list[Citation]
    claims: list[ClaimResult]
    refused: bool
    """True when the documents don't answer the question; `answer` says so and `retrieved` lists the
    closest sources."""
    mode: Literal["generated", "extractive", "refusal"]
    retrieved: list[SearchHit]
    conversation_id: str
    standalone_query: str
    timings_ms: dict[str, float]
    notice: str | None = None
    """Why the answer is degraded (e.g. the language model is unavailable), if it is."""
    message_id: int | None = None
    """The stored assistant turn (feedback refers to it)."""
    usage: dict[str, int] | None = None
    """Tokens of the model call: `prompt_tokens`, `completion_tokens`, `total_tokens` (None: no model call)."""
    fallback: dict[str, Any] | None = None
    """When generation was stopped early for the extractive answer: `reason` (`unsupported`, `repetition`),
    `after_claims` (claims checked by then) and `at_ms` (since the request started)."""


@dataclass(frozen=True)
class AnswerEvent:
    """One event of a streamed answer (docs/api.md): `retrieval`, `claim` (a verified claim, shown as it passes),
    `notice`, `done` (the final answer); `draft` (raw model text) only when asked for; `error`."""

    event: Literal["retrieval", "claim", "notice", "draft", "done", "error"]
    data: dict[str, Any]
