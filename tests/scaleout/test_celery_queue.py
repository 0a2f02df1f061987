"""The Celery task queue: delivery settings, countdown cap, and a real worker process serving the API.

Real Redis (database 5 of the shared server), real PostgreSQL, a real `groundwork worker` subprocess.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import httpx
import pytest
import redis

from groundwork.platform.config import CeleryConfig
from groundwork.platform.services import build_services
from groundwork.platform.tasks import names
from groundwork.platform.tasks.celery_app import celery_settings, create_celery_app, max_countdown, retry_countdown
from groundwork.platform.tasks.celery_queue import CeleryTaskQueue
from tests.conftest import api_client
from tests.scaleout.conftest import Worker, free_port, start_workers
from tests.scaleout.conftest import celery_settings as make_settings


def test_delivery_guarantees_are_configured() -> None:
    conf = celery_settings(CeleryConfig(visibility_timeout_seconds=1234))
    assert conf["task_acks_late"] is True
    assert conf["task_reject_on_worker_lost"] is True
    assert conf["worker_prefetch_multiplier"] == 1
    assert conf["broker_transport_options"] == {"visibility_timeout": 1234}
    assert conf["task_routes"][names.PROCESS_BATCH] == {"queue": "ingest"}


@pytest.mark.parametrize("seed", range(5))
def test_retry_countdown_backs_off_with_jitter_and_stays_below_the_visibility_timeout(seed: int) -> None:
    rng = random.Random(seed)
    config = CeleryConfig(
        visibility_timeout_seconds=rng.choice([10, 60, 300, 3600]),
        max_retry_countdown_seconds=rng.choice([5, 300, 100_000]),
        retry_backoff_seconds=rng.choice([0.5, 2.0, 30.0]),
        stale_after_seconds=5,
    )
    delays = [retry_countdown(config, attempt, rng) for attempt in range(1, 40)]
    assert all(0 <= d < config.visibility_timeout_seconds for d in delays)
    assert max(delays) <= max_countdown(config)
    assert delays[0] <= config.retry_backoff_seconds  # jitter takes up to half off, never adds
    assert delays[3] >= min(4 * config.retry_backoff_seconds, max_countdown(config)) / 2


def test_stale_after_is_capped_at_the_visibility_timeout_plus_five_minutes() -> None:
    assert CeleryConfig(visibility_timeout_seconds=60, stale_after_seconds=3600).stale_after_seconds == 360
    assert CeleryConfig(visibility_timeout_seconds=3600, stale_after_seconds=900).stale_after_seconds == 900
    with pytest.raises(ValueError, match="visibility_timeout_seconds"):
        CeleryConfig(visibility_timeout_seconds=0)


@pytest.mark.integration
def test_no_message_reaching_the_broker_carries_an_eta_past_the_visibility_timeout(shared_redis_url: str) -> None:
    config = CeleryConfig(
        broker_url=shared_redis_url, visibility_timeout_seconds=120, max_retry_countdown_seconds=10**6
    )
    queue = CeleryTaskQueue(create_celery_app(config), config)
    client = redis.Redis.from_url(shared_redis_url)
    client.delete("ingest")
    try:
        sent_at = time.time()
        queue.submit(names.PROCESS_BATCH, {"datastore_id": "d", "document_ids": ["x"]}, countdown=10 * 3600)
        [raw] = client.lrange("ingest", 0, -1)
        headers = json.loads(raw)["headers"]
        from datetime import datetime

        eta = datetime.fromisoformat(headers["eta"]).timestamp()
        assert headers["task"] == names.PROCESS_BATCH
        assert eta - sent_at < config.visibility_timeout_seconds
        assert queue.depth()["ingest"] == 1
        assert queue.queued_document_ids() == {"x"}  # what the reaper leaves alone
    finally:
        client.delete("ingest")
        client.close()
        queue.close()


@pytest.mark.integration
@pytest.mark.slow
def test_worker_process_ingests_and_the_api_sees_each_new_index_generation(
    tmp_path: Path, postgres_url: str, shared_redis_url: str, workers: list[Worker]
) -> None:
    metrics_port = free_port()
    settings = make_settings(
        tmp_path / "data", postgres_url, shared_redis_url, index_refresh_seconds=0.2, metrics_port=metrics_port
    )
    build_services(settings, owner="migrate", recover=False).close()  # schema in place before workers start
    start_workers(workers, settings, 1, tmp_path)
    with api_client(settings, owner="pytest api") as client:
        assert client.post("/v1/datastores", json={"name": "kb"}).status_code == 201

        def upload(name: str, text: str) -> dict[str, object]:
            response = client.post(
                "/v1/datastores/kb/documents", files={"file": (name, text.encode(), "text/markdown")}
            )
            assert response.status_code == 202, response.text
            body: dict[str, object] = response.json()
            return body

        def wait(job_id: str) -> dict[str, object]:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                job: dict[str, object] = client.get(f"/v1/jobs/{job_id}").json()
                if job["finished_at"]:
                    return job
                time.sleep(0.3)
            raise AssertionError(f"job {job_id} did not finish: {job}")

        def top_title(query: str, mode: str, expected: str) -> str | None:
            """The best hit's title once the new index generation is visible here: a job counts its
            documents done at the metadata commit; the worker saves the index right after, and this process
            loads it at its next refresh (every 0.2 s here)."""
            deadline = time.monotonic() + 15
            title = None
            while time.monotonic() < deadline:
                body = {"query": query, "datastore_ids": ["kb"], "mode": mode}
                hits = client.post("/v1/search", json=body).json()["hits"]
                title = hits[0]["title"] if hits else None
                if title == expected:
                    return str(title)
                time.sleep(0.2)
            return title

        first = upload("flux.md", "# Flux\n\nThe aggregateWindow function groups rows into windows of time.")
        job = wait(first["job"]["id"])  # type: ignore[index]
        assert (job["status"], job["done"], job["eta_seconds"]) == ("succeeded", 1, 0.0)
        assert top_title("aggregateWindow", "hybrid", "Flux") == "Flux"

        # A second version written by the worker is picked up by this API process without a restart.
        second = upload("tasks.md", "# Tasks\n\nA task runs a Flux script on a schedule such as every hour.")
        wait(second["job"]["id"])  # type: ignore[index]
        assert top_title("schedule every hour", "lexical", "Tasks") == "Tasks"

        # A permanent failure, then the retry endpoint queues it again as a new job.
        bad = upload("empty.html", "<html><body><script>var x = 1;</script></body></html>")
        failed_job = wait(bad["job"]["id"])  # type: ignore[index]
        assert failed_job["failed"] == 1
        retried = client.post(f"/v1/jobs/{failed_job['id']}/retry")
        assert retried.status_code == 202 and retried.json()["kind"] == "retry"
        assert wait(retried.json()["id"])["failed"] == 1
        assert client.post(f"/v1/jobs/{first['job']['id']}/retry").status_code == 404  # type: ignore[index]

        metrics = client.get("/metrics").text
        assert 'groundwork_ingestion_documents{state="indexed"} 2.0' in metrics
        assert 'groundwork_ingestion_documents{state="failed"} 1.0' in metrics
        assert 'groundwork_ingestion_queue_depth{queue="ingest"}' in metrics
    # The worker child (index 0) serves its own metrics: the tasks it ran.
    worker_metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
    assert 'groundwork_ingestion_task_duration_seconds_count{task="ingestion.process_batch"}' in worker_metrics


def test_job_progress_estimates_rate_and_eta() -> None:
    from datetime import UTC, datetime, timedelta

    from groundwork.platform.db.models import Job
    from groundwork.platform.documents import JobProgress

    now = datetime(2026, 1, 1, tzinfo=UTC)
    job = Job(total=100, done=25, failed=0, created_at=now - timedelta(seconds=50), finished_at=None)
    progress = JobProgress.of(job, now)
    assert (progress.fraction, progress.docs_per_second, progress.eta_seconds) == (0.25, 0.5, 150.0)
    assert JobProgress.of(Job(total=10, done=0, created_at=now, finished_at=None), now).eta_seconds is None
    finished = Job(total=4, done=4, created_at=now - timedelta(seconds=2), finished_at=now)
    assert (JobProgress.of(finished).eta_seconds, JobProgress.of(finished).docs_per_second) == (0.0, 2.0)


def test_worker_command_refuses_the_embedded_mode(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "GROUNDWORK_DATA_DIR": str(tmp_path), "GROUNDWORK_INGESTION__QUEUE": "inprocess"}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("groundwork")), "worker"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "GROUNDWORK_INGESTION__QUEUE=celery" in result.stderr
