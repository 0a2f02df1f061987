"""A local HTTP server that stands in for Slack's servers, which tests (and development without a workspace)
cannot reach: the Web API methods the bot calls (`auth.test`, `chat.postMessage`, `chat.update`,
`conversations.members`, `users.info`, `apps.connections.open`), response URLs, and a Socket Mode WebSocket.
Every call is recorded with its raw body, so a test can assert what was (and was not) sent to Slack.

Point the bot at it with `slack.api_base_url = FakeSlack.base_url`; `response_url(...)` gives URLs for `/ask`
payloads. Members, profiles, failures and delays are set per test.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web


@dataclass(frozen=True)
class RecordedCall:
    method: str
    """A Web API method (`chat.postMessage`), or `response_url` for a post to a response URL."""
    params: dict[str, Any]
    """Query string, form fields and JSON body merged (form fields that hold JSON are decoded)."""
    raw: str
    """The query string and the body as sent: what a leak check searches."""
    path: str = ""
    response: dict[str, Any] = field(default_factory=dict)
    """What the fake answered (e.g. the `ts` of a posted message)."""


@dataclass
class FakeSlack:
    team_id: str = "T0001"
    bot_user_id: str = "UBOT"
    bot_id: str = "BBOT"
    page_size: int = 2
    """Members per `conversations.members` page (small, so that pagination is exercised)."""
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    """`users.info` answers by user id (the `user` object)."""
    channels: dict[str, list[str]] = field(default_factory=dict)
    """`conversations.members` answers by channel id."""
    errors: dict[str, str] = field(default_factory=dict)
    """`ok: false` answers: `method` or `method:key` (key: the channel or user id) -> Slack's error code."""
    delays: dict[str, float] = field(default_factory=dict)
    """Seconds to wait before answering: `method` or `method:key`."""
    _calls: list[RecordedCall] = field(default_factory=list)
    _acks: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    port: int = 0

    # -- lifecycle --------------------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        started = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            app = web.Application()
            app.router.add_route("*", "/api/{method}", self._api)
            app.router.add_post("/response/{name}", self._response)
            app.router.add_get("/socket", self._socket)
            runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = int(runner.addresses[0][1])
            self._runner = runner
            started.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-slack", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the fake Slack server did not start within 10 s")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    # -- what was sent ----------------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
            self._acks.clear()

    def wait_for(self, predicate: Callable[[list[RecordedCall]], bool], timeout: float = 30.0) -> list[RecordedCall]:
        """Block until `predicate(all calls)` holds; raises `TimeoutError` with the calls seen."""
        deadline = time.monotonic() + timeout
        while True:
            calls = self.calls()
            if predicate(calls):
                return calls
            if time.monotonic() > deadline:
                seen = [(c.method, c.params.get("channel"), c.params.get("thread_ts")) for c in calls]
                raise TimeoutError(f"condition not met within {timeout} s; calls: {seen}")
            time.sleep(0.02)

    # -- Socket Mode ------------------------------------------------------------------------------------

    def send_envelope(self, envelope_type: str, payload: dict[str, Any], envelope_id: str) -> None:
        """Send a Socket Mode envelope (`events_api`, `slash_commands`, `interactive`) to connected clients."""
        message = json.dumps(
            {"envelope_id": envelope_id, "type": envelope_type, "payload": payload, "accepts_response_payload": True}
        )
        if self._loop is None:
            raise RuntimeError("the fake Slack server is not running")

        async def send() -> None:
            for socket in list(self._sockets):
                await socket.send_str(message)

        asyncio.run_coroutine_threadsafe(send(), self._loop).result(10)

    def socket_acks(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._acks)

    @property
    def socket_clients(self) -> int:
        return len(self._sockets)

    # -- handlers ---------------------------------------------------------------------------------------

    @staticmethod
    async def _parse(request: web.Request) -> tuple[dict[str, Any], str]:
        body = await request.text()
        params: dict[str, Any] = dict(request.query)
        if body:
            if request.content_type == "application/json":
                params.update(json.loads(body))
            else:
                for key, value in parse_qsl(body, keep_blank_values=True):
                    params[key] = _maybe_json(value)
        return params, f"{request.query_string}\n{body}"

    def _append(self, call: RecordedCall) -> None:
        with self._lock:
            self._calls.append(call)

    async def _behave(self, method: str, key: str | None) -> str | None:
        """Apply the configured delay; return the configured error, if any."""
        delay = self.delays.get(f"{method}:{key}", self.delays.get(method, 0.0))
        if delay:
            await asyncio.sleep(delay)
        return self.errors.get(f"{method}:{key}", self.errors.get(method))

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, raw = await self._parse(request)
        key = params.get("channel") or params.get("user")
        error = await self._behave(method, str(key) if key else None)
        answer = {"ok": False, "error": error} if error else self._answer(method, params)
        self._append(RecordedCall(method, params, raw, request.path, answer))
        return web.json_response(answer)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://acme.slack.com/",
                "team": "Acme",
                "user": "groundwork",
                "team_id": self.team_id,
                "user_id": self.bot_user_id,
                "bot_id": self.bot_id,
            }
        if method == "chat.postMessage":
            return {"ok": True, "channel": params.get("channel"), "ts": f"{int(time.time())}.{next(self._ts):06d}"}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "conversations.members":
            return self._members(params)
        if method == "users.info":
            user = self.users.get(str(params.get("user")))
            return {"ok": True, "user": user} if user is not None else {"ok": False, "error": "user_not_found"}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}
        return {"ok": False, "error": "unknown_method"}

    def _members(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel"))
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        members = self.channels[channel]
        start = int(params.get("cursor") or 0)
        page = members[start : start + self.page_size]
        cursor = str(start + self.page_size) if start + self.page_size < len(members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    async def _response(self, request: web.Request) -> web.Response:
        params, raw = await self._parse(request)
        self._append(RecordedCall("response_url", params, raw, request.path))
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    with self._lock:
                        self._acks.append(json.loads(message.data))
        finally:
            self._sockets.remove(socket)
        return socket


def _maybe_json(value: str) -> Any:
    if value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def slack_user(
    user_id: str,
    *,
    team_id: str = "T0001",
    email: str | None = None,
    is_bot: bool = False,
    guest: bool = False,
    deleted: bool = False,
) -> dict[str, Any]:
    """A `users.info` user object as Slack returns it."""
    profile: dict[str, Any] = {"real_name": user_id}
    if email:
        profile["email"] = email
    return {
        "id": user_id,
        "team_id": team_id,
        "name": user_id.lower(),
        "deleted": deleted,
        "is_bot": is_bot,
        "is_restricted": guest,
        "is_ultra_restricted": False,
        "profile": profile,
    }
