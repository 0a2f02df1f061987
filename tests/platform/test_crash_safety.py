"""Crash safety of local ingestion: SIGKILL `groundwork ingest` at random points, restart, check consistency.

Every round starts the real CLI on the same data directory (index files written at every commit, batches of
four documents), kills it with SIGKILL at a point picked by a seeded RNG — while it starts (imports, model
load), while a batch is being embedded, as soon as a FAISS temp file or a new FAISS file appears (inside a
checkpoint, before its manifest), as soon as tantivy writes a segment or temp file (inside a lexical commit,
after the metadata commit), or after a random delay — and then opens the data directory in-process without
recovering anything. The index must load or be rebuilt, FAISS, tantivy and the chunk rows must agree, and
every document must be either fully indexed or still in flight (so `recover()` will re-enqueue it): none
lost, none failed. Finally an uninterrupted run indexes everything, leaves no temp files, and a second run
is a no-op.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from groundwork.platform.config import IndexConfig, IngestionConfig, Settings
from groundwork.platform.db.models import IN_FLIGHT_STATUSES, Chunk, Datastore, Document, DocumentStatus, Job
from groundwork.platform.db.session import Database
from groundwork.platform.errors import NotFoundError
from groundwork.platform.search import SearchQuery
from groundwork.platform.services import build_services
from groundwork.retrieval.errors import IndexCorruptedError, IndexNotFoundError
from groundwork.retrieval.store import HybridIndex

from ..conftest import OPERATOR, make_settings, shared_data

pytestmark = pytest.mark.slow

DATASTORE = "crash"
DOCUMENTS = 80  # with pages up to 12 KB: enough that the faster embedders (OpenVINO) cannot finish them between kills
SEED = 20240611
ROUND_TIMEOUT = 40.0
MODES = [
    "startup",
    "model-load",
    "embedding",
    "embedding",
    "embedding",
    "faiss-write",
    "faiss-write",
    "manifest-gap",
    "lexical-commit",
    "lexical-commit",
    "random",
]


@dataclass
class RoundReport:
    mode: str
    triggered: bool
    trigger_file: str
    seconds: float
    exited_by_itself: bool
    documents: int
    indexed: int
    in_flight: Counter[str]
    rebuilt: str
    orphans: list[str]


def make_corpus(target: Path) -> Path:
    """DOCUMENTS Markdown pages of 1.5-12 KB, picked deterministically (sorted by path)."""
    source = shared_data("engdocs", "fastapi-docs-en")
    files = [f for f in sorted(source.rglob("*.md")) if 1500 <= f.stat().st_size <= 12000][:DOCUMENTS]
    if len(files) < DOCUMENTS:
        pytest.skip(f"only {len(files)} suitable documents in {source}")
    target.mkdir(parents=True)
    for file in files:
        name = "__".join(file.relative_to(source).parts[-3:])
        (target / name).write_bytes(file.read_bytes())
    return target


def cli_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWORK_")}
    env.update(
        GROUNDWORK_DATA_DIR=str(data_dir),
        GROUNDWORK_INDEX__CHECKPOINT_INTERVAL_SECONDS="0",
        GROUNDWORK_INGESTION__BATCH_SIZE="4",
        GROUNDWORK_INGESTION__WORKERS="1",
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    return env


def start_ingest(corpus: Path, data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    groundwork = Path(sys.executable).with_name("groundwork")
    with open(log, "wb") as handle:
        return subprocess.Popen(
            [str(groundwork), "ingest", str(corpus), "--datastore", DATASTORE],
            env=cli_env(data_dir),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def index_files(data_dir: Path) -> set[str]:
    """Names of the FAISS files and temp files in every datastore's index directory."""
    names: set[str] = set()
    root = data_dir / "indexes"
    if not root.is_dir():
        return names
    for directory in os.scandir(root):
        for entry in os.scandir(directory.path):
            if entry.name.endswith((".faiss", ".tmp")):
                names.add(f"{directory.name}/{entry.name}")
    return names


def renamed_vector_files(data_dir: Path) -> set[str]:
    """FAISS files under their final name: a new one means the rename is done and the manifest comes next."""
    return {name for name in index_files(data_dir) if name.endswith(".faiss") and "/." not in name}


def lexical_files(data_dir: Path) -> set[str]:
    """Segment files and temp files of tantivy (not its lock files): a new one means a commit is running."""
    names: set[str] = set()
    root = data_dir / "indexes"
    if not root.is_dir():
        return names
    for directory in os.scandir(root):
        lexical = Path(directory.path) / "lexical"
        if lexical.is_dir():
            names.update(
                f"{directory.name}/{entry.name}"
                for entry in os.scandir(lexical)
                if not entry.name.startswith(".tantivy")
            )
    return names


def query_metadata(data_dir: Path, sql: str, *parameters: str) -> object:
    """First column of the first row, read straight from SQLite; None if there is no answer yet."""
    path = data_dir / "groundwork.db"
    if not path.exists():
        return None
    try:
        connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=0.05)
        try:
            row = connection.execute(sql, parameters).fetchone()
        finally:
            connection.close()
    except sqlite3.Error:  # schema not there yet, or busy
        return None
    return None if row is None else row[0]


def embedding_started(data_dir: Path, since: str) -> bool:
    """A batch moved to `embedding` after `since` (not documents a killed run left in `embedding`)."""
    sql = "select 1 from documents where status = 'embedding' and updated_at > ? limit 1"
    return query_metadata(data_dir, sql, since) is not None


def wait_for(process: subprocess.Popen[bytes], condition: Callable[[], bool], poll: float) -> bool:
    deadline = time.monotonic() + ROUND_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        if condition():
            return True
        time.sleep(poll)
    return False


def kill_round(mode: str, rng: random.Random, corpus: Path, data_dir: Path, log: Path) -> tuple[bool, float, bool, str]:
    """Run `groundwork ingest` until the mode's trigger, then SIGKILL it.

    Returns whether the trigger fired, the seconds the process lived, whether it exited by itself first and
    the file whose appearance triggered the kill."""
    since = str(query_metadata(data_dir, "select max(updated_at) from documents") or "")
    started = time.monotonic()
    process = start_ingest(corpus, data_dir, log)
    seen: set[str] = set()

    def appeared(current: Callable[[Path], set[str]], before: set[str]) -> bool:
        seen.update(current(data_dir) - before)
        return bool(seen)

    try:
        if mode == "startup":
            time.sleep(rng.uniform(0.3, 6.0))
            triggered = process.poll() is None
        elif mode == "model-load":
            # The migration check logs this; then the embedding model loads for several seconds.
            triggered = wait_for(process, lambda: "non-transactional DDL" in log.read_text(errors="replace"), 0.02)
            time.sleep(rng.uniform(0.3, 2.0))
        elif mode == "embedding":
            triggered = wait_for(process, lambda: embedding_started(data_dir, since), 0.02)
            time.sleep(rng.uniform(0.0, 0.6))
        elif mode == "faiss-write":
            before = index_files(data_dir)
            triggered = wait_for(process, lambda: appeared(index_files, before), 0.002)
        elif mode == "manifest-gap":
            before = renamed_vector_files(data_dir)
            triggered = wait_for(process, lambda: appeared(renamed_vector_files, before), 0.002)
        elif mode == "lexical-commit":
            before = lexical_files(data_dir)
            triggered = wait_for(process, lambda: appeared(lexical_files, before), 0.002)
        else:
            time.sleep(rng.uniform(3.0, 12.0))
            triggered = process.poll() is None
        exited = process.poll() is not None
        if not exited:
            os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    if exited:
        assert process.returncode == 0, log.read_text(errors="replace")[-3000:]
    return triggered, time.monotonic() - started, exited, ",".join(sorted(p.split("/")[-1] for p in seen))


def settings_for(data_dir: Path) -> Settings:
    return make_settings(
        data_dir,
        index=IndexConfig(checkpoint_interval_seconds=0),
        ingestion=IngestionConfig(workers=1, batch_size=4),
    )


def saved_state(directory: Path, generation: int, model: str) -> str:
    """What loading the saved index will find, before `IndexManager` repairs it."""
    try:
        index = HybridIndex.load(directory, model)
    except IndexNotFoundError:
        return "missing" if generation else "empty"
    except IndexCorruptedError:
        return "rebuild (counts disagree)"
    index.close()
    if index.generation != generation:
        return f"rebuild (index at generation {index.generation}, metadata at {generation})"
    return "loaded"


def verify(data_dir: Path) -> tuple[int, int, Counter[str], str, list[str]]:
    """Open the data directory without recovery and check that indexes and metadata agree."""
    services = build_services(settings_for(data_dir), owner="pytest crash check", recover=False)
    try:
        try:
            datastore_id = services.documents.get_datastore(OPERATOR, DATASTORE).id
        except NotFoundError:
            return 0, 0, Counter(), "no datastore", []
        directory = services.indexes.directory(datastore_id)
        orphans = sorted(p.name for p in directory.glob("*.tmp")) if directory.is_dir() else []
        with services.database.session() as session:
            generation = session.scalar(select(Datastore.index_generation).where(Datastore.id == datastore_id))
            assert generation is not None
            documents = list(session.scalars(select(Document).where(Document.datastore_id == datastore_id)))
            chunk_rows = session.execute(
                select(Chunk.id, Chunk.document_id).where(Chunk.datastore_id == datastore_id)
            ).all()
        state = saved_state(directory, generation, services.embedder.identity)

        index = services.indexes.get(datastore_id)  # loads, or rebuilds from the chunk rows
        chunk_ids = {row.id for row in chunk_rows}
        assert index.vector_count == index.lexical_count == len(chunk_rows), (
            index.vector_count,
            index.lexical_count,
            len(chunk_rows),
        )
        assert set(index.vector_ids().tolist()) == chunk_ids
        assert index.generation == generation
        lexical_hits = index.search_lexical("fastapi", max(1, len(chunk_ids)))
        assert {hit.id for hit in lexical_hits} <= chunk_ids

        # Submission is one transaction: all documents or none.
        assert len(documents) in (0, DOCUMENTS)
        per_document = Counter(row.document_id for row in chunk_rows)
        in_flight: Counter[str] = Counter()
        for document in documents:
            if document.status == DocumentStatus.INDEXED:
                assert document.chunk_count > 0
                assert per_document[document.id] == document.chunk_count, document.source_uri
                assert document.indexed_hash == document.content_hash
            else:
                assert document.status in IN_FLIGHT_STATUSES, (document.source_uri, document.status)
                assert per_document[document.id] == 0, document.source_uri
                in_flight[str(document.status)] += 1
        assert set(per_document) <= {d.id for d in documents}

        result = services.search.search(SearchQuery(query="path parameters", datastore_ids=[datastore_id]), OPERATOR)
        assert bool(result.hits) == bool(chunk_ids)
        assert {hit.chunk_id for hit in result.hits} <= chunk_ids
        indexed = sum(1 for d in documents if d.status == DocumentStatus.INDEXED)
        return len(documents), indexed, in_flight, state, orphans
    finally:
        services.close()


def final_state(data_dir: Path) -> tuple[int, list[tuple[str, int, int]], set[int], Job]:
    """(generation, [(status, version, chunk_count)], chunk ids, newest job) after a check of consistency."""
    services = build_services(settings_for(data_dir), owner="pytest crash check", recover=False)
    try:
        datastore_id = services.documents.get_datastore(OPERATOR, DATASTORE).id
        index = services.indexes.get(datastore_id)
        with services.database.session() as session:
            generation = session.scalar(select(Datastore.index_generation).where(Datastore.id == datastore_id))
            documents = [
                (str(d.status), d.version, d.chunk_count)
                for d in session.scalars(
                    select(Document).where(Document.datastore_id == datastore_id).order_by(Document.source_uri)
                )
            ]
            chunk_ids = set(session.scalars(select(Chunk.id).where(Chunk.datastore_id == datastore_id)))
            job = session.scalars(
                select(Job).where(Job.datastore_id == datastore_id).order_by(Job.created_at.desc()).limit(1)
            ).one()
            jobs = session.scalar(select(func.count()).select_from(Job).where(Job.datastore_id == datastore_id))
        assert generation is not None and jobs
        assert index.vector_count == index.lexical_count == len(chunk_ids)
        assert set(index.vector_ids().tolist()) == chunk_ids
        assert index.generation == generation
        return generation, documents, chunk_ids, job
    finally:
        services.close()


def test_sigkill_during_ingestion_leaves_consistent_indexes(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    data_dir = tmp_path / "data"
    rng = random.Random(SEED)
    modes = list(MODES)
    rng.shuffle(modes)
    # The first start creates the schema; killing it there is covered (and currently fails) below, in
    # `test_sigkill_during_first_migration`. Start with a round that gets past it.
    first = next(i for i, mode in enumerate(modes) if mode not in ("startup", "model-load"))
    modes[0], modes[first] = modes[first], modes[0]
    reports: list[RoundReport] = []
    for number, mode in enumerate(modes):
        log = tmp_path / f"round-{number:02d}.log"
        triggered, seconds, exited, trigger_file = kill_round(mode, rng, corpus, data_dir, log)
        documents, indexed, in_flight, state, orphans = verify(data_dir)
        reports.append(
            RoundReport(mode, triggered, trigger_file, seconds, exited, documents, indexed, in_flight, state, orphans)
        )
    summary = "\n".join(
        f"{i:2d} {r.mode:14s} trig={r.triggered!s:5s} {r.trigger_file or '-'} {r.seconds:5.1f}s "
        f"exit={r.exited_by_itself!s:5s} "
        f"docs={r.documents} indexed={r.indexed} in_flight={dict(r.in_flight)} index={r.rebuilt} "
        f"orphans={r.orphans}"
        for i, r in enumerate(reports)
    )
    print(summary)  # noqa: T201 - shown with -s; the round table is the test's evidence
    killed = [r for r in reports if not r.exited_by_itself]
    assert len(killed) >= 10, summary
    index_writes = ("faiss-write", "manifest-gap", "lexical-commit")
    assert sum(1 for r in killed if r.mode in index_writes and r.triggered) >= 3, summary

    # An uninterrupted run finishes everything; the index files carry no leftovers of the crashes.
    finished = subprocess.run(
        [str(Path(sys.executable).with_name("groundwork")), "ingest", str(corpus), "--datastore", DATASTORE],
        env=cli_env(data_dir),
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr.decode(errors="replace")[-3000:]
    print(finished.stderr.decode(errors="replace").strip().splitlines()[-1])  # noqa: T201
    generation, documents, chunk_ids, _ = final_state(data_dir)
    assert len(documents) == DOCUMENTS
    assert all(status == DocumentStatus.INDEXED and chunks > 0 for status, _v, chunks in documents), documents
    assert sum(chunks for _s, _v, chunks in documents) == len(chunk_ids)
    leftovers = sorted(p.name for p in (data_dir / "indexes").glob("*/*") if p.name.endswith(".tmp"))
    assert not leftovers, leftovers
    assert len(list((data_dir / "indexes").glob("*/vectors-*.faiss"))) == 1

    # Running it again is a no-op: nothing re-embedded, no version bumped, the job done at once.
    again = subprocess.run(
        [str(Path(sys.executable).with_name("groundwork")), "ingest", str(corpus), "--datastore", DATASTORE],
        env=cli_env(data_dir),
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert again.returncode == 0, again.stderr.decode(errors="replace")[-3000:]
    generation_after, documents_after, chunk_ids_after, job = final_state(data_dir)
    assert generation_after == generation
    assert documents_after == documents
    assert chunk_ids_after == chunk_ids
    assert all(version == 1 for _s, version, _c in documents_after)
    assert (job.total, job.done, job.failed) == (DOCUMENTS, DOCUMENTS, 0)


MIGRATION_KILLED_AFTER_TWO_TABLES = """
import os, sys
from alembic.operations import Operations
from groundwork.platform.db.session import Database

create_table = Operations.create_table
created = []

def create_then_die(self, *args, **kwargs):
    table = create_table(self, *args, **kwargs)
    created.append(table)
    if len(created) == 2:
        os.kill(os.getpid(), 9)  # SIGKILL between two statements of the first migration
    return table

Operations.create_table = create_then_die
Database(sys.argv[1]).migrate()
"""


def test_sigkill_during_first_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'groundwork.db'}"
    killed = subprocess.run(
        [sys.executable, "-c", MIGRATION_KILLED_AFTER_TWO_TABLES, url], capture_output=True, timeout=120
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode(errors="replace")[-2000:]
    database = Database(url)
    try:
        database.migrate()  # the next start must be able to open the data directory
    finally:
        database.close()
