"""`LexicalIndex` on tantivy (chosen by measurement: docs/decisions/0001-lexical-engine.md).

BM25 over an English-stemmed text field; chunk ids live in an indexed fast field so that deletes are by
term and filters are a term-set clause applied inside the query, before ranking. Changes become visible and
durable at `commit()` (tantivy swaps its meta.json atomically), which the caller invokes once per batch.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tantivy

from groundwork.retrieval.errors import IndexCorruptedError
from groundwork.retrieval.protocols import IdArray
from groundwork.retrieval.types import ScoredId

_QUERY_SYNTAX = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/<>=\'])')
_WRITER_HEAP_BYTES = 64_000_000


def _schema() -> Any:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", stored=False, tokenizer_name="en_stem")
    builder.add_integer_field("id", stored=False, indexed=True, fast=True)
    return builder.build()


class TantivyLexicalIndex:
    """A tantivy index in `directory`. One writer per directory (tantivy enforces it with a lock file)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._schema = _schema()
        try:
            self._index: Any = tantivy.Index(self._schema, path=str(directory), reuse=True)
        except ValueError as exc:
            raise IndexCorruptedError(f"cannot open lexical index {directory}: {exc}") from exc
        self._writer: Any = None
        self._lock = threading.Lock()
        self._searcher: Any = self._index.searcher()

    @property
    def count(self) -> int:
        return int(self._searcher.num_docs)

    def _writer_for_update(self) -> Any:
        if self._writer is None:
            self._writer = self._index.writer(heap_size=_WRITER_HEAP_BYTES, num_threads=1)
        return self._writer

    def add(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        """Stage texts under `ids` (replacing those ids); visible after `commit()`."""
        with self._lock:
            writer = self._writer_for_update()
            for item_id, text in zip(ids, texts, strict=True):
                writer.delete_documents_by_term("id", int(item_id))
                document = tantivy.Document()
                document.add_integer("id", int(item_id))
                document.add_text("body", text)
                writer.add_document(document)

    def remove(self, ids: Sequence[int]) -> int:
        """Stage removals; visible after `commit()`. Returns how many were asked for."""
        with self._lock:
            writer = self._writer_for_update()
            for item_id in ids:
                writer.delete_documents_by_term("id", int(item_id))
            return len(ids)

    def clear(self) -> None:
        with self._lock:
            self._writer_for_update().delete_all_documents()

    def commit(self) -> None:
        """Make staged changes durable and visible to searches."""
        with self._lock:
            if self._writer is None:
                return
            self._writer.commit()
            self._index.reload()
            self._searcher = self._index.searcher()

    def search(self, query: str, k: int, allowed: IdArray | None = None) -> list[ScoredId]:
        text = " ".join(_QUERY_SYNTAX.sub(" ", query.lower()).split())  # also folds non-breaking spaces
        if not text or k <= 0:
            return []
        if allowed is not None and len(allowed) == 0:
            return []
        try:
            parsed = self._index.parse_query(text, ["body"])
        except ValueError:
            parsed, _errors = self._index.parse_query_lenient(text, ["body"])
        if allowed is not None:
            id_filter = tantivy.Query.term_set_query(self._schema, "id", [int(i) for i in allowed])
            parsed = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, parsed),
                    (tantivy.Occur.Must, tantivy.Query.const_score_query(id_filter, 0.0)),
                ]
            )
        searcher = self._searcher
        hits = searcher.search(parsed, k, count=False).hits
        if not hits:
            return []
        ids = searcher.fast_field_values("id", [address for _score, address in hits])
        return [ScoredId(int(item_id), float(score)) for (score, _address), item_id in zip(hits, ids, strict=True)]

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.wait_merging_threads()
                self._writer = None
