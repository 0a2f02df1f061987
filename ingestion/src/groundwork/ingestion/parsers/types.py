"""What every parser returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

BlockKind = Literal["heading", "paragraph", "list", "table", "code"]


@dataclass(frozen=True)
class Block:
    """A structural unit of a document. `start`/`end` index into `ParsedDocument.text`."""

    kind: BlockKind
    text: str
    start: int
    end: int
    heading_path: tuple[str, ...] = ()
    """Headings above this block, outermost first (a heading block's path includes itself)."""
    page: int | None = None
    """1-based page number, for formats with pages (PDF)."""


@dataclass(frozen=True)
class ParsedDocument:
    """The extracted text of a document and its blocks in reading order.

    `text` is the canonical text: blocks are slices of it (`text[block.start:block.end] == block.text`),
    and chunk offsets stored in the metadata refer to it.
    """

    text: str
    blocks: tuple[Block, ...]
    title: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    page_count: int | None = None


@dataclass(frozen=True)
class ParseLimits:
    """Limits a parser enforces; exceeding one fails the document with a clear reason."""

    max_pages: int = 2000
    timeout_seconds: float = 120.0
    max_chars: int = 4_000_000
    """Characters of extracted text (counted as blocks are added, and while text formats are decoded)."""
    max_decompressed_bytes: int = 256 * 1024 * 1024
    """Bytes a DOCX's zip parts (and a PDF's streams) may expand to."""
    memory_bytes: int = 1024 * 1024 * 1024
    """Address space of the parser subprocess (`groundwork.ingestion.parsers.sandbox`)."""


class Parser(Protocol):
    """Parses one format. Raises a `ParseError` subclass (never a vendor exception) on bad input."""

    def parse(self, data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument: ...
