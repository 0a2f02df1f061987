"""What access control costs a search: the same queries through `SearchService.search` as principals who read
everything (no allowed-id set is built), 50% and 10% of a datastore (the set is built in SQL and handed to both
indexes), against the raw FAISS and tantivy searches of the same run, with and without an id selector.

The datastore is synthetic so it can be large: `--documents` documents of `--chunks` chunks each, every chunk a
random unit vector (search latency does not depend on what the vectors mean) and a short text drawn from a fixed
vocabulary, written straight into the metadata store and indexed by the platform's own rebuild. Each document is
readable by one of 10 groups; the principals belong to 10, 5 and 1 of them. Queries are real sentences embedded
by the packaged MiniLM, as in a real search.

    .venv/bin/python bench/acl_search.py [--documents 20000] [--chunks 5] [--queries 200] [--out FILE]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert

from _common import OPERATOR, RESULTS_DIR, format_table, latency_stats_ms, machine_info, write_json
from groundwork.platform.access.principal import Principal
from groundwork.platform.config import GenerationConfig, IngestionConfig, Settings
from groundwork.platform.db.models import Chunk, Datastore, Document, DocumentAclEntry, DocumentStatus, Role
from groundwork.platform.search import SearchQuery
from groundwork.platform.services import Services, build_services
from groundwork.retrieval.types import SearchMode

GROUPS = [f"team-{i}" for i in range(10)]
WORDS = [
    "deploy",
    "rollback",
    "backup",
    "restore",
    "snapshot",
    "replica",
    "shard",
    "index",
    "query",
    "latency",
    "cache",
    "token",
    "secret",
    "rotate",
    "key",
    "certificate",
    "ingress",
    "gateway",
    "pod",
    "node",
    "cluster",
    "queue",
    "worker",
    "retry",
    "timeout",
    "quota",
    "limit",
    "alert",
    "pager",
    "incident",
    "runbook",
    "metric",
    "trace",
    "log",
    "audit",
    "policy",
    "role",
    "group",
    "user",
    "tenant",
    "bucket",
    "object",
    "schema",
    "migration",
]
QUESTIONS = [
    "how do I rotate the signing key",
    "what happens when a worker times out",
    "restore a snapshot of the metadata database",
    "which alerts page the on-call engineer",
    "how are shards rebalanced after a node fails",
    "where are audit logs kept and for how long",
    "how do I roll back a failed deploy",
    "what is the request quota per tenant",
]


def populate(services: Services, documents: int, chunks: int, seed: int) -> str:
    """A datastore of synthetic documents, each readable by one group; returns its id."""
    rng = random.Random(seed)
    vectors = np.random.default_rng(seed)
    datastore_id = services.documents.create_datastore(OPERATOR, "acl-bench").id
    dimension = services.embedder.dimension
    with services.database.session() as session:
        for start in range(0, documents, 1000):
            batch = range(start, min(documents, start + 1000))
            ids = [f"doc{i:08d}" for i in batch]
            session.execute(
                insert(Document),
                [
                    {
                        "id": doc_id,
                        "tenant_id": "default",
                        "datastore_id": datastore_id,
                        "source_uri": f"bench://{doc_id}",
                        "title": f"Document {doc_id}",
                        "mime_type": "text/markdown",
                        "content_hash": doc_id,
                        "blob_key": doc_id,
                        "status": DocumentStatus.INDEXED,
                        "indexed_hash": doc_id,
                        "chunk_count": chunks,
                        "metadata_json": {},
                    }
                    for doc_id in ids
                ],
            )
            session.execute(
                insert(DocumentAclEntry),
                [
                    {"document_id": doc_id, "kind": "group", "value": GROUPS[i % len(GROUPS)]}
                    for i, doc_id in zip(batch, ids, strict=True)
                ],
            )
            block = vectors.standard_normal((len(ids) * chunks, dimension), dtype=np.float32)
            block /= np.linalg.norm(block, axis=1, keepdims=True)
            rows: list[dict[str, Any]] = []
            for position, doc_id in enumerate(ids):
                for ordinal in range(chunks):
                    text = " ".join(rng.choice(WORDS) for _ in range(40))
                    rows.append(
                        {
                            "document_id": doc_id,
                            "datastore_id": datastore_id,
                            "ordinal": ordinal,
                            "text": text,
                            "heading_path": [],
                            "start_offset": 0,
                            "end_offset": len(text),
                            "token_count": 40,
                            "embedding": block[position * chunks + ordinal].tobytes(),
                        }
                    )
            session.execute(insert(Chunk), rows)
    with services.database.session() as session:
        session.get_one(Datastore, datastore_id).index_generation = 1
    services.indexes.rebuild(datastore_id)
    return datastore_id


def measure(services: Services, datastore_id: str, principal: Principal, queries: Sequence[str]) -> dict[str, Any]:
    latencies: list[float] = []
    index_ms: list[float] = []
    first_ms = 0.0
    for number, query in enumerate(queries):
        started = time.perf_counter()
        result = services.search.search(
            SearchQuery(query=query, datastore_ids=[datastore_id], top_k=10, mode=SearchMode.HYBRID), principal
        )
        if number == 0:  # the principal's allowed-id set is computed (and cached) here
            first_ms = (time.perf_counter() - started) * 1000
        if number >= 10:  # warm-up
            latencies.append(time.perf_counter() - started)
            index_ms.append(result.timings_ms["index_ms"] / 1000)
    return {"total": latency_stats_ms(latencies), "index": latency_stats_ms(index_ms), "first_ms": first_ms}


def raw(services: Services, datastore_id: str, queries: Sequence[str], share: float) -> dict[str, Any]:
    """The indexes alone (no SQL, no fusion): dense + lexical, without a selector (share 1) or with one over
    the first `share` of the ids."""
    index = services.indexes.get(datastore_id)
    ids = np.sort(index.vector_ids())
    allowed = None if share >= 1 else ids[: int(len(ids) * share)]
    vectors = services.embedder.embed_queries(list(queries))
    latencies = []
    for number, (query, vector) in enumerate(zip(queries, vectors, strict=True)):
        started = time.perf_counter()
        index.search_dense(vector, 100, allowed)
        index.search_lexical(query, 100, allowed)
        if number >= 10:
            latencies.append(time.perf_counter() - started)
    return latency_stats_ms(latencies)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--chunks", type=int, default=5)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    data_dir = Path(tempfile.mkdtemp(prefix="gw-bench-acl-"))
    settings = Settings(
        data_dir=data_dir,
        generation=GenerationConfig(backend="none"),
        ingestion=IngestionConfig(workers=1),
    )
    services = build_services(settings, owner="bench acl")
    try:
        started = time.perf_counter()
        datastore_id = populate(services, args.documents, args.chunks, args.seed)
        print(f"{args.documents * args.chunks} chunks written and indexed in {time.perf_counter() - started:.0f}s")
        queries = [QUESTIONS[i % len(QUESTIONS)] + f" {WORDS[i % len(WORDS)]}" for i in range(args.queries)]
        principals = {
            "reads everything (no id set)": Principal(
                tenant_id="default", name="all", role=Role.READER, groups=frozenset(GROUPS)
            ),
            "reads 50% (5 of 10 groups)": Principal(
                tenant_id="default", name="half", role=Role.READER, groups=frozenset(GROUPS[:5])
            ),
            "reads 10% (1 group)": Principal(
                tenant_id="default", name="tenth", role=Role.READER, groups=frozenset(GROUPS[:1])
            ),
        }
        results: dict[str, Any] = {}
        for label, principal in principals.items():
            results[label] = measure(services, datastore_id, principal, queries)
        raw_results = {share: raw(services, datastore_id, queries, share) for share in (1.0, 0.5, 0.1)}
    finally:
        services.close()
    rows = [
        [
            label,
            f"{r['first_ms']:.0f}",
            f"{r['total']['p50_ms']:.1f}",
            f"{r['total']['p95_ms']:.1f}",
            f"{r['index']['p50_ms']:.1f}",
        ]
        for label, r in results.items()
    ]
    rows += [
        [
            f"raw indexes, selector over {int(share * 100)}%" if share < 1 else "raw indexes, no selector",
            "-",
            f"{r['p50_ms']:.1f}",
            f"{r['p95_ms']:.1f}",
            "-",
        ]
        for share, r in raw_results.items()
    ]
    headers = ["search (hybrid, top 10)", "first ms", "p50 ms", "p95 ms", "ids+indexes p50 ms"]
    print(format_table(headers, rows))
    path = args.out or RESULTS_DIR / "acl_search.json"
    write_json(
        path,
        {
            "machine": machine_info(),
            "documents": args.documents,
            "chunks_per_document": args.chunks,
            "queries": args.queries,
            "search": results,
            "raw_indexes": {str(k): v for k, v in raw_results.items()},
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
