"""Per-channel settings: which datastores a channel's questions are answered from, and whether the bot answers
only when mentioned or every question. Stored in the metadata store; managed by tenant admins (the admin API
`/v1/admin/slack/channels` and `groundwork slack channel`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import delete, select

from groundwork.platform.access.principal import Principal
from groundwork.platform.db.models import Role
from groundwork.platform.db.session import Database
from groundwork.platform.errors import InvalidRequestError, NotFoundError
from groundwork.platform.slack.models import SlackChannel

ReplyMode = Literal["mention", "all"]
REPLY_MODES: tuple[ReplyMode, ...] = ("mention", "all")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,31}$")

DatastoreCheck = Callable[[Principal, Sequence[str]], object]
"""`SearchService.check_datastores`: raises `NotFoundError` for a datastore the principal's tenant lacks."""


@dataclass(frozen=True)
class ChannelSettings:
    channel_id: str
    datastore_ids: tuple[str, ...]
    reply: ReplyMode
    configured: bool
    """False: no row, the defaults (`slack.default_datastores`, `slack.default_reply`) apply."""
    updated_by: str | None = None
    updated_at: datetime | None = None


def check_channel_id(channel_id: str) -> str:
    if not _CHANNEL_ID.match(channel_id):
        raise InvalidRequestError(f"{channel_id!r} is not a Slack channel id (like C0123ABCD)")
    return channel_id


class ChannelSettingsStore:
    def __init__(
        self,
        database: Database,
        check_datastores: DatastoreCheck,
        *,
        default_datastores: Sequence[str],
        default_reply: ReplyMode,
    ) -> None:
        self._db = database
        self._check = check_datastores
        self._defaults = (tuple(default_datastores), default_reply)

    def effective(self, tenant_id: str, channel_id: str) -> ChannelSettings:
        """What applies in the channel: its row, or the defaults."""
        with self._db.session() as session:
            row = session.get(SlackChannel, (tenant_id, channel_id))
            if row is not None:
                return _settings(row)
        datastores, reply = self._defaults
        return ChannelSettings(channel_id, datastores, reply, configured=False)

    def set(
        self, actor: Principal, channel_id: str, *, datastore_ids: Sequence[str], reply: ReplyMode
    ) -> ChannelSettings:
        actor.require(Role.ADMIN, "configuring Slack channels")
        check_channel_id(channel_id)
        if reply not in REPLY_MODES:
            raise InvalidRequestError(f"reply must be one of {', '.join(REPLY_MODES)}")
        names = list(dict.fromkeys(d.strip() for d in datastore_ids if d.strip()))
        if not names:
            raise InvalidRequestError("name at least one datastore")
        self._check(actor, names)
        with self._db.session() as session:
            row = session.get(SlackChannel, (actor.tenant_id, channel_id))
            if row is None:
                row = SlackChannel(tenant_id=actor.tenant_id, channel_id=channel_id, reply=reply, updated_by="")
                session.add(row)
            row.datastore_ids = names
            row.reply = reply
            row.updated_by = actor.name
            session.flush()
            return _settings(row)

    def list(self, actor: Principal) -> list[ChannelSettings]:
        actor.require(Role.ADMIN, "reading Slack channel settings")
        with self._db.session() as session:
            rows = session.scalars(
                select(SlackChannel).where(SlackChannel.tenant_id == actor.tenant_id).order_by(SlackChannel.channel_id)
            )
            return [_settings(row) for row in rows]

    def delete(self, actor: Principal, channel_id: str) -> None:
        """Remove the channel's row (the defaults apply again)."""
        actor.require(Role.ADMIN, "configuring Slack channels")
        with self._db.session() as session:
            removed = session.execute(
                delete(SlackChannel).where(
                    SlackChannel.tenant_id == actor.tenant_id, SlackChannel.channel_id == channel_id
                )
            )
            if not getattr(removed, "rowcount", 0):
                raise NotFoundError(f"Slack channel {channel_id} has no settings")


def _settings(row: SlackChannel) -> ChannelSettings:
    return ChannelSettings(
        channel_id=row.channel_id,
        datastore_ids=tuple(row.datastore_ids),
        reply=cast(ReplyMode, row.reply),
        configured=True,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )
