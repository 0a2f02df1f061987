"""Scale-out ingestion throughput: the embedded mode against Celery workers (1, 2, ... worker processes).

Each run ingests the same documents (the first `--limit` `*.md` files of the InfluxData docs, sorted by path)
into a fresh datastore and times from submission until every document is terminal (indexed or failed):
- `embedded`: the default mode — SQLite, in-process queue, one process using every core through torch;
- `celery xN`: N `groundwork worker` processes (one child each, torch threads = cores / N) on a Redis of the
  benchmark's own, metadata in a fresh PostgreSQL database, indexes written under the per-datastore lock.
Workers are started and have loaded the model before the clock starts. Scaling efficiency of N workers is
(docs/s with N) / (N x docs/s with 1).

    .venv/bin/python bench/ingest_scaleout.py [--limit 300] [--workers 1 2] [--out FILE]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from _common import OPERATOR, RESULTS_DIR, format_table, machine_info, write_json
from groundwork.ingestion.sources import read_with_shared_source
from groundwork.platform.config import (
    CeleryConfig,
    DatabaseConfig,
    EmbeddingConfig,
    GenerationConfig,
    IngestionConfig,
    Settings,
    settings_environment,
)
from groundwork.platform.db.models import TERMINAL_STATUSES
from groundwork.platform.documents import NewDocument
from groundwork.platform.errors import PlatformError
from groundwork.platform.services import Services, build_services

SOURCE = Path(__file__).resolve().parents[2] / "shared/data/engdocs/influxdata-docs-v2"
POSTGRES = os.environ.get("GROUNDWORK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
VENV_BIN = Path(sys.executable).parent


@dataclass
class Run:
    mode: str
    workers: int
    documents: int
    indexed: int
    failed: int
    chunks: int
    seconds: float
    docs_per_second: float
    chunks_per_second: float


def load_documents(limit: int) -> list[NewDocument]:
    paths = sorted(p for p in SOURCE.rglob("*.md") if p.is_file())[:limit]
    return [
        NewDocument(
            source_uri=path.resolve().as_uri(),
            filename=str(path.relative_to(SOURCE)),
            data=read_with_shared_source(path, SOURCE),
        )
        for path in paths
    ]


def accepted(services: Services, items: Sequence[NewDocument]) -> list[NewDocument]:
    keep = []
    for item in items:
        try:
            services.documents.validate(item)
        except PlatformError:
            continue
        keep.append(item)
    return keep


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def own_redis(directory: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"gw_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def wait_terminal(services: Services, datastore_id: str, expected: int, timeout: float = 3600) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = services.documents.status_counts(datastore_id)
        if sum(counts[s] for s in TERMINAL_STATUSES) >= expected:
            return counts
        time.sleep(0.2)
    raise TimeoutError(f"documents still in flight after {timeout}s")


def measure(services: Services, items: Sequence[NewDocument], mode: str, workers: int) -> Run:
    datastore_id = services.documents.create_datastore(OPERATOR, f"bench-{uuid.uuid4().hex[:6]}").id
    started = time.perf_counter()
    services.documents.submit(OPERATOR, datastore_id, items)
    counts = wait_terminal(services, datastore_id, len(items))
    seconds = time.perf_counter() - started
    chunks = services.documents.datastore_stats(OPERATOR, datastore_id)["chunks"]
    return Run(
        mode=mode,
        workers=workers,
        documents=len(items),
        indexed=counts["indexed"],
        failed=counts["failed"] + counts["dead_letter"],
        chunks=chunks,
        seconds=round(seconds, 2),
        docs_per_second=round(len(items) / seconds, 2),
        chunks_per_second=round(chunks / seconds, 1),
    )


def run_embedded(items: Sequence[NewDocument], directory: Path, batch_size: int) -> Run:
    settings = Settings(
        data_dir=directory / "embedded",
        ingestion=IngestionConfig(batch_size=batch_size),
        generation=GenerationConfig(backend="none"),
        log_level="WARNING",
    )
    services = build_services(settings, owner="bench embedded")
    try:
        return measure(services, accepted(services, items), "embedded", 0)
    finally:
        services.close()


def run_celery(items: Sequence[NewDocument], directory: Path, workers: int, batch_size: int) -> Run:
    threads = max(1, (os.cpu_count() or 1) // workers)
    with own_redis(directory) as broker, fresh_database() as database_url:
        settings = Settings(
            data_dir=directory / f"celery-{workers}",
            database=DatabaseConfig(url=database_url),
            ingestion=IngestionConfig(queue="celery", batch_size=batch_size),
            celery=CeleryConfig(broker_url=broker),
            embedding=EmbeddingConfig(torch_threads=threads),
            generation=GenerationConfig(backend="none"),
            log_level="INFO",
        )
        services = build_services(settings, owner="bench celery")  # migrates before the workers start
        env = {**os.environ, **settings_environment(settings), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": str(threads)}
        logs = [directory / f"celery-{workers}-worker{i}.log" for i in range(workers)]
        processes = []
        try:
            for i, log in enumerate(logs):
                with log.open("wb") as handle:
                    processes.append(
                        subprocess.Popen(
                            [str(VENV_BIN / "groundwork"), "worker", "--hostname", f"bench{i}@%h"],
                            env=env,
                            stdout=handle,
                            stderr=subprocess.STDOUT,
                        )
                    )
            deadline = time.monotonic() + 300
            while not all("worker process ready" in log.read_text(errors="replace") for log in logs):
                if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                    raise RuntimeError(f"workers did not start; see {directory}")
                time.sleep(0.2)
            return measure(services, accepted(services, items), f"celery x{workers}", workers)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(60)
                except subprocess.TimeoutExpired:
                    process.kill()
            services.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=300, help="First N *.md files (sorted by path)")
    parser.add_argument(
        "--workers", type=int, nargs="*", default=[1, 2], help="Worker counts to measure (none: embedded only)"
    )
    parser.add_argument("--batch-size", type=int, default=8, help="Documents per task (ingestion.batch_size)")
    parser.add_argument("--skip-embedded", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default: bench/results/...)")
    args = parser.parse_args(argv)
    logging.basicConfig(level="WARNING", format="%(levelname)s %(name)s: %(message)s")

    info = machine_info()
    items = load_documents(args.limit)
    directory = Path(tempfile.mkdtemp(prefix="gw-bench-scaleout-"))
    runs: list[Run] = []
    try:
        if not args.skip_embedded:
            runs.append(run_embedded(items, directory, args.batch_size))
            print(f"{runs[-1].mode}: {runs[-1].docs_per_second} docs/s", flush=True)
        for count in args.workers:
            runs.append(run_celery(items, directory, count, args.batch_size))
            print(f"{runs[-1].mode}: {runs[-1].docs_per_second} docs/s", flush=True)
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    single = next((r.docs_per_second for r in runs if r.workers == 1), None)
    rows = []
    efficiency: dict[str, float | None] = {}
    for run in runs:
        eff = run.docs_per_second / (run.workers * single) if single and run.workers else None
        efficiency[run.mode] = round(eff, 3) if eff is not None else None
        rows.append(
            [
                run.mode,
                str(run.documents),
                str(run.indexed),
                str(run.failed),
                str(run.chunks),
                f"{run.seconds:.1f}",
                f"{run.docs_per_second:.2f}",
                f"{run.chunks_per_second:.1f}",
                "-" if eff is None else f"{eff:.0%}",
            ]
        )
    print()
    print(
        format_table(
            ["mode", "docs", "indexed", "failed", "chunks", "seconds", "docs/s", "chunks/s", "scaling eff."], rows
        )
    )
    out = args.out or RESULTS_DIR / f"ingest-scaleout-influxdata-{args.limit}.json"
    write_json(
        out,
        {
            "benchmark": "ingest_scaleout",
            "machine": info,
            "settings": {
                "source": str(SOURCE),
                "limit": args.limit,
                "batch_size": args.batch_size,
                "workers": args.workers,
                "torch_threads_per_worker": {str(n): max(1, (os.cpu_count() or 1) // n) for n in args.workers},
            },
            "runs": [asdict(run) for run in runs],
            "scaling_efficiency": efficiency,
        },
    )
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
