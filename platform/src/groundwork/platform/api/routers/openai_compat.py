"""`/v1/chat/completions` in OpenAI's schema, where `model` names a datastore (or several, joined by `+`).

The last user message is the question and earlier user messages give follow-ups their context. The reply is
the verified answer; citations, claims and the refusal flag travel in the extra field `groundwork`. When
streaming, the answer is sent once verification has removed unsupported claims (so a client that cannot
reconcile never shows an unverified sentence), as `chat.completion.chunk` events ending with `[DONE]`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from groundwork.platform.answers.types import AnswerRequest, AnswerResult
from groundwork.platform.api.deps import AnswersDep, PrincipalDep
from groundwork.platform.errors import InvalidRequestError

router = APIRouter(tags=["openai"])


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None


class ChatCompletionIn(BaseModel):
    model_config = ConfigDict(extra="allow")  # OpenAI clients send options we don't use (temperature, ...)

    model: str = Field(description="A datastore name or id; several joined by '+'.")
    messages: list[ChatMessageIn] = Field(min_length=1)
    stream: bool = False


def _text(message: ChatMessageIn) -> str:
    if isinstance(message.content, str):
        return message.content
    return " ".join(str(part.get("text", "")) for part in message.content or [] if part.get("type") == "text")


def _extra(result: AnswerResult) -> dict[str, Any]:
    return {
        "citations": [asdict(c) for c in result.citations],
        "claims": [asdict(c) for c in result.claims],
        "refused": result.refused,
        "mode": result.mode,
        "notice": result.notice,
        "conversation_id": result.conversation_id,
    }


@router.post("/v1/chat/completions", summary="OpenAI-compatible chat completions answered by the RAG agent")
async def chat_completions(body: ChatCompletionIn, service: AnswersDep, principal: PrincipalDep) -> Any:
    questions = [_text(m) for m in body.messages if m.role == "user" and _text(m).strip()]
    if not questions:
        raise InvalidRequestError("messages must include a user message")
    request = AnswerRequest(
        question=questions[-1],
        datastore_ids=body.model.split("+"),
        previous_questions=questions[:-1],
        surface="chat.completions",
    )
    result = await service.answer(request, principal)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if not body.stream:
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": result.answer}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            "groundwork": _extra(result),
        }

    def chunk(delta: dict[str, Any], finish: str | None, extra: dict[str, Any] | None = None) -> str:
        payload: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": body.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if extra is not None:
            payload["groundwork"] = extra
        return f"data: {json.dumps(payload, default=str)}\n\n"

    async def events() -> AsyncIterator[str]:
        yield chunk({"role": "assistant", "content": ""}, None)
        words = result.answer.split(" ")
        for start in range(0, len(words), 8):
            piece = " ".join(words[start : start + 8])
            yield chunk({"content": piece if start == 0 else " " + piece}, None)
        yield chunk({}, "stop", _extra(result))
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")
