"""Chaos: 1,000 documents on 2 real Celery workers while worker children and main processes are SIGKILLed
and the broker (a Redis of the test's own, without persistence) is restarted, losing every message.

At the end every document is terminal (indexed or dead-lettered), no chunk is duplicated, and FAISS, tantivy
and the metadata store hold the same chunks. Poison documents end dead-lettered after the maximum attempts;
the same content submitted twice at once is indexed once; documents whose messages were lost are re-enqueued
by the reaper.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import redis
from sqlalchemy import func, select

from groundwork.platform.db.models import TERMINAL_STATUSES, Chunk, Document, DocumentStatus
from groundwork.platform.documents import NewDocument
from groundwork.platform.services import Services, build_services
from groundwork.retrieval.store import HybridIndex
from tests.conftest import OPERATOR
from tests.scaleout.conftest import RedisServer, Worker, celery_settings, start_workers

logger = logging.getLogger(__name__)

TOPICS = ["retention", "downsampling", "tasks", "tokens", "buckets", "replication", "telegraf", "flux", "schemas"]


def _document(i: int) -> NewDocument:
    topic = TOPICS[i % len(TOPICS)]
    text = (
        f"# Note {i} on {topic}\n\n"
        f"Item {i} explains how {topic} works in deployment {i * 7919 % 1000}. "
        f"Operators configure {topic} per bucket and check it with the CLI, reference code GW-{i:05d}.\n"
    )
    return NewDocument(source_uri=f"chaos://{i}", filename=f"note-{i}.md", data=text.encode())


def _wait_terminal(services: Services, datastore_id: str, timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    counts: dict[str, int] = {}
    while time.monotonic() < deadline:
        counts = {k: v for k, v in services.documents.status_counts(datastore_id).items() if v}
        if all(status in TERMINAL_STATUSES for status in counts):
            return counts
        time.sleep(1)
    raise AssertionError(f"documents still in flight after {timeout}s: {counts}")


def _check_consistent(services: Services, datastore_id: str) -> int:
    with services.database.session() as session:
        chunk_ids = set(session.scalars(select(Chunk.id).where(Chunk.datastore_id == datastore_id)))
        duplicates = session.execute(
            select(Chunk.document_id, Chunk.ordinal, func.count())
            .where(Chunk.datastore_id == datastore_id)
            .group_by(Chunk.document_id, Chunk.ordinal)
            .having(func.count() > 1)
        ).all()
        mismatched = session.execute(
            select(Document.id, Document.chunk_count, func.count(Chunk.id))
            .outerjoin(Chunk, Chunk.document_id == Document.id)
            .where(Document.datastore_id == datastore_id, Document.status == DocumentStatus.INDEXED)
            .group_by(Document.id, Document.chunk_count)
            .having(func.count(Chunk.id) != Document.chunk_count)
        ).all()
        orphans = session.scalar(
            select(func.count())
            .select_from(Chunk)
            .join(Document, Document.id == Chunk.document_id)
            .where(Chunk.datastore_id == datastore_id, Document.status != DocumentStatus.INDEXED)
        )
    assert duplicates == [], f"duplicate chunks: {duplicates[:5]}"
    assert mismatched == [], f"documents whose chunk rows disagree with chunk_count: {mismatched[:5]}"
    assert orphans == 0
    index = HybridIndex.load(services.indexes.directory(datastore_id), services.embedder.identity)
    try:
        assert index.vector_count == index.lexical_count == len(chunk_ids)
        assert set(np.asarray(index.vector_ids()).tolist()) == chunk_ids
    finally:
        index.close()
    return len(chunk_ids)


@pytest.mark.integration
@pytest.mark.slow
def test_chaos_kills_and_broker_restart_lose_and_duplicate_nothing(
    tmp_path: Path, postgres_url: str, own_redis: RedisServer, workers: list[Worker]
) -> None:
    settings = celery_settings(
        tmp_path / "data",
        postgres_url,
        own_redis.url,
        batch_size=4,
        visibility_timeout_seconds=60,
        stale_after_seconds=15,
        reaper_interval_seconds=2,
        retry_backoff_seconds=0.5,
        max_retry_countdown_seconds=4,
        index_refresh_seconds=0.5,
    )
    settings.ingestion.max_attempts = 5
    services = build_services(settings, owner="pytest chaos", recover=False)
    rng = random.Random(4)
    try:
        datastore_id = services.documents.create_datastore(OPERATOR, "chaos").id
        start_workers(workers, settings, 2, tmp_path, harness=True)
        items = [_document(i) for i in range(998)]
        items.append(NewDocument("chaos://poison-raise", "raise.md", b"# Raise\n\nPOISON-RAISE always fails."))
        items.append(NewDocument("chaos://poison-kill", "kill.md", b"# Kill\n\nPOISON-KILL kills its worker."))
        rng.shuffle(items)
        twin = NewDocument("chaos://twin", "twin.md", b"# Twin\n\nSubmitted twice at the same moment, indexed once.")
        barrier = threading.Barrier(2)
        twin_jobs: list[str] = []

        def submit_twin() -> None:
            barrier.wait()
            twin_jobs.append(services.documents.submit(OPERATOR, datastore_id, [twin]).job.id)

        threads = [threading.Thread(target=submit_twin) for _ in range(2)]
        for thread in threads:
            thread.start()
        job = services.documents.submit(OPERATOR, datastore_id, items).job
        for thread in threads:
            thread.join()
        assert len(twin_jobs) == 2

        # Chaos: at least 10 SIGKILLs at random moments while documents are being processed (each after the
        # workers made progress since the previous one), alternating worker children and main processes,
        # and one broker restart (which drops every queued and unacknowledged message).
        kills: list[str] = []
        last = 0
        for round_ in range(12):
            deadline = time.monotonic() + 120
            while services.documents.get_job(OPERATOR, job.id).done < last + 10 and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(rng.uniform(0.0, 1.5))
            worker = rng.choice(workers)
            done = last = services.documents.get_job(OPERATOR, job.id).done
            if round_ % 2 == 0 and worker.children():
                os.kill(rng.choice(worker.children()), signal.SIGKILL)
                kills.append(f"child of {worker.name} at {done} done")
            else:
                worker.kill()
                kills.append(f"main {worker.name} at {done} done")
                worker.start()
            if round_ == 5:
                own_redis.kill()
                time.sleep(1)
                own_redis.start()
                kills.append(f"redis restarted at {done} done")
        logger.warning("chaos: %s", "; ".join(kills))
        assert sum("redis" not in k for k in kills) >= 10

        counts = _wait_terminal(services, datastore_id, timeout=300)
        with services.database.session() as session:
            rows = session.execute(
                select(Document.source_uri, Document.status, Document.attempts, Document.failure_code).where(
                    Document.datastore_id == datastore_id
                )
            ).all()
        by_uri = {row.source_uri: row for row in rows}
        assert len(rows) == 1001  # 1,000 + the twin, once
        for uri in ("chaos://poison-raise", "chaos://poison-kill"):
            assert by_uri[uri].status == DocumentStatus.DEAD_LETTER, by_uri[uri]
            assert by_uri[uri].attempts == settings.ingestion.max_attempts, by_uri[uri]
        assert by_uri["chaos://poison-kill"].failure_code == "attempts_exhausted"
        assert by_uri["chaos://poison-raise"].failure_code == "internal_error"
        # A document whose worker was killed under it on every attempt is dead-lettered too (that is the
        # contract); with progress between kills that stays rare.
        innocent = [row for row in rows if not row.source_uri.startswith("chaos://poison")]
        statuses = Counter(row.status for row in innocent)
        assert set(statuses) <= {DocumentStatus.INDEXED, DocumentStatus.DEAD_LETTER}, statuses
        dead = [row for row in innocent if row.status == DocumentStatus.DEAD_LETTER]
        assert all(row.failure_code == "attempts_exhausted" for row in dead), dead
        assert len(dead) <= 10, (statuses, counts)
        logger.warning("chaos outcome: %s; poison documents dead-lettered", dict(statuses))
        chunks = _check_consistent(services, datastore_id)
        assert chunks >= statuses[DocumentStatus.INDEXED]
        with services.database.session() as session:
            twin_chunks = session.scalar(
                select(func.count())
                .select_from(Chunk)
                .join(Document, Document.id == Chunk.document_id)
                .where(Document.source_uri == "chaos://twin")
            )
        assert by_uri["chaos://twin"].status == DocumentStatus.INDEXED
        assert twin_chunks == 1  # one document row, its one chunk indexed once
    finally:
        services.close()


@pytest.mark.integration
@pytest.mark.slow
def test_documents_whose_messages_were_lost_are_reenqueued_by_the_reaper(
    tmp_path: Path, postgres_url: str, own_redis: RedisServer, workers: list[Worker]
) -> None:
    settings = celery_settings(
        tmp_path / "data", postgres_url, own_redis.url, visibility_timeout_seconds=3, reaper_interval_seconds=0.5
    )
    settings.celery.stale_after_seconds = 2
    services = build_services(settings, owner="pytest reaper", recover=False)
    try:
        datastore_id = services.documents.create_datastore(OPERATOR, "lost").id
        job = services.documents.submit(OPERATOR, datastore_id, [_document(i) for i in range(20)]).job
        client = redis.Redis.from_url(own_redis.url)
        assert client.llen("ingest") > 0
        client.flushdb()  # the broker lost every message
        client.close()
        started = time.monotonic()
        start_workers(workers, settings, 1, tmp_path)
        counts = _wait_terminal(services, datastore_id, timeout=120)
        assert counts == {DocumentStatus.INDEXED: 20}
        assert services.documents.get_job(OPERATOR, job.id).finished_at is not None
        # Bound: stale_after (2 s) + reaper interval + worker start-up, far below visibility + 5 minutes.
        assert time.monotonic() - started < settings.celery.visibility_timeout_seconds + 300
        _check_consistent(services, datastore_id)
    finally:
        services.close()
