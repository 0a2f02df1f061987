"""The evaluation sets of `fusion_sweep.py`, chunked and embedded as ingestion does, with the embeddings
cached outside the repository so a sweep costs one embedding pass per set.

Chunks are made exactly as the pipeline makes them (`parse_document`, `chunk_document` with the default
options, `contextual_text` for what is embedded and BM25-indexed), so the indexes built here hold what a
datastore of the same documents holds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from groundwork.ingestion.chunking import ChunkingOptions, chunk_document
from groundwork.ingestion.errors import IngestionError
from groundwork.ingestion.parsers.registry import parse_document
from groundwork.platform.eval.datasets import RetrievalDataset, load_beir, load_pubmedqa
from groundwork.platform.indexes import contextual_text
from groundwork.retrieval.embedder import SentenceTransformerEmbedder

logger = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parent.parent
PACKAGED_SETS = REPO / "platform/src/groundwork/platform/eval/data/retrieval"
SETS = ("scifact", "pubmedqa", "dapr", "argocd")
TUNED_ON = ("scifact", "pubmedqa", "dapr")
"""The sets the fusion was chosen on; Argo CD (queries written before any fusion was tried on it) is held out."""


def load_set(name: str, data: Path) -> RetrievalDataset:
    if name == "scifact":
        return load_beir(data / "beir-scifact")
    if name == "pubmedqa":
        return load_pubmedqa(data / "pubmedqa")
    docs = {"dapr": "dapr-docs", "argocd": "argo-cd-docs"}[name]
    return load_beir(PACKAGED_SETS / name, docs=data / "engdocs" / docs)


@dataclass(frozen=True)
class PreparedSet:
    name: str
    dataset: RetrievalDataset
    chunk_docs: list[str]
    """Corpus id of each chunk (chunk id = position)."""
    texts: list[str]
    """What is embedded and BM25-indexed (title and headings + chunk text)."""
    bodies: list[str]
    """The chunk texts alone (what calibration draws pseudo-queries from)."""
    vectors: np.ndarray
    query_ids: list[str]
    query_vectors: np.ndarray
    embed_seconds: float
    """Time the corpus embedding took when it was computed (a lower bound of the set's ingestion time)."""
    chunk_seconds: float


def chunk_set(
    dataset: RetrievalDataset, embedder: SentenceTransformerEmbedder
) -> tuple[list[str], list[str], list[str]]:
    docs: list[str] = []
    texts: list[str] = []
    bodies: list[str] = []
    for doc in dataset.corpus:
        if not doc.text.strip():
            continue
        filename = doc.id if doc.mime_type != "text/plain" else f"{doc.id}.txt"
        try:
            parsed = parse_document(doc.text.encode("utf-8"), filename=filename, mime_type=doc.mime_type)
        except IngestionError:
            continue  # refused as ingestion refuses it (empty page, ...)
        title = doc.title or parsed.title or filename.rsplit("/", 1)[-1]
        for chunk in chunk_document(parsed, embedder, ChunkingOptions()):
            docs.append(doc.id)
            texts.append(contextual_text(title, chunk.heading_path, chunk.text))
            bodies.append(chunk.text)
    return docs, texts, bodies


def _cached_embeddings(
    cache: Path, key: str, texts: list[str], embedder: SentenceTransformerEmbedder
) -> tuple[np.ndarray, float]:
    digest = hashlib.sha256("\x1e".join([embedder.model_name, *texts]).encode()).hexdigest()[:16]
    path, meta = cache / f"{key}-{digest}.npy", cache / f"{key}-{digest}.json"
    if path.exists() and meta.exists():
        return np.load(path), float(json.loads(meta.read_text())["seconds"])
    started = time.perf_counter()
    vectors = embedder.embed_documents(texts)
    seconds = time.perf_counter() - started
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    meta.write_text(json.dumps({"seconds": seconds, "count": len(texts)}))
    logger.info("embedded %d texts of %s in %.0fs", len(texts), key, seconds)
    return vectors, seconds


def prepare(name: str, data: Path, cache: Path, embedder: SentenceTransformerEmbedder) -> PreparedSet:
    dataset = load_set(name, data)
    started = time.perf_counter()
    chunk_docs, texts, bodies = chunk_set(dataset, embedder)
    chunk_seconds = time.perf_counter() - started
    vectors, seconds = _cached_embeddings(cache, f"{name}-corpus", texts, embedder)
    query_ids = list(dataset.queries)
    query_vectors, _ = _cached_embeddings(cache, f"{name}-queries", [dataset.queries[q] for q in query_ids], embedder)
    return PreparedSet(
        name, dataset, chunk_docs, texts, bodies, vectors, query_ids, query_vectors, seconds, chunk_seconds
    )
