"""Stored conversations: the turns of a multi-turn chat, shared by every surface."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from groundwork.platform.db.models import Conversation, Message, utcnow
from groundwork.platform.db.session import Database
from groundwork.platform.errors import NotFoundError


@dataclass(frozen=True)
class Turn:
    role: str
    content: str
    standalone_query: str | None
    details: dict[str, Any]


class ConversationStore:
    def __init__(self, database: Database, *, tenant_id: str) -> None:
        self._db = database
        self._tenant_id = tenant_id

    def open(self, conversation_id: str | None, *, title: str, datastore_ids: Sequence[str]) -> str:
        """An existing conversation's id (checked), or a new conversation's."""
        with self._db.session() as session:
            if conversation_id:
                found = session.get(Conversation, conversation_id)
                if found is None or found.tenant_id != self._tenant_id:
                    raise NotFoundError(f"conversation {conversation_id} not found")
                return found.id
            conversation = Conversation(tenant_id=self._tenant_id, title=title[:300], datastore_ids=list(datastore_ids))
            session.add(conversation)
            session.flush()
            return conversation.id

    def turns(self, conversation_id: str) -> list[Turn]:
        with self._db.session() as session:
            rows = session.scalars(
                select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
            ).all()
            return [Turn(m.role, m.content, m.standalone_query, dict(m.details)) for m in rows]

    def append(
        self,
        conversation_id: str,
        role: str,
        content: str,
        *,
        standalone_query: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        with self._db.session() as session:
            session.add(
                Message(
                    conversation_id=conversation_id,
                    role=role,
                    content=content,
                    standalone_query=standalone_query,
                    details=details or {},
                )
            )
            conversation = session.get_one(Conversation, conversation_id)
            conversation.updated_at = utcnow()

    def list(self, *, limit: int = 50, offset: int = 0) -> list[Conversation]:
        with self._db.session() as session:
            return list(
                session.scalars(
                    select(Conversation)
                    .where(Conversation.tenant_id == self._tenant_id)
                    .order_by(Conversation.updated_at.desc())
                    .limit(limit)
                    .offset(offset)
                )
            )

    def get(self, conversation_id: str) -> Conversation:
        with self._db.session() as session:
            found = session.get(Conversation, conversation_id)
        if found is None or found.tenant_id != self._tenant_id:
            raise NotFoundError(f"conversation {conversation_id} not found")
        return found
