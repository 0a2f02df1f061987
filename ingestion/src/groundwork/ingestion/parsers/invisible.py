"""Remove invisible characters (`groundwork.platform.invisible`) from a parsed document, keeping every block a
slice of the text (offsets are remapped), so hidden instructions never reach an index or a prompt."""

from __future__ import annotations

from dataclasses import replace
from itertools import accumulate

from groundwork.ingestion.parsers.types import ParsedDocument
from groundwork.platform.invisible import INVISIBLE, strip_invisible


def without_invisible(document: ParsedDocument) -> ParsedDocument:
    text = document.text
    if not INVISIBLE.search(text) and not INVISIBLE.search(document.title or ""):
        return document
    removed = [1 if INVISIBLE.fullmatch(ch) else 0 for ch in text]
    before = [0, *accumulate(removed)]  # before[i]: characters removed from text[:i]

    def moved(offset: int) -> int:
        return offset - before[offset]

    clean = strip_invisible(text)
    blocks = tuple(
        replace(
            block,
            text=clean[moved(block.start) : moved(block.end)],
            start=moved(block.start),
            end=moved(block.end),
            heading_path=tuple(strip_invisible(h) for h in block.heading_path),
        )
        for block in document.blocks
    )
    title = strip_invisible(document.title) if document.title else document.title
    return replace(document, text=clean, blocks=blocks, title=title)
