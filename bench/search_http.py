"""Search latency over HTTP (`groundwork serve`), against the raw cost of its components in-process.

Starts `groundwork serve` on an existing data directory, waits for /readyz, and sends BEIR SciFact test
queries to `POST /v1/search` (hybrid, top_k 10) from 1 and then 8 client threads (one `httpx.Client`
each), a fixed number of requests per level after a sequential warm-up; it reports latency percentiles
and throughput, and the server's own `timings_ms`. After stopping the server it opens the same data
directory in-process and times each component of a search on the same queries: query encoding
(`embedder.embed_queries([q])`), exact FAISS search (`search_dense`, k = the service's candidates),
tantivy BM25 (`search_lexical`) and the whole `SearchService.search` without HTTP. Target: HTTP p95
<= 30 ms at concurrency 1.

The data directory must already hold the SciFact datastore, e.g. built by

    GROUNDWORK_DATA_DIR=/tmp/gw-scifact .venv/bin/groundwork eval retrieval \
        --beir /work/shared/data/beir-scifact

(datastore `eval-beir-scifact`), or pass `--build-limit N` to ingest the first N SciFact documents into it
through the normal ingestion path first. Never point it at a data directory another process holds (copy it).

    .venv/bin/python bench/search_http.py --data-dir DIR [--datastore eval-beir-scifact] [--queries 300]
                                          [--concurrency 1 8] [--port P] [--build-limit N] [--out FILE]
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from _common import OPERATOR, RESULTS_DIR, format_table, latency_stats_ms, machine_info, write_json
from groundwork.platform.config import Settings
from groundwork.platform.datadir import DataDirLock
from groundwork.platform.db.models import Datastore, Document, DocumentStatus
from groundwork.platform.db.session import Database
from groundwork.platform.errors import DataDirLockedError
from groundwork.platform.eval.datasets import load_beir
from groundwork.platform.search import SearchQuery
from groundwork.platform.services import build_services
from groundwork.retrieval.types import SearchMode

SCIFACT = Path(__file__).resolve().parents[2] / "shared/data/beir-scifact"
TOP_K = 10
TARGET_P95_MS = 30.0
READY_TIMEOUT_S = 300.0


class BenchError(Exception):
    """A precondition of the benchmark is not met; the message says what to do."""


@dataclass
class HttpLevel:
    threads: str
    """OMP/MKL threads of the server process ("default": torch's and FAISS's own choice)."""
    concurrency: int
    requests: int
    errors: int
    wall_s: float
    throughput_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    server_total_p50_ms: float
    server_embed_p50_ms: float
    server_index_p50_ms: float
    load_average_1m: float
    """Of the whole machine, sampled after the level (other processes' load included)."""


@dataclass
class Component:
    threads: str
    """torch intra-op and FAISS OpenMP threads ("default": their own choice)."""
    component: str
    n: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def datastore_state(settings: Settings, name: str) -> dict[str, int] | None:
    """Document counts by status of the datastore `name`, or None if it (or the database) does not exist."""
    if settings.database.url is None and not (settings.data_dir / "groundwork.db").exists():
        return None
    database = Database(settings.database_url())
    try:
        with database.session() as session:
            datastore_id = session.scalar(
                select(Datastore.id).where(Datastore.tenant_id == settings.default_tenant, Datastore.name == name)
            )
            if datastore_id is None:
                return None
            rows = session.execute(
                select(Document.status, func.count())
                .where(Document.datastore_id == datastore_id)
                .group_by(Document.status)
            ).all()
    except SQLAlchemyError:
        return None
    finally:
        database.close()
    return {str(status): int(count) for status, count in rows}


def check_not_held(data_dir: Path) -> None:
    try:
        DataDirLock.acquire(data_dir, owner="bench/search_http.py (check)").release()
    except DataDirLockedError as exc:
        raise BenchError(f"{exc}\nCopy the directory (cp -r) and benchmark the copy.") from exc


def prepare(settings: Settings, datastore: str, build_limit: int | None) -> dict[str, int]:
    state = datastore_state(settings, datastore)
    if state is None and build_limit:
        from ingest import run_ingest

        print(f"datastore {datastore!r} not found: ingesting {build_limit} SciFact documents", flush=True)
        run_ingest("scifact", build_limit, settings.data_dir, datastore, raw=False)
        state = datastore_state(settings, datastore)
    if state is None:
        raise BenchError(
            f"{settings.data_dir} holds no datastore {datastore!r}. Build it with\n"
            f"  GROUNDWORK_DATA_DIR={settings.data_dir} .venv/bin/groundwork eval retrieval "
            f"--beir {SCIFACT}\n"
            "(datastore eval-beir-scifact), or rerun with --build-limit N to ingest N SciFact documents."
        )
    in_flight = sum(state.get(s.value, 0) for s in (DocumentStatus.QUEUED, DocumentStatus.PARSING))
    in_flight += state.get(DocumentStatus.EMBEDDING.value, 0)
    if in_flight:
        raise BenchError(f"datastore {datastore!r} still has {in_flight} documents being ingested: {state}")
    return state


class Server:
    """`groundwork serve` as a child process, logging to a file."""

    def __init__(self, data_dir: Path, port: int, log_path: Path, threads: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._key_file = data_dir / "admin-api-key"  # written by the server at start (access control is on)
        # Requests carry the admin key; the per-key rate limit would throttle a benchmark, so it is off.
        env = dict(
            os.environ,
            GROUNDWORK_DATA_DIR=str(data_dir),
            GROUNDWORK_LOG_LEVEL="WARNING",
            GROUNDWORK_ACCESS__RATE_LIMIT_PER_MINUTE="0",
        )
        if threads:  # read by torch (intra-op pool) and by FAISS's OpenMP runtime at start-up
            env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        env.pop("GROUNDWORK_URL", None)
        executable = Path(sys.executable).parent / "groundwork"
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [str(executable), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float) -> float:
        started = time.perf_counter()
        with httpx.Client(base_url=self.url, timeout=5.0) as client:
            while time.perf_counter() - started < timeout:
                if self.process.poll() is not None:
                    raise BenchError(f"groundwork serve exited with {self.process.returncode}:\n{self.log_tail()}")
                try:
                    if client.get("/readyz").status_code == 200:
                        return time.perf_counter() - started
                except httpx.TransportError:
                    pass  # not listening yet
                time.sleep(0.25)
        raise BenchError(f"groundwork serve was not ready after {timeout:.0f}s:\n{self.log_tail()}")

    @property
    def headers(self) -> dict[str, str]:
        """Authorization with the admin key the server wrote (read once it is ready)."""
        return {"Authorization": f"Bearer {self._key_file.read_text().strip()}"}

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully (writes indexes, unlocks)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def http_level(
    server: Server, datastore: str, queries: Sequence[str], concurrency: int, requests: int, threads: int
) -> HttpLevel:
    """`requests` searches from `concurrency` threads, each with its own client; queries are taken in turn."""
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    reported: dict[str, list[float]] = {"total_ms": [], "embed_ms": [], "index_ms": []}
    errors = 0

    def worker() -> None:
        nonlocal errors
        with httpx.Client(base_url=server.url, timeout=30.0, headers=server.headers) as client:
            while True:
                with lock:
                    number = next(counter)
                if number >= requests:
                    return
                body = {"query": queries[number % len(queries)], "datastore_ids": [datastore], "top_k": TOP_K}
                body["mode"] = SearchMode.HYBRID.value
                started = time.perf_counter()
                timings: dict[str, float] | None = None
                try:
                    response = client.post("/v1/search", json=body)
                    if response.status_code == 200:
                        timings = response.json()["timings_ms"]
                except httpx.HTTPError:
                    timings = None
                elapsed = time.perf_counter() - started
                with lock:
                    if timings is None:
                        errors += 1
                        continue
                    latencies.append(elapsed)
                    for key, values in reported.items():
                        values.append(float(timings.get(key, 0.0)) / 1000)

    clients = [threading.Thread(target=worker, name=f"client-{i}") for i in range(concurrency)]
    started = time.perf_counter()
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    wall = time.perf_counter() - started
    stats = latency_stats_ms(latencies)
    return HttpLevel(
        threads=thread_label(threads),
        concurrency=concurrency,
        requests=requests,
        errors=errors,
        wall_s=wall,
        throughput_rps=len(latencies) / wall if wall else 0.0,
        p50_ms=stats["p50_ms"],
        p95_ms=stats["p95_ms"],
        p99_ms=stats["p99_ms"],
        mean_ms=stats["mean_ms"],
        max_ms=stats["max_ms"],
        server_total_p50_ms=latency_stats_ms(reported["total_ms"])["p50_ms"],
        server_embed_p50_ms=latency_stats_ms(reported["embed_ms"])["p50_ms"],
        server_index_p50_ms=latency_stats_ms(reported["index_ms"])["p50_ms"],
        load_average_1m=os.getloadavg()[0],
    )


def thread_label(threads: int) -> str:
    return str(threads) if threads else "default"


def run_http(
    data_dir: Path,
    datastore: str,
    queries: Sequence[str],
    levels: Sequence[int],
    requests: int,
    warmup: int,
    port: int,
    threads: int,
) -> tuple[list[HttpLevel], float]:
    """One server process (with `threads` OMP threads, 0: default) measured at each concurrency level."""
    log_path = Path(tempfile.mkstemp(prefix="gw-bench-serve-", suffix=".log")[1])
    server = Server(data_dir, port, log_path, threads)
    try:
        ready_s = server.wait_ready(READY_TIMEOUT_S)
        print(f"server ready after {ready_s:.1f}s on {server.url} (log: {log_path})", flush=True)
        http_level(server, datastore, queries, 1, warmup, threads)
        results: list[HttpLevel] = []
        for level in levels:
            print(
                f"HTTP: {requests} requests, concurrency {level}, server threads {thread_label(threads)} ...",
                flush=True,
            )
            results.append(http_level(server, datastore, queries, level, requests, threads))
    finally:
        server.stop()
    return results, ready_s


def component_times(
    settings: Settings, datastore: str, queries: Sequence[str], warmup: int, thread_settings: Sequence[int]
) -> list[Component]:
    """Each stage of a search, timed alone in this process on the same data directory, per thread setting."""
    import faiss
    import torch

    default_torch, default_faiss = torch.get_num_threads(), faiss.omp_get_max_threads()
    services = build_services(settings, owner="bench/search_http.py", recover=False)
    result: list[Component] = []
    try:
        datastore_id = services.documents.get_datastore(OPERATOR, datastore).id
        index = services.indexes.get(datastore_id)
        candidates = max(settings.retrieval.candidates, TOP_K)
        print(
            f"in-process: {index.vector_count} vectors, {index.lexical_count} lexical entries, k {candidates}",
            flush=True,
        )
        for threads in thread_settings:
            torch.set_num_threads(threads or default_torch)
            faiss.omp_set_num_threads(threads or default_faiss)
            times: dict[str, list[float]] = {
                "embed_query": [],
                "faiss_dense": [],
                "tantivy_lexical": [],
                "service": [],
            }
            for number, query in enumerate([*queries[:warmup], *queries]):
                t0 = time.perf_counter()
                vector = services.embedder.embed_queries([query])
                t1 = time.perf_counter()
                index.search_dense(vector, candidates)
                t2 = time.perf_counter()
                index.search_lexical(query, candidates)
                t3 = time.perf_counter()
                services.search.search(
                    SearchQuery(query=query, datastore_ids=[datastore_id], top_k=TOP_K, mode=SearchMode.HYBRID),
                    OPERATOR,
                )
                t4 = time.perf_counter()
                if number >= warmup:
                    times["embed_query"].append(t1 - t0)
                    times["faiss_dense"].append(t2 - t1)
                    times["tantivy_lexical"].append(t3 - t2)
                    times["service"].append(t4 - t3)
            for name, values in times.items():
                stats = latency_stats_ms(values)
                result.append(
                    Component(
                        thread_label(threads),
                        name,
                        len(values),
                        stats["p50_ms"],
                        stats["p95_ms"],
                        stats["p99_ms"],
                        stats["mean_ms"],
                    )
                )
    finally:
        torch.set_num_threads(default_torch)
        faiss.omp_set_num_threads(default_faiss)
        services.close()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True, help="Data directory holding the datastore")
    parser.add_argument("--datastore", default="eval-beir-scifact")
    parser.add_argument("--queries", type=int, default=300, help="Measured requests per concurrency level")
    parser.add_argument("--warmup", type=int, default=20, help="Sequential requests before measuring")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--port", type=int, default=0, help="Port for groundwork serve (default: a free one)")
    parser.add_argument("--build-limit", type=int, default=None, help="If the datastore is missing, ingest N docs")
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[0],
        help="Thread settings to measure, each with a fresh server and an in-process pass "
        "(0: torch/FAISS default; N: OMP_NUM_THREADS=N). On a busy machine, compare 0 with 1.",
    )
    parser.add_argument("--beir", type=Path, default=SCIFACT, help="BEIR SciFact directory (for the queries)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "search_http.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    data_dir: Path = args.data_dir.resolve()
    settings = Settings(data_dir=data_dir)
    info = machine_info()
    try:
        check_not_held(data_dir)
        state = prepare(settings, args.datastore, args.build_limit)
        print(f"datastore {args.datastore!r} in {data_dir}: {state}", flush=True)
        queries = list(load_beir(args.beir).queries.values())
        levels: list[HttpLevel] = []
        ready: list[float] = []
        for threads in args.threads:
            measured, ready_s = run_http(
                data_dir,
                args.datastore,
                queries,
                args.concurrency,
                args.queries,
                args.warmup,
                args.port or free_port(),
                threads,
            )
            levels.extend(measured)
            ready.append(ready_s)
        components = component_times(settings, args.datastore, queries[: args.queries], args.warmup, args.threads)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    print()
    print(
        format_table(
            [
                "threads",
                "concurrency",
                "requests",
                "errors",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "req/s",
                "server p50 ms",
            ],
            [
                [
                    r.threads,
                    str(r.concurrency),
                    str(r.requests),
                    str(r.errors),
                    f"{r.p50_ms:.1f}",
                    f"{r.p95_ms:.1f}",
                    f"{r.p99_ms:.1f}",
                    f"{r.throughput_rps:.1f}",
                    f"{r.server_total_p50_ms:.1f}",
                ]
                for r in levels
            ],
        )
    )
    for r in levels:
        if r.concurrency == 1:
            verdict = "meets" if r.p95_ms <= TARGET_P95_MS else "misses"
            print(
                f"threads {r.threads}, concurrency 1: p95 {r.p95_ms:.1f} ms {verdict} the {TARGET_P95_MS:.0f} ms target"
            )
    print()
    print(
        format_table(
            ["component (in-process)", "threads", "n", "p50 ms", "p95 ms", "p99 ms"],
            [
                [c.component, c.threads, str(c.n), f"{c.p50_ms:.2f}", f"{c.p95_ms:.2f}", f"{c.p99_ms:.2f}"]
                for c in components
            ],
        )
    )
    payload: dict[str, Any] = {
        "benchmark": "search_http",
        "machine": info,
        "settings": {
            "data_dir": str(data_dir),
            "datastore": args.datastore,
            "datastore_documents": state,
            "requests_per_level": args.queries,
            "warmup": args.warmup,
            "top_k": TOP_K,
            "mode": SearchMode.HYBRID.value,
            "retrieval": settings.retrieval.model_dump(),
            "index": settings.index.model_dump(),
            "embedding": settings.embedding.model_dump(),
            "thread_settings": args.threads,
            "server_ready_s": ready,
        },
        "target_p95_ms_concurrency_1": TARGET_P95_MS,
        "http": [asdict(r) for r in levels],
        "components": [asdict(c) for c in components],
    }
    write_json(args.out, payload)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
