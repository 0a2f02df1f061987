"""Hybrid search over one or more datastores: the read path shared by the API, CLI and evaluation.

Access and filters are resolved to the set of allowed chunk ids in the metadata store and handed to both
indexes, which rank only those (never a post-filter that would starve the top k or let an unreadable chunk
compete). When the principal may read every document of a datastore and there are no filters, no set is
needed. Hits are hydrated with the same access condition again, so a document whose ACL changed between
ranking and hydration is dropped rather than shown.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from sqlalchemy import ColumnElement, and_, exists, select

from groundwork.platform.access.acl import readable_by
from groundwork.platform.access.principal import Principal
from groundwork.platform.config import RetrievalConfig
from groundwork.platform.db.models import Chunk, Datastore, Document
from groundwork.platform.db.session import Database
from groundwork.platform.errors import InvalidRequestError, NotFoundError
from groundwork.platform.indexes import IndexManager
from groundwork.retrieval.hybrid import FusionConfig, fuse
from groundwork.retrieval.protocols import Embedder, Reranker
from groundwork.retrieval.types import FusedHit, ScoredId, SearchMode

FilterOp = Literal["eq", "ne", "in", "gt", "gte", "lt", "lte"]
_DOCUMENT_FIELDS = {
    "document_id": Document.id,
    "source_uri": Document.source_uri,
    "title": Document.title,
    "mime_type": Document.mime_type,
}


@dataclass(frozen=True)
class MetadataFilter:
    """A condition on a document field (`document_id`, `source_uri`, `title`, `mime_type`) or a key of
    the document's metadata. All filters of a search must hold."""

    key: str
    op: FilterOp
    value: Any


@dataclass(frozen=True)
class SearchQuery:
    query: str
    datastore_ids: Sequence[str]
    top_k: int = 10
    mode: SearchMode = SearchMode.HYBRID
    filters: Sequence[MetadataFilter] = ()


@dataclass(frozen=True)
class SearchHit:
    chunk_id: int
    score: float
    text: str
    document_id: str
    datastore_id: str
    title: str
    source_uri: str
    heading_path: list[str]
    start_offset: int
    end_offset: int
    page: int | None
    metadata: dict[str, Any]
    dense_rank: int | None
    lexical_rank: int | None
    dense_score: float | None = None
    """Cosine similarity of the query and the chunk, when the dense index ranked it."""
    lexical_score: float | None = None


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    timings_ms: dict[str, float] = field(default_factory=dict)


def access_key(principal: Principal) -> Hashable:
    """Everything `readable_by` depends on: principals with equal keys may read the same documents."""
    return (
        principal.tenant_id,
        principal.name,
        principal.role,
        principal.groups,
        principal.method == "tenant_public",
        principal.reads_everything,
        tuple(access_key(member) for member in principal.audience),
    )


_INT_RANGE = range(-(2**63), 2**63)


def _check_scalar(key: str, value: Any) -> None:
    """A filter compares with a string, a finite number, a boolean or null — never an object or a list (a
    database would fail to bind it), nor a number or string no database column can hold."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int) and value in _INT_RANGE:
        return
    if isinstance(value, float) and math.isfinite(value):
        return
    if isinstance(value, str) and "\x00" not in value:
        return
    raise InvalidRequestError(
        f"filter on {key!r}: the value must be a string, a finite number, a boolean or null, not {value!r:.80}"
    )


def _check_filter(spec: MetadataFilter) -> None:
    if not isinstance(spec.key, str) or not spec.key or "\x00" in spec.key:
        raise InvalidRequestError("a filter's key must be a non-empty string")
    values = spec.value if spec.op == "in" and isinstance(spec.value, list) else [spec.value]
    for value in values:
        _check_scalar(spec.key, value)


def _condition(spec: MetadataFilter) -> ColumnElement[bool]:
    _check_filter(spec)
    if spec.key in _DOCUMENT_FIELDS:
        column: Any = _DOCUMENT_FIELDS[spec.key]
    else:
        element = Document.metadata_json[spec.key]
        sample = spec.value[0] if spec.op == "in" and spec.value else spec.value
        if isinstance(sample, bool):
            column = element.as_boolean()
        elif isinstance(sample, int | float):
            column = element.as_float()
        else:
            column = element.as_string()
    value = spec.value
    match spec.op:
        case "eq":
            return column == value  # type: ignore[no-any-return]
        case "ne":
            return column != value  # type: ignore[no-any-return]
        case "in":
            if not isinstance(value, list) or not value:
                raise InvalidRequestError(f"filter on {spec.key!r}: 'in' needs a non-empty list")
            return column.in_(value)  # type: ignore[no-any-return]
        case "gt":
            return column > value  # type: ignore[no-any-return]
        case "gte":
            return column >= value  # type: ignore[no-any-return]
        case "lt":
            return column < value  # type: ignore[no-any-return]
        case "lte":
            return column <= value  # type: ignore[no-any-return]
    raise InvalidRequestError(f"unknown filter operator {spec.op!r}")


class SearchService:
    def __init__(
        self,
        database: Database,
        indexes: IndexManager,
        embedder: Embedder,
        config: RetrievalConfig,
        reranker: Reranker | None = None,
    ) -> None:
        self._db = database
        self._reranker = reranker
        self._indexes = indexes
        self._embedder = embedder
        self._config = config
        self._fusion = FusionConfig(
            method=config.fusion,
            normalization=config.fusion_normalization,
            dense_weight=config.dense_weight,
            lexical_weight=config.lexical_weight,
            rrf_k=config.rrf_k,
            query_weighting=config.query_weighting,
        )
        self._access_cache: OrderedDict[Hashable, np.ndarray[Any, Any] | None] = OrderedDict()
        self._access_lock = threading.Lock()

    def check_datastores(self, principal: Principal, datastore_ids: Sequence[str]) -> list[str]:
        """The ids of the named datastores (names or ids) of the principal's tenant; `NotFoundError` for any
        other (another tenant's datastore is as unknown as a missing one)."""
        if not datastore_ids:
            raise InvalidRequestError("name at least one datastore")
        with self._db.session() as session:
            rows = session.execute(
                select(Datastore.id, Datastore.name).where(
                    Datastore.tenant_id == principal.tenant_id,
                    Datastore.id.in_(datastore_ids) | Datastore.name.in_(datastore_ids),
                )
            ).all()
        found = {ref for row in rows for ref in (row.id, row.name)}
        missing = [ref for ref in datastore_ids if ref not in found]
        if missing:
            raise NotFoundError(f"datastore(s) not found: {', '.join(missing)}")
        return sorted({row.id for row in rows})

    def _allowed(
        self, principal: Principal, datastore_id: str, filters: Sequence[MetadataFilter]
    ) -> np.ndarray[Any, Any] | None:
        """The chunk ids the indexes may rank, or None for all of them."""
        conditions = [_condition(spec) for spec in filters]
        if principal.reads_everything and not conditions:
            return None
        if not conditions and self._config.access_cache_entries:
            return self._readable_chunks(principal, datastore_id)
        if not principal.reads_everything:
            conditions.append(readable_by(principal))
        return self._chunk_ids(datastore_id, conditions)

    def _readable_chunks(self, principal: Principal, datastore_id: str) -> np.ndarray[Any, Any] | None:
        """The chunk ids `principal` may read, from the cache while the datastore's index and ACL generations
        are those the entry was computed at. The generations are read first: an entry is never filed under a
        generation newer than its data, so a change always makes the next search compute afresh."""
        with self._db.session() as session:
            generations = session.execute(
                select(Datastore.index_generation, Datastore.acl_generation).where(Datastore.id == datastore_id)
            ).one()
        key = (datastore_id, tuple(generations), access_key(principal))
        with self._access_lock:
            if key in self._access_cache:
                self._access_cache.move_to_end(key)
                return self._access_cache[key]
        allowed = (
            None
            if self._reads_all(principal, datastore_id)
            else self._chunk_ids(datastore_id, [readable_by(principal)])
        )
        with self._access_lock:
            self._access_cache[key] = allowed
            while len(self._access_cache) > self._config.access_cache_entries:
                self._access_cache.popitem(last=False)
        return allowed

    def _chunk_ids(self, datastore_id: str, conditions: Sequence[ColumnElement[bool]]) -> np.ndarray[Any, Any]:
        with self._db.session() as session:
            ids = session.scalars(
                select(Chunk.id)
                .join(Document, Document.id == Chunk.document_id)
                .where(Chunk.datastore_id == datastore_id, and_(*conditions))
            ).all()
        return np.asarray(ids, dtype=np.int64)

    def _reads_all(self, principal: Principal, datastore_id: str) -> bool:
        """Whether `principal` may read every document of the datastore (then no id set is needed)."""
        hidden = select(Document.id).where(Document.datastore_id == datastore_id, ~readable_by(principal))
        with self._db.session() as session:
            return not session.scalar(select(exists(hidden)))

    def search(self, request: SearchQuery, principal: Principal) -> SearchResult:
        query = request.query.strip()
        if not query:
            raise InvalidRequestError("query must not be empty")
        if not 1 <= request.top_k <= self._config.max_top_k:
            raise InvalidRequestError(f"top_k must be between 1 and {self._config.max_top_k}")
        timings: dict[str, float] = {}
        started = time.perf_counter()
        datastore_ids = self.check_datastores(principal, request.datastore_ids)
        candidates = max(self._config.candidates, request.top_k)
        dense: list[ScoredId] = []
        lexical: list[ScoredId] = []
        if request.mode in (SearchMode.DENSE, SearchMode.HYBRID):
            mark = time.perf_counter()
            vector = self._embedder.embed_queries([query])
            timings["embed_ms"] = (time.perf_counter() - mark) * 1000
        mark = time.perf_counter()
        for datastore_id in datastore_ids:
            index = self._indexes.get(datastore_id)
            allowed = self._allowed(principal, datastore_id, request.filters)
            if request.mode in (SearchMode.DENSE, SearchMode.HYBRID):
                dense.extend(index.search_dense(vector, candidates, allowed))
            if request.mode in (SearchMode.LEXICAL, SearchMode.HYBRID):
                lexical.extend(index.search_lexical(query, candidates, allowed))
        timings["index_ms"] = (time.perf_counter() - mark) * 1000
        dense.sort(key=lambda hit: -hit.score)
        lexical.sort(key=lambda hit: -hit.score)
        if request.mode == SearchMode.HYBRID:
            fused = fuse(dense, lexical, self.fusion_for(datastore_ids), request.top_k)
        elif request.mode == SearchMode.DENSE:
            fused = [FusedHit(h.id, h.score, dense_rank=r, dense_score=h.score) for r, h in enumerate(dense, 1)]
        else:
            fused = [FusedHit(h.id, h.score, lexical_rank=r, lexical_score=h.score) for r, h in enumerate(lexical, 1)]
        if self._reranker is None:
            hits = self._hydrate(fused[: request.top_k], principal, datastore_ids)
        else:
            mark = time.perf_counter()
            pool = fused[: max(request.top_k, self._config.rerank.candidates)]
            hits = self._rerank(self._reranker, query, self._hydrate(pool, principal, datastore_ids))[: request.top_k]
            timings["rerank_ms"] = (time.perf_counter() - mark) * 1000
        timings["total_ms"] = (time.perf_counter() - started) * 1000
        return SearchResult(hits=hits, timings_ms=timings)

    @staticmethod
    def _rerank(reranker: Reranker, query: str, hits: list[SearchHit]) -> list[SearchHit]:
        """The hits in the reranker's order, each scored by it (the fusion ranks stay on the hit)."""
        scores = reranker.rerank(query, [hit.text for hit in hits])
        ranked = sorted(zip(scores, range(len(hits)), hits, strict=True), key=lambda item: (-item[0], item[1]))
        return [replace(hit, score=score) for score, _, hit in ranked]

    def fusion_for(self, datastore_ids: Sequence[str]) -> FusionConfig:
        """The fusion of a search over these datastores: with `fusion_weights=calibrated`, the mean of their
        calibrated dense weights (a datastore not yet calibrated counts with the fixed weights)."""
        if self._config.fusion_weights != "calibrated":
            return self._fusion
        weights = []
        for datastore_id in datastore_ids:
            calibration = self._indexes.get(datastore_id).calibration
            weights.append(calibration.dense_weight if calibration else None)
        if all(weight is None for weight in weights):
            return self._fusion
        total = self._fusion.dense_weight + self._fusion.lexical_weight
        fixed = self._fusion.dense_weight / total if total > 0 else 0.5
        dense = sum(fixed if weight is None else weight for weight in weights) / len(weights)
        return replace(self._fusion, dense_weight=dense * total, lexical_weight=(1 - dense) * total)

    def unmentioned_words(
        self,
        words: Sequence[str],
        datastore_ids: Sequence[str],
        principal: Principal,
        filters: Sequence[MetadataFilter] = (),
        *,
        min_chunks: int,
    ) -> list[str]:
        """The `words` that no chunk the principal may read (of the datastores, within `filters`) contains, as
        the lexical index analyses text (stemmed: "backed" matches "backup"s stem only if they share it). Returns
        [] when those chunks are fewer than `min_chunks`: a small corpus's vocabulary says little about what it
        cannot answer. Counting only readable chunks keeps the answer from revealing hidden documents' words."""
        ids = self.check_datastores(principal, datastore_ids)
        indexes = [(self._indexes.get(i), self._allowed(principal, i, filters)) for i in ids]
        visible = sum(index.lexical_count if allowed is None else len(allowed) for index, allowed in indexes)
        if not words or min_chunks <= 0 or visible < min_chunks:
            return []
        return [word for word in words if not any(index.search_lexical(word, 1, allowed) for index, allowed in indexes)]

    def _hydrate(
        self, fused: Sequence[FusedHit], principal: Principal, datastore_ids: Sequence[str]
    ) -> list[SearchHit]:
        if not fused:
            return []
        with self._db.session() as session:
            rows = session.execute(
                select(Chunk, Document.title, Document.source_uri, Document.metadata_json)
                .join(Document, Document.id == Chunk.document_id)
                .where(
                    Chunk.id.in_([hit.id for hit in fused]),
                    Chunk.datastore_id.in_(list(datastore_ids)),
                    Document.datastore_id.in_(list(datastore_ids)),
                    readable_by(principal),
                )
            ).all()
        by_id = {row.Chunk.id: row for row in rows}
        hits: list[SearchHit] = []
        for hit in fused:
            row = by_id.get(hit.id)
            if row is None:  # deleted (or its ACL changed) between ranking and hydration
                continue
            chunk = row.Chunk
            hits.append(
                SearchHit(
                    chunk_id=chunk.id,
                    score=hit.score,
                    text=chunk.text,
                    document_id=chunk.document_id,
                    datastore_id=chunk.datastore_id,
                    title=row.title,
                    source_uri=row.source_uri,
                    heading_path=list(chunk.heading_path),
                    start_offset=chunk.start_offset,
                    end_offset=chunk.end_offset,
                    page=chunk.page,
                    metadata=dict(row.metadata_json),
                    dense_rank=hit.dense_rank,
                    lexical_rank=hit.lexical_rank,
                    dense_score=hit.dense_score,
                    lexical_score=hit.lexical_score,
                )
            )
        return hits
