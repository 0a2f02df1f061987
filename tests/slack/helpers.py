"""Driving the bot as Slack does: requests signed with the app's signing secret (computed here, independently of
the platform's code, the way Slack documents it), event and command payloads, and reading back what the bot
sent to the local server that stands in for Slack's Web API (`groundwork.platform.slack.testing.FakeSlack`;
Slack's servers cannot be reached from here)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from fastapi import FastAPI

from groundwork.platform.slack.blocks import CHECKING, PROGRESS
from groundwork.platform.slack.testing import FakeSlack, RecordedCall

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T0001"
_ids = itertools.count(1)


def sign(body: bytes, timestamp: int, secret: str = SECRET) -> str:
    """Slack's v0 signature: HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing secret."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: bytes, *, timestamp: int | None = None, content_type: str = "application/json"
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(body, ts),
    }


def unique(prefix: str) -> str:
    return f"{prefix}{next(_ids):05d}"


def new_ts() -> str:
    return f"{int(time.time())}.{next(_ids):06d}"


def event_body(event: dict[str, Any], *, event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "token": "unused",
            "team_id": TEAM,
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": event_id or unique("Ev"),
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}],
        }
    ).encode()


def mention(
    channel: str, user: str, text: str, *, ts: str | None = None, thread_ts: str | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": f"<@UBOT> {text}",
        "ts": ts or new_ts(),
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(
    channel: str, user: str, text: str, *, channel_type: str = "channel", ts: str | None = None
) -> dict[str, Any]:
    return {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts or new_ts(),
        "channel": channel,
        "channel_type": channel_type,
    }


def command_body(channel: str, user: str, text: str, response_url: str) -> bytes:
    return urlencode(
        {
            "token": "unused",
            "team_id": TEAM,
            "team_domain": "acme",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/ask",
            "text": text,
            "api_app_id": "A0001",
            "response_url": response_url,
            "trigger_id": unique("trigger"),
        }
    ).encode()


def action_body(user: str, channel: str, action_id: str, value: str, response_url: str) -> bytes:
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A0001",
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel},
        "trigger_id": unique("trigger"),
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "groundwork_feedback",
                "value": value,
                "action_ts": "1",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


@dataclass
class Bot:
    """The API (served by uvicorn on a free port, so requests travel over real HTTP) and the fake Slack."""

    app: FastAPI
    http: httpx.Client
    slack: FakeSlack
    admin_key: str

    def send(self, body: bytes, *, content_type: str = "application/json", **headers: str) -> httpx.Response:
        signed = signed_headers(body, content_type=content_type)
        signed.update(headers)
        return self.http.post("/slack/events", content=body, headers=signed)

    def event(self, event: dict[str, Any], **headers: str) -> httpx.Response:
        response = self.send(event_body(event), **headers)
        assert response.status_code == 200, response.text
        return response


def replies(slack: FakeSlack, channel: str, thread_ts: str | None) -> list[dict[str, Any]]:
    """The bot's final messages in a thread: posted answers, and progress messages as updated in place."""
    calls = slack.calls()
    posted = [
        c
        for c in calls
        if c.method == "chat.postMessage"
        and c.params.get("channel") == channel
        and c.params.get("thread_ts") == thread_ts
    ]
    finals: list[dict[str, Any]] = []
    for post in posted:
        if not _in_progress(post.params):
            finals.append(post.params)
            continue
        updates = [c for c in calls if c.method == "chat.update" and c.params.get("ts") == post.response.get("ts")]
        if updates and not _in_progress(updates[-1].params):
            finals.append(updates[-1].params)
    return finals


def _in_progress(params: dict[str, Any]) -> bool:
    """A progress message: "Searching…", or the statements verified so far while the rest is checked."""
    return params.get("text") == PROGRESS or CHECKING in json.dumps(params.get("blocks"), ensure_ascii=False)


def wait_reply(slack: FakeSlack, channel: str, thread_ts: str | None, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = replies(slack, channel, thread_ts)
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no reply in {channel} thread {thread_ts}; calls: {[c.method for c in slack.calls()]}")


def text_of(reply: dict[str, Any]) -> str:
    """Everything a reader sees in a message: its text and every text of its blocks."""
    return json.dumps(reply, ensure_ascii=False)


def leaked(slack: FakeSlack, canary: str) -> list[RecordedCall]:
    """Every call to the Slack stand-in whose raw request carries `canary`."""
    return [c for c in slack.calls() if canary in c.raw]


def feedback_value(reply: dict[str, Any]) -> str:
    for block in reply.get("blocks") or []:
        if block.get("type") == "actions":
            value: str = block["elements"][0]["value"]
            return value
    raise AssertionError(f"no feedback buttons in {reply}")


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """Run `app` (lifespan included) with uvicorn on a free port in a thread; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(60)


def wait_response(slack: FakeSlack, response_url: str, timeout: float = 60) -> dict[str, Any]:
    """What the bot posted to `response_url` (a `/ask` reply, a feedback acknowledgement)."""
    path = "/" + response_url.split("/", 3)[3]
    calls = slack.wait_for(lambda calls: any(c.path == path for c in calls), timeout)
    return next(c for c in calls if c.path == path).params
