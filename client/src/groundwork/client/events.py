"""The events of a streamed answer (`POST /v1/answer` with `stream: true`), typed.

The server sends `retrieval` (the passages found), `claim` (a verified claim, as soon as it passes), `notice`
(why the answer is degraded), `done` (the final answer) and, on failure, `error`; older servers send `delta`,
`citations` and `verification` instead of `claim`, and a server may add events and fields. Every event keeps
its raw `data`; a field the model here does not name is kept in `model_extra`, and an event name it does not
know becomes an `UnknownEvent` instead of an error."""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from groundwork.client.models import Answer, Citation, Claim
from groundwork.client.wire import Model


class AnswerEvent(Model):
    """One server-sent event. `event` is its name; `data` its JSON payload as sent."""

    event: str
    data: dict[str, Any] = Field(default_factory=dict, exclude=True)


class RetrievalHit(Model):
    chunk_id: int
    document_id: str
    datastore_id: str = ""
    title: str = ""
    source_uri: str = ""
    heading_path: list[str] = Field(default_factory=list)
    score: float = 0.0
    page: int | None = None


class RetrievalEvent(AnswerEvent):
    standalone_query: str = ""
    hits: list[RetrievalHit] = Field(default_factory=list)


class ClaimEvent(AnswerEvent):
    """A claim, shown as soon as it passed verification: append `separator + text` to what is shown. `sources`
    are the citations it brings in for the first time (later claims citing them send none)."""

    index: int = 0
    text: str = ""
    separator: str = ""
    citations: list[int] = Field(default_factory=list)
    verdict: str = "supported"
    """`supported`, or `unsupported` for a claim kept and flagged (`answers.unsupported_claims=flag`)."""
    score: float | None = None
    origin: str | None = None
    sources: list[Citation] = Field(default_factory=list)


class NoticeEvent(AnswerEvent):
    """Why the answer is degraded or changed course (e.g. generation stopped for the extractive answer)."""

    text: str = ""
    fallback: dict[str, Any] | None = None


class DeltaEvent(AnswerEvent):
    """Model text as generated (before verification; older servers, or `draft` when asked for)."""

    text: str = ""


class CitationsEvent(AnswerEvent):
    citations: list[Citation] = Field(default_factory=list)


class VerificationEvent(AnswerEvent):
    claims: list[Claim] = Field(default_factory=list)


class DoneEvent(AnswerEvent):
    """The final answer. `result` parses it as the JSON endpoint's `Answer` where the server sent it whole."""

    answer: str = ""
    refused: bool | None = None
    notice: str | None = None
    conversation_id: str | None = None
    message_id: int | None = None
    citations: list[Citation] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)

    @property
    def result(self) -> Answer | None:
        try:
            return Answer.model_validate(self.data)
        except ValueError:
            return None


class ErrorEvent(AnswerEvent):
    code: str = "stream_error"
    message: str = ""


class UnknownEvent(AnswerEvent):
    """An event this client does not know (a newer server's); `data` has its payload."""


EVENT_TYPES: dict[str, type[AnswerEvent]] = {
    "retrieval": RetrievalEvent,
    "claim": ClaimEvent,
    "notice": NoticeEvent,
    "delta": DeltaEvent,
    "draft": DeltaEvent,
    "citations": CitationsEvent,
    "verification": VerificationEvent,
    "done": DoneEvent,
    "error": ErrorEvent,
}


def parse_event(name: str, raw: str) -> AnswerEvent:
    """The typed event for one SSE `event:`/`data:` pair. A payload that does not fit its type's fields (a
    server that changed them) is kept as an `UnknownEvent` rather than dropped or raised."""
    try:
        payload = json.loads(raw) if raw else {}
    except ValueError:
        payload = {"text": raw}
    data = payload if isinstance(payload, dict) else {"value": payload}
    kind = EVENT_TYPES.get(name, UnknownEvent)
    fields = {k: v for k, v in data.items() if k not in ("event", "data")}
    try:
        return kind.model_validate({**fields, "event": name, "data": data})
    except ValueError:
        return UnknownEvent(event=name, data=data)


class SSEParser:
    """Server-Sent Events framing (the WHATWG rules the server needs): `event:` and `data:` lines, a blank line
    ends an event, multi-line data joined by newlines, comments (`:`) ignored."""

    def __init__(self) -> None:
        self._event = "message"
        self._data: list[str] = []

    def feed(self, line: str) -> AnswerEvent | None:
        """One line (without its newline); returns an event when `line` completes one."""
        if not line:
            if not self._data:
                self._event = "message"
                return None
            event = parse_event(self._event, "\n".join(self._data))
            self._event, self._data = "message", []
            return event
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        return None

    def close(self) -> AnswerEvent | None:
        """The last event, if the stream ended without its blank line."""
        return self.feed("")
