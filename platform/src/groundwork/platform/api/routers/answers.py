"""Grounded answers (JSON or Server-Sent Events)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from groundwork.platform.answers.types import AnswerEvent, AnswerRequest
from groundwork.platform.api.deps import AnswersDep, PrincipalDep
from groundwork.platform.api.schemas import AnswerIn, AnswerOut
from groundwork.platform.search import MetadataFilter

router = APIRouter(tags=["answers"])


def _request(body: AnswerIn) -> AnswerRequest:
    return AnswerRequest(
        question=body.question,
        datastore_ids=body.datastore_ids,
        filters=[MetadataFilter(f.key, f.op, f.value) for f in body.filters],
        conversation_id=body.conversation_id,
        top_k=body.top_k,
        draft=body.draft and body.stream,
    )


def sse(event: AnswerEvent) -> str:
    return f"event: {event.event}\ndata: {json.dumps(event.data, default=str)}\n\n"


async def started_stream(events: AsyncGenerator[AnswerEvent]) -> AsyncGenerator[AnswerEvent]:
    """`events` with its first event already produced: admission, access and datastore errors raise here, while
    the route can still answer with an error status instead of a 200 stream."""
    first = await anext(events)

    async def rest() -> AsyncGenerator[AnswerEvent]:
        async with aclosing(events):
            yield first
            async for event in events:
                yield event

    return rest()


@router.post(
    "/v1/answer",
    summary="Answer a question from the documents, every claim cited; `stream: true` for Server-Sent Events",
    response_model=AnswerOut,
    responses={
        200: {"content": {"text/event-stream": {}}},
        503: {"description": "`overloaded`: the generation queue is full; retry after the Retry-After header"},
    },
)
async def answer(body: AnswerIn, service: AnswersDep, principal: PrincipalDep) -> Any:
    request = _request(body)
    if not body.stream:
        return AnswerOut.build(await service.answer(request, principal))
    events = await started_stream(service.stream(request, principal))

    async def body_events() -> AsyncIterator[str]:
        async with aclosing(events):
            async for event in events:
                yield sse(event)

    return StreamingResponse(body_events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
