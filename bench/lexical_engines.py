"""Compare lexical BM25 engines on BEIR SciFact: bm25s (the platform's index), tantivy, SQLite FTS5.

For each engine this measures ranking quality (nDCG@10, Recall@100 over the 300 test queries), the time
to build and persist the full index, single-query latency (top 100), the time to add 100 documents to an
existing index and make them searchable (and durable), and the on-disk size. Every engine indexes
`title + " " + text`. Decision record: docs/decisions/0001-lexical-engine.md.

    .venv/bin/python bench/lexical_engines.py [--data DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import re
import sqlite3
import statistics
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import tantivy

from groundwork.retrieval.bm25_index import Bm25LexicalIndex
from groundwork.retrieval.metrics import ndcg_at_k, recall_at_k

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/beir-scifact"
DEFAULT_OUT = Path("bench/results/lexical_engines.json")
TOP_K = 100
WARMUP_QUERIES = 10
INCREMENTAL_DOCS = 100

# Characters with a meaning in tantivy's query grammar; a backslash makes them literal.
_TANTIVY_SPECIAL = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/<>=\'])')
_FTS5_TERM = re.compile(r"\w+", re.UNICODE)

CRASH_SAFETY = {
    "bm25s": (
        "bm25s is a static in-memory matrix with no on-disk format of its own; the platform persists the "
        "token lists via save() (temp file, fsync, atomic rename, directory fsync) and rebuilds the matrix "
        "lazily on the first search after a change. A crash loses changes since the last save(); the "
        "persisted file is never torn. Durability of one change costs rewriting the whole token file."
    ),
    "tantivy": (
        "Commits are atomic: segments are written first, then meta.json is swapped in atomically; a crash "
        "before commit() returns leaves the previous commit. Uncommitted documents are lost. One writer per "
        "index (lock file); readers see a commit after reload()."
    ),
    "sqlite_fts5": (
        "FTS5 tables are ordinary SQLite tables, so inserts are ACID transactions (rollback journal or WAL); "
        "a crash rolls back to the last committed transaction. Index and documents can share one "
        "transaction with other metadata tables."
    ),
}


@dataclass
class Corpus:
    ids: list[str]
    texts: list[str]


@dataclass
class Result:
    engine: str
    version: str
    config: str
    ndcg_at_10: float
    recall_at_100: float
    build_s: float
    persist_s: float
    query_p50_ms: float
    query_p95_ms: float
    incremental_add_s: float
    incremental_durable_s: float
    incremental_searchable: bool
    disk_bytes: int
    crash_safety: str


def load_corpus(data: Path) -> Corpus:
    ids: list[str] = []
    texts: list[str] = []
    with (data / "corpus.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            doc = json.loads(line)
            ids.append(str(doc["_id"]))
            texts.append(f"{doc.get('title', '')} {doc.get('text', '')}")
    return Corpus(ids, texts)


def load_test_set(data: Path) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    qrels: dict[str, dict[str, int]] = {}
    with (data / "qrels" / "test.tsv").open(encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader)  # header: query-id corpus-id score
        for row in reader:
            if len(row) == 3:
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    queries: dict[str, str] = {}
    with (data / "queries.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                query = json.loads(line)
                if str(query["_id"]) in qrels:
                    queries[str(query["_id"])] = query["text"]
    return queries, qrels


def dir_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def incremental_docs(corpus: Corpus) -> tuple[list[int], list[str]]:
    """100 new documents (copies of corpus texts plus a unique marker token) with fresh row numbers."""
    start = len(corpus.texts)
    rows = list(range(start, start + INCREMENTAL_DOCS))
    texts = [f"{corpus.texts[i]} zzgwmarker{i}" for i in range(INCREMENTAL_DOCS)]
    return rows, texts


class Engine(ABC):
    name: str
    version: str
    config: str

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    @abstractmethod
    def build(self, texts: Sequence[str]) -> None:
        """Index `texts` with row numbers as ids and make them searchable."""

    @abstractmethod
    def persist(self) -> None:
        """Make the indexed state durable on disk."""

    @abstractmethod
    def add(self, rows: Sequence[int], texts: Sequence[str]) -> None:
        """Add documents to the existing index and make them searchable."""

    @abstractmethod
    def search(self, query: str, k: int) -> list[int]:
        """Row numbers of the top-k documents, best first."""

    @abstractmethod
    def disk_path(self) -> Path: ...

    def close(self) -> None:
        return None


class Bm25sEngine(Engine):
    name = "bm25s"
    version = version("bm25s")
    config = "platform Bm25LexicalIndex: en stopwords, Snowball stem, k1=1.5 b=0.75"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.index = Bm25LexicalIndex()
        self.path = workdir / "bm25s" / "lexical.json"

    def build(self, texts: Sequence[str]) -> None:
        self.index.add(list(range(len(texts))), texts)
        self.index.search("warm", 1)  # the matrix is built lazily on the first search

    def persist(self) -> None:
        self.index.save(self.path)

    def add(self, rows: Sequence[int], texts: Sequence[str]) -> None:
        self.index.add(rows, texts)
        self.index.search("warm", 1)

    def search(self, query: str, k: int) -> list[int]:
        return [hit.id for hit in self.index.search(query, k)]

    def disk_path(self) -> Path:
        return self.path


class TantivyEngine(Engine):
    name = "tantivy"
    version = version("tantivy")
    config = "en_stem tokenizer (no stopwords), BM25 k1=1.2 b=0.75, 1 indexing thread"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.path = workdir / "tantivy"
        self.path.mkdir(parents=True)
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("body", stored=False, tokenizer_name="en_stem")
        builder.add_unsigned_field("id", stored=True, indexed=True, fast=True)
        self.schema = builder.build()
        self.index = tantivy.Index(self.schema, path=str(self.path))
        self.writer: Any = None
        self.searcher: Any = None

    def _write(self, rows: Sequence[int], texts: Sequence[str]) -> None:
        if self.writer is None:
            self.writer = self.index.writer(heap_size=128_000_000, num_threads=1)
        for row, text in zip(rows, texts, strict=True):
            doc = tantivy.Document()
            doc.add_unsigned("id", row)
            doc.add_text("body", text)
            self.writer.add_document(doc)
        self.writer.commit()  # a commit is what makes documents both searchable and durable
        self.index.reload()
        self.searcher = self.index.searcher()

    def build(self, texts: Sequence[str]) -> None:
        self._write(range(len(texts)), texts)

    def persist(self) -> None:
        if self.writer is not None:
            self.writer.wait_merging_threads()
            self.writer = None

    def add(self, rows: Sequence[int], texts: Sequence[str]) -> None:
        self._write(rows, texts)

    def search(self, query: str, k: int) -> list[int]:
        # Lower-case so AND/OR/NOT are plain words; escape every other grammar character.
        escaped = _TANTIVY_SPECIAL.sub(r"\\\1", query.lower())
        parsed = self.index.parse_query(escaped, ["body"])
        hits = self.searcher.search(parsed, k, count=False).hits
        if not hits:
            return []
        addresses = [address for _score, address in hits]
        return [int(value) for value in self.searcher.fast_field_values("id", addresses)]

    def disk_path(self) -> Path:
        return self.path

    def close(self) -> None:
        self.persist()


class Fts5Engine(Engine):
    name = "sqlite_fts5"
    version = f"SQLite {sqlite3.sqlite_version}"
    config = "tokenize='porter unicode61' (no stopwords), bm25() k1=1.2 b=0.75, OR of quoted terms"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.path = workdir / "fts5.sqlite"
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("CREATE VIRTUAL TABLE docs USING fts5(body, tokenize='porter unicode61')")

    def _insert(self, rows: Sequence[int], texts: Sequence[str]) -> None:
        self.conn.execute("BEGIN")
        self.conn.executemany("INSERT INTO docs(rowid, body) VALUES (?, ?)", zip(rows, texts, strict=True))
        self.conn.execute("COMMIT")  # searchable and durable once committed

    def build(self, texts: Sequence[str]) -> None:
        self._insert(range(len(texts)), texts)

    def persist(self) -> None:
        self.conn.execute("INSERT INTO docs(docs) VALUES ('optimize')")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def add(self, rows: Sequence[int], texts: Sequence[str]) -> None:
        self._insert(rows, texts)

    def search(self, query: str, k: int) -> list[int]:
        terms = dict.fromkeys(term.lower() for term in _FTS5_TERM.findall(query))
        if not terms:
            return []
        match = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
        cursor = self.conn.execute("SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?", (match, k))
        return [int(row[0]) for row in cursor]

    def disk_path(self) -> Path:
        return self.path

    def close(self) -> None:
        self.conn.close()


def evaluate(
    engine: Engine,
    corpus: Corpus,
    queries: dict[str, str],
    qrels: dict[str, dict[str, int]],
) -> Result:
    started = time.perf_counter()
    engine.build(corpus.texts)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    engine.persist()
    persist_s = time.perf_counter() - started
    disk_bytes = dir_size(engine.disk_path())

    query_items = list(queries.items())
    for _qid, text in query_items[:WARMUP_QUERIES]:
        engine.search(text, TOP_K)
    latencies: list[float] = []
    ndcgs: list[float] = []
    recalls: list[float] = []
    for qid, text in query_items:
        started = time.perf_counter()
        rows = engine.search(text, TOP_K)
        latencies.append(time.perf_counter() - started)
        ranked = [corpus.ids[row] for row in rows]
        ndcgs.append(ndcg_at_k(ranked, qrels[qid], 10))
        recalls.append(recall_at_k(ranked, qrels[qid], TOP_K))

    new_rows, new_texts = incremental_docs(corpus)
    started = time.perf_counter()
    engine.add(new_rows, new_texts)
    incremental_add_s = time.perf_counter() - started
    started = time.perf_counter()
    engine.persist()
    incremental_durable_s = incremental_add_s + time.perf_counter() - started
    searchable = all(
        engine.search(f"zzgwmarker{i}", 1) == [new_rows[i]] for i in (0, INCREMENTAL_DOCS // 2, INCREMENTAL_DOCS - 1)
    )
    engine.close()

    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return Result(
        engine=engine.name,
        version=engine.version,
        config=engine.config,
        ndcg_at_10=statistics.fmean(ndcgs),
        recall_at_100=statistics.fmean(recalls),
        build_s=build_s,
        persist_s=persist_s,
        query_p50_ms=statistics.median(latencies) * 1000,
        query_p95_ms=quantiles[94] * 1000,
        incremental_add_s=incremental_add_s,
        incremental_durable_s=incremental_durable_s,
        incremental_searchable=searchable,
        disk_bytes=disk_bytes,
        crash_safety=CRASH_SAFETY[engine.name],
    )


def format_table(results: Sequence[Result]) -> str:
    headers = [
        "engine",
        "nDCG@10",
        "R@100",
        "build s",
        "persist s",
        "p50 ms",
        "p95 ms",
        "+100 search s",
        "+100 durable s",
        "disk MiB",
    ]
    rows = [
        [
            r.engine,
            f"{r.ndcg_at_10:.4f}",
            f"{r.recall_at_100:.4f}",
            f"{r.build_s:.2f}",
            f"{r.persist_s:.2f}",
            f"{r.query_p50_ms:.2f}",
            f"{r.query_p95_ms:.2f}",
            f"{r.incremental_add_s:.3f}" + ("" if r.incremental_searchable else " (!)"),
            f"{r.incremental_durable_s:.3f}",
            f"{r.disk_bytes / 2**20:.1f}",
        ]
        for r in results
    ]
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(row) for row in rows)])


ENGINES: dict[str, type[Engine]] = {
    "bm25s": Bm25sEngine,
    "tantivy": TantivyEngine,
    "sqlite_fts5": Fts5Engine,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="BEIR SciFact directory")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument("--engines", nargs="+", choices=list(ENGINES), default=list(ENGINES))
    args = parser.parse_args(argv)

    corpus = load_corpus(args.data)
    queries, qrels = load_test_set(args.data)
    print(f"SciFact: {len(corpus.ids)} documents, {len(queries)} test queries, top {TOP_K}")

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="lexical-bench-") as tmp:
        for name in args.engines:
            workdir = Path(tmp) / name
            workdir.mkdir()
            print(f"running {name} ...", flush=True)
            results.append(evaluate(ENGINES[name](workdir), corpus, queries, qrels))

    print()
    print(format_table(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": str(args.data),
        "documents": len(corpus.ids),
        "queries": len(queries),
        "top_k": TOP_K,
        "incremental_docs": INCREMENTAL_DOCS,
        "python": platform.python_version(),
        "machine": platform.platform(),
        "results": [asdict(r) for r in results],
    }
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
