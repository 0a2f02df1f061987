"""Stored conversations: each principal sees, continues, renames and deletes only its own."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Query, Response

from groundwork.platform.api.deps import ConversationsDep, PrincipalDep
from groundwork.platform.api.schemas import (
    ConversationDetail,
    ConversationList,
    ConversationOut,
    ConversationRename,
    FeedbackIn,
    FeedbackOut,
    MessageOut,
)

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])


@router.get("", summary="The caller's conversations, most recent first")
def list_conversations(
    store: ConversationsDep,
    principal: PrincipalDep,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> ConversationList:
    items = store.list(principal, limit=limit, offset=offset)
    return ConversationList(items=[ConversationOut.build(c) for c in items])


@router.get(
    "/{conversation_id}",
    summary="A conversation with its messages; answers citing documents the caller can no longer read are withheld",
)
def get_conversation(conversation_id: str, store: ConversationsDep, principal: PrincipalDep) -> ConversationDetail:
    conversation = store.get(principal, conversation_id)
    return ConversationDetail(
        **ConversationOut.build(conversation).model_dump(),
        messages=[MessageOut(**asdict(turn)) for turn in store.history(principal, conversation_id)],
    )


@router.patch("/{conversation_id}", summary="Rename a conversation")
def rename_conversation(
    conversation_id: str, body: ConversationRename, store: ConversationsDep, principal: PrincipalDep
) -> ConversationOut:
    return ConversationOut.build(store.rename(principal, conversation_id, body.title))


@router.delete("/{conversation_id}", status_code=204, summary="Delete a conversation with its messages and feedback")
def delete_conversation(conversation_id: str, store: ConversationsDep, principal: PrincipalDep) -> Response:
    store.delete(principal, conversation_id)
    return Response(status_code=204)


@router.post(
    "/{conversation_id}/messages/{message_id}/feedback",
    status_code=201,
    summary="Thumbs up (1) or down (-1) on an answer, with an optional comment",
)
def add_feedback(
    conversation_id: str, message_id: int, body: FeedbackIn, store: ConversationsDep, principal: PrincipalDep
) -> FeedbackOut:
    feedback = store.add_feedback(principal, conversation_id, message_id, rating=body.rating, comment=body.comment)
    return FeedbackOut.model_validate(feedback, from_attributes=True)
