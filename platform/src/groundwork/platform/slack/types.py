"""Values of the Slack bot: who is asking, where, and where the reply goes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Visibility = Literal["thread", "ephemeral", "in_channel"]
"""Where a reply appears: in the thread of the question (mentions, DMs, questions in `all` channels), only to
the asker (`/ask`, ephemeral), or as a new message in the channel (`/ask --public`)."""


@dataclass(frozen=True)
class SlackUser:
    """What the bot needs to know about a Slack user (`users.info`)."""

    id: str
    team_id: str
    email: str | None = None
    is_bot: bool = False
    deleted: bool = False
    is_guest: bool = False
    """A multi- or single-channel guest of the workspace."""
    is_external: bool = False
    """A member of another organisation (a Slack Connect channel)."""


@dataclass(frozen=True)
class Question:
    """One question to answer, from a mention, a direct message, a channel message or `/ask`."""

    team_id: str
    channel_id: str
    user_id: str
    text: str
    visibility: Visibility
    is_direct: bool
    """Asked in a direct message with the bot (the reply is read by the asker only)."""
    thread_ts: str | None = None
    """The thread the reply goes to and whose conversation it continues (`thread`); None otherwise."""
    response_url: str | None = None
    """Where `/ask` replies (ephemeral) go."""
    event_id: str | None = None
    """The Events API delivery, for logs."""

    @property
    def read_by_asker_only(self) -> bool:
        return self.is_direct or self.visibility == "ephemeral"


@dataclass(frozen=True)
class PostedMessage:
    channel_id: str
    ts: str
