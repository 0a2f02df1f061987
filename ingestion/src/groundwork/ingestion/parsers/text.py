"""Plain text parser, plus the helpers every parser uses to assemble a `ParsedDocument`.

`DocumentBuilder` lives here because plain text is the simplest format and every other parser
depends on it anyway; keeping it in one place guarantees the offsets invariant
(`text[block.start:block.end] == block.text`) is produced by one piece of code only.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from groundwork.ingestion.errors import DocumentTooLargeError
from groundwork.ingestion.parsers.types import Block, BlockKind, ParsedDocument, ParseLimits

BLOCK_SEPARATOR = "\n\n"
"""What separates two blocks in `ParsedDocument.text`."""

_BLANK_LINES = re.compile(r"\n[ \t]*\n+")
_CHAR_BUDGET: ContextVar[int | None] = ContextVar("groundwork_char_budget", default=None)
"""Characters a document being parsed may yield (`ParseLimits.max_chars`), set by `char_budget` around one
parse, so every parser's `DocumentBuilder` and `decode_text` enforce it without threading it through."""
_RAW_SHARE = 2
"""Raw characters (markup and whitespace included) a text format may decode to, per budgeted character."""
_DECODE_PIECE = 1024 * 1024


@contextmanager
def char_budget(limit: int) -> Iterator[None]:
    """Within: documents yielding more than `limit` characters fail with `DocumentTooLargeError`."""
    token = _CHAR_BUDGET.set(limit)
    try:
        yield
    finally:
        _CHAR_BUDGET.reset(token)


def _too_large(what: str, limit: int) -> DocumentTooLargeError:
    return DocumentTooLargeError(f"{what}: more than the limit of {limit} characters (ingestion.max_extracted_chars)")


def _decode_bounded(data: bytes, encoding: str, errors: str) -> str:
    """Decode piece by piece, stopping as soon as the text passes the raw share of the character budget."""
    budget = _CHAR_BUDGET.get()
    if budget is None:
        return data.decode(encoding, errors=errors)
    limit = budget * _RAW_SHARE
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    parts: list[str] = []
    length = 0
    for start in range(0, len(data), _DECODE_PIECE):
        piece = decoder.decode(data[start : start + _DECODE_PIECE])
        length += len(piece)
        if length > limit:
            raise _too_large("the text", budget)
        parts.append(piece)
    parts.append(decoder.decode(b"", final=True))
    return "".join(parts)


_TRAILING_SPACE = re.compile(r"[ \t]+\n")


def decode_text(data: bytes) -> str:
    """Decode bytes of a text format: UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252.

    Newlines are normalised to `\\n`. cp1252 is the usual encoding of legacy text that is not UTF-8;
    undecodable bytes are replaced rather than failing the document.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _decode_bounded(data, "utf-16", "replace")
    else:
        try:
            text = _decode_bounded(data, "utf-8-sig", "strict")
        except UnicodeDecodeError:
            text = _decode_bounded(data, "cp1252", "replace")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


class DocumentBuilder:
    """Accumulates blocks and builds the canonical text, with blocks separated by a blank line.

    It also tracks the heading hierarchy: `heading()` updates the current heading path that later
    blocks inherit.
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._blocks: list[Block] = []
        self._headings: list[tuple[int, str]] = []
        self._budget = _CHAR_BUDGET.get()

    @property
    def heading_path(self) -> tuple[str, ...]:
        return tuple(text for _, text in self._headings)

    @property
    def blocks(self) -> tuple[Block, ...]:
        return tuple(self._blocks)

    def heading(self, level: int, text: str, *, page: int | None = None) -> None:
        """Add a heading of `level` (lower = outer); it closes open headings of the same or deeper level."""
        text = " ".join(text.split())
        if not text:
            return
        while self._headings and self._headings[-1][0] >= level:
            self._headings.pop()
        self._headings.append((level, text))
        self.add("heading", text, page=page)

    def add(self, kind: BlockKind, text: str, *, page: int | None = None) -> None:
        """Add a block; surrounding blank lines and trailing spaces are trimmed, empty text is skipped."""
        text = _TRAILING_SPACE.sub("\n", text).strip("\n").rstrip()
        if kind != "code":
            text = text.strip()
        if not text.strip():
            return
        if self._parts:
            self._parts.append(BLOCK_SEPARATOR)
            self._length += len(BLOCK_SEPARATOR)
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        if self._budget is not None and self._length > self._budget:
            raise _too_large("the extracted text", self._budget)
        self._blocks.append(
            Block(
                kind=kind,
                text=text,
                start=start,
                end=self._length,
                heading_path=self.heading_path,
                page=page,
            )
        )

    def build(
        self,
        *,
        title: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        page_count: int | None = None,
    ) -> ParsedDocument:
        title = " ".join(title.split()) if title else None
        return ParsedDocument(
            text="".join(self._parts),
            blocks=tuple(self._blocks),
            title=title or None,
            metadata=dict(metadata or {}),
            page_count=page_count,
        )


def split_paragraphs(text: str) -> list[str]:
    """Split text into paragraphs on blank lines (lines holding only whitespace count as blank)."""
    return [part for part in _BLANK_LINES.split(text) if part.strip()]


class TextParser:
    """Plain text: paragraphs separated by blank lines, no headings."""

    def parse(self, data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument:
        builder = DocumentBuilder()
        for paragraph in split_paragraphs(decode_text(data)):
            builder.add("paragraph", paragraph)
        return builder.build()
