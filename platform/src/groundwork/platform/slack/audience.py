"""Who reads a reply, as one principal: the rule that decides which documents the bot may answer from.

- Read by the asker only (a direct message with the bot, an ephemeral `/ask`): the asker's own principal.
- Read in a channel: every member (`conversations.members`, bots left out) is mapped to a Groundwork user and
  the bot answers as `Principal.shared_audience`, which reads only what EVERY member may read.
- A person who maps to no Groundwork user: the audience is not fully known, so the bot answers from tenant-wide
  documents only and says so. A guest or a member of another organisation who maps to no user (they are not
  in the tenant) means no documents at all, unless `slack.guests_see_tenant_documents`.
- Members that cannot be resolved (a Slack API error, more than `slack.max_channel_members`): tenant-wide
  documents only, and the reply says so (`slack.unresolved_membership=no_documents`: none).

Mapping: `slack.users` (Slack user id -> Groundwork user name) first; otherwise the Groundwork user with the
Slack profile's e-mail address. Groundwork users, groups and ACLs are read fresh for every question; only what
Slack says (member lists, profiles) is cached, for `slack.membership_cache_seconds`, and a channel's member list
is dropped at once when Slack reports a member joining or leaving.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from groundwork.platform.access.principal import Principal
from groundwork.platform.slack.errors import SlackApiError, TooManyMembersError
from groundwork.platform.slack.protocols import SlackApi
from groundwork.platform.slack.ttl import TtlCache
from groundwork.platform.slack.types import Question, SlackUser

logger = logging.getLogger(__name__)

PROFILE_LOOKUPS_AT_ONCE = 8
CACHED_CHANNELS = 1_000
CACHED_PROFILES = 20_000

TENANT_WIDE = "documents everyone in the organisation may read"


class PrincipalLookup(Protocol):
    """`IdentityService.principal_for_user`: the reader principal of an enabled user, or None."""

    def __call__(self, tenant_id: str, *, name: str | None = None, email: str | None = None) -> Principal | None: ...


@dataclass(frozen=True)
class AudienceSettings:
    tenant_id: str
    explicit_users: Mapping[str, str]
    map_by_email: bool
    guests_see_tenant_documents: bool
    unresolved_membership: Literal["tenant_documents", "no_documents"]
    max_channel_members: int
    cache_seconds: float


@dataclass(frozen=True)
class Audience:
    """The principal to answer as (None: answer from no documents) and what the reply must say about it."""

    principal: Principal | None
    scope: Literal["user", "channel", "tenant_public", "none"]
    notice: str | None = None


@dataclass(frozen=True)
class _Person:
    user: SlackUser
    principal: Principal | None


class AudienceResolver:
    def __init__(self, api: SlackApi, lookup: PrincipalLookup, settings: AudienceSettings) -> None:
        self._api = api
        self._lookup = lookup
        self._settings = settings
        self._members: TtlCache[str, tuple[str, ...]] = TtlCache(settings.cache_seconds, CACHED_CHANNELS)
        self._profiles: TtlCache[str, SlackUser] = TtlCache(settings.cache_seconds, CACHED_PROFILES)

    @staticmethod
    def channel_owner(team_id: str, channel_id: str) -> str:
        """The stable principal name of a channel's audience: it owns the channel's conversations."""
        return f"slack:{team_id}:{channel_id}"

    def forget_channel(self, channel_id: str) -> None:
        """Slack reported a member joining or leaving: read the member list again next time."""
        self._members.pop(channel_id)

    async def resolve(self, question: Question) -> Audience:
        if question.read_by_asker_only:
            return await self._asker(question)
        return await self._channel(question)

    async def _asker(self, question: Question) -> Audience:
        try:
            [person] = await self._people(question.team_id, [question.user_id])
        except SlackApiError as exc:
            logger.warning("cannot resolve Slack user %s: %s", question.user_id, exc)
            return self._unresolved(
                self.channel_owner(question.team_id, question.user_id), "I couldn't look up your Slack profile"
            )
        if person.principal is not None:
            return Audience(person.principal, "user")
        owner = self.channel_owner(question.team_id, question.user_id)
        if self._outsider(person.user, question.team_id):
            return Audience(
                None,
                "none",
                "Your Slack account is a guest or external account with no Groundwork user, so I "
                "can't answer from the documents.",
            )
        return Audience(
            Principal.tenant_public(self._settings.tenant_id, owner),
            "tenant_public",
            f"Your Slack account is not linked to a Groundwork user, so this answer uses only {TENANT_WIDE}.",
        )

    async def _channel(self, question: Question) -> Audience:
        owner = self.channel_owner(question.team_id, question.channel_id)
        try:
            members = await self._channel_members(question.channel_id)
            people = await self._people(question.team_id, members)
        except TooManyMembersError:
            return self._unresolved(owner, f"This channel has more than {self._settings.max_channel_members} members")
        except SlackApiError as exc:
            logger.warning("cannot resolve the members of Slack channel %s: %s", question.channel_id, exc)
            return self._unresolved(owner, "I couldn't see who is in this channel")
        humans = [p for p in people if not p.user.is_bot and not p.user.deleted]
        unmapped = [p for p in humans if p.principal is None]
        if any(self._outsider(p.user, question.team_id) for p in unmapped):
            return Audience(
                None,
                "none",
                "This channel includes guests or people from other organisations who have no "
                "Groundwork account, so I can't answer from the documents here.",
            )
        if unmapped or not humans:
            count = len(unmapped)
            who = "member of this channel has" if count == 1 else "members of this channel have"
            return Audience(
                Principal.tenant_public(self._settings.tenant_id, owner),
                "tenant_public",
                f"{count} {who} no Groundwork account, so this answer uses only {TENANT_WIDE}.",
            )
        members_principals = [p.principal for p in humans if p.principal is not None]
        return Audience(Principal.shared_audience(self._settings.tenant_id, owner, members_principals), "channel")

    def _unresolved(self, owner: str, why: str) -> Audience:
        if self._settings.unresolved_membership == "no_documents":
            return Audience(None, "none", f"{why}, so I can't answer from the documents.")
        return Audience(
            Principal.tenant_public(self._settings.tenant_id, owner),
            "tenant_public",
            f"{why}, so this answer uses only {TENANT_WIDE}.",
        )

    def _outsider(self, user: SlackUser, team_id: str) -> bool:
        if self._settings.guests_see_tenant_documents:
            return False
        return user.is_guest or user.is_external or (bool(user.team_id) and user.team_id != team_id)

    async def _channel_members(self, channel_id: str) -> tuple[str, ...]:
        cached = self._members.get(channel_id)
        if cached is not None:
            return cached
        members = tuple(await self._api.channel_members(channel_id, max_members=self._settings.max_channel_members))
        self._members.put(channel_id, members)
        return members

    async def _people(self, team_id: str, user_ids: Sequence[str]) -> list[_Person]:
        """Slack profiles (cached) and Groundwork principals (fresh) of `user_ids`."""
        limit = asyncio.Semaphore(PROFILE_LOOKUPS_AT_ONCE)

        async def profile(user_id: str) -> SlackUser:
            if user_id in self._settings.explicit_users:
                return SlackUser(id=user_id, team_id=team_id)  # mapped by an admin: a person of this workspace
            cached = self._profiles.get(user_id)
            if cached is not None:
                return cached
            async with limit:
                user = await self._api.user_info(user_id)
            self._profiles.put(user_id, user)
            return user

        users = await asyncio.gather(*(profile(u) for u in user_ids))
        principals = await asyncio.to_thread(self._principals, users)
        return [_Person(u, p) for u, p in zip(users, principals, strict=True)]

    def _principals(self, users: Sequence[SlackUser]) -> list[Principal | None]:
        found: list[Principal | None] = []
        for user in users:
            principal: Principal | None = None
            if user.is_bot or user.deleted:
                principal = None
            elif user.id in self._settings.explicit_users:
                principal = self._lookup(self._settings.tenant_id, name=self._settings.explicit_users[user.id])
            elif self._settings.map_by_email and user.email:
                principal = self._lookup(self._settings.tenant_id, email=user.email)
            found.append(principal)
        return found
