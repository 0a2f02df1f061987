"""What the bot posts: the verified answer in the thread with its sources (title, link, quoted line) and
feedback buttons; "not found in your documents" with the closest sources; follow-ups in a thread continue its
conversation; `/ask` replies ephemerally or in the channel; feedback buttons store a rating; channels set to
`reply=all` answer questions without a mention."""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from groundwork.platform.access.principal import Principal
from groundwork.platform.db.models import Feedback
from groundwork.platform.services import Services
from groundwork.platform.slack.blocks import FEEDBACK_DOWN, FEEDBACK_UP
from groundwork.platform.slack.conversations import SlackConversations, ThreadKey

from .conftest import BACKUP, FALCON, WIFI
from .helpers import (
    TEAM,
    Bot,
    action_body,
    command_body,
    feedback_value,
    mention,
    message,
    new_ts,
    replies,
    text_of,
    unique,
    wait_reply,
    wait_response,
)


def services(bot: Bot) -> Services:
    found: Services = bot.app.state.services
    return found


def test_a_mention_gets_the_verified_answer_in_its_thread_with_sources_and_feedback_buttons(bot: Bot) -> None:
    event = mention("CTHREAD", "UANA", "When is the metadata database backed up?")
    response = bot.event(event)
    assert response.status_code == 200
    reply = wait_reply(bot.slack, "CTHREAD", event["ts"])
    assert reply["thread_ts"] == event["ts"], "answered in the thread of the mention"
    assert "02:00 UTC" in reply["text"] and "[1]" in reply["text"]
    sections = [b["text"]["text"] for b in reply["blocks"] if b["type"] == "section"]
    sources = next(s for s in sections if s.startswith("*Sources*"))
    assert "*[1]* Backups" in sources and "upload://backups.md" in sources
    quoted = [line for line in sources.splitlines() if line.startswith(">")]
    assert quoted and "backed up every night at 02:00 UTC" in quoted[0] and len(quoted[0]) <= 201
    assert json.loads(feedback_value(reply))["message_id"] > 0


def test_an_unanswerable_question_says_not_found_with_the_closest_sources(bot: Bot) -> None:
    event = mention("CTHREAD", "UBOB", "What is the capital of Australia?")
    bot.event(event)
    reply = wait_reply(bot.slack, "CTHREAD", event["ts"])
    assert reply["text"].startswith("Not found in your documents.")
    assert "Closest sources" in text_of(reply) and "Sources*" not in text_of(reply)


def test_a_follow_up_in_the_thread_continues_its_conversation(bot: Bot) -> None:
    first = mention("CTHREAD", "UANA", "When is the metadata database backed up?")
    bot.event(first)
    first_reply = wait_reply(bot.slack, "CTHREAD", first["ts"])
    follow = mention("CTHREAD", "UBOB", "how long are they kept?", thread_ts=first["ts"])
    bot.event(follow)
    deadline = time.monotonic() + 60
    while len(replies(bot.slack, "CTHREAD", first["ts"])) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    second_reply = replies(bot.slack, "CTHREAD", first["ts"])[1]
    assert "30 days" in second_reply["text"]
    first_value, second_value = json.loads(feedback_value(first_reply)), json.loads(feedback_value(second_reply))
    assert first_value["conversation_id"] == second_value["conversation_id"]
    known = SlackConversations(services(bot).database).for_thread(ThreadKey(TEAM, "CTHREAD", first["ts"]))
    assert known is not None and known.conversation_id == first_value["conversation_id"]
    assert known.owner == "slack:T0001:CTHREAD", "a channel's conversations belong to the channel's audience"
    turns = services(bot).conversations.turns(known.conversation_id)
    assert [t.role for t in turns] == ["user", "assistant", "user", "assistant"]
    assert "backed up" in (turns[2].standalone_query or ""), "the follow-up was read with the thread's context"


def test_a_direct_message_is_answered_in_its_thread(bot: Bot) -> None:
    event = message("DANA", "UANA", "What is the office wifi network called?", channel_type="im")
    bot.event(event)
    reply = wait_reply(bot.slack, "DANA", event["ts"])
    assert WIFI in reply["text"]
    own = SlackConversations(services(bot).database).for_thread(ThreadKey(TEAM, "DANA", event["ts"]))
    assert own is not None and own.owner == "ana@acme.com", "a DM's conversation is the user's own"


def test_ask_replies_ephemerally_from_what_the_asker_may_read(bot: Bot) -> None:
    url = bot.slack.response_url(unique("ask"))
    body = command_body("CMIXED", "UANA", "What is the Project Falcon launch budget?", url)
    ack = bot.send(body, content_type="application/x-www-form-urlencoded")
    assert ack.status_code == 200 and "Searching your documents" in ack.text
    reply = wait_response(bot.slack, url)
    assert reply["response_type"] == "ephemeral"
    assert FALCON in reply["text"], "only the asker sees it: answered from what the asker may read"
    assert not [
        c for c in bot.slack.calls("chat.postMessage") if c.params.get("channel") == "CMIXED" and FALCON in c.raw
    ]


def test_ask_public_posts_in_the_channel_from_what_every_member_may_read(bot: Bot) -> None:
    url = bot.slack.response_url(unique("ask"))
    body = command_body("CMIXED", "UANA", "--public What is the Project Falcon launch budget?", url)
    assert bot.send(body, content_type="application/x-www-form-urlencoded").status_code == 200
    reply = wait_reply(bot.slack, "CMIXED", None)
    assert "<@UANA> asked: What is the Project Falcon launch budget?" in text_of(reply)
    assert FALCON not in text_of(reply) and reply["text"].startswith("Not found")
    public = command_body("CMIXED", "UBOB", "--public When is the metadata database backed up?", url)
    assert bot.send(public, content_type="application/x-www-form-urlencoded").status_code == 200
    bot.slack.wait_for(lambda calls: any(BACKUP in c.raw and c.params.get("channel") == "CMIXED" for c in calls))


def test_feedback_buttons_store_a_rating_on_the_answer(bot: Bot) -> None:
    event = mention("CFEEDBACK", "UANA", "When is the metadata database backed up?")
    bot.event(event)
    value = feedback_value(wait_reply(bot.slack, "CFEEDBACK", event["ts"]))
    target = json.loads(value)
    for user, action in (("UBOB", FEEDBACK_DOWN), ("UANA", FEEDBACK_UP)):
        url = bot.slack.response_url(unique("fb"))
        body = action_body(user, "CFEEDBACK", action, value, url)
        assert bot.send(body, content_type="application/x-www-form-urlencoded").status_code == 200
        thanks = wait_response(bot.slack, url)
        assert thanks["text"] == "Thanks for the feedback." and thanks["response_type"] == "ephemeral"
    with services(bot).database.session() as session:
        rows = session.scalars(select(Feedback).where(Feedback.conversation_id == target["conversation_id"])).all()
        stored = sorted((f.rating, f.comment, f.message_id, f.owner) for f in rows)
    assert stored == [
        (-1, "Slack user UBOB", target["message_id"], "slack:T0001:CFEEDBACK"),
        (1, "Slack user UANA", target["message_id"], "slack:T0001:CFEEDBACK"),
    ]


def test_a_feedback_button_naming_another_conversation_stores_nothing(bot: Bot) -> None:
    bob = Principal.tenant_public("default", "bob")
    stranger = services(bot).conversations.open(bob, None, title="not the bot's", datastore_ids=["handbook"])
    url = bot.slack.response_url(unique("fb"))
    value = json.dumps({"conversation_id": stranger, "message_id": 1})
    assert (
        bot.send(
            action_body("UBOB", "CFEEDBACK", FEEDBACK_UP, value, url), content_type="application/x-www-form-urlencoded"
        ).status_code
        == 200
    )
    assert wait_response(bot.slack, url)["text"] == "This answer can no longer be rated."
    with services(bot).database.session() as session:
        assert session.scalars(select(Feedback).where(Feedback.conversation_id == stranger)).all() == []
    malformed = bot.slack.response_url(unique("fb"))
    body = action_body("UBOB", "CFEEDBACK", FEEDBACK_UP, "not json", malformed)
    assert bot.send(body, content_type="application/x-www-form-urlencoded").status_code == 200
    assert wait_response(bot.slack, malformed)["text"] == "This answer can no longer be rated."


def test_reply_all_channels_answer_questions_without_a_mention(bot: Bot) -> None:
    put = bot.http.put("/v1/admin/slack/channels/CALL", json={"datastore_ids": ["handbook"], "reply": "all"})
    assert put.status_code == 200, put.text
    question = message("CALL", "UBOB", "When is the metadata database backed up?")
    chatter = message("CALL", "UBOB", "lunch at noon, see you there")
    elsewhere = message("CTHREAD", "UBOB", "When is the metadata database backed up?")  # a `mention` channel
    for event in (question, chatter, elsewhere):
        bot.event(event)
    assert BACKUP in wait_reply(bot.slack, "CALL", question["ts"])["text"]
    time.sleep(1.5)
    assert replies(bot.slack, "CALL", chatter["ts"]) == [] and replies(bot.slack, "CTHREAD", elsewhere["ts"]) == []


def test_an_empty_mention_gets_help_and_the_bots_own_messages_are_ignored(bot: Bot) -> None:
    event = mention("CTHREAD", "UANA", "")
    bot.event(event)
    assert "Ask me a question" in wait_reply(bot.slack, "CTHREAD", event["ts"])["text"]
    own = {**message("DANA", "UBOT", "an answer the bot posted?", channel_type="im"), "bot_id": "BBOT"}
    bot.event(own)
    time.sleep(1.0)
    assert replies(bot.slack, "DANA", own["ts"]) == []


def test_threads_of_other_channels_start_their_own_conversations(bot: Bot) -> None:
    ts = new_ts()
    a = mention("CTHREAD", "UANA", "When is the metadata database backed up?", ts=ts)
    b = mention("CFEEDBACK", "UANA", "When is the metadata database backed up?", ts=ts)
    bot.event(a)
    bot.event(b)
    first = json.loads(feedback_value(wait_reply(bot.slack, "CTHREAD", ts)))
    second = json.loads(feedback_value(wait_reply(bot.slack, "CFEEDBACK", ts)))
    assert first["conversation_id"] != second["conversation_id"]
