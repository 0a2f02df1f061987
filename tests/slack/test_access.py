"""Who reads a reply decides what it may contain. In a channel the bot answers only from documents EVERY member
may read; in a DM, from what that user may read; when the members cannot be resolved, from tenant-wide
documents only, and it says so. Each document carries a unique canary string (conftest.py); a canary must never
appear in any request the bot sent to Slack (every recorded call's raw body is searched) where a reader of the
reply may not read its document. Each test also checks the opposite, so that it could fail: where every reader
may read a document, its canary does reach Slack."""

from __future__ import annotations

import time

from .conftest import BACKUP, FALCON, LISBON, WIFI
from .helpers import Bot, event_body, leaked, mention, message, text_of, wait_reply

FALCON_Q = "What is the Project Falcon launch budget?"
BACKUP_Q = "When is the metadata database backed up?"
WIFI_Q = "What is the office wifi network called?"
LISBON_Q = "Where does the quarterly planning offsite take place?"
TENANT_ONLY = "documents everyone in the organisation may read"


def ask(bot: Bot, channel: str, user: str, question: str) -> str:
    event = mention(channel, user, question)
    bot.event(event)
    return text_of(wait_reply(bot.slack, channel, event["ts"]))


def dm(bot: Bot, channel: str, user: str, question: str) -> str:
    event = message(channel, user, question, channel_type="im")
    bot.event(event)
    return text_of(wait_reply(bot.slack, channel, event["ts"]))


def test_a_channel_with_one_member_who_may_not_read_a_document_never_gets_its_content(bot: Bot) -> None:
    # CMIXED: ana (may read Falcon), bob (may not), the bot and another bot (bots are not readers).
    for question in (FALCON_Q, "How big is the Falcon launch budget in euros?", "approved under code"):
        reply = ask(bot, "CMIXED", "UANA", question)
        assert FALCON not in reply
    assert BACKUP in ask(bot, "CMIXED", "UBOB", BACKUP_Q), "both may read Backups: answered from it"
    assert WIFI in ask(bot, "CMIXED", "UANA", WIFI_Q)
    # The same question where ana is the only member: her access, so the canary does get through there.
    assert FALCON in ask(bot, "CANA", "UANA", FALCON_Q)
    assert not [c for c in leaked(bot.slack, FALCON) if c.params.get("channel") == "CMIXED"]


def test_a_dm_answers_from_what_that_user_may_read(bot: Bot) -> None:
    assert FALCON in dm(bot, "DANA", "UANA", FALCON_Q)
    reply = dm(bot, "DBOB", "UBOB", FALCON_Q)
    assert FALCON not in reply and "Not found in your documents" in reply
    assert BACKUP in dm(bot, "DBOB", "UBOB", BACKUP_Q)
    assert LISBON in dm(bot, "DCAROL", "UCAROL", LISBON_Q), "UCAROL maps to carol by the explicit mapping"
    assert LISBON not in dm(bot, "DANA", "UANA", LISBON_Q)
    assert not [c for c in leaked(bot.slack, FALCON) if c.params.get("channel") == "DBOB"]
    assert not [c for c in leaked(bot.slack, LISBON) if c.params.get("channel") == "DANA"]


def test_unresolvable_membership_answers_from_tenant_wide_documents_only_and_says_so(bot: Bot) -> None:
    # conversations.members fails for CBROKEN (missing_scope); ana is its only member.
    reply = ask(bot, "CBROKEN", "UANA", BACKUP_Q)
    assert BACKUP not in reply and FALCON not in ask(bot, "CBROKEN", "UANA", FALCON_Q)
    reply = ask(bot, "CBROKEN", "UANA", WIFI_Q)
    assert WIFI in reply and "couldn't see who is in this channel" in reply and TENANT_ONLY in reply
    # A channel over slack.max_channel_members is not resolved member by member either.
    reply = ask(bot, "CBIG", "UANA", WIFI_Q)
    assert WIFI in reply and "more than 6 members" in reply
    assert BACKUP not in ask(bot, "CBIG", "UANA", BACKUP_Q)
    assert not [c for c in leaked(bot.slack, BACKUP) if c.params.get("channel") in ("CBROKEN", "CBIG")]


def test_a_member_without_a_groundwork_account_limits_the_channel_to_tenant_wide_documents(bot: Bot) -> None:
    # CDAVE: ana and dave, whose e-mail address no Groundwork user has.
    reply = ask(bot, "CDAVE", "UANA", BACKUP_Q)
    assert BACKUP not in reply
    reply = ask(bot, "CDAVE", "UANA", WIFI_Q)
    assert WIFI in reply and "1 member of this channel has no Groundwork account" in reply
    # Alone in a DM, dave gets tenant-wide documents and is told why.
    reply = dm(bot, "DDAVE", "UDAVE", WIFI_Q)
    assert WIFI in reply and "not linked to a Groundwork user" in reply


def test_an_unmapped_guest_in_the_channel_means_no_documents_at_all(bot: Bot) -> None:
    reply = ask(bot, "CGUEST", "UANA", WIFI_Q)
    assert WIFI not in reply and "guests or people from other organisations" in reply
    assert not [c for c in leaked(bot.slack, WIFI) if c.params.get("channel") == "CGUEST"]


def test_a_member_joining_is_seen_as_soon_as_slack_reports_it(bot: Bot) -> None:
    assert FALCON in ask(bot, "CJOIN", "UANA", FALCON_Q)  # ana alone: her access
    bot.slack.channels["CJOIN"] = ["UANA", "UBOB", "UBOT"]
    # Until Slack's member_joined_channel event arrives, the cached member list is used (for at most
    # slack.membership_cache_seconds, 30 s here): the event, not the TTL, is what keeps bob from Falcon.
    assert FALCON in ask(bot, "CJOIN", "UANA", FALCON_Q)
    joined = {"type": "member_joined_channel", "user": "UBOB", "channel": "CJOIN", "channel_type": "C"}
    assert bot.send(event_body(joined)).status_code == 200
    time.sleep(0.2)
    assert FALCON not in ask(bot, "CJOIN", "UBOB", FALCON_Q)
    assert BACKUP in ask(bot, "CJOIN", "UBOB", BACKUP_Q)


def test_members_are_read_across_pages_and_users_looked_up(bot: Bot) -> None:
    ask(bot, "CMIXED", "UANA", WIFI_Q)
    pages = [c for c in bot.slack.calls("conversations.members") if c.params.get("channel") == "CMIXED"]
    assert any(c.params.get("cursor") for c in pages), "the member list spans pages (2 per page here)"
    looked_up = {c.params.get("user") for c in bot.slack.calls("users.info")}
    assert {"UANA", "UBOB", "UOTHERBOT"} <= looked_up and "UCAROL" not in looked_up
