"""Compare fusion functions on already-ingested evaluation datastores, without re-running retrieval.

For every query the dense and lexical candidate lists are fetched once from the datastore's indexes,
then each fusion variant is scored offline (nDCG@10 on documents). Used to choose the default fusion:
docs/evaluation.md. Example (after `groundwork eval retrieval` filled the data directory):

    GROUNDWORK_DATA_DIR=/tmp/gw-eval python bench/fusion_sweep.py --beir ../shared/data/beir-scifact \
        --pubmedqa ../shared/data/pubmedqa
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from groundwork.platform.config import Settings
from groundwork.platform.eval.datasets import RetrievalDataset, load_beir, load_pubmedqa
from groundwork.platform.eval.retrieval import SOURCE_PREFIX
from groundwork.platform.services import build_services
from groundwork.retrieval.hybrid import FusionConfig, fuse
from groundwork.retrieval.metrics import ndcg_at_k
from groundwork.retrieval.types import ScoredId

CANDIDATES = 200
VARIANTS: dict[str, FusionConfig] = {
    "rrf k=60": FusionConfig(method="rrf", rrf_k=60),
    "rrf k=20": FusionConfig(method="rrf", rrf_k=20),
    **{
        f"convex {norm} d={w:.1f}": FusionConfig(
            method="convex", normalization=norm, dense_weight=w, lexical_weight=1 - w
        )
        for norm in ("max", "minmax")
        for w in (0.3, 0.4, 0.5, 0.6, 0.7)
    },
}


def collect(
    services: Any, dataset: RetrievalDataset, datastore: str
) -> list[tuple[str, list[ScoredId], list[ScoredId]]]:
    datastore_id = services.documents.get_datastore(datastore).id
    index = services.indexes.get(datastore_id)
    rows = []
    for query_id, text in dataset.queries.items():
        vector = services.embedder.embed_queries([text])
        rows.append((query_id, index.search_dense(vector, CANDIDATES), index.search_lexical(text, CANDIDATES)))
    return rows


def corpus_ids(services: Any, datastore: str) -> dict[int, str]:
    from sqlalchemy import select

    from groundwork.platform.db.models import Chunk, Document

    datastore_id = services.documents.get_datastore(datastore).id
    with services.database.session() as session:
        rows = session.execute(
            select(Chunk.id, Document.source_uri)
            .join(Document, Document.id == Chunk.document_id)
            .where(Chunk.datastore_id == datastore_id)
        ).all()
    return {chunk_id: uri.removeprefix(SOURCE_PREFIX).rsplit("/", 1)[-1] for chunk_id, uri in rows}


def ndcg(ranked_chunks: Sequence[int], chunk_to_doc: dict[int, str], relevant: dict[str, int]) -> float:
    docs: dict[str, None] = {}
    for chunk_id in ranked_chunks:
        docs.setdefault(chunk_to_doc[chunk_id], None)
    return ndcg_at_k(list(docs), relevant, 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beir", type=Path)
    parser.add_argument("--pubmedqa", type=Path)
    parser.add_argument("--out", type=Path, default=Path("bench/results/fusion_sweep.json"))
    args = parser.parse_args()
    services = build_services(Settings(), owner="bench/fusion_sweep.py", recover=False)
    table: dict[str, dict[str, float]] = {}
    try:
        sets = []
        if args.beir:
            sets.append((load_beir(args.beir), f"eval-{args.beir.name}"))
        if args.pubmedqa:
            sets.append((load_pubmedqa(args.pubmedqa), "eval-pubmedqa"))
        for dataset, datastore in sets:
            chunk_to_doc = corpus_ids(services, datastore)
            rows = collect(services, dataset, datastore)
            scores: dict[str, float] = {}
            n = len(rows)
            scores["dense"] = sum(ndcg([h.id for h in d], chunk_to_doc, dataset.qrels[q]) for q, d, _ in rows) / n
            scores["lexical"] = sum(ndcg([h.id for h in lx], chunk_to_doc, dataset.qrels[q]) for q, _, lx in rows) / n
            for name, config in VARIANTS.items():
                scores[name] = (
                    sum(
                        ndcg([h.id for h in fuse(d, lx, config, CANDIDATES)], chunk_to_doc, dataset.qrels[q])
                        for q, d, lx in rows
                    )
                    / n
                )
            table[dataset.name] = scores
    finally:
        services.close()
    names = list(next(iter(table.values())).keys()) if table else []
    print(f"{'nDCG@10':<24}" + "".join(f"{name:>14}" for name in table))
    for name in names:
        print(f"{name:<24}" + "".join(f"{table[d][name]:>14.4f}" for d in table))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
