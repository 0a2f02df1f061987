"""The Slack bot of one process, built from `Services` and `Settings`: the Bolt app and what it works with.
The API serves it at `/slack/events` (`handle_http`); `socket_mode.py` connects it over Socket Mode instead."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from groundwork.platform.config import Settings
from groundwork.platform.services import Services
from groundwork.platform.slack.answering import ResponderSettings, SlackResponder
from groundwork.platform.slack.audience import AudienceResolver, AudienceSettings
from groundwork.platform.slack.bolt_app import create_bolt_app
from groundwork.platform.slack.channels import ChannelSettingsStore
from groundwork.platform.slack.conversations import SlackConversations
from groundwork.platform.slack.errors import SlackNotConfiguredError
from groundwork.platform.slack.jobs import BackgroundJobs
from groundwork.platform.slack.replay import ReplayGuard
from groundwork.platform.slack.ttl import TtlCache
from groundwork.platform.slack.verification import RequestVerifier
from groundwork.platform.slack.web_api import SlackWebApi, make_web_client

logger = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 10.0
"""How long answers in progress may finish when the process stops."""


@dataclass(frozen=True)
class HttpReply:
    status: int
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SlackBot:
    app: AsyncApp
    api: SlackWebApi
    jobs: BackgroundJobs
    responder: SlackResponder
    audience: AudienceResolver
    channels: ChannelSettingsStore
    verifier: RequestVerifier | None
    """None without a signing secret: the HTTP endpoint is off (Socket Mode needs none)."""

    async def handle_http(self, body: bytes, headers: Mapping[str, str], query: str) -> HttpReply:
        """A request to `/slack/events`: verified (`SlackRequestRejectedError` otherwise), then dispatched."""
        if self.verifier is None:
            raise SlackNotConfiguredError("the Slack endpoint is off: set slack.signing_secret")
        lowered: dict[str, str | Sequence[str]] = {k.lower(): v for k, v in headers.items()}
        self.verifier.verify(body, headers)
        request = AsyncBoltRequest(body=body.decode("utf-8", errors="replace"), query=query, headers=lowered)
        response = await self.app.async_dispatch(request)
        return HttpReply(response.status, response.body, response.first_headers_without_set_cookie())

    async def close(self) -> None:
        await self.jobs.close(SHUTDOWN_GRACE_SECONDS)


def channel_store(services: Services, settings: Settings) -> ChannelSettingsStore:
    """The per-channel settings (also for the admin API and CLI, with or without a bot token)."""
    return ChannelSettingsStore(
        services.database,
        services.search.check_datastores,
        default_datastores=settings.slack.default_datastores,
        default_reply=settings.slack.default_reply,
    )


def build_slack_bot(services: Services, settings: Settings) -> SlackBot | None:
    """The bot, or None while `slack.bot_token` is unset."""
    config = settings.slack
    if not config.bot_token:
        return None
    tenant = config.tenant or settings.default_tenant
    client = make_web_client(config.bot_token, config.api_base_url)
    api = SlackWebApi(client)
    audience = AudienceResolver(
        api,
        services.identities.principal_for_user,
        AudienceSettings(
            tenant_id=tenant,
            explicit_users=dict(config.users),
            map_by_email=config.map_by_email,
            guests_see_tenant_documents=config.guests_see_tenant_documents,
            unresolved_membership=config.unresolved_membership,
            max_channel_members=config.max_channel_members,
            cache_seconds=config.membership_cache_seconds,
        ),
    )
    channels = channel_store(services, settings)
    responder = SlackResponder(
        api,
        services.answers,
        services.conversations,
        audience,
        channels,
        SlackConversations(services.database),
        ResponderSettings(
            tenant_id=tenant,
            progress_delay_seconds=config.progress_delay_seconds,
            max_sources=config.max_sources,
            quote_chars=config.quote_chars,
            progress_update_seconds=config.progress_update_seconds,
        ),
    )
    jobs = BackgroundJobs(config.max_pending_answers)
    app = create_bolt_app(
        client,
        config.signing_secret,
        responder,
        jobs,
        TtlCache(config.dedupe_seconds, config.dedupe_cache_size),
        ask_default=config.ask_reply,
        forget_channel=audience.forget_channel,
    )
    verifier = (
        RequestVerifier(config.signing_secret, ReplayGuard(config.replay_cache_size)) if config.signing_secret else None
    )
    logger.info("Slack bot on for tenant %s (%s)", tenant, "Socket Mode" if config.socket_mode else "HTTP events")
    return SlackBot(app, api, jobs, responder, audience, channels, verifier)
