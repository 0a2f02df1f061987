"""Socket Mode: the bot opens a WebSocket to Slack (`apps.connections.open` with the app-level token) and
receives its events, commands and button presses over it, for servers Slack cannot reach over HTTP. Requests
arriving this way need no signature (the connection is authenticated) and are handled like HTTP ones."""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from groundwork.platform.slack.bot import SlackBot
from groundwork.platform.slack.web_api import make_web_client

logger = logging.getLogger(__name__)


class SocketModeConnection:
    def __init__(self, bot: SlackBot, app_token: str, api_base_url: str) -> None:
        self._handler = AsyncSocketModeHandler(bot.app, app_token, web_client=make_web_client(None, api_base_url))

    async def connect(self) -> None:
        """Open the connection (and keep it open: the client reconnects by itself)."""
        await self._handler.connect_async()  # type: ignore[no-untyped-call]
        logger.info("Slack Socket Mode connected")

    async def close(self) -> None:
        await self._handler.close_async()  # type: ignore[no-untyped-call]
