"""Structure-aware chunking: sections by heading, paragraphs packed up to a token bound, long blocks cut
on token boundaries with overlap (preferring sentence ends). Every chunk is a contiguous slice of the
parsed text, so its character offsets point at the exact passage."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from groundwork.ingestion.parsers.types import Block, ParsedDocument


class Tokenizer(Protocol):
    """The embedding model's tokenizer (chunks are bounded in the tokens the model actually reads)."""

    def count_tokens(self, text: str) -> int: ...

    def token_offsets(self, text: str) -> list[tuple[int, int]]: ...


@dataclass(frozen=True)
class ChunkDraft:
    """A chunk before it has an id: `document.text[start:end] == text`."""

    text: str
    heading_path: tuple[str, ...]
    start: int
    end: int
    page: int | None
    token_count: int


@dataclass(frozen=True)
class ChunkingOptions:
    max_tokens: int = 200
    overlap_tokens: int = 32
    min_tokens: int = 24


_SENTENCE_END = re.compile(r"[.!?。](?=\s)|\n")


def _split_long(
    document: ParsedDocument, block: Block, tokenizer: Tokenizer, options: ChunkingOptions
) -> list[ChunkDraft]:
    offsets = tokenizer.token_offsets(block.text)
    drafts: list[ChunkDraft] = []
    first = 0
    while first < len(offsets):
        last = min(first + options.max_tokens, len(offsets))
        if last < len(offsets):
            # End at the last sentence boundary inside the final third of the window, if there is one.
            window_start = offsets[first + (2 * (last - first)) // 3][0]
            window_end = offsets[last - 1][1]
            ends = [m.end() for m in _SENTENCE_END.finditer(block.text, window_start, window_end)]
            if ends:
                cut = ends[-1]
                last = next((i for i in range(first, last) if offsets[i][0] >= cut), last)
        start_char, end_char = offsets[first][0], offsets[last - 1][1]
        drafts.append(
            ChunkDraft(
                text=document.text[block.start + start_char : block.start + end_char],
                heading_path=block.heading_path,
                start=block.start + start_char,
                end=block.start + end_char,
                page=block.page,
                token_count=last - first,
            )
        )
        if last >= len(offsets):
            break
        first = max(first + 1, last - options.overlap_tokens)
    return drafts


def _section_key(block: Block) -> tuple[str, ...]:
    return block.heading_path


def chunk_document(document: ParsedDocument, tokenizer: Tokenizer, options: ChunkingOptions) -> list[ChunkDraft]:
    """Chunks of a parsed document in reading order."""
    drafts: list[ChunkDraft] = []
    pending: list[tuple[Block, int]] = []

    def flush() -> None:
        if not pending:
            return
        first, last = pending[0][0], pending[-1][0]
        drafts.append(
            ChunkDraft(
                text=document.text[first.start : last.end],
                heading_path=first.heading_path,
                start=first.start,
                end=last.end,
                page=first.page,
                token_count=sum(tokens for _, tokens in pending),
            )
        )
        pending.clear()

    for block in document.blocks:
        if block.kind == "heading" or not block.text.strip():
            flush()
            continue
        tokens = tokenizer.count_tokens(block.text)
        if pending and _section_key(pending[0][0]) != _section_key(block):
            flush()
        if tokens > options.max_tokens:
            flush()
            drafts.extend(_split_long(document, block, tokenizer, options))
            continue
        if pending and sum(t for _, t in pending) + tokens > options.max_tokens:
            flush()
        pending.append((block, tokens))
    flush()
    return _merge_tiny(document, drafts, options)


def _merge_tiny(document: ParsedDocument, drafts: Sequence[ChunkDraft], options: ChunkingOptions) -> list[ChunkDraft]:
    """Fold a chunk below `min_tokens` into the previous one of the same section when both still fit."""
    merged: list[ChunkDraft] = []
    for draft in drafts:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and draft.token_count < options.min_tokens
            and previous.heading_path == draft.heading_path
            and previous.end <= draft.start
            and previous.token_count + draft.token_count <= options.max_tokens
        ):
            merged[-1] = ChunkDraft(
                text=document.text[previous.start : draft.end],
                heading_path=previous.heading_path,
                start=previous.start,
                end=draft.end,
                page=previous.page,
                token_count=previous.token_count + draft.token_count,
            )
            continue
        merged.append(draft)
    return merged
