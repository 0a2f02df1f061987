"""`/v1/chat/completions` in OpenAI's schema (`openai_protocol.py`), where `model` names a datastore (or several,
joined by `+`).

The last user message is the question. Earlier user and assistant turns are the conversation: they go to the
model before the sources, and earlier questions give a follow-up its retrieval context. System (and developer)
messages are the caller's instructions, given to the model after the grounding rules; one that tries to lift
those rules (answer without the sources, without citations, ignore the instructions) is refused with an
OpenAI-style error `system_message_overrides_grounding`. `max_tokens`, `temperature` and `stop` are honoured;
`n` must be 1.

Streaming sends each verified claim as a `chat.completion.chunk` the moment it passes verification (never an
unverified sentence), then a final chunk with `finish_reason` and the citations in the extra field `groundwork`,
a `usage` chunk when `stream_options.include_usage` is set, and `[DONE]`. `usage` counts the model call's real
prompt and completion tokens (0 when the answer needed no model call).
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse

from groundwork.platform.answers.types import AnswerEvent, AnswerRequest, GenerationOptions
from groundwork.platform.api.deps import AnswersDep, PrincipalDep
from groundwork.platform.api.openai_protocol import (
    ChatCompletionChoice,
    ChatCompletionChunk,
    ChatCompletionMessage,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatCompletionStreamChoice,
    DeltaMessage,
    ErrorResponse,
    OpenAIRequestError,
    UsageInfo,
    completion_id,
)
from groundwork.platform.api.routers.answers import started_stream
from groundwork.serving.types import ChatMessage

router = APIRouter(tags=["openai"])

_OVERRIDE = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instructions?|rules?|sources?|context|prompt)\b"
    r"|\b(without|no|don'?t|do not|never)\b.{0,20}\b(cit(e|ing|ations?)|sources?)\b"
    r"|\b(own|general|prior|world|outside) knowledge\b"
    r"|\bnot (limited|restricted) to the (sources|documents|context)\b",
    re.IGNORECASE | re.DOTALL,
)
_UNSUPPORTED_FIELDS = ("tools", "functions", "tool_choice", "function_call")


def overrides_grounding(instructions: str) -> bool:
    """Whether a system message tries to lift the grounding rules (answer from the sources, cite them)."""
    return _OVERRIDE.search(instructions) is not None


def to_request(body: ChatCompletionRequest, max_answer_tokens: int) -> AnswerRequest:
    """The answer request of a chat completion request, or `OpenAIRequestError` for what cannot be honoured."""
    if body.n != 1:
        raise OpenAIRequestError("Only n=1 is supported: an answer is verified once.", param="n", code="unsupported_n")
    extra = body.model_extra or {}
    for name in _UNSUPPORTED_FIELDS:
        if extra.get(name):
            raise OpenAIRequestError(f"`{name}` is not supported by the RAG agent.", param=name, code="unsupported")
    response_format = extra.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type", "text") != "text":
        raise OpenAIRequestError("Only text responses are supported.", param="response_format", code="unsupported")
    max_tokens = body.max_completion_tokens or body.max_tokens
    if max_tokens is not None and max_tokens > max_answer_tokens:
        raise OpenAIRequestError(
            f"max_tokens may be at most {max_answer_tokens} (generation.answer_tokens).",
            param="max_tokens",
            code="max_tokens_too_large",
        )
    if len(body.stop_strings()) > 4:
        raise OpenAIRequestError("At most 4 stop sequences.", param="stop", code="too_many_stop_sequences")
    if any(m.role == "tool" for m in body.messages):
        raise OpenAIRequestError("Tool messages are not supported.", param="messages", code="unsupported")
    instructions = "\n\n".join(m.text() for m in body.messages if m.role in ("system", "developer") and m.text())
    if overrides_grounding(instructions):
        raise OpenAIRequestError(
            "A system message may not lift the grounding rules: answers come from the sources, cited.",
            param="messages",
            code="system_message_overrides_grounding",
        )
    turns = [m for m in body.messages if m.role in ("user", "assistant") and m.text().strip()]
    if not turns or turns[-1].role != "user":
        raise OpenAIRequestError("The last message must be a user message.", param="messages", code="no_question")
    history = tuple(ChatMessage(role=m.role, content=m.text()) for m in turns[:-1])  # type: ignore[arg-type]
    return AnswerRequest(
        question=turns[-1].text(),
        datastore_ids=body.model.split("+"),
        previous_questions=[m.content for m in history if m.role == "user"],
        surface="chat.completions",
        options=GenerationOptions(
            max_tokens=max_tokens,
            temperature=body.temperature,
            stop=body.stop_strings(),
            instructions=instructions or None,
            history=history,
        ),
    )


def _extra(done: dict[str, Any]) -> dict[str, Any]:
    keys = ("citations", "claims", "refused", "mode", "notice", "conversation_id", "fallback", "closest_sources")
    return {key: done.get(key) for key in keys}


def _usage(done: dict[str, Any]) -> UsageInfo:
    return UsageInfo(**(done.get("usage") or {}))


@router.post(
    "/v1/chat/completions",
    summary="OpenAI-compatible chat completions answered by the RAG agent",
    response_model=ChatCompletionResponse,
    responses={400: {"model": ErrorResponse}, 200: {"content": {"text/event-stream": {}}}},
)
async def chat_completions(body: ChatCompletionRequest, service: AnswersDep, principal: PrincipalDep) -> Any:
    try:
        request = to_request(body, service.settings.answer_tokens)
    except OpenAIRequestError as exc:
        return JSONResponse(status_code=400, content=exc.body.model_dump())
    cid, created = completion_id()
    if not body.stream:
        result = await service.answer(request, principal)
        done = {
            "citations": [asdict(c) for c in result.citations],
            "claims": [asdict(c) for c in result.claims],
            "refused": result.refused,
            "mode": result.mode,
            "notice": result.notice,
            "conversation_id": result.conversation_id,
            "fallback": result.fallback,
            "usage": result.usage,
        }
        return ChatCompletionResponse(
            id=cid,
            created=created,
            model=body.model,
            choices=[ChatCompletionChoice(message=ChatCompletionMessage(content=result.answer))],
            usage=_usage(done),
            groundwork=_extra(done),
        )
    events = await started_stream(service.stream(request, principal))
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return StreamingResponse(
        _chunks(events, cid, created, body.model, include_usage),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )


async def _chunks(
    events: AsyncGenerator[AnswerEvent], cid: str, created: int, model: str, include_usage: bool
) -> AsyncIterator[str]:
    def chunk(delta: DeltaMessage, finish: Any = None, **extra: Any) -> str:
        choice = ChatCompletionStreamChoice(delta=delta, finish_reason=finish)
        return ChatCompletionChunk(id=cid, created=created, model=model, choices=[choice], **extra).sse()

    yield chunk(DeltaMessage(role="assistant", content=""))
    sent = False
    done: dict[str, Any] = {}
    async with aclosing(events):
        async for event in events:
            if event.event == "claim":
                sent = True
                yield chunk(DeltaMessage(content=event.data["separator"] + event.data["text"]))
            elif event.event == "done":
                done = event.data
    if not sent and done.get("answer"):
        yield chunk(DeltaMessage(content=str(done["answer"])))  # a refusal: nothing was shown before
    yield chunk(DeltaMessage(), "stop", groundwork=_extra(done))
    if include_usage:
        yield ChatCompletionChunk(id=cid, created=created, model=model, choices=[], usage=_usage(done)).sse()
    yield "data: [DONE]\n\n"
