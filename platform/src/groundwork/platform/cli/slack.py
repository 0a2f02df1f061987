"""`groundwork slack ...`: per-channel settings of the Slack bot (tenant admins) and Socket Mode.

Channel commands call a running server's admin API with `--url` (or GROUNDWORK_URL) and an admin key, or open
the data directory and act as the tenant's operator. `groundwork slack socket` runs the bot over Socket Mode in
this process (for a machine Slack cannot reach, without `groundwork serve`; with the server, set
GROUNDWORK_SLACK__SOCKET_MODE=true instead).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from groundwork.platform.access.principal import Principal
from groundwork.platform.backends import RemoteBackend
from groundwork.platform.config import Settings
from groundwork.platform.errors import PlatformError
from groundwork.platform.logging import configure_logging
from groundwork.platform.slack.channels import ChannelSettings, ChannelSettingsStore

if TYPE_CHECKING:
    from groundwork.platform.services import Services

slack_app = typer.Typer(help="The Slack bot: per-channel settings and Socket Mode.", no_args_is_help=True)
channel_app = typer.Typer(help="Which datastores a channel answers from, and when the bot replies.")
slack_app.add_typer(channel_app, name="channel")

console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

UrlOption = Annotated[
    str | None, typer.Option("--url", help="A running server (default: GROUNDWORK_URL; unset: local)")
]
TenantOption = Annotated[
    str | None, typer.Option("--tenant", help="Tenant, when working locally (default: slack.tenant)")
]
Json = dict[str, Any]


class Reply(StrEnum):
    MENTION = "mention"
    ALL = "all"


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return settings


def _json(found: ChannelSettings) -> Json:
    return {
        "channel_id": found.channel_id,
        "datastore_ids": list(found.datastore_ids),
        "reply": found.reply,
        "updated_by": found.updated_by,
    }


def _run(
    url: str | None,
    tenant: str | None,
    remote: Callable[[RemoteBackend], Any],
    local: Callable[[ChannelSettingsStore, Principal], Any],
) -> Any:
    """`remote` against the server at `url`, or `local` on the data directory as the tenant's operator."""
    settings = _settings()
    target = url or settings.url
    try:
        if target:
            backend = RemoteBackend(target, api_key=settings.client_api_key())
            try:
                return remote(backend)
            finally:
                backend.close()
        from groundwork.platform.services import build_services
        from groundwork.platform.slack.bot import channel_store

        services = build_services(settings, owner="groundwork slack", recover=False)
        try:
            actor = Principal.operator(tenant or settings.slack.tenant or settings.default_tenant)
            return local(channel_store(services, settings), actor)
        finally:
            services.close()
    except PlatformError as exc:
        console.print(f"[red]error[/red] ({exc.code}): {exc}")
        raise typer.Exit(code=1) from exc


@channel_app.command("set")
def channel_set(
    channel_id: Annotated[str, typer.Argument(help="Slack channel id, e.g. C0123ABCD (channel details in Slack)")],
    datastore: Annotated[list[str], typer.Option(help="Datastore name or id (repeatable)")],
    reply: Annotated[Reply, typer.Option(help="mention: only when mentioned; all: every question")] = Reply.MENTION,
    url: UrlOption = None,
    tenant: TenantOption = None,
) -> None:
    """Set the datastores a channel answers from and when the bot replies there."""
    path = f"/v1/admin/slack/channels/{channel_id}"
    body = {"datastore_ids": datastore, "reply": reply.value}
    found: Json = _run(
        url,
        tenant,
        lambda b: b.call("PUT", path, json=body),
        lambda store, actor: _json(store.set(actor, channel_id, datastore_ids=datastore, reply=reply.value)),
    )
    out.print(f"{found['channel_id']}: {', '.join(found['datastore_ids'])} (reply: {found['reply']})")


@channel_app.command("list")
def channel_list(url: UrlOption = None, tenant: TenantOption = None) -> None:
    """Channels with settings of their own (others use slack.default_datastores and slack.default_reply)."""
    rows: list[Json] = _run(
        url,
        tenant,
        lambda b: b.call("GET", "/v1/admin/slack/channels"),
        lambda store, actor: [_json(c) for c in store.list(actor)],
    )
    table = Table()
    for column in ("channel", "datastores", "reply", "updated by"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["channel_id"], ", ".join(row["datastore_ids"]), row["reply"], row.get("updated_by") or "")
    out.print(table)


@channel_app.command("remove")
def channel_remove(channel_id: str, url: UrlOption = None, tenant: TenantOption = None) -> None:
    """Remove a channel's settings: the defaults apply there again."""
    _run(
        url,
        tenant,
        lambda b: b.call("DELETE", f"/v1/admin/slack/channels/{channel_id}"),
        lambda store, actor: store.delete(actor, channel_id),
    )
    out.print(f"removed the settings of {channel_id}")


@slack_app.command("socket")
def socket() -> None:
    """Run the bot over Socket Mode on the data directory until interrupted (needs GROUNDWORK_SLACK__BOT_TOKEN
    and GROUNDWORK_SLACK__APP_TOKEN)."""
    settings = _settings()
    if not settings.slack.bot_token or not settings.slack.app_token:
        console.print(
            "[red]error[/red]: set GROUNDWORK_SLACK__BOT_TOKEN (xoxb-) and GROUNDWORK_SLACK__APP_TOKEN (xapp-)"
        )
        raise typer.Exit(code=1)
    from groundwork.platform.services import build_services

    services = build_services(settings, owner="groundwork slack socket")
    try:
        services.generation.start()
        asyncio.run(_serve_socket_mode(settings, services))
    finally:
        services.close()


async def _serve_socket_mode(settings: Settings, services: Services) -> None:
    from groundwork.platform.slack.bot import build_slack_bot
    from groundwork.platform.slack.socket_mode import SocketModeConnection

    bot = build_slack_bot(services, settings)
    if bot is None or settings.slack.app_token is None:
        raise typer.Exit(code=1)
    connection = SocketModeConnection(bot, settings.slack.app_token, settings.slack.api_base_url)
    await connection.connect()
    console.print("connected to Slack over Socket Mode; Ctrl-C stops")
    try:
        await asyncio.Event().wait()
    finally:
        await connection.close()
        await bot.close()
        await services.generation.aclose()
