"""The Bolt app: Slack's events, `/ask` and the feedback buttons, each acknowledged at once and answered in the
background (`BackgroundJobs`), so Slack always gets its acknowledgement well within 3 seconds.

`process_before_response=True`: a listener returns before the HTTP response (or the Socket Mode
acknowledgement) is sent, and every listener here only reads the payload, acknowledges and submits a job.
Retried deliveries of an event (Slack resends until it sees a 2xx; `X-Slack-Retry-Num`, Socket Mode's
`retry_attempt`) carry the same `event_id` and are acknowledged without being handled again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from groundwork.platform.slack import events
from groundwork.platform.slack.answering import BUSY, SlackResponder
from groundwork.platform.slack.blocks import FEEDBACK_DOWN, FEEDBACK_UP
from groundwork.platform.slack.jobs import BackgroundJobs
from groundwork.platform.slack.ttl import TtlCache
from groundwork.platform.slack.types import Question

logger = logging.getLogger(__name__)

ASK_ACK = "Searching your documents…"


def create_bolt_app(
    client: AsyncWebClient,
    signing_secret: str | None,
    responder: SlackResponder,
    jobs: BackgroundJobs,
    seen_events: TtlCache[str, bool],
    *,
    ask_default: Literal["ephemeral", "in_channel"],
    forget_channel: Callable[[str], None],
) -> AsyncApp:
    app = AsyncApp(
        name="groundwork",
        client=client,
        signing_secret=signing_secret or "",
        # Bolt checks signatures again (after `RequestVerifier`); Socket Mode requests need none.
        request_verification_enabled=bool(signing_secret),
        process_before_response=True,
        logger=logging.getLogger("groundwork.platform.slack.bolt"),
    )

    async def once_per_event(body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        event_id = body.get("event_id")
        if isinstance(event_id, str) and event_id and not seen_events.add_if_absent(event_id, True):
            logger.info("Slack event %s delivered again; acknowledged, not handled again", event_id)
            return BoltResponse(status=200, body="")
        return await next()

    app.use(once_per_event)

    def answer(question: Question) -> None:
        name = f"slack-answer-{question.event_id or question.channel_id}"
        if not jobs.submit(responder.answer(question), name=name):
            logger.warning("Slack answer queue full (%d pending); telling the asker to retry", jobs.pending)
            jobs.submit(responder.tell(question, BUSY), name=f"{name}-busy", essential=False)

    async def answer_if_channel_wants_it(question: Question) -> None:
        if await responder.replies_to_every_question(question.channel_id):
            await responder.answer(question)

    @app.event("app_mention")
    async def on_mention(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        question = events.from_mention(body, event, context.bot_user_id)
        if question is not None:
            answer(question)

    @app.event("message")
    async def on_message(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        found = events.from_message(body, event, context.bot_user_id)
        if found is None:
            return
        question, needs_reply_all = found
        if not needs_reply_all:
            answer(question)
        elif not jobs.submit(answer_if_channel_wants_it(question), name=f"slack-message-{question.event_id}"):
            logger.warning("Slack answer queue full; a channel question without a mention is not answered")

    @app.event("member_joined_channel")
    @app.event("member_left_channel")
    async def on_membership(ack: AsyncAck, event: dict[str, Any]) -> None:
        await ack()
        channel = event.get("channel")
        if isinstance(channel, str):
            forget_channel(channel)

    @app.command("/ask")
    async def on_ask(ack: AsyncAck, command: dict[str, Any]) -> None:
        question = events.from_command(command, ask_default)
        await ack(text=ASK_ACK if question.text else "")
        answer(question)

    async def on_feedback(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        rating = 1 if action.get("action_id") == FEEDBACK_UP else -1
        user = str((body.get("user") or {}).get("id") or "")
        job = responder.feedback(
            user_id=user, value=str(action.get("value") or ""), rating=rating, response_url=body.get("response_url")
        )
        jobs.submit(job, name="slack-feedback", essential=False)

    app.action(FEEDBACK_UP)(on_feedback)
    app.action(FEEDBACK_DOWN)(on_feedback)
    return app
