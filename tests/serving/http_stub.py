"""A tiny stdlib HTTP server for failure injection (refusals, drops, error statuses, stalls). It never stands in
for vLLM's generation behaviour: where a stream is replayed, the bytes are ones captured from a real vLLM server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Behaviour = Callable[[BaseHTTPRequestHandler], None]


class StubServer:
    def __init__(self, behaviour: Behaviour, port: int = 0) -> None:
        self.requests: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                stub.requests.append(f"GET {self.path}")
                behaviour(self)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                stub.requests.append(f"POST {self.path}")
                behaviour(self)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port: int = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"


@contextmanager
def serve(behaviour: Behaviour, port: int = 0, delay_s: float = 0.0) -> Iterator[StubServer]:
    """Run a stub server (binding after `delay_s`, to simulate a server that comes up late)."""
    holder: list[StubServer] = []
    ready = threading.Event()

    def run() -> None:
        time.sleep(delay_s)
        holder.append(StubServer(behaviour, port))
        ready.set()
        holder[0].server.serve_forever(poll_interval=0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if delay_s == 0:
        ready.wait(5)
    try:
        yield _Lazy(holder, ready)  # type: ignore[misc]
    finally:
        ready.wait(delay_s + 5)
        holder[0].server.shutdown()
        holder[0].server.server_close()
        thread.join(5)


class _Lazy:
    """Proxy to the server that may not exist yet (delayed start)."""

    def __init__(self, holder: list[StubServer], ready: threading.Event) -> None:
        self._holder = holder
        self._ready = ready

    def __getattr__(self, name: str) -> object:
        self._ready.wait(10)
        return getattr(self._holder[0], name)


def sse_response(body: bytes, *, cut_after: int | None = None) -> Behaviour:
    """Answer 200 text/event-stream with `body` (chunked), optionally dropping the connection after `cut_after`
    bytes."""

    def behave(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        payload = body if cut_after is None else body[:cut_after]
        for start in range(0, len(payload), 64):
            piece = payload[start : start + 64]
            handler.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            handler.wfile.flush()
        if cut_after is None:
            handler.wfile.write(b"0\r\n\r\n")
        handler.close_connection = True

    return behave


def status_response(status: int, body: bytes) -> Behaviour:
    def behave(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return behave


def stall(seconds: float) -> Behaviour:
    def behave(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        handler.close_connection = True

    return behave
