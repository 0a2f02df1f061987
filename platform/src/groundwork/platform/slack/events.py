"""Questions out of Slack payloads (Events API events, `/ask` commands). Pure functions of the payload."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from groundwork.platform.slack.questions import is_question, mentions, parse_ask, question_text
from groundwork.platform.slack.types import Question

Payload = Mapping[str, Any]
_ANSWERED_SUBTYPES = (None, "thread_broadcast", "file_share")
"""Message subtypes that are someone asking something (edits, joins, bot posts are not)."""


def team_of(body: Payload, event: Payload) -> str:
    return str(event.get("team") or body.get("team_id") or "")


def from_mention(body: Payload, event: Payload, bot_user_id: str | None) -> Question | None:
    """An `app_mention` in a channel: answered in the mention's thread. Mentions in direct messages are left to
    the `message` event of the same message (answered once)."""
    channel = str(event.get("channel") or "")
    if not channel or channel.startswith("D") or not event.get("user"):
        return None
    ts = str(event.get("ts") or "")
    return Question(
        team_id=team_of(body, event),
        channel_id=channel,
        user_id=str(event["user"]),
        text=question_text(str(event.get("text") or ""), bot_user_id),
        visibility="thread",
        is_direct=False,
        thread_ts=str(event.get("thread_ts") or ts),
        event_id=str(body.get("event_id") or "") or None,
    )


def from_message(body: Payload, event: Payload, bot_user_id: str | None) -> tuple[Question, bool] | None:
    """A `message` event: a direct message to the bot (always answered), or a channel message that may be
    answered when the channel is set to `reply=all` (then the second value is True: check the setting).
    Messages from bots, edits and other subtypes, and channel messages that mention the bot (the `app_mention`
    event answers those) are None."""
    if event.get("subtype") not in _ANSWERED_SUBTYPES or event.get("bot_id") or not event.get("user"):
        return None
    user = str(event["user"])
    text = str(event.get("text") or "")
    if bot_user_id and user == bot_user_id:
        return None
    channel = str(event.get("channel") or "")
    direct = event.get("channel_type") == "im" or channel.startswith("D")
    if not direct and ((bot_user_id and mentions(text, bot_user_id)) or not is_question(text)):
        return None
    ts = str(event.get("ts") or "")
    question = Question(
        team_id=team_of(body, event),
        channel_id=channel,
        user_id=user,
        text=question_text(text, bot_user_id),
        visibility="thread",
        is_direct=direct,
        thread_ts=str(event.get("thread_ts") or ts),
        event_id=str(body.get("event_id") or "") or None,
    )
    return question, not direct


def from_command(command: Payload, default: Literal["ephemeral", "in_channel"]) -> Question:
    """`/ask [--private|--public] question`."""
    parsed = parse_ask(str(command.get("text") or ""))
    channel = str(command.get("channel_id") or "")
    visibility = (parsed.visibility or default) if parsed.question else "ephemeral"  # help goes to the asker only
    return Question(
        team_id=str(command.get("team_id") or ""),
        channel_id=channel,
        user_id=str(command.get("user_id") or ""),
        text=parsed.question,
        visibility=visibility,
        is_direct=channel.startswith("D") and visibility == "ephemeral",
        response_url=str(command.get("response_url") or "") or None,
    )
