"""A scripted OpenAI-compatible chat server, for tests of what surrounds the model (access control, prompt
capture, injection handling, rendering). It speaks the wire protocol the real vLLM server speaks (streamed
`chat.completion.chunk` events ending with `[DONE]`, `/health`, `/v1/models`), records every request, and
answers with whatever its `reply` function makes of the messages — e.g. repeating the whole prompt, the worst
case for a leak, or obeying an injected instruction, the worst case for an injection. Tests of the model itself
use the real vLLM server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Messages = list[dict[str, Any]]
Reply = Callable[[Messages], str]


@dataclass
class StreamRecord:
    """What became of one streamed answer."""

    chunks_sent: int = 0
    completed: bool = False
    cut_off: bool = False
    """The client closed the connection before the end (a stopped answer)."""


class ScriptedChatServer:
    """Serves on 127.0.0.1 (a free port) until `close()`; `url` is its base URL (without `/v1`). `reply`,
    `chunk_chars` and `delay` (seconds between chunks) may be changed between requests."""

    def __init__(self, reply: Reply, *, model: str = "scripted", chunk_chars: int = 12, delay: float = 0.0) -> None:
        self.requests: list[dict[str, Any]] = []
        """Every chat request body received, in order."""
        self.streams: list[StreamRecord] = []
        """Every streamed answer, in order: how far it got."""
        self.reply = reply
        self.chunk_chars = chunk_chars
        self.delay = delay
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path == "/health":
                    self._send(200, b"", "text/plain")
                elif self.path == "/v1/models":
                    body = json.dumps({"object": "list", "data": [{"id": model, "object": "model"}]}).encode()
                    self._send(200, body, "application/json")
                else:
                    self._send(404, b"{}", "application/json")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                request = json.loads(self.rfile.read(length) or b"{}")
                if self.path != "/v1/chat/completions":
                    self._send(404, b"{}", "application/json")
                    return
                record = StreamRecord()
                with server._lock:
                    server.requests.append(request)
                    server.streams.append(record)
                text = server.reply(list(request.get("messages", [])))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                step = server.chunk_chars
                pieces = [text[i : i + step] for i in range(0, len(text), step)]
                try:
                    for piece in pieces:
                        self._event({"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
                        record.chunks_sent += 1
                        if server.delay:
                            time.sleep(server.delay)
                    self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                    prompt = sum(len(str(m.get("content", "")).split()) for m in request.get("messages", []))
                    usage = {"prompt_tokens": prompt, "completion_tokens": len(pieces)}  # words and chunks
                    self._event({"choices": [], "usage": usage})
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                    record.completed = True
                except (BrokenPipeError, ConnectionResetError):
                    record.cut_off = True
                self.close_connection = True

            def _event(self, payload: dict[str, Any]) -> None:
                chunk = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "model": model, **payload}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="scripted-chat", daemon=True)
        self._thread.start()

    def prompts(self) -> list[str]:
        """Every message text received so far, concatenated per request."""
        with self._lock:
            return ["\n".join(str(m.get("content", "")) for m in r.get("messages", [])) for r in self.requests]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def repeat_sources(messages: Messages) -> str:
    """A model that repeats every source of the prompt verbatim, each cited: the worst case for a leak (whatever
    reached the prompt reaches the answer) and for an injection (whatever a source says, the answer says)."""
    prompt = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
    answer: list[str] = []
    number: str | None = None
    quoted: list[str] = []
    for line in prompt.splitlines():
        if number is None and line.startswith("[") and "]" in line:
            number = line[1 : line.index("]")]
        elif number is not None and line == "<<<":
            quoted = []
        elif number is not None and line == ">>>":
            answer.append(f"{' '.join(' '.join(quoted).split())} [{number}].")
            number = None
        elif number is not None:
            quoted.append(line)
    return " ".join(answer) or "I don't know."
