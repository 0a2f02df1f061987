"""Grounded answers (JSON or Server-Sent Events) and stored conversations."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from groundwork.platform.answers.types import AnswerEvent, AnswerRequest
from groundwork.platform.api.deps import AnswersDep, ConversationsDep
from groundwork.platform.api.schemas import (
    AnswerIn,
    AnswerOut,
    ConversationDetail,
    ConversationList,
    ConversationOut,
    MessageOut,
)
from groundwork.platform.search import MetadataFilter

router = APIRouter(tags=["answers"])


def _request(body: AnswerIn) -> AnswerRequest:
    return AnswerRequest(
        question=body.question,
        datastore_ids=body.datastore_ids,
        filters=[MetadataFilter(f.key, f.op, f.value) for f in body.filters],
        conversation_id=body.conversation_id,
        top_k=body.top_k,
    )


def sse(event: AnswerEvent) -> str:
    return f"event: {event.event}\ndata: {json.dumps(event.data, default=str)}\n\n"


@router.post(
    "/v1/answer",
    summary="Answer a question from the documents, every claim cited; `stream: true` for Server-Sent Events",
    response_model=AnswerOut,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def answer(body: AnswerIn, service: AnswersDep) -> Any:
    request = _request(body)
    if not body.stream:
        return AnswerOut.build(await service.answer(request))

    async def events() -> AsyncIterator[str]:
        async for event in service.stream(request):
            yield sse(event)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.get("/v1/conversations", summary="Conversations, most recent first")
def list_conversations(
    store: ConversationsDep, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)
) -> ConversationList:
    return ConversationList(items=[ConversationOut.build(c) for c in store.list(limit=limit, offset=offset)])


@router.get("/v1/conversations/{conversation_id}", summary="A conversation with its messages")
def get_conversation(conversation_id: str, store: ConversationsDep) -> ConversationDetail:
    conversation = store.get(conversation_id)
    return ConversationDetail(
        **ConversationOut.build(conversation).model_dump(),
        messages=[MessageOut(**asdict(turn)) for turn in store.turns(conversation_id)],
    )
