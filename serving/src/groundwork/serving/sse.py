"""An incremental decoder for Server-Sent Events (the WHATWG `text/event-stream` format).

OpenAI-compatible servers stream chat completions as SSE: `data: {json}` events separated by a blank line, ended
by `data: [DONE]`. Network chunks split events, lines and even UTF-8 characters anywhere; the decoder buffers
bytes and only decodes complete lines.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event. `data` joins multiple `data:` lines with newlines."""

    data: str
    event: str = "message"
    id: str | None = None


class SSEDecoder:
    """Feed it bytes as they arrive; it returns the events completed so far.

    Handles LF, CRLF and CR line endings, comments (`:` lines), fields without a value, and a single leading
    space after the colon. Events without a `data` field are not dispatched (as the specification says).
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._pending_cr = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Consume `chunk` and return the events it completed, in order."""
        if self._pending_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # the LF of a CRLF split across chunks
        self._pending_cr = False
        self._buffer += chunk
        events: list[SSEEvent] = []
        while True:
            end = _line_end(self._buffer)
            if end is None:
                break
            index, width = end
            if width == 1 and self._buffer[index : index + 1] == b"\r" and index + 1 == len(self._buffer):
                self._pending_cr = True  # a CR at the end of a chunk may be the first half of CRLF
            line = self._buffer[:index].decode("utf-8", errors="replace")
            self._buffer = self._buffer[index + width :]
            event = self._process_line(line)
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> list[SSEEvent]:
        """End of stream: an unterminated last event is discarded, as the specification requires."""
        self._buffer = b""
        self._data = []
        self._event = ""
        return []

    def _process_line(self, line: str) -> SSEEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        return None

    def _dispatch(self) -> SSEEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = SSEEvent(data="\n".join(self._data), event=self._event or "message", id=self._id)
        self._data = []
        self._event = ""
        return event


def _line_end(buffer: bytes) -> tuple[int, int] | None:
    """Index and width of the first line terminator (CRLF, LF or CR) in `buffer`."""
    lf = buffer.find(b"\n")
    cr = buffer.find(b"\r")
    if cr == -1 and lf == -1:
        return None
    if cr == -1 or (lf != -1 and lf < cr):
        return lf, 1
    if cr + 1 < len(buffer) and buffer[cr + 1 : cr + 2] == b"\n":
        return cr, 2
    return cr, 1
