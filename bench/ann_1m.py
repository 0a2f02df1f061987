"""Exact vs approximate (IVF) vector search at one million vectors, on the platform's `FaissVectorIndex`.

The vectors are synthetic but shaped like sentence embeddings: a two-level Gaussian mixture on the unit
sphere. `--topics` topic directions each spawn cluster centres (`--clusters` in all, unequal sizes), and each
vector is a centre plus isotropic noise, normalised. Uniformly random unit vectors would be the wrong test:
in 384 dimensions they are all nearly orthogonal to one another, so there is no neighbourhood structure,
the "nearest" neighbours are barely nearer than any other vector, and every ANN index looks terrible (and
the recall figure says nothing about real data). Real embeddings are strongly clustered by topic, and an IVF
index depends on exactly that. With the default noise (norm 1.5 x the centre's) a vector's cosine to its
centre is about 0.55, to another vector of its cluster about 0.3, to one of a sibling cluster (same topic)
about 0.15 and to one of another topic about 0, so a query's nearest neighbours have cosine about 0.4-0.5,
roughly what all-MiniLM-L6-v2 gives between a question and relevant passages; neighbourhoods of sibling
clusters overlap, so an IVF index must probe several lists to find them all.

Queries come from the same distribution and are not in the index. For each index it reports the build
time, memory (RSS growth of this process and the size of the stored vectors), single-query latency
(one query per `search` call, top 10, as the search service does) and, for IVF, recall@10 against the
exact (flat) results, for each `nprobe` of the sweep. Vectors are generated chunk by chunk from per-chunk
seeds, so the dataset is never held in memory twice and both indexes see the same vectors.

    .venv/bin/python bench/ann_1m.py [--n 1000000] [--dim 384] [--queries 200] [--nlist 2048]
                                     [--nprobe 4 8 16 32 64] [--out FILE]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from _common import RESULTS_DIR, current_rss_mib, format_table, latency_stats_ms, machine_info, write_json
from groundwork.retrieval.faiss_index import FaissConfig, FaissVectorIndex

TOP_K = 10
WARMUP_QUERIES = 10
CHUNK = 50_000
TARGET_RECALL = 0.95
TARGET_P95_MS = 20.0


@dataclass(frozen=True)
class Mixture:
    """A two-level Gaussian mixture on the unit sphere (topics -> cluster centres -> vectors)."""

    centres: np.ndarray
    weights: np.ndarray
    noise: float
    """Standard deviation per dimension of the noise added to a centre (before normalising)."""

    @classmethod
    def create(cls, dim: int, topics: int, clusters: int, noise: float, seed: int) -> Mixture:
        rng = np.random.default_rng([seed, 0])
        topic_dirs = _normalise(rng.standard_normal((topics, dim), dtype=np.float32))
        parent = rng.integers(0, topics, size=clusters)
        # A centre is its topic's direction plus noise of the same norm: centres of one topic have cosine
        # about 0.5 with one another, centres of different topics about 0.
        offsets = rng.standard_normal((clusters, dim), dtype=np.float32) / np.sqrt(dim)
        centres = _normalise(topic_dirs[parent] + offsets)
        weights = rng.lognormal(mean=0.0, sigma=0.7, size=clusters)  # unequal cluster sizes, as in real corpora
        # `noise` is the norm of the noise relative to the (unit) centre.
        return cls(centres=centres, weights=weights / weights.sum(), noise=noise / np.sqrt(dim))

    def sample(self, count: int, rng: np.random.Generator) -> np.ndarray:
        labels = rng.choice(len(self.centres), size=count, p=self.weights)
        vectors = rng.standard_normal((count, self.centres.shape[1]), dtype=np.float32)
        vectors *= np.float32(self.noise)
        vectors += self.centres[labels]
        return _normalise(vectors)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def chunks(mixture: Mixture, n: int, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, vectors) in chunks of `CHUNK`; chunk i always gets the same vectors (seeded by (seed, 1, i))."""
    for number, start in enumerate(range(0, n, CHUNK)):
        count = min(CHUNK, n - start)
        rng = np.random.default_rng([seed, 1, number])
        yield np.arange(start, start + count, dtype=np.int64), mixture.sample(count, rng)


@dataclass
class BuildResult:
    index: str
    build_s: float
    rss_delta_mib: float
    vector_bytes_mib: float
    """Stored vectors and ids (what the index must hold), excluding FAISS bookkeeping."""
    approximate: bool


@dataclass
class SearchRow:
    index: str
    nprobe: int | None
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    recall_at_10: float
    meets_target: bool | None


def build(name: str, config: FaissConfig, mixture: Mixture, n: int, dim: int, seed: int) -> tuple[Any, BuildResult]:
    """Add all vectors chunk by chunk; only the `add` calls are timed (generation is not)."""
    index = FaissVectorIndex(dim, config)
    rss_before = current_rss_mib()
    elapsed = 0.0
    for ids, vectors in chunks(mixture, n, seed):
        started = time.perf_counter()
        index.add(ids, vectors)
        elapsed += time.perf_counter() - started
        del vectors
        print(f"  {name}: {index.count:>9,} vectors, {elapsed:6.1f}s", end="\r", flush=True)
    print()
    stored = n * (dim * 4 + 8)
    if index.is_approximate:
        stored += (config.nlist or 0) * dim * 4
    return index, BuildResult(
        index=name,
        build_s=elapsed,
        rss_delta_mib=current_rss_mib() - rss_before,
        vector_bytes_mib=stored / 2**20,
        approximate=index.is_approximate,
    )


def run_queries(
    index: FaissVectorIndex, queries: np.ndarray
) -> tuple[list[list[int]], list[float], list[tuple[float, float]]]:
    """Per query: result ids, latency in seconds and (top-1 score, top-10 score)."""
    for query in queries[:WARMUP_QUERIES]:
        index.search(query, TOP_K)
    results: list[list[int]] = []
    latencies: list[float] = []
    scores: list[tuple[float, float]] = []
    for query in queries:
        started = time.perf_counter()
        hits = index.search(query, TOP_K)
        latencies.append(time.perf_counter() - started)
        results.append([hit.id for hit in hits])
        scores.append((hits[0].score, hits[-1].score) if hits else (0.0, 0.0))
    return results, latencies, scores


def recall(approximate: Sequence[Sequence[int]], exact: Sequence[Sequence[int]]) -> float:
    return float(np.mean([len(set(a) & set(e)) / max(1, len(e)) for a, e in zip(approximate, exact, strict=True)]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="Vectors in the index")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--topics", type=int, default=100, help="Top-level topic directions")
    parser.add_argument("--clusters", type=int, default=2000, help="Cluster centres (Gaussian components)")
    parser.add_argument("--nlist", type=int, default=2048, help="IVF inverted lists")
    parser.add_argument("--nprobe", type=int, nargs="+", default=[4, 8, 16, 32, 64], help="nprobe values to sweep")
    parser.add_argument(
        "--train-min",
        type=int,
        default=100_000,
        help="FaissConfig.ivf_train_min (capped at --n): IVF trains once it holds this many vectors",
    )
    parser.add_argument("--noise", type=float, default=1.5, help="Norm of the noise relative to a centre")
    parser.add_argument("--threads", type=int, default=0, help="FAISS OpenMP threads (0: FAISS default)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default: bench/results/ann-<n>.json)")
    args = parser.parse_args(argv)

    info = machine_info()
    train_min = min(args.train_min, args.n)
    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    mixture = Mixture.create(args.dim, args.topics, args.clusters, args.noise, args.seed)
    queries = mixture.sample(args.queries, np.random.default_rng([args.seed, 2]))
    print(
        f"{args.n:,} vectors of dimension {args.dim} ({args.clusters} clusters in {args.topics} topics), "
        f"{args.queries} queries, top {TOP_K}",
        flush=True,
    )

    print("building flat (exact) ...", flush=True)
    flat, flat_build = build("flat", FaissConfig(index_type="flat"), mixture, args.n, args.dim, args.seed)
    exact, flat_latencies, exact_scores = run_queries(flat, queries)
    top1, top10 = (float(np.mean(column)) for column in zip(*exact_scores, strict=True))
    flat_stats = latency_stats_ms(flat_latencies)
    rows = [
        SearchRow("flat", None, flat_stats["p50_ms"], flat_stats["p95_ms"], flat_stats["p99_ms"],
                  flat_stats["mean_ms"], 1.0, None)
    ]  # fmt: skip
    print(
        f"  flat p50 {flat_stats['p50_ms']:.1f} ms, p95 {flat_stats['p95_ms']:.1f} ms; "
        f"mean cosine of the nearest neighbour {top1:.3f}, of the 10th {top10:.3f}",
        flush=True,
    )
    del flat  # free its memory before the IVF build, so the RSS delta of the IVF build is its own

    ivf_config = FaissConfig(index_type="ivf", nlist=args.nlist, nprobe=args.nprobe[0], ivf_train_min=train_min)
    print(f"building ivf (nlist {args.nlist}, trains at {train_min:,} vectors) ...", flush=True)
    ivf, ivf_build = build(f"ivf{args.nlist}", ivf_config, mixture, args.n, args.dim, args.seed)
    for nprobe in args.nprobe:
        # nprobe is read from the index's config at search time; FaissConfig is frozen, so swap in a copy
        # rather than rebuilding (or saving and reloading 1.5 GB) per value.
        ivf._config = replace(ivf_config, nprobe=nprobe)
        found, latencies, _ = run_queries(ivf, queries)
        stats = latency_stats_ms(latencies)
        rec = recall(found, exact)
        rows.append(
            SearchRow(
                f"ivf{args.nlist}",
                nprobe,
                stats["p50_ms"],
                stats["p95_ms"],
                stats["p99_ms"],
                stats["mean_ms"],
                rec,
                rec >= TARGET_RECALL and stats["p95_ms"] <= TARGET_P95_MS,
            )
        )
        print(f"  nprobe {nprobe}: recall@10 {rec:.3f}, p95 {stats['p95_ms']:.2f} ms", flush=True)

    builds = [flat_build, ivf_build]
    print()
    print(
        format_table(
            ["index", "build s", "RSS +MiB", "vectors MiB", "approximate"],
            [
                [
                    b.index,
                    f"{b.build_s:.1f}",
                    f"{b.rss_delta_mib:.0f}",
                    f"{b.vector_bytes_mib:.0f}",
                    str(b.approximate),
                ]
                for b in builds
            ],
        )
    )
    print()
    print(
        format_table(
            ["index", "nprobe", "p50 ms", "p95 ms", "p99 ms", "recall@10", "target"],
            [
                [
                    r.index,
                    "-" if r.nprobe is None else str(r.nprobe),
                    f"{r.p50_ms:.2f}",
                    f"{r.p95_ms:.2f}",
                    f"{r.p99_ms:.2f}",
                    f"{r.recall_at_10:.3f}",
                    "-" if r.meets_target is None else ("yes" if r.meets_target else "no"),
                ]
                for r in rows
            ],
        )
    )
    out = args.out or RESULTS_DIR / f"ann-{args.n}.json"
    write_json(
        out,
        {
            "benchmark": "ann_1m",
            "machine": info,
            "settings": {
                "n": args.n,
                "dim": args.dim,
                "queries": args.queries,
                "top_k": TOP_K,
                "topics": args.topics,
                "clusters": args.clusters,
                "noise": args.noise,
                "faiss_threads": faiss.omp_get_max_threads(),
                "nlist": args.nlist,
                "nprobe": args.nprobe,
                "ivf_train_min": train_min,
                "seed": args.seed,
            },
            "targets": {"recall_at_10": TARGET_RECALL, "p95_ms": TARGET_P95_MS},
            "exact_neighbours": {"mean_top1_cosine": top1, "mean_top10_cosine": top10},
            "builds": [asdict(b) for b in builds],
            "search": [asdict(r) for r in rows],
        },
    )
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
