"""The audience rule on its own, with an in-memory Slack API and user directory: who reads the reply decides
the principal the bot answers as (see `groundwork.platform.slack.audience`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Literal

import pytest

from groundwork.platform.access.principal import Principal
from groundwork.platform.db.models import Role
from groundwork.platform.slack.audience import Audience, AudienceResolver, AudienceSettings
from groundwork.platform.slack.errors import SlackApiError, TooManyMembersError
from groundwork.platform.slack.types import PostedMessage, Question, SlackUser


class MemorySlack:
    def __init__(self, members: dict[str, list[str]], users: dict[str, SlackUser]) -> None:
        self.members, self.users = members, users
        self.member_calls = 0

    async def post_message(
        self, channel_id: str, text: str, blocks: Sequence[dict[str, Any]], *, thread_ts: str | None = None
    ) -> PostedMessage:
        raise NotImplementedError

    async def update_message(self, message: PostedMessage, text: str, blocks: Sequence[dict[str, Any]]) -> None:
        raise NotImplementedError

    async def channel_members(self, channel_id: str, *, max_members: int) -> list[str]:
        self.member_calls += 1
        if channel_id not in self.members:
            raise SlackApiError("conversations.members", "channel_not_found")
        if len(self.members[channel_id]) > max_members:
            raise TooManyMembersError(channel_id)
        return self.members[channel_id]

    async def user_info(self, user_id: str) -> SlackUser:
        if user_id not in self.users:
            raise SlackApiError("users.info", "user_not_found")
        return self.users[user_id]

    async def respond(self, response_url: str, payload: dict[str, Any]) -> None:
        raise NotImplementedError


DIRECTORY = {
    "ana": Principal("acme", "ana", Role.READER, method="integration"),
    "bob": Principal("acme", "bob", Role.READER, method="integration"),
}
EMAILS = {"ana@acme.com": "ana", "bob@acme.com": "bob"}


def lookup(tenant_id: str, *, name: str | None = None, email: str | None = None) -> Principal | None:
    assert tenant_id == "acme"
    return DIRECTORY.get(name or EMAILS.get(email or "", ""))


USERS = {
    "UANA": SlackUser("UANA", "T1", email="ana@acme.com"),
    "UBOB": SlackUser("UBOB", "T1", email="bob@acme.com"),
    "UGONE": SlackUser("UGONE", "T1", email="gone@acme.com", deleted=True),
    "UBOTX": SlackUser("UBOTX", "T1", is_bot=True),
    "UDAVE": SlackUser("UDAVE", "T1", email="dave@acme.com"),
    "UGUEST": SlackUser("UGUEST", "T1", email="g@partner.example", is_guest=True),
    "UEXT": SlackUser("UEXT", "T9", email="x@other.example"),
}


def resolve(
    channel: str,
    members: list[str],
    *,
    asker_only: bool = False,
    user: str = "UANA",
    explicit: dict[str, str] | None = None,
    guests: bool = False,
    unresolved: Literal["tenant_documents", "no_documents"] = "tenant_documents",
) -> Audience:
    api = MemorySlack({channel: members} if members else {}, USERS)
    resolver = AudienceResolver(
        api, lookup, AudienceSettings("acme", explicit or {}, True, guests, unresolved, 5, 30.0)
    )
    visibility: Literal["ephemeral", "thread"] = "ephemeral" if asker_only else "thread"
    question = Question("T1", channel, user, "q?", visibility, is_direct=False, thread_ts="1.1")
    return asyncio.run(resolver.resolve(question))


def test_a_channel_reads_as_every_human_member_together() -> None:
    audience = resolve("C1", ["UANA", "UBOB", "UBOTX", "UGONE"])
    assert audience.scope == "channel" and audience.principal is not None
    assert audience.principal.method == "audience" and audience.principal.name == "slack:T1:C1"
    assert sorted(m.name for m in audience.principal.audience) == ["ana", "bob"], "bots and deleted users left out"


def test_an_ephemeral_reply_reads_as_the_asker() -> None:
    audience = resolve("C1", ["UANA", "UBOB"], asker_only=True, user="UBOB")
    assert audience.scope == "user" and audience.principal == DIRECTORY["bob"]


def test_an_unmapped_member_means_tenant_wide_documents() -> None:
    audience = resolve("C1", ["UANA", "UDAVE"])
    assert audience.scope == "tenant_public" and audience.principal is not None
    assert audience.principal.method == "tenant_public" and "1 member" in (audience.notice or "")


@pytest.mark.parametrize("outsider", ["UGUEST", "UEXT"])
def test_an_unmapped_guest_or_external_member_means_no_documents_unless_allowed(outsider: str) -> None:
    assert resolve("C1", ["UANA", outsider]).principal is None
    allowed = resolve("C1", ["UANA", outsider], guests=True)
    assert allowed.principal is not None and allowed.principal.method == "tenant_public"


def test_an_explicit_mapping_wins_over_the_email_and_a_dangling_one_maps_to_nobody() -> None:
    mapped = resolve("C1", ["UDAVE"], asker_only=True, user="UDAVE", explicit={"UDAVE": "bob"})
    assert mapped.principal == DIRECTORY["bob"]
    dangling = resolve("C1", ["UANA"], asker_only=True, user="UANA", explicit={"UANA": "nobody"})
    assert dangling.scope == "tenant_public", "an explicit mapping to no user does not fall back to the e-mail"


def test_unresolvable_members_follow_the_setting() -> None:
    fallback = resolve("CMISSING", [])
    assert fallback.scope == "tenant_public" and "couldn't see who is in this channel" in (fallback.notice or "")
    assert resolve("CMISSING", [], unresolved="no_documents").principal is None
    too_many = resolve("CBIG", ["UANA", "UBOB", "UDAVE", "UANA", "UBOB", "UDAVE"])
    assert too_many.scope == "tenant_public" and "more than 5 members" in (too_many.notice or "")


def test_member_lists_are_cached_until_a_membership_event() -> None:
    api = MemorySlack({"C1": ["UANA"]}, USERS)
    resolver = AudienceResolver(api, lookup, AudienceSettings("acme", {}, True, False, "tenant_documents", 5, 30.0))
    question = Question("T1", "C1", "UANA", "q?", "thread", is_direct=False, thread_ts="1.1")

    async def twice() -> tuple[Audience, Audience, Audience]:
        first = await resolver.resolve(question)
        api.members["C1"] = ["UANA", "UBOB"]
        cached = await resolver.resolve(question)
        resolver.forget_channel("C1")
        return first, cached, await resolver.resolve(question)

    first, cached, fresh = asyncio.run(twice())
    assert [m.name for m in cached.principal.audience] == ["ana"] == [m.name for m in first.principal.audience]  # type: ignore[union-attr]
    assert sorted(m.name for m in fresh.principal.audience) == ["ana", "bob"]  # type: ignore[union-attr]
    assert api.member_calls == 2
