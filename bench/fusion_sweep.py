"""Every fusion candidate on every retrieval evaluation set, side by side (nDCG@10 on documents).

Sets: SciFact and PubMedQA from `../shared/data`, and the packaged Dapr and Argo CD question sets over
`../shared/data/engdocs` (queries and qrels in platform/.../eval/data/retrieval/, corpus read at run time).
Each set is chunked as ingestion chunks it and embedded once; the embeddings are cached under `--cache`
(outside the repository), so a re-run costs no embedding. A real `HybridIndex` (FAISS + tantivy) is built
per set in a temporary directory, the datastore is calibrated from its own chunks as the platform does at
index time (timed, against the set's embedding time), and each candidate fuses the same dense and lexical
candidate lists (200 each, as `groundwork eval retrieval` asks for). Sets the fusion was chosen on and sets
it was not are reported apart. Method and results: docs/decisions/0006-adaptive-fusion.md.

    nice -n 10 .venv/bin/python bench/fusion_sweep.py [--sets scifact pubmedqa dapr argocd]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS_DIR, format_table, machine_info, write_json
from _fusion_data import SETS, TUNED_ON, PreparedSet, prepare
from groundwork.retrieval.calibration import Calibration, calibrate, held_out, pseudo_queries
from groundwork.retrieval.embedder import SentenceTransformerEmbedder
from groundwork.retrieval.hybrid import FusionConfig, fuse
from groundwork.retrieval.metrics import ndcg_at_k, recall_at_k
from groundwork.retrieval.store import HybridIndex
from groundwork.retrieval.types import ScoredId

CANDIDATES = 200
CALIBRATION_QUERIES = 100
PRIOR = 0.5
EMBED_SAMPLE = 256
"""Chunks embedded again next to calibration, to compare their costs under the same machine load."""
Lists = tuple[list[ScoredId], list[ScoredId]]
Ranker = Callable[[list[ScoredId], list[ScoredId]], list[int]]


def fixed(config: FusionConfig) -> Ranker:
    return lambda dense, lexical: [hit.id for hit in fuse(dense, lexical, config, CANDIDATES)]


def candidates(calibrations: dict[str, Calibration | None]) -> dict[str, Ranker]:
    """name -> ranking function; the calibrated ones use this set's calibration."""
    variants: dict[str, Ranker] = {
        "dense": lambda d, lx: [h.id for h in d],
        "lexical": lambda d, lx: [h.id for h in lx],
        "rrf k=60": fixed(FusionConfig(method="rrf", rrf_k=60)),
        "rrf k=20": fixed(FusionConfig(method="rrf", rrf_k=20)),
    }
    for weight in (0.5, 0.6, 0.7, 0.8):
        variants[f"minmax d={weight}"] = fixed(FusionConfig(dense_weight=weight, lexical_weight=1 - weight))
        variants[f"minmax d={weight} spread"] = fixed(
            FusionConfig(dense_weight=weight, lexical_weight=1 - weight, query_weighting="spread")
        )
    for weight in (0.5, 0.7):
        variants[f"dbsf d={weight}"] = fixed(
            FusionConfig(normalization="dbsf", dense_weight=weight, lexical_weight=1 - weight)
        )
        variants[f"max d={weight}"] = fixed(
            FusionConfig(normalization="max", dense_weight=weight, lexical_weight=1 - weight)
        )
    for kind, calibration in calibrations.items():
        if calibration is None:
            continue
        for label, weight in (("guarded", calibration.dense_weight), ("best", calibration.best_weight)):
            variants[f"{label} {kind}"] = fixed(FusionConfig(dense_weight=weight, lexical_weight=1 - weight))
            variants[f"{label} {kind} spread"] = fixed(
                FusionConfig(dense_weight=weight, lexical_weight=1 - weight, query_weighting="spread")
            )
    return variants


LATENCY_VARIANTS = {
    "minmax 0.5 (old default)": FusionConfig(),
    "minmax spread (the new default's cost)": FusionConfig(
        dense_weight=0.6, lexical_weight=0.4, query_weighting="spread"
    ),
}


def fuse_cost_ms(lists: Sequence[Lists], config: FusionConfig, repeats: int = 3) -> float:
    """Best-of-`repeats` mean time of one fusion (200 + 200 candidates, top 200), in milliseconds."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for dense, lexical in lists:
            fuse(dense, lexical, config, CANDIDATES)
        best = min(best, (time.perf_counter() - started) / max(1, len(lists)))
    return best * 1000


def build_index(prepared: PreparedSet, directory: Path) -> HybridIndex:
    index = HybridIndex(directory, prepared.vectors.shape[1], "bench")
    for start in range(0, len(prepared.texts), 5000):
        ids = list(range(start, min(start + 5000, len(prepared.texts))))
        index.apply(
            add_ids=ids, vectors=prepared.vectors[ids[0] : ids[-1] + 1], texts=prepared.texts[ids[0] : ids[-1] + 1]
        )
    return index


def score(prepared: PreparedSet, lists: Sequence[Lists], ranker: Ranker) -> dict[str, float]:
    ndcg = recall = 0.0
    for query_id, (dense, lexical) in zip(prepared.query_ids, lists, strict=True):
        docs: dict[str, None] = {}
        for chunk_id in ranker(dense, lexical):
            docs.setdefault(prepared.chunk_docs[chunk_id], None)
        ranked, relevant = list(docs), prepared.dataset.qrels[query_id]
        ndcg += ndcg_at_k(ranked, relevant, 10)
        recall += recall_at_k(ranked, relevant, 100)
    n = len(lists)
    return {"ndcg_at_10": ndcg / n, "recall_at_100": recall / n}


def run_set(prepared: PreparedSet, embedder: SentenceTransformerEmbedder) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gw-fusion-") as tmp:
        index = build_index(prepared, Path(tmp))
        try:
            lists = [
                (
                    index.search_dense(prepared.query_vectors[i : i + 1], CANDIDATES),
                    index.search_lexical(text, CANDIDATES),
                )
                for i, text in enumerate(prepared.dataset.queries[q] for q in prepared.query_ids)
            ]
            calibrations, seconds = {}, {}
            siblings: dict[str, list[int]] = {}
            for chunk_id, doc in enumerate(prepared.chunk_docs):
                siblings.setdefault(doc, []).append(chunk_id)
            chunks = list(enumerate(prepared.bodies))
            by_chunk = {c: siblings[doc] for c, doc in enumerate(prepared.chunk_docs)}
            sample_texts = prepared.texts[:: max(1, len(prepared.texts) // EMBED_SAMPLE)][:EMBED_SAMPLE]
            wall, cpu = time.perf_counter(), time.process_time()
            embedder.embed_documents(sample_texts)
            scale = len(prepared.texts) / len(sample_texts)
            embed_now = {"wall": (time.perf_counter() - wall) * scale, "cpu": (time.process_time() - cpu) * scale}
            for kind in ("sentence", "ict"):
                started, cpu = time.perf_counter(), time.process_time()
                limit = min(CALIBRATION_QUERIES, max(10, len(chunks) // 20))
                sample = pseudo_queries(chunks, limit if kind == "sentence" else 5 * limit)
                if kind == "ict":
                    sample = held_out(sample, by_chunk)[:limit]
                calibrations[kind] = calibrate(
                    index,
                    embedder.embed_queries,
                    sample,
                    chunk_count=len(chunks),
                    generation=0,
                    prior=PRIOR,
                    candidates=50,
                )
                seconds[kind] = time.perf_counter() - started
                seconds[f"{kind}_cpu"] = time.process_time() - cpu
        finally:
            index.close()
    results = {name: score(prepared, lists, ranker) for name, ranker in candidates(calibrations).items()}
    fuse_ms = {name: fuse_cost_ms(lists, config) for name, config in LATENCY_VARIANTS.items()}
    return {
        "tuned_on": prepared.name in TUNED_ON,
        "documents": len(prepared.dataset.corpus),
        "chunks": len(prepared.texts),
        "queries": len(prepared.query_ids),
        "embedding_seconds": prepared.embed_seconds,
        "calibration_seconds": seconds["ict"],
        "calibration_seconds_by_kind": seconds,
        "embedding_estimate_now": embed_now,
        "fuse_ms_per_query": fuse_ms,
        "calibration": {kind: c.as_dict() if c else None for kind, c in calibrations.items()},
        "results": results,
    }


def print_table(table: dict[str, dict[str, Any]]) -> None:
    sets = list(table)
    names = list(next(iter(table.values()))["results"])
    headers = ["nDCG@10", *(f"{s}{'' if table[s]['tuned_on'] else ' (held out)'}" for s in sets)]
    rows = [[name, *(f"{table[s]['results'][name]['ndcg_at_10']:.4f}" for s in sets)] for name in names]
    print(format_table(headers, rows))
    print()
    calibration_rows = []
    for s in sets:
        row, seconds, now = table[s], table[s]["calibration_seconds_by_kind"], table[s]["embedding_estimate_now"]
        calibration_rows.append(
            [
                s,
                str(row["chunks"]),
                "/".join(
                    f"{c['best_weight']:.1f}{'*' if c['guard_tripped'] else ''}" if c else "-"
                    for c in row["calibration"].values()
                ),
                f"{seconds['ict']:.1f}",
                f"{now['wall']:.0f}",
                f"{100 * seconds['ict'] / max(now['wall'], 1e-9):.1f}%",
                f"{100 * seconds['ict_cpu'] / max(now['cpu'], 1e-9):.1f}%",
            ]
        )
    headers = ["set", "chunks", "best w sentence/ict (*: guard)", "calib s", "embed s (est.)", "wall %", "cpu %"]
    print(format_table(headers, calibration_rows))
    print()
    names = list(LATENCY_VARIANTS)
    print(
        format_table(
            ["fuse ms/query", *names], [[s, *(f"{table[s]['fuse_ms_per_query'][n]:.2f}" for n in names)] for s in sets]
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "groundwork" / "fusion_sweep")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "fusion_sweep.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    embedder = SentenceTransformerEmbedder()
    embedder.warm_up()
    table = {name: run_set(prepare(name, args.data, args.cache, embedder), embedder) for name in args.sets}
    print_table(table)
    write_json(args.out, {"machine": machine_info(), "candidates": CANDIDATES, "sets": table})


if __name__ == "__main__":
    main()
