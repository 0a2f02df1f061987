"""What the optional reranking stage costs per search, and what it does to quality, on one evaluation set.

For `--queries` queries of the set, the hybrid candidates are fused as search fuses them (calibrated weights),
the top `--candidates` are reranked, and the per-search reranking time (p50/p95) and nDCG@10 before and after
are reported. Rerankers: late interaction over the packaged MiniLM (no trained head; what can run here) and,
with `--cross-encoder DIR`, a sentence-transformers cross-encoder directory. Embeddings come from
`fusion_sweep.py`'s cache.

    nice -n 10 .venv/bin/python bench/rerank_cost.py --set dapr --queries 40 [--cross-encoder DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS_DIR, format_table, latency_stats_ms, machine_info, write_json
from _fusion_data import SETS, prepare
from fusion_sweep import build_index
from groundwork.retrieval.calibration import calibrate, pseudo_queries
from groundwork.retrieval.embedder import PACKAGED_MINILM, SentenceTransformerEmbedder, resolve_model_path
from groundwork.retrieval.hybrid import FusionConfig, fuse
from groundwork.retrieval.metrics import ndcg_at_k
from groundwork.retrieval.protocols import Reranker
from groundwork.retrieval.reranker import CrossEncoderReranker, LateInteractionReranker


def documents(chunk_ids: list[int], chunk_docs: list[str]) -> list[str]:
    return list(dict.fromkeys(chunk_docs[i] for i in chunk_ids))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=SETS, default="dapr")
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--candidates", type=int, default=30)
    parser.add_argument("--cross-encoder", type=Path)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "groundwork" / "fusion_sweep")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "rerank_cost.json")
    args = parser.parse_args()
    embedder = SentenceTransformerEmbedder()
    embedder.warm_up()
    prepared = prepare(args.set, args.data, args.cache, embedder)
    rerankers: dict[str, Reranker] = {
        "late-interaction MiniLM": LateInteractionReranker(resolve_model_path(PACKAGED_MINILM))
    }
    if args.cross_encoder:
        rerankers["cross-encoder"] = CrossEncoderReranker(args.cross_encoder)
    for reranker in rerankers.values():
        reranker.warm_up()
    rows, report = [], {}
    with tempfile.TemporaryDirectory(prefix="gw-rerank-") as tmp:
        index = build_index(prepared, Path(tmp))
        sample = pseudo_queries(list(enumerate(prepared.bodies)), 200)
        calibration = calibrate(index, embedder.embed_queries, sample, chunk_count=len(prepared.texts), generation=0)
        weight = calibration.dense_weight if calibration else 0.5
        config = FusionConfig(dense_weight=weight, lexical_weight=1 - weight)
        pools = []
        for i, query_id in enumerate(prepared.query_ids[: args.queries]):
            text = prepared.dataset.queries[query_id]
            dense = index.search_dense(prepared.query_vectors[i : i + 1], 200)
            fused = fuse(dense, index.search_lexical(text, 200), config, args.candidates)
            pools.append((query_id, text, [hit.id for hit in fused]))
        index.close()
    base = sum(ndcg_at_k(documents(ids, prepared.chunk_docs), prepared.dataset.qrels[q], 10) for q, _, ids in pools)
    for name, reranker in rerankers.items():
        seconds, ndcg = [], 0.0
        for query_id, text, ids in pools:
            started = time.perf_counter()
            scores = reranker.rerank(text, [prepared.texts[i] for i in ids])
            seconds.append(time.perf_counter() - started)
            ranked = [i for _, i in sorted(zip(scores, ids, strict=True), key=lambda item: -item[0])]
            ndcg += ndcg_at_k(documents(ranked, prepared.chunk_docs), prepared.dataset.qrels[query_id], 10)
        stats = latency_stats_ms(seconds)
        report[name] = {**stats, "ndcg_at_10": ndcg / len(pools), "ndcg_at_10_before": base / len(pools)}
        rows.append(
            [
                name,
                f"{stats['p50_ms']:.0f}",
                f"{stats['p95_ms']:.0f}",
                f"{base / len(pools):.4f}",
                f"{ndcg / len(pools):.4f}",
            ]
        )
    print(format_table(["reranker", "p50 ms", "p95 ms", "nDCG@10 fused", "nDCG@10 reranked"], rows))
    write_json(args.out, {"machine": machine_info(), "set": args.set, "candidates": args.candidates, "results": report})


if __name__ == "__main__":
    main()
