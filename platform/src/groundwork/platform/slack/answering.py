"""Answering one Slack question, after the acknowledgement: the channel's settings, the audience (who reads the
reply decides which documents may be used), the thread's conversation, the shared answer flow, and the reply —
posted in the thread, or sent to `/ask`'s response URL. An answer that takes a while gets a progress message,
updated in place with the verified statements as they pass (at most every `progress_update_seconds`) and then
with the answer. Also: feedback buttons, which rate the answer they sit under."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass

from groundwork.platform.access.principal import Principal
from groundwork.platform.answers.service import AnswerService
from groundwork.platform.answers.types import AnswerRequest, AnswerResult
from groundwork.platform.conversations import ConversationStore
from groundwork.platform.errors import InvalidRequestError, NotFoundError, OverloadedError, PlatformError
from groundwork.platform.slack import blocks
from groundwork.platform.slack.audience import AudienceResolver
from groundwork.platform.slack.blocks import Rendered
from groundwork.platform.slack.channels import ChannelSettingsStore
from groundwork.platform.slack.conversations import KnownConversation, SlackConversations, ThreadKey
from groundwork.platform.slack.errors import SlackApiError
from groundwork.platform.slack.protocols import SlackApi
from groundwork.platform.slack.types import PostedMessage, Question

logger = logging.getLogger(__name__)

HELP = "Ask me a question about your documents, e.g. `@Groundwork how do we restore a backup?`"
BUSY = "I'm answering a lot of questions right now; please ask again in a minute."
FAILED = "Something went wrong while answering; the error is in the server's log."
NO_DATASTORES = (
    "No datastores are set for this channel. A Groundwork admin can set them with "
    "`groundwork slack channel set <channel id> --datastore <name>`."
)


@dataclass(frozen=True)
class ResponderSettings:
    tenant_id: str
    progress_delay_seconds: float
    max_sources: int
    quote_chars: int
    progress_update_seconds: float = 1.5


class _Live:
    """The progress message of one answer, and the verified statements shown in it so far."""

    def __init__(self, api: SlackApi, interval: float) -> None:
        self._api = api
        self._interval = interval
        self.message: PostedMessage | None = None
        self.text = ""
        self._shown = ""
        self._last = 0.0

    async def add(self, piece: str) -> None:
        """A verified statement passed: show it (now, unless the last update was less than `interval` ago)."""
        self.text += piece
        if self.message is None or time.monotonic() - self._last < self._interval:
            return
        await self.refresh()

    async def refresh(self) -> None:
        if self.message is None or self.text == self._shown:
            return
        progress = blocks.progress_message(self.text)
        self._last, self._shown = time.monotonic(), self.text
        try:
            await self._api.update_message(self.message, progress.text, progress.blocks)
        except SlackApiError as exc:
            logger.warning("could not update the progress message: %s", exc)


@dataclass(frozen=True)
class _Composed:
    message: Rendered
    conversation: KnownConversation | None


class SlackResponder:
    def __init__(
        self,
        api: SlackApi,
        answers: AnswerService,
        conversations: ConversationStore,
        audience: AudienceResolver,
        channels: ChannelSettingsStore,
        threads: SlackConversations,
        settings: ResponderSettings,
    ) -> None:
        self._api = api
        self._answers = answers
        self._conversations = conversations
        self._audience = audience
        self._channels = channels
        self._threads = threads
        self._settings = settings

    async def replies_to_every_question(self, channel_id: str) -> bool:
        """Whether the channel is set to `reply=all` (questions without a mention get answers)."""
        found = await asyncio.to_thread(self._channels.effective, self._settings.tenant_id, channel_id)
        return found.reply == "all"

    async def answer(self, question: Question) -> None:
        """Answer `question` where it was asked. Every failure ends in a logged error and, where Slack can still
        be reached, a reply saying what went wrong."""
        started = time.perf_counter()
        live = _Live(self._api, self._settings.progress_update_seconds)
        work = asyncio.ensure_future(self._compose(question, live))
        progress: PostedMessage | None = None
        try:
            if question.visibility == "thread":
                done, _ = await asyncio.wait({work}, timeout=self._settings.progress_delay_seconds)
                if not done:
                    progress = live.message = await self._show_progress(question, live.text)
            composed = await work
        except Exception:
            logger.exception("answering a Slack question in %s failed", question.channel_id)
            composed = _Composed(blocks.note_message(FAILED), None)
        finally:
            if not work.done():
                work.cancel()
        if composed.conversation is not None:
            # Recorded before the answer is posted: its feedback buttons work from the moment they are seen.
            await asyncio.to_thread(self._threads.remember, self._thread_key(question, None), composed.conversation)
        posted = await self._deliver(question, composed.message, progress)
        if composed.conversation is not None and question.visibility == "in_channel" and posted is not None:
            # A reply posted in the channel starts its own thread: known only now.
            await asyncio.to_thread(self._threads.remember, self._thread_key(question, posted), composed.conversation)
        logger.info(
            "answered Slack question (event %s, channel %s) in %.0f ms",
            question.event_id or "-",
            question.channel_id,
            (time.perf_counter() - started) * 1000,
        )

    async def tell(self, question: Question, text: str) -> None:
        """A short reply without an answer (busy, help)."""
        await self._deliver(question, blocks.note_message(text), None)

    async def feedback(self, *, user_id: str, value: str, rating: int, response_url: str | None) -> None:
        """A feedback button was pressed: store the rating on the answer the button sits under."""
        try:
            parsed = json.loads(value)
            conversation_id, message_id = str(parsed["conversation_id"]), int(parsed["message_id"])
        except (ValueError, KeyError, TypeError):
            logger.warning("feedback button with a malformed value %r", value[:200])
            conversation_id, message_id = "", 0
        known = await asyncio.to_thread(self._threads.get, conversation_id) if conversation_id else None
        reply = "Thanks for the feedback."
        if known is None:
            reply = "This answer can no longer be rated."
        else:
            # The conversation's owner is the principal the bot answered as (a channel's audience or a user).
            owner = Principal.tenant_public(known.tenant_id, known.owner)
            try:
                await asyncio.to_thread(
                    self._conversations.add_feedback,
                    owner,
                    conversation_id,
                    message_id,
                    rating=rating,
                    comment=f"Slack user {user_id}",
                )
            except NotFoundError:
                reply = "This answer can no longer be rated."
        if response_url:
            payload = {"response_type": "ephemeral", "replace_original": False, "text": reply}
            await self._api.respond(response_url, payload)

    def _thread_key(self, question: Question, posted: PostedMessage | None) -> ThreadKey:
        if question.visibility == "thread":
            return ThreadKey(question.team_id, question.channel_id, question.thread_ts)
        if question.visibility == "in_channel" and posted is not None:
            return ThreadKey(question.team_id, question.channel_id, posted.ts)
        return ThreadKey(question.team_id, question.channel_id, None)

    async def _compose(self, question: Question, live: _Live) -> _Composed:
        if not question.text:
            return _Composed(blocks.note_message(HELP), None)
        tenant = self._settings.tenant_id
        channel = await asyncio.to_thread(self._channels.effective, tenant, question.channel_id)
        if not channel.datastore_ids:
            return _Composed(blocks.note_message(NO_DATASTORES), None)
        audience = await self._audience.resolve(question)
        if audience.principal is None:
            return _Composed(blocks.note_message(audience.notice or "I can't answer from the documents here."), None)
        principal = audience.principal
        key = self._thread_key(question, None)
        known = await asyncio.to_thread(self._threads.for_thread, key)
        conversation_id = known.conversation_id if known is not None and known.owner == principal.name else None
        request = AnswerRequest(
            question=question.text,
            datastore_ids=list(channel.datastore_ids),
            conversation_id=conversation_id,
            surface="slack",
        )
        result: AnswerResult | None = None
        try:
            async for event in self._answers.stream(request, principal, include_result=True):
                if event.event == "claim":
                    await live.add(event.data["separator"] + event.data["text"])
                elif event.event == "done":
                    result = event.data["result"]
        except OverloadedError:
            return _Composed(blocks.note_message(BUSY), None)
        except PlatformError as exc:
            logger.warning("Slack question in %s not answered: %s", question.channel_id, exc)
            return _Composed(blocks.note_message(f"I couldn't answer that: {exc}"), None)
        if result is None:  # pragma: no cover - stream() always ends with done
            raise RuntimeError("answer stream ended without a result")
        preface = blocks.asked_by(question.user_id, question.text) if question.visibility == "in_channel" else None
        message = blocks.answer_message(
            result,
            notices=[audience.notice] if audience.notice else [],
            preface=preface,
            max_sources=self._settings.max_sources,
            quote_chars=self._settings.quote_chars,
        )
        return _Composed(message, KnownConversation(result.conversation_id, principal.name, principal.tenant_id))

    async def _show_progress(self, question: Question, partial: str) -> PostedMessage | None:
        progress = blocks.progress_message(partial)
        try:
            return await self._api.post_message(
                question.channel_id, progress.text, progress.blocks, thread_ts=question.thread_ts
            )
        except SlackApiError as exc:
            logger.warning("could not post the progress message in %s: %s", question.channel_id, exc)
            return None

    async def _deliver(
        self, question: Question, message: Rendered, progress: PostedMessage | None
    ) -> PostedMessage | None:
        try:
            if question.visibility == "ephemeral":
                if question.response_url is None:
                    raise InvalidRequestError("an ephemeral reply needs the command's response_url")
                payload = {"response_type": "ephemeral", "text": message.text, "blocks": message.blocks}
                await self._api.respond(question.response_url, payload)
                return None
            if progress is not None:
                await self._api.update_message(progress, message.text, message.blocks)
                return progress
            return await self._api.post_message(
                question.channel_id, message.text, message.blocks, thread_ts=question.thread_ts
            )
        except SlackApiError as exc:
            logger.error("could not deliver the answer in Slack channel %s: %s", question.channel_id, exc)
            if question.visibility == "in_channel" and question.response_url is not None:
                note = f"I couldn't post in this channel ({exc.error}). Invite me to it, or use `/ask --private`."
                await self._api.respond(question.response_url, {"response_type": "ephemeral", "text": note})
            return None
