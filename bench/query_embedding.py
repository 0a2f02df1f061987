"""Query-embedding latency at concurrency 1, per embedding backend, on SciFact's queries (one query per call,
as a search embeds it).

    .venv/bin/python bench/query_embedding.py [--backends torch:fp32,onnx:int8,openvino:bf16] [--threads 0]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from _common import RESULTS_DIR, format_table, latency_stats_ms, write_json
from groundwork.platform.config import EmbeddingConfig
from groundwork.retrieval.embedder import SentenceTransformerEmbedder

QUERIES = Path(__file__).resolve().parents[2] / "shared/data/beir-scifact/queries.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="torch:fp32,onnx:int8,openvino:bf16")
    parser.add_argument("--threads", type=int, default=0, help="embedding threads (0: every core)")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "query-embedding.json")
    args = parser.parse_args()
    queries = [json.loads(line)["text"] for line in QUERIES.read_text(encoding="utf-8").splitlines()][: args.queries]
    rows, results = [], {}
    cache_dir = EmbeddingConfig().cache_dir
    for spec in args.backends.split(","):
        backend, precision = spec.split(":")
        embedder = SentenceTransformerEmbedder(
            backend=backend, precision=precision, torch_threads=args.threads, cache_dir=cache_dir
        )
        embedder.warm_up()
        for query in queries[:20]:
            embedder.embed_queries([query])
        load = os.getloadavg()[0]
        seconds, cpu = [], []
        for query in queries:
            started, cpu_started = time.perf_counter(), time.process_time()
            embedder.embed_queries([query])
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
        stats, cpu_stats = latency_stats_ms(seconds), latency_stats_ms(cpu)
        results[spec] = {**stats, "cpu": cpu_stats, "load_average_1m": load}
        rows.append(
            [
                spec,
                *(f"{stats[k]:.2f}" for k in ("p50_ms", "p95_ms", "p99_ms")),
                f"{cpu_stats['p95_ms']:.2f}",
                f"{load:.1f}",
            ]
        )
    print(format_table(["backend", "p50 ms", "p95 ms", "p99 ms", "CPU p95 ms", "load avg"], rows))
    print("CPU ms: process CPU time per query (all threads), the cost that a quiet machine's wall time approaches")
    write_json(args.out, {"benchmark": "query_embedding", "threads": args.threads, "results": results})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
