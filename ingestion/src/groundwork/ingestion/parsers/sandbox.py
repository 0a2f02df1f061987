"""Parsing untrusted files in a subprocess that cannot take the server with it.

`SandboxPool.parse` hands a document to a parser process of the calling thread (one per worker thread, so a
slow document never blocks another thread's), started as `python -m groundwork.ingestion.parsers.sandbox`:
it limits its own address space (`RLIMIT_AS` = `ParseLimits.memory_bytes`), dies with its parent, and answers
one JSON line per document. The parent waits at most `ParseLimits.timeout_seconds`; on timeout, on a crash, or
when `kill()` is called (the document was deleted) the process is killed and the next document starts a new one.

Wire format: the parent writes a JSON header line `{filename, mime_type, limits, size}` and then `size` raw
bytes; the child answers `{"document": {text, blocks: [[kind, start, end, heading_path, page]], title,
metadata, page_count}}` or `{"error": code, "message": ...}`. Only plain JSON crosses the boundary: a parser
subverted by a hostile file cannot send objects the parent would run.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import resource
import selectors
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from typing import IO, Any

from groundwork.ingestion.errors import (
    DocumentCancelledError,
    DocumentTooLargeError,
    ParseError,
    ParserCrashedError,
    ParseTimeoutError,
)
from groundwork.ingestion.parsers.types import Block, ParsedDocument, ParseLimits

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_ERRORS: dict[str, type[ParseError]] = {}


def _error_class(code: str) -> type[ParseError]:
    """The ingestion error class of `code` (any `ParseError` subclass), for errors read from the child."""
    if not _ERRORS:
        pending: list[type[ParseError]] = [ParseError]
        while pending:
            cls = pending.pop()
            _ERRORS.setdefault(cls.code, cls)
            pending.extend(cls.__subclasses__())
    return _ERRORS.get(code, ParseError)


def _encode(document: ParsedDocument) -> dict[str, Any]:
    return {
        "text": document.text,
        "blocks": [[b.kind, b.start, b.end, list(b.heading_path), b.page] for b in document.blocks],
        "title": document.title,
        "metadata": dict(document.metadata),
        "page_count": document.page_count,
    }


def _decode(raw: dict[str, Any]) -> ParsedDocument:
    text = str(raw["text"])
    blocks = tuple(
        Block(kind=kind, text=text[start:end], start=int(start), end=int(end), heading_path=tuple(path), page=page)
        for kind, start, end, path, page in raw["blocks"]
    )
    metadata, pages = raw.get("metadata") or {}, raw.get("page_count")
    return ParsedDocument(text=text, blocks=blocks, title=raw.get("title"), metadata=metadata, page_count=pages)


class ParserSandbox:
    """One parser subprocess, used by one thread at a time; restarted after it is killed or dies."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._killed = False
        self._lock = threading.Lock()

    def _start(self, limits: ParseLimits) -> subprocess.Popen[bytes]:
        process = self._process
        if process is not None and process.poll() is None:
            return process
        command = [sys.executable, "-m", "groundwork.ingestion.parsers.sandbox", str(limits.memory_bytes)]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        return self._process

    def kill(self) -> None:
        """Kill the process now (the document it is parsing was deleted); `parse` raises `DocumentCancelledError`."""
        with self._lock:
            process = self._process
            self._killed = True
        if process is not None and process.poll() is None:
            process.kill()

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def parse(self, data: bytes, *, filename: str, mime_type: str | None, limits: ParseLimits) -> ParsedDocument:
        with self._lock:
            self._killed = False
            process = self._start(limits)
        header = {"filename": filename, "mime_type": mime_type, "limits": asdict(limits), "size": len(data)}
        if process.stdin is None or process.stdout is None:
            raise ParserCrashedError("the parser process has no pipes")
        try:
            process.stdin.write(json.dumps(header).encode() + b"\n")
            process.stdin.write(data)
            process.stdin.flush()
            line = _read_line(process.stdout, limits.timeout_seconds)
        except (BrokenPipeError, OSError) as exc:
            line = b""
            logger.debug("parser process pipe failed: %s", exc)
        if line is None:
            self.close()
            raise ParseTimeoutError(f"{filename}: parsing took longer than {limits.timeout_seconds:g} s")
        if not line:
            code = process.wait()
            self._process = None
            if self._killed:
                raise DocumentCancelledError(f"{filename}: deleted while it was being parsed")
            raise ParserCrashedError(f"{filename}: the parser process died (exit status {code}) on this document")
        reply = json.loads(line)
        if "error" in reply:
            raise _error_class(str(reply["error"]))(str(reply.get("message", "")))
        return _decode(reply["document"])


def _read_line(stream: IO[bytes], timeout: float) -> bytes | None:
    """One line from the child, b"" at EOF, None after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    buffer = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return None
            chunk = os.read(stream.fileno(), 1 << 20)
            if not chunk:
                return b""
            buffer += chunk
            if buffer.endswith(b"\n"):
                return bytes(buffer)


class SandboxPool:
    """A parser process per calling thread (`parse`), all killed by `close()`."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[ParserSandbox] = []
        self._lock = threading.Lock()

    def sandbox(self) -> ParserSandbox:
        sandbox: ParserSandbox | None = getattr(self._local, "sandbox", None)
        if sandbox is None:
            sandbox = ParserSandbox()
            self._local.sandbox = sandbox
            with self._lock:
                self._all.append(sandbox)
        return sandbox

    def close(self) -> None:
        with self._lock:
            sandboxes, self._all = self._all, []
        for sandbox in sandboxes:
            sandbox.close()


# -- the child process ------------------------------------------------------------------------------------------


def _limit_self(memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _answer(request: dict[str, Any], data: bytes) -> dict[str, Any]:
    from groundwork.ingestion.parsers.registry import parse_document
    from groundwork.ingestion.parsers.text import char_budget

    limits = ParseLimits(**request["limits"])
    try:
        with char_budget(limits.max_chars):
            document = parse_document(data, filename=request["filename"], mime_type=request["mime_type"], limits=limits)
        return {"document": _encode(document)}
    except ParseError as exc:
        return {"error": exc.code, "message": str(exc)}
    except MemoryError:
        message = f"parsing needs more than {limits.memory_bytes} bytes (ingestion.parser_memory_bytes)"
        return {"error": DocumentTooLargeError.code, "message": f"{request['filename']}: {message}"}
    except RecursionError:
        return {"error": DocumentTooLargeError.code, "message": f"{request['filename']}: nested too deeply to parse"}
    except Exception as exc:  # noqa: BLE001 - a parser bug on odd input: the document fails, the process goes on
        return {"error": ParseError.code, "message": f"{request['filename']}: {type(exc).__name__}: {exc}"}


def main() -> None:
    _limit_self(int(sys.argv[1]))
    import groundwork.ingestion.parsers.registry  # noqa: F401 - load the parsers before the first document

    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # anything a library prints must not corrupt the replies
    requests = sys.stdin.buffer
    while header := requests.readline():
        request = json.loads(header)
        data = requests.read(int(request["size"]))
        reply = _answer(request, data)
        del data
        replies.write(json.dumps(reply, default=str).encode() + b"\n")
        replies.flush()


if __name__ == "__main__":
    main()
