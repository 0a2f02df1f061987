"""End-to-end ingestion throughput, against the raw cost of embedding, in one run.

Ingests a corpus through the normal submission path (`DocumentService.submit` -> in-process queue ->
parse, chunk, embed, commit, index) into a fresh data directory with the chosen embedding backend and times
it until the queue is idle (what `groundwork eval retrieval` reports as `ingest_seconds`). Then, in the same
process, three raw encodes, each with nothing around the model:

- `optimised raw`: the configured backend (e.g. OpenVINO bf16) encoding the exact chunk texts the pipeline
  embedded (`contextual_text(title, heading_path, text)`, read back from the metadata store);
- `fp32 torch raw (chunks)`: a plain fp32 `SentenceTransformer.encode` of the same chunk texts (batch 32);
- `fp32 torch raw (documents)`: the baseline peers were measured against: `SentenceTransformer.encode` of the
  documents themselves (title + "\n" + text for SciFact, the file's text for Markdown; batch 32, normalised,
  truncated at the model's 256 tokens).

e2e / baseline is the issue-19 target (<= 0.5; <= 1.0 is parity with LlamaIndex and Haystack). The peak RSS
of ingestion is taken before torch is loaded for the baselines.

Datasets:
- `scifact`: the BEIR SciFact corpus (5,183 abstracts, plain text), as `groundwork eval retrieval` builds it.
- `influxdata`: every `*.md` file under /work/shared/data/engdocs/influxdata-docs-v2 (Markdown, headings).

    .venv/bin/python bench/ingest.py --dataset scifact --limit 1000 [--backend openvino --precision bf16]
    .venv/bin/python bench/ingest.py --dataset influxdata [--limit 300] [--data-dir DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
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
from groundwork.platform.config import EmbeddingConfig, Settings
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
RAW_BATCH_SIZE = 32
TARGET_RATIO = 0.5
"""e2e over the fp32 torch encode of the documents (the peers' baseline); 1.0 is parity."""


@dataclass
class IngestResult:
    dataset: str
    datastore: str
    backend: str
    precision: str
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
    optimised_raw_s: float
    """The configured backend encoding the same chunk texts, nothing around it."""
    torch_raw_chunks_s: float
    """fp32 torch SentenceTransformer.encode of the same chunk texts (batch 32)."""
    torch_raw_documents_s: float
    """fp32 torch SentenceTransformer.encode of the documents (title + text, batch 32): the peers' baseline."""
    docs_per_s: float
    chunks_per_s: float
    e2e_over_baseline: float
    e2e_over_optimised_raw: float
    optimised_over_torch_chunks: float
    mean_chunk_chars: float
    peak_rss_after_ingest_mib: float
    peak_rss_mib: float
    load_average_start: float
    load_average_end: float
    cpu_s: dict[str, float] = field(default_factory=dict)
    """CPU seconds (user + system, this process and its parser children) of each phase: steadier than wall
    time on a machine shared with other work."""
    failures_by_code: dict[str, int] = field(default_factory=dict)
    rejections_by_code: dict[str, int] = field(default_factory=dict)


def baseline_texts(items: Sequence[NewDocument]) -> list[str]:
    """What a truncating peer embeds per document: its title and text (SciFact), or the file's text."""
    return [
        f"{item.title}\n{item.data.decode('utf-8', 'replace')}" if item.title else item.data.decode("utf-8", "replace")
        for item in items
    ]


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def torch_encode_seconds(texts: Sequence[str], cpu: dict[str, float], phase: str) -> float:
    """A plain fp32 sentence-transformers encode, as the peers call it (batch 32, normalised)."""
    from sentence_transformers import SentenceTransformer

    from groundwork.retrieval.embedder import PACKAGED_MINILM, resolve_model_path

    model: Any = SentenceTransformer(str(resolve_model_path(PACKAGED_MINILM)), device="cpu", local_files_only=True)
    model.encode(list(texts[:8]), batch_size=RAW_BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False)
    started, cpu_started = time.perf_counter(), cpu_seconds()
    model.encode(list(texts), batch_size=RAW_BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False)
    cpu[phase] = cpu_seconds() - cpu_started
    return time.perf_counter() - started


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


def run_ingest(
    dataset: str,
    limit: int | None,
    data_dir: Path,
    datastore: str,
    embedding: EmbeddingConfig,
    *,
    raw: bool = True,
    torch_chunks: bool = True,
) -> IngestResult:
    """Ingest into `data_dir` (left in place) and, with `raw`, time the three bare encodes."""
    items = load_documents(dataset, limit)
    print(f"{dataset}: {len(items)} documents loaded", flush=True)
    load_start = os.getloadavg()[0]
    settings = Settings(data_dir=data_dir, embedding=embedding)
    services = build_services(settings, owner="bench/ingest.py")
    try:
        submitted, rejected = accepted(services, items)
        datastore_id = services.documents.get_or_create_datastore(OPERATOR, datastore).id
        print(f"ingesting {len(submitted)} documents into {data_dir} ({embedding.backend} {embedding.precision}) ...")
        cpu: dict[str, float] = {}
        started, cpu_started = time.perf_counter(), cpu_seconds()
        services.documents.submit(OPERATOR, datastore_id, submitted)
        submit_s = time.perf_counter() - started
        services.queue.wait_idle()
        e2e_s = time.perf_counter() - started
        cpu["e2e"] = cpu_seconds() - cpu_started
        rss_after_ingest = peak_rss_mib()
        statuses, failures = document_counts(services, datastore_id)
        texts = chunk_texts(services, datastore_id)
        optimised_s = float("nan")
        if raw and texts:
            print(f"encoding {len(texts)} chunk texts with the bare {embedding.backend} model ...", flush=True)
            started, cpu_started = time.perf_counter(), cpu_seconds()
            services.embedder.embed_documents(texts)
            optimised_s = time.perf_counter() - started
            cpu["optimised_raw"] = cpu_seconds() - cpu_started
    finally:
        services.close()
    torch_chunks_s = torch_docs_s = float("nan")
    if raw and texts:
        print("encoding the same chunk texts, then the documents, with fp32 torch ...", flush=True)
        if torch_chunks:
            torch_chunks_s = torch_encode_seconds(texts, cpu, "torch_raw_chunks")
        torch_docs_s = torch_encode_seconds(baseline_texts(submitted), cpu, "torch_raw_documents")
    indexed = statuses.get(DocumentStatus.INDEXED.value, 0)
    return IngestResult(
        dataset=dataset,
        datastore=datastore,
        backend=embedding.backend,
        precision=embedding.precision,
        documents_submitted=len(submitted),
        documents_rejected=sum(rejected.values()),
        documents_indexed=indexed,
        documents_failed=statuses.get(DocumentStatus.FAILED.value, 0),
        chunks=len(texts),
        input_bytes=sum(len(item.data) for item in submitted),
        submit_s=submit_s,
        e2e_s=e2e_s,
        optimised_raw_s=optimised_s,
        torch_raw_chunks_s=torch_chunks_s,
        torch_raw_documents_s=torch_docs_s,
        docs_per_s=len(submitted) / e2e_s if e2e_s else 0.0,
        chunks_per_s=len(texts) / e2e_s if e2e_s else 0.0,
        e2e_over_baseline=e2e_s / torch_docs_s if torch_docs_s else float("nan"),
        e2e_over_optimised_raw=e2e_s / optimised_s if optimised_s else float("nan"),
        optimised_over_torch_chunks=optimised_s / torch_chunks_s if torch_chunks_s else float("nan"),
        mean_chunk_chars=sum(map(len, texts)) / len(texts) if texts else 0.0,
        peak_rss_after_ingest_mib=rss_after_ingest,
        peak_rss_mib=peak_rss_mib(),
        load_average_start=load_start,
        load_average_end=os.getloadavg()[0],
        cpu_s=cpu,
        failures_by_code=dict(failures),
        rejections_by_code=dict(rejected),
    )


def format_result(r: IngestResult) -> str:
    summary = format_table(
        ["dataset", "backend", "docs", "indexed", "failed", "chunks", "docs/s", "chunks/s", "RSS after ingest MiB"],
        [
            [
                r.dataset,
                f"{r.backend} {r.precision}",
                str(r.documents_submitted),
                str(r.documents_indexed),
                str(r.documents_failed),
                str(r.chunks),
                f"{r.docs_per_s:.1f}",
                f"{r.chunks_per_s:.1f}",
                f"{r.peak_rss_after_ingest_mib:.0f}",
            ]
        ],
    )
    base = r.torch_raw_documents_s

    def ratio(seconds: float) -> str:
        return f"{seconds / base:.2f}x" if base == base and base else "-"

    cpu_base = r.cpu_s.get("torch_raw_documents", float("nan"))

    def cpu(phase: str) -> list[str]:
        seconds = r.cpu_s.get(phase, float("nan"))
        return [f"{seconds:.1f}", f"{seconds / cpu_base:.2f}x" if cpu_base == cpu_base and cpu_base else "-"]

    timings = format_table(
        ["measure", "wall s", "x baseline", "CPU s", "CPU x baseline"],
        [
            ["fp32 torch raw, documents (peers' baseline)", f"{base:.1f}", "1.00x", *cpu("torch_raw_documents")],
            [
                "fp32 torch raw, chunk texts",
                f"{r.torch_raw_chunks_s:.1f}",
                ratio(r.torch_raw_chunks_s),
                *cpu("torch_raw_chunks"),
            ],
            [
                f"{r.backend} {r.precision} raw, chunk texts",
                f"{r.optimised_raw_s:.1f}",
                ratio(r.optimised_raw_s),
                *cpu("optimised_raw"),
            ],
            ["end-to-end ingestion", f"{r.e2e_s:.1f}", ratio(r.e2e_s), *cpu("e2e")],
        ],
    )
    lines = [
        summary,
        "",
        timings,
        f"load average: {r.load_average_start:.2f} at start, {r.load_average_end:.2f} at end",
    ]
    verdict = "met" if r.e2e_over_baseline <= TARGET_RATIO else ("parity" if r.e2e_over_baseline <= 1.0 else "not met")
    lines.append(f"e2e / baseline = {r.e2e_over_baseline:.2f} (target <= {TARGET_RATIO}: {verdict})")
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
    parser.add_argument("--backend", choices=["torch", "onnx", "openvino"], default=None, help="default: settings")
    parser.add_argument("--precision", choices=["fp32", "bf16", "int8"], default=None, help="default: settings")
    parser.add_argument(
        "--no-torch-chunks", action="store_true", help="skip the fp32 torch encode of the chunk texts (the slowest)"
    )
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")

    datastore = args.datastore or f"bench-{args.dataset}"
    temp = None if args.data_dir else Path(tempfile.mkdtemp(prefix="gw-bench-ingest-"))
    data_dir = args.data_dir or temp
    assert data_dir is not None
    configured = Settings().embedding
    chosen = {"backend": args.backend, "precision": args.precision}
    embedding = EmbeddingConfig(**{**configured.model_dump(), **{k: v for k, v in chosen.items() if v}})
    try:
        result = run_ingest(
            args.dataset, args.limit, data_dir, datastore, embedding, torch_chunks=not args.no_torch_chunks
        )
        info = machine_info()  # after ingestion: it imports torch, which the measured RSS must not include
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)

    print()
    print(format_result(result))
    settings = Settings(data_dir=data_dir, embedding=embedding)
    out = args.out or RESULTS_DIR / f"ingest-{args.dataset}-{args.limit or 'all'}-{embedding.backend}.json"
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
            "target_e2e_over_baseline": TARGET_RATIO,
            "result": asdict(result),
        },
    )
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
