"""Refuse request bodies over `api.max_request_bytes` with 413 before reading them.

A declared `Content-Length` over the limit is refused at once, without reading a byte of the body. A body
without one (chunked) is counted as it arrives; once it passes the limit the application is told the client
went away (so it stops reading) and the answer is 413, so memory never holds more than the limit. A pure ASGI
middleware, so it sees the body before any framework reads it.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from groundwork.platform.errors import RequestTooLargeError
from groundwork.platform.request_context import request_id


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self._app = app
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_bytes:
            await self._refuse(send, int(declared))
            return
        received = 0
        overflow = False
        started = False
        limit = self._max_bytes

        async def counted() -> Message:
            nonlocal received, overflow
            if overflow:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    overflow = True  # the app sees a client that went away, and stops reading
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if overflow and not started:
                return  # the app's reaction to the "disconnect" is replaced by the 413 below
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, counted, guarded)
        except Exception:
            if not overflow or started:
                raise
        if overflow and not started:
            await self._refuse(send, received)

    async def _refuse(self, send: Send, size: int) -> None:
        body = json.dumps(
            {
                "error": {
                    "code": RequestTooLargeError.code,
                    "message": f"request body of {size}+ bytes is larger than the {self._max_bytes}-byte limit",
                    "request_id": request_id.get(),
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
