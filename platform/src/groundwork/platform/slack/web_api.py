"""`SlackApi` on slack_sdk's `AsyncWebClient` (and `AsyncWebhookClient` for response URLs). Vendor errors
become `SlackApiError` here; rate-limited calls are retried after Slack's Retry-After."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError as SdkApiError
from slack_sdk.errors import SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from groundwork.platform.slack.errors import SlackApiError, TooManyMembersError
from groundwork.platform.slack.types import PostedMessage, SlackUser

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 15
"""Longest wait for one Web API call."""
PAGE_SIZE = 200
"""Members per `conversations.members` page (Slack's recommended maximum)."""

_TRANSPORT_ERRORS = (SlackClientError, aiohttp.ClientError, asyncio.TimeoutError)


def make_web_client(bot_token: str | None, base_url: str) -> AsyncWebClient:
    """The client the Bolt app and `SlackWebApi` share."""
    return AsyncWebClient(
        token=bot_token,
        base_url=base_url,
        timeout=TIMEOUT_SECONDS,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )


def _failure(method: str, exc: BaseException) -> SlackApiError:
    if isinstance(exc, SdkApiError):
        error = exc.response.get("error") if exc.response is not None else None
        return SlackApiError(method, str(error or exc))
    return SlackApiError(method, f"{type(exc).__name__}: {exc}")


class SlackWebApi:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def post_message(
        self, channel_id: str, text: str, blocks: Sequence[dict[str, Any]], *, thread_ts: str | None = None
    ) -> PostedMessage:
        try:
            response = await self._client.chat_postMessage(
                channel=channel_id, text=text, blocks=list(blocks), thread_ts=thread_ts, unfurl_links=False
            )
        except _TRANSPORT_ERRORS as exc:
            raise _failure("chat.postMessage", exc) from exc
        return PostedMessage(channel_id=str(response.get("channel") or channel_id), ts=str(response["ts"]))

    async def update_message(self, message: PostedMessage, text: str, blocks: Sequence[dict[str, Any]]) -> None:
        try:
            await self._client.chat_update(channel=message.channel_id, ts=message.ts, text=text, blocks=list(blocks))
        except _TRANSPORT_ERRORS as exc:
            raise _failure("chat.update", exc) from exc

    async def channel_members(self, channel_id: str, *, max_members: int) -> list[str]:
        members: list[str] = []
        cursor: str | None = None
        while True:
            try:
                response = await self._client.conversations_members(channel=channel_id, limit=PAGE_SIZE, cursor=cursor)
            except _TRANSPORT_ERRORS as exc:
                raise _failure("conversations.members", exc) from exc
            members.extend(str(m) for m in response.get("members") or [])
            if len(members) > max_members:
                raise TooManyMembersError(f"channel {channel_id} has more than {max_members} members")
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return members

    async def user_info(self, user_id: str) -> SlackUser:
        try:
            response = await self._client.users_info(user=user_id)
        except _TRANSPORT_ERRORS as exc:
            raise _failure("users.info", exc) from exc
        user: dict[str, Any] = response.get("user") or {}
        profile: dict[str, Any] = user.get("profile") or {}
        team_id = str(user.get("team_id") or "")
        return SlackUser(
            id=str(user.get("id") or user_id),
            team_id=team_id,
            email=str(profile["email"]).strip() if profile.get("email") else None,
            is_bot=bool(user.get("is_bot")) or user_id == "USLACKBOT",
            deleted=bool(user.get("deleted")),
            is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
            is_external=bool(user.get("is_stranger")),
        )

    async def respond(self, response_url: str, payload: dict[str, Any]) -> None:
        try:
            response = await AsyncWebhookClient(response_url, timeout=TIMEOUT_SECONDS).send_dict(payload)
        except _TRANSPORT_ERRORS as exc:
            raise _failure("response_url", exc) from exc
        if response.status_code != 200:
            raise SlackApiError("response_url", f"HTTP {response.status_code}: {response.body[:200]}")
