"""Which stored conversation a Slack thread is, so that a follow-up in the thread continues it; and which
conversations the bot answered in, so that a feedback button can only rate one of those."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from groundwork.platform.db.session import Database
from groundwork.platform.slack.models import SlackConversation


@dataclass(frozen=True)
class ThreadKey:
    team_id: str
    channel_id: str
    thread_ts: str | None
    """None: a reply outside any thread (`/ask`); such a conversation is never continued."""


@dataclass(frozen=True)
class KnownConversation:
    conversation_id: str
    owner: str
    tenant_id: str


class SlackConversations:
    def __init__(self, database: Database) -> None:
        self._db = database

    def for_thread(self, key: ThreadKey) -> KnownConversation | None:
        if key.thread_ts is None:
            return None
        with self._db.session() as session:
            row = session.scalar(
                select(SlackConversation).where(
                    SlackConversation.team_id == key.team_id,
                    SlackConversation.channel_id == key.channel_id,
                    SlackConversation.thread_ts == key.thread_ts,
                )
            )
            return None if row is None else KnownConversation(row.conversation_id, row.owner, row.tenant_id)

    def get(self, conversation_id: str) -> KnownConversation | None:
        with self._db.session() as session:
            row = session.get(SlackConversation, conversation_id)
            return None if row is None else KnownConversation(row.conversation_id, row.owner, row.tenant_id)

    def remember(self, key: ThreadKey, known: KnownConversation) -> None:
        """Record that `known` answers in `key`'s thread (replacing an earlier conversation of the thread, whose
        owner differed). Two first questions in one thread at once: the first recorded wins the thread."""
        try:
            with self._db.session() as session:
                if key.thread_ts is not None:
                    previous = session.scalar(
                        select(SlackConversation).where(
                            SlackConversation.team_id == key.team_id,
                            SlackConversation.channel_id == key.channel_id,
                            SlackConversation.thread_ts == key.thread_ts,
                        )
                    )
                    if previous is not None and previous.conversation_id != known.conversation_id:
                        previous.thread_ts = None  # still the bot's (its feedback buttons keep working)
                        session.flush()
                existing = session.get(SlackConversation, known.conversation_id)
                if existing is None:
                    session.add(
                        SlackConversation(
                            conversation_id=known.conversation_id,
                            tenant_id=known.tenant_id,
                            team_id=key.team_id,
                            channel_id=key.channel_id,
                            thread_ts=key.thread_ts,
                            owner=known.owner,
                        )
                    )
                elif existing.thread_ts is None and key.thread_ts is not None:
                    existing.thread_ts = key.thread_ts  # recorded before its message was posted; now its thread
        except IntegrityError:
            # Another answer recorded this thread first; keep its conversation for the thread and this one
            # without a thread, so its feedback buttons still work.
            with self._db.session() as session:
                if session.get(SlackConversation, known.conversation_id) is None:
                    session.add(
                        SlackConversation(
                            conversation_id=known.conversation_id,
                            tenant_id=known.tenant_id,
                            team_id=key.team_id,
                            channel_id=key.channel_id,
                            thread_ts=None,
                            owner=known.owner,
                        )
                    )
