"""Stored conversations: the turns of a multi-turn chat, shared by every surface.

A conversation belongs to the principal that started it: nobody else can list, read, continue, rename or
delete it (another's conversation is "not found"). When its history is read, each assistant turn is checked
against the reader's current access: a turn that cites, or drew its passages from, a document the reader may no
longer read is withheld, so revoking access also hides what earlier answers took from that document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from groundwork.platform.access.acl import readable_by
from groundwork.platform.access.principal import Principal
from groundwork.platform.db.models import Conversation, Document, Feedback, Message, utcnow
from groundwork.platform.db.session import Database
from groundwork.platform.errors import InvalidRequestError, NotFoundError

WITHHELD = "[withheld: this answer cites a document you can no longer read]"


@dataclass(frozen=True)
class Turn:
    role: str
    content: str
    standalone_query: str | None
    details: dict[str, Any]
    id: int = 0
    created_at: datetime | None = None
    withheld: bool = False
    """The turn cites a document the reader may no longer read; `content` and `details` are withheld."""
    feedback: dict[str, Any] | None = field(default=None)
    """The reader's latest feedback on this turn (`rating`, `comment`), if any."""


def _documents_of(turn: Turn) -> set[str]:
    """The documents an assistant turn drew on: those it cites and those its passages came from."""
    cited = {str(c.get("document_id")) for c in turn.details.get("citations", [])}
    return cited | {str(d) for d in turn.details.get("sources", [])}


class ConversationStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def _owned(self, principal: Principal, conversation_id: str) -> Conversation:
        with self._db.session() as session:
            found = session.get(Conversation, conversation_id)
        if found is None or found.tenant_id != principal.tenant_id or found.owner != principal.name:
            raise NotFoundError(f"conversation {conversation_id} not found")
        return found

    def open(
        self, principal: Principal, conversation_id: str | None, *, title: str, datastore_ids: Sequence[str]
    ) -> str:
        """An existing conversation's id (checked), or a new conversation's."""
        if conversation_id:
            return self._owned(principal, conversation_id).id
        with self._db.session() as session:
            conversation = Conversation(
                tenant_id=principal.tenant_id,
                owner=principal.name,
                title=title[:300],
                datastore_ids=list(datastore_ids),
            )
            session.add(conversation)
            session.flush()
            return conversation.id

    def turns(self, conversation_id: str) -> list[Turn]:
        """Every turn as stored (for the answer flow, after `open` checked ownership)."""
        with self._db.session() as session:
            rows = session.scalars(
                select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
            ).all()
            return [Turn(m.role, m.content, m.standalone_query, dict(m.details), m.id, m.created_at) for m in rows]

    def history(self, principal: Principal, conversation_id: str) -> list[Turn]:
        """The turns as `principal` may see them now (see the module docstring), with its feedback."""
        self._owned(principal, conversation_id)
        turns = self.turns(conversation_id)
        cited = {d for t in turns for d in _documents_of(t)}
        with self._db.session() as session:
            readable = set(
                session.scalars(select(Document.id).where(Document.id.in_(sorted(cited))).where(readable_by(principal)))
            )
            ratings = {
                f.message_id: {"rating": f.rating, "comment": f.comment}
                for f in session.scalars(
                    select(Feedback).where(Feedback.conversation_id == conversation_id).order_by(Feedback.id)
                )
            }
        shown: list[Turn] = []
        for turn in turns:
            if turn.role == "assistant" and not _documents_of(turn) <= readable:
                turn = replace(turn, content=WITHHELD, standalone_query=None, details={}, withheld=True)
            shown.append(replace(turn, feedback=ratings.get(turn.id)))
        return shown

    def append(
        self,
        conversation_id: str,
        role: str,
        content: str,
        *,
        standalone_query: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> int:
        """Add a turn; returns its message id."""
        with self._db.session() as session:
            message = Message(
                conversation_id=conversation_id,
                role=role,
                content=content,
                standalone_query=standalone_query,
                details=details or {},
            )
            session.add(message)
            conversation = session.get_one(Conversation, conversation_id)
            conversation.updated_at = utcnow()
            session.flush()
            return message.id

    def list(self, principal: Principal, *, limit: int = 50, offset: int = 0) -> list[Conversation]:
        with self._db.session() as session:
            return list(
                session.scalars(
                    select(Conversation)
                    .where(Conversation.tenant_id == principal.tenant_id, Conversation.owner == principal.name)
                    .order_by(Conversation.updated_at.desc())
                    .limit(limit)
                    .offset(offset)
                )
            )

    def get(self, principal: Principal, conversation_id: str) -> Conversation:
        return self._owned(principal, conversation_id)

    def rename(self, principal: Principal, conversation_id: str, title: str) -> Conversation:
        title = " ".join(title.split())
        if not title or len(title) > 300:
            raise InvalidRequestError("title must be 1-300 characters")
        self._owned(principal, conversation_id)
        with self._db.session() as session:
            conversation = session.get_one(Conversation, conversation_id)
            conversation.title = title
            return conversation

    def delete(self, principal: Principal, conversation_id: str) -> None:
        self._owned(principal, conversation_id)
        with self._db.session() as session:
            session.execute(delete(Feedback).where(Feedback.conversation_id == conversation_id))
            session.execute(delete(Message).where(Message.conversation_id == conversation_id))
            session.execute(delete(Conversation).where(Conversation.id == conversation_id))

    def add_feedback(
        self, principal: Principal, conversation_id: str, message_id: int, *, rating: int, comment: str = ""
    ) -> Feedback:
        """Thumbs up (+1) or down (-1) on an assistant turn of the principal's own conversation."""
        if rating not in (1, -1):
            raise InvalidRequestError("rating must be 1 (helpful) or -1 (not helpful)")
        if len(comment) > 4000:
            raise InvalidRequestError("comment must be at most 4000 characters")
        self._owned(principal, conversation_id)
        with self._db.session() as session:
            message = session.get(Message, message_id)
            if message is None or message.conversation_id != conversation_id or message.role != "assistant":
                raise NotFoundError(f"assistant message {message_id} not found in conversation {conversation_id}")
            feedback = Feedback(
                tenant_id=principal.tenant_id,
                owner=principal.name,
                conversation_id=conversation_id,
                message_id=message_id,
                rating=rating,
                comment=comment,
            )
            session.add(feedback)
            session.flush()
            return feedback
