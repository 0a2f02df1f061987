"""End-to-end ingestion throughput, against the raw cost of embedding the same chunks.

Ingests a corpus through the normal submission path (`DocumentService.submit` -> in-process queue ->
parse, chunk, embed, commit, index) into a fresh data directory and times it until the queue is idle. Then,
in the same process, it reads back every chunk it produced from the metadata store, rebuilds the exact text
the pipeline embedded (`contextual_text(title, heading_path, text)`) and times a bare
`SentenceTransformer.encode` of those texts with the same model object (batch 64, normalised). The ratio
e2e / raw encode is the overhead of everything that is not the model (target <= 1.25).

Datasets:
- `scifact`: the BEIR SciFact corpus (5,183 abstracts, plain text), as `groundwork eval retrieval` builds it.
- `influxdata`: every `*.md` file under /work/shared/data/engdocs/influxdata-docs-v2 (Markdown, headings).

    .venv/bin/python bench/ingest.py --dataset scifact --limit 500
    .venv/bin/python bench/ingest.py --dataset influxdata [--limit 300] [--data-dir DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from _common import OPERATOR, RESULTS_DIR, format_table, machine_info, peak_rss_mib, write_json
from groundwork.ingestion.sources import read_with_shared_source
from groundwork.platform.config import Settings
from groundwork.platform.db.models import Chunk, Document, DocumentStatus
from groundwork.platform.documents import NewDocument
from groundwork.platform.errors import PlatformError
from groundwork.platform.eval.datasets import load_beir
from groundwork.platform.eval.retrieval import corpus_documents
from groundwork.platform.indexes import contextual_text
from groundwork.platform.services import Services, build_services

SHARED = Path(__file__).resolve().parents[2] / "shared/data"
DATASETS: dict[str, Path] = {
    "scifact": SHARED / "beir-scifact",
    "influxdata": SHARED / "engdocs/influxdata-docs-v2",
}
RAW_BATCH_SIZE = 64
TARGET_RATIO = 1.25


@dataclass
class IngestResult:
    dataset: str
    datastore: str
    documents_submitted: int
    documents_rejected: int
    """Refused by validation before submission (empty files, unsupported types); not submitted."""
    documents_indexed: int
    documents_failed: int
    chunks: int
    input_bytes: int
    submit_s: float
    e2e_s: float
    """submit() until the queue is idle: every document parsed, embedded, committed and indexed."""
    raw_encode_s: float
    """Bare SentenceTransformer.encode of the same chunk texts, same model object."""
    docs_per_s: float
    chunks_per_s: float
    raw_chunks_per_s: float
    e2e_over_raw: float
    mean_chunk_chars: float
    peak_rss_after_ingest_mib: float
    peak_rss_mib: float
    failures_by_code: dict[str, int] = field(default_factory=dict)
    rejections_by_code: dict[str, int] = field(default_factory=dict)


def scifact_documents(limit: int | None) -> list[NewDocument]:
    documents = corpus_documents(load_beir(DATASETS["scifact"]))
    return documents[:limit] if limit is not None else documents


def markdown_documents(root: Path, limit: int | None) -> list[NewDocument]:
    """Every `*.md` under `root`, sorted by path so that `--limit` always takes the same files, read the way
    `groundwork ingest` reads them (Hugo `source:` pages take their shared body)."""
    paths = sorted(p for p in root.rglob("*.md") if p.is_file())
    if limit is not None:
        paths = paths[:limit]
    return [
        NewDocument(
            source_uri=path.resolve().as_uri(),
            filename=str(path.relative_to(root)),
            data=read_with_shared_source(path, root),  # what `groundwork ingest` sends
        )
        for path in paths
    ]


def load_documents(dataset: str, limit: int | None) -> list[NewDocument]:
    if dataset == "scifact":
        return scifact_documents(limit)
    return markdown_documents(DATASETS[dataset], limit)


def accepted(services: Services, items: Sequence[NewDocument]) -> tuple[list[NewDocument], Counter[str]]:
    """Split off what `submit` would refuse, so that one empty file does not abort the whole batch."""
    keep: list[NewDocument] = []
    rejected: Counter[str] = Counter()
    for item in items:
        try:
            services.documents.validate(item)
        except PlatformError as exc:
            rejected[exc.code] += 1
            continue
        keep.append(item)
    return keep, rejected


def chunk_texts(services: Services, datastore_id: str) -> list[str]:
    """The exact texts the pipeline embedded for the datastore's chunks."""
    with services.database.session() as session:
        rows = session.execute(
            select(Chunk.text, Chunk.heading_path, Document.title)
            .join(Document, Document.id == Chunk.document_id)
            .where(Chunk.datastore_id == datastore_id)
            .order_by(Chunk.id)
        ).all()
    return [contextual_text(row.title or "", row.heading_path or [], row.text) for row in rows]


def document_counts(services: Services, datastore_id: str) -> tuple[Counter[str], Counter[str]]:
    with services.database.session() as session:
        statuses = session.execute(
            select(Document.status, func.count()).where(Document.datastore_id == datastore_id).group_by(Document.status)
        ).all()
        failures = session.execute(
            select(Document.failure_code, func.count())
            .where(Document.datastore_id == datastore_id, Document.status == DocumentStatus.FAILED)
            .group_by(Document.failure_code)
        ).all()
    return (
        Counter({str(status): int(count) for status, count in statuses}),
        Counter({str(code): int(count) for code, count in failures}),
    )


def run_ingest(dataset: str, limit: int | None, data_dir: Path, datastore: str, *, raw: bool = True) -> IngestResult:
    """Ingest into `data_dir` (left in place) and, with `raw`, time the bare encode of the same chunks."""
    items = load_documents(dataset, limit)
    print(f"{dataset}: {len(items)} documents loaded", flush=True)
    settings = Settings(data_dir=data_dir)
    services = build_services(settings, owner="bench/ingest.py")
    try:
        submitted, rejected = accepted(services, items)
        datastore_id = services.documents.get_or_create_datastore(OPERATOR, datastore).id
        print(f"ingesting {len(submitted)} documents into {data_dir} ...", flush=True)
        started = time.perf_counter()
        services.documents.submit(OPERATOR, datastore_id, submitted)
        submit_s = time.perf_counter() - started
        services.queue.wait_idle()
        e2e_s = time.perf_counter() - started
        rss_after_ingest = peak_rss_mib()
        statuses, failures = document_counts(services, datastore_id)
        texts = chunk_texts(services, datastore_id)
        raw_s = float("nan")
        if raw and texts:
            print(f"encoding {len(texts)} chunk texts with the bare model ...", flush=True)
            model: Any = services.embedder._loaded()
            started = time.perf_counter()
            model.encode(
                texts,
                batch_size=RAW_BATCH_SIZE,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            raw_s = time.perf_counter() - started
    finally:
        services.close()
    indexed = statuses.get(DocumentStatus.INDEXED.value, 0)
    return IngestResult(
        dataset=dataset,
        datastore=datastore,
        documents_submitted=len(submitted),
        documents_rejected=sum(rejected.values()),
        documents_indexed=indexed,
        documents_failed=statuses.get(DocumentStatus.FAILED.value, 0),
        chunks=len(texts),
        input_bytes=sum(len(item.data) for item in submitted),
        submit_s=submit_s,
        e2e_s=e2e_s,
        raw_encode_s=raw_s,
        docs_per_s=len(submitted) / e2e_s if e2e_s else 0.0,
        chunks_per_s=len(texts) / e2e_s if e2e_s else 0.0,
        raw_chunks_per_s=len(texts) / raw_s if raw_s else 0.0,
        e2e_over_raw=e2e_s / raw_s if raw_s else float("nan"),
        mean_chunk_chars=sum(map(len, texts)) / len(texts) if texts else 0.0,
        peak_rss_after_ingest_mib=rss_after_ingest,
        peak_rss_mib=peak_rss_mib(),
        failures_by_code=dict(failures),
        rejections_by_code=dict(rejected),
    )


def format_result(r: IngestResult) -> str:
    headers = ["dataset", "docs", "indexed", "failed", "chunks", "docs/s", "chunks/s", "e2e s", "raw s"]
    headers += ["e2e/raw", "peak RSS MiB"]
    row = [
        r.dataset,
        str(r.documents_submitted),
        str(r.documents_indexed),
        str(r.documents_failed),
        str(r.chunks),
        f"{r.docs_per_s:.1f}",
        f"{r.chunks_per_s:.1f}",
        f"{r.e2e_s:.1f}",
        f"{r.raw_encode_s:.1f}",
        f"{r.e2e_over_raw:.2f}" + ("" if r.e2e_over_raw <= TARGET_RATIO else " (>target)"),
        f"{r.peak_rss_mib:.0f}",
    ]
    lines = [format_table(headers, [row])]
    if r.failures_by_code:
        lines.append("failures: " + ", ".join(f"{k}={v}" for k, v in sorted(r.failures_by_code.items())))
    if r.rejections_by_code:
        lines.append("rejected: " + ", ".join(f"{k}={v}" for k, v in sorted(r.rejections_by_code.items())))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(DATASETS), required=True)
    parser.add_argument("--limit", type=int, default=None, help="First N documents (default: all)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="Data directory to ingest into (kept); default: a temp dir",
    )
    parser.add_argument("--datastore", default=None, help="Datastore name (default: bench-<dataset>)")
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default: bench/results/ingest-*.json)")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")

    datastore = args.datastore or f"bench-{args.dataset}"
    temp = None if args.data_dir else Path(tempfile.mkdtemp(prefix="gw-bench-ingest-"))
    data_dir = args.data_dir or temp
    assert data_dir is not None
    info = machine_info()
    try:
        result = run_ingest(args.dataset, args.limit, data_dir, datastore)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)

    print()
    print(format_result(result))
    settings = Settings(data_dir=data_dir)
    out = args.out or RESULTS_DIR / f"ingest-{args.dataset}-{args.limit or 'all'}.json"
    write_json(
        out,
        {
            "benchmark": "ingest",
            "machine": info,
            "settings": {
                "dataset": args.dataset,
                "source": str(DATASETS[args.dataset]),
                "limit": args.limit,
                "raw_batch_size": RAW_BATCH_SIZE,
                "embedding": settings.embedding.model_dump(),
                "chunking": settings.chunking.model_dump(),
                "ingestion": {
                    "batch_size": settings.ingestion.batch_size,
                    "workers": settings.ingestion.workers,
                },
                "index": settings.index.model_dump(),
            },
            "target_e2e_over_raw": TARGET_RATIO,
            "result": asdict(result),
        },
    )
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
