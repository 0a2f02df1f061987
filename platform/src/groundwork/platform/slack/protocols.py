"""The part of Slack's Web API the bot uses, as a protocol: `web_api.SlackWebApi` talks to Slack (or to a local
server standing in for it); the answer flow and the audience resolver depend only on this."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from groundwork.platform.slack.types import PostedMessage, SlackUser


class SlackApi(Protocol):
    async def post_message(
        self, channel_id: str, text: str, blocks: Sequence[dict[str, Any]], *, thread_ts: str | None = None
    ) -> PostedMessage:
        """`chat.postMessage`; raises `SlackApiError`."""
        ...

    async def update_message(self, message: PostedMessage, text: str, blocks: Sequence[dict[str, Any]]) -> None:
        """`chat.update` of a message the bot posted; raises `SlackApiError`."""
        ...

    async def channel_members(self, channel_id: str, *, max_members: int) -> list[str]:
        """Every member's user id (`conversations.members`, all pages). Raises `TooManyMembersError` beyond
        `max_members`, `SlackApiError` when Slack refuses or cannot be reached."""
        ...

    async def user_info(self, user_id: str) -> SlackUser:
        """`users.info`; raises `SlackApiError`."""
        ...

    async def respond(self, response_url: str, payload: dict[str, Any]) -> None:
        """Post to a slash command's or an action's `response_url`; raises `SlackApiError`."""
        ...
