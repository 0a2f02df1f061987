"""Source previews: a cited passage with the text around it, for "click a citation, see where it came from".

Chunks are exact slices of their document's extracted text (`text[start:end]`), and neighbouring chunks overlap
or touch, so the text around a passage is rebuilt from its neighbours without storing the whole document again.
A gap between chunks (text no chunk holds, such as an empty section) is shown as an ellipsis line.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from groundwork.platform.access.acl import readable_by
from groundwork.platform.access.principal import Principal
from groundwork.platform.db.models import Chunk, Document
from groundwork.platform.db.session import Database
from groundwork.platform.errors import InvalidRequestError, NotFoundError

GAP = "\n\n…\n\n"
MAX_CONTEXT_CHARS = 20_000


@dataclass(frozen=True)
class Preview:
    document_id: str
    datastore_id: str
    title: str
    source_uri: str
    mime_type: str
    chunk_id: int
    heading_path: list[str]
    page: int | None
    text: str
    """The passage with up to `context_chars` of surrounding text on each side."""
    highlight_start: int
    """Where the passage starts in `text`."""
    highlight_end: int
    document_start: int
    """The offset of `text[0]` in the document's extracted text (when `text` has no gap)."""


def build_preview(
    database: Database, principal: Principal, document_id: str, chunk_id: int, context_chars: int = 600
) -> Preview:
    """The preview of chunk `chunk_id` of a document `principal` may read (else `NotFoundError`)."""
    if not 0 <= context_chars <= MAX_CONTEXT_CHARS:
        raise InvalidRequestError(f"context_chars must be between 0 and {MAX_CONTEXT_CHARS}")
    with database.session() as session:
        document = session.scalar(select(Document).where(Document.id == document_id, readable_by(principal)))
        chunk = session.get(Chunk, chunk_id)
        if document is None or chunk is None or chunk.document_id != document_id:
            raise NotFoundError(f"passage {chunk_id} of document {document_id} not found")
        low, high = chunk.start_offset - context_chars, chunk.end_offset + context_chars
        around = list(
            session.scalars(
                select(Chunk)
                .where(Chunk.document_id == document_id, Chunk.end_offset > low, Chunk.start_offset < high)
                .order_by(Chunk.start_offset, Chunk.id)
            )
        )
    text = ""
    cursor: int | None = None
    segments: list[tuple[int, int, int]] = []  # (document offset, position in text, length)
    for item in around:
        begin, end = max(item.start_offset, low), min(item.end_offset, high)
        if cursor is not None and begin > cursor:
            text += GAP
        if cursor is None or begin > cursor:
            cursor = begin
        if end > cursor:
            piece = item.text[cursor - item.start_offset : end - item.start_offset]
            segments.append((cursor, len(text), len(piece)))
            text += piece
            cursor = end

    def position(offset: int) -> int:
        for document_offset, at, length in segments:
            if document_offset <= offset <= document_offset + length:
                return at + offset - document_offset
        raise NotFoundError(f"passage {chunk_id} is not covered by its document's chunks")  # pragma: no cover

    return Preview(
        document_id=document.id,
        datastore_id=document.datastore_id,
        title=document.title,
        source_uri=document.source_uri,
        mime_type=document.mime_type,
        chunk_id=chunk.id,
        heading_path=list(chunk.heading_path),
        page=chunk.page,
        text=text,
        highlight_start=position(chunk.start_offset),
        highlight_end=position(chunk.end_offset),
        document_start=segments[0][0],
    )
