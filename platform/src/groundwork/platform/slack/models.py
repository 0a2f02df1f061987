"""Tables of the Slack bot (migration 0005): per-channel settings, and which conversation a Slack thread is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from groundwork.platform.db.models import Base, utcnow


class SlackChannel(Base):
    """How the bot behaves in one channel of a tenant's workspace (no row: the `slack.default_*` settings)."""

    __tablename__ = "slack_channels"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    datastore_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Datastores (names or ids) questions in the channel are answered from."""
    reply: Mapped[str] = mapped_column(String(10))
    """`mention` (only when the bot is mentioned) or `all` (every question)."""
    updated_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SlackConversation(Base):
    """A conversation the bot answered in: a thread (follow-ups continue it) or an `/ask` reply (no thread).
    Feedback buttons name the conversation; this row says it is the bot's and who owns it."""

    __tablename__ = "slack_conversations"
    __table_args__ = (Index("ix_slack_conversations_thread", "team_id", "channel_id", "thread_ts", unique=True),)

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32), default=None)
    owner: Mapped[str] = mapped_column(String(320))
    """The principal name that owns the conversation (a channel's audience, or a user)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
