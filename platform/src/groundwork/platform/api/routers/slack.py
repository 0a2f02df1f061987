"""The Slack bot's endpoint (`POST /slack/events`: Events API, interactivity and the `/ask` command, verified
by Slack's signature rather than an API key) and its per-channel settings for tenant admins
(`/v1/admin/slack/channels`). The router's lifespan starts the bot after the services are built (docs/slack.md)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, Field

from groundwork.platform.api.deps import AuditDep, PrincipalDep, ServicesDep, SettingsDep
from groundwork.platform.api.errors import error_response
from groundwork.platform.config import Settings
from groundwork.platform.request_context import request_id
from groundwork.platform.services import Services
from groundwork.platform.slack.bot import SlackBot, build_slack_bot, channel_store
from groundwork.platform.slack.channels import ChannelSettings
from groundwork.platform.slack.errors import SlackRequestRejectedError
from groundwork.platform.slack.socket_mode import SocketModeConnection

logger = logging.getLogger(__name__)


@asynccontextmanager
async def slack_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs inside the app's lifespan, so the services exist: build the bot, connect Socket Mode if asked."""
    settings: Settings = app.state.settings
    services: Services = app.state.services
    bot = build_slack_bot(services, settings)
    app.state.slack = bot
    connection: SocketModeConnection | None = None
    try:
        if bot is not None and settings.slack.socket_mode and settings.slack.app_token:
            connection = SocketModeConnection(bot, settings.slack.app_token, settings.slack.api_base_url)
            await connection.connect()
        yield
    finally:
        app.state.slack = None
        if connection is not None:
            await connection.close()
        if bot is not None:
            await bot.close()


router = APIRouter(tags=["slack"], lifespan=slack_lifespan)


@router.post(
    "/slack/events",
    summary="Slack's requests (events, interactivity, /ask), verified with the app's signing secret",
    responses={401: {"description": "`invalid_slack_request`: unsigned, forged, stale or replayed"}},
)
async def slack_events(request: Request) -> Response:
    bot: SlackBot | None = getattr(request.app.state, "slack", None)
    if bot is None or bot.verifier is None:
        return error_response(
            404, "slack_not_configured", "the Slack bot is off (slack.bot_token, slack.signing_secret)"
        )
    body = await request.body()
    try:
        reply = await bot.handle_http(body, request.headers, request.url.query)
    except SlackRequestRejectedError as exc:
        logger.warning("Slack request refused (%s): %s", exc.reason, exc)
        return error_response(401, exc.code, str(exc))
    return Response(content=reply.body, status_code=reply.status, headers=dict(reply.headers))


class SlackChannelIn(BaseModel):
    datastore_ids: list[str] = Field(min_length=1, description="Datastores (names or ids) the channel answers from")
    reply: Literal["mention", "all"] = Field("mention", description="Answer only when mentioned, or every question")


class SlackChannelOut(BaseModel):
    channel_id: str
    datastore_ids: list[str]
    reply: Literal["mention", "all"]
    configured: bool
    updated_by: str | None
    updated_at: datetime | None

    @classmethod
    def build(cls, found: ChannelSettings) -> SlackChannelOut:
        return cls(
            channel_id=found.channel_id,
            datastore_ids=list(found.datastore_ids),
            reply=found.reply,
            configured=found.configured,
            updated_by=found.updated_by,
            updated_at=found.updated_at,
        )


@router.get("/v1/admin/slack/channels", summary="Slack channels with settings of their own (tenant admins)")
def list_channels(services: ServicesDep, settings: SettingsDep, principal: PrincipalDep) -> list[SlackChannelOut]:
    return [SlackChannelOut.build(c) for c in channel_store(services, settings).list(principal)]


@router.put(
    "/v1/admin/slack/channels/{channel_id}",
    summary="Set a Slack channel's datastores and when the bot replies there (tenant admins)",
)
def set_channel(
    channel_id: str,
    body: SlackChannelIn,
    services: ServicesDep,
    settings: SettingsDep,
    audit: AuditDep,
    principal: PrincipalDep,
) -> SlackChannelOut:
    found = channel_store(services, settings).set(
        principal, channel_id, datastore_ids=body.datastore_ids, reply=body.reply
    )
    details = {"channel_id": channel_id, "datastore_ids": list(found.datastore_ids), "reply": found.reply}
    audit.record(principal, "slack.channel.set", request_id=request_id.get(), details=details)
    return SlackChannelOut.build(found)


@router.delete(
    "/v1/admin/slack/channels/{channel_id}",
    status_code=204,
    summary="Remove a Slack channel's settings; the defaults apply again (tenant admins)",
)
def delete_channel(
    channel_id: str, services: ServicesDep, settings: SettingsDep, audit: AuditDep, principal: PrincipalDep
) -> Response:
    channel_store(services, settings).delete(principal, channel_id)
    audit.record(principal, "slack.channel.delete", request_id=request_id.get(), details={"channel_id": channel_id})
    return Response(status_code=204)
