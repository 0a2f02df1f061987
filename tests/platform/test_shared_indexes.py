"""`IndexManager` in shared mode (scale-out): writers in several processes, readers that follow the manifest.

Real FAISS, real tantivy and PostgreSQL; two managers on one index directory stand for two processes.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from groundwork.platform.db.models import Datastore, Tenant
from groundwork.platform.db.session import Database
from groundwork.platform.indexes import IndexManager
from groundwork.retrieval.faiss_index import FaissConfig

pytestmark = pytest.mark.integration


def _manager(root: Path, database: Database) -> IndexManager:
    return IndexManager(
        root,
        database,
        dimension=4,
        embedding_model="test-model",
        faiss_config=FaissConfig(),
        checkpoint_interval=3600,
        mode="shared",
        refresh_interval=0,
    )


def _write(
    manager: IndexManager, database: Database, datastore_id: str, ids: list[int], *, finish: bool = True
) -> None:
    with manager.writing(datastore_id) as index, database.session() as session:
        datastore = session.get_one(Datastore, datastore_id)
        datastore.index_generation += 1
        generation = datastore.index_generation
        index.apply(
            add_ids=ids,
            vectors=np.random.default_rng(0).random((len(ids), 4), dtype=np.float32),
            texts=[f"text {i}" for i in ids],
        )
        if finish:
            manager.committed(datastore_id, generation)


@pytest.fixture
def database(postgres_url: str) -> Database:
    db = Database(postgres_url)
    db.migrate()
    return db


def _datastore(database: Database) -> str:
    with database.session() as session:
        session.add(Tenant(id="t", name="t"))
        session.flush()
        datastore = Datastore(tenant_id="t", name="d", embedding_model="test-model")
        session.add(datastore)
        session.flush()
        return datastore.id


def test_a_reader_follows_saved_generations_and_never_loads_a_half_written_one(
    tmp_path: Path, database: Database
) -> None:
    datastore_id = _datastore(database)
    writer, reader = _manager(tmp_path, database), _manager(tmp_path, database)
    _write(writer, database, datastore_id, [1, 2])
    assert (reader.get(datastore_id).generation, reader.get(datastore_id).vector_count) == (1, 2)

    _write(writer, database, datastore_id, [3])  # generation 2 saved ...
    # ... and generation 3 half-written: tantivy committed, FAISS file and manifest not yet.
    _write(writer, database, datastore_id, [4], finish=False)
    seen = reader.get(datastore_id)
    # The manifest names generation 2, but tantivy already holds generation 3's text: the load disagrees with
    # its manifest, so the reader keeps generation 1 rather than mix two generations.
    assert (seen.generation, seen.vector_count, seen.lexical_count) == (1, 2, 2)

    writer.committed(datastore_id, 3)
    writer.get(datastore_id).close()
    fresh = reader.get(datastore_id)
    assert (fresh.generation, fresh.vector_count, fresh.lexical_count) == (3, 4, 4)
    writer.close()
    reader.close()


def test_a_writer_reloads_what_another_process_saved_and_repairs_a_dead_writers_leftovers(
    tmp_path: Path, database: Database
) -> None:
    datastore_id = _datastore(database)
    first, second = _manager(tmp_path, database), _manager(tmp_path, database)
    _write(first, database, datastore_id, [1])
    _write(second, database, datastore_id, [2])  # loads generation 1 from disk, adds to it
    _write(first, database, datastore_id, [3])  # its copy is stale (generation 1): reloads generation 2
    assert sorted(np.asarray(first.get(datastore_id).vector_ids()).tolist()) == [1, 2, 3]
    first.close()
    second.close()


def test_the_index_write_lock_excludes_other_processes(tmp_path: Path, database: Database) -> None:
    datastore_id = _datastore(database)
    holder = _manager(tmp_path, database)
    code = (
        "import fcntl, sys, time; f = open(sys.argv[1], 'a+'); t = time.monotonic(); "
        "fcntl.flock(f, fcntl.LOCK_EX); print(time.monotonic() - t)"
    )
    with holder.writing(datastore_id):
        child = subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path / f"{datastore_id}.lock")], stdout=subprocess.PIPE, text=True
        )
        time.sleep(1.0)
        assert child.poll() is None  # blocked while this process writes
    out, _ = child.communicate(timeout=10)
    assert float(out) >= 0.9
    holder.close()
