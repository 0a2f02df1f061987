"""The scale-out combination the GCS blob store exists for: the API syncs a `gs://` prefix, a separate
`groundwork worker` process (Celery on Redis, PostgreSQL) reads the bytes back from the blob bucket and
indexes them, and nothing is written to a local blob directory."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from google.cloud import storage

from groundwork.platform.config import StorageConfig
from groundwork.platform.services import build_services
from tests.conftest import api_client, shared_data
from tests.scaleout.conftest import Worker, celery_settings, emptied_redis, start_workers

from .conftest import new_bucket

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# A Redis database of its own: workers of other test modules (database 5) never take these tasks.
REDIS_URL = os.environ.get("GROUNDWORK_TEST_GCS_REDIS_URL", "redis://127.0.0.1:6379/6")
INTEGRATIONS = ("engdocs", "dapr-docs", "daprdocs", "content", "en", "developing-applications", "integrations")


@pytest.fixture
def redis_url() -> str:
    return emptied_redis(REDIS_URL)


def test_worker_indexes_a_synced_prefix_from_the_blob_bucket(
    tmp_path: Path, gcs_emulator: str, gcs_client: storage.Client, postgres_url: str, redis_url: str
) -> None:
    source = gcs_client.bucket(new_bucket(gcs_client))
    for name in ("github_actions.md", "kratix-marketplace.md", "kubernetes-operator.md"):
        source.blob(f"dapr/{name}").upload_from_string(shared_data(*INTEGRATIONS, name).read_bytes())
    blob_bucket = new_bucket(gcs_client)
    data_dir = tmp_path / "data"
    settings = celery_settings(data_dir, postgres_url, redis_url, index_refresh_seconds=0.2).model_copy(
        update={"storage": StorageConfig(backend="gcs", gcs_bucket=blob_bucket, emulator_host=gcs_emulator)}
    )
    build_services(settings, owner="migrate", recover=False).close()  # schema in place before the worker starts
    started: list[Worker] = []
    try:
        start_workers(started, settings, 1, tmp_path)
        with api_client(settings, owner="pytest api") as client:
            assert client.post("/v1/datastores", json={"name": "dapr"}).status_code == 201

            def sync() -> dict[str, Any]:
                response = client.post("/v1/datastores/dapr/sync", json={"source": f"gs://{source.name}/dapr"})
                assert response.status_code == 202, response.text
                body: dict[str, Any] = response.json()
                for job_id in body["job_ids"]:
                    deadline = time.monotonic() + 120
                    while not client.get(f"/v1/jobs/{job_id}").json()["finished_at"]:
                        assert time.monotonic() < deadline, f"job {job_id} did not finish"
                        assert started[0].alive(), started[0].log.read_text()[-3000:]
                        time.sleep(0.3)
                time.sleep(0.5)  # the API process picks up the worker's new index generation
                return body

            first = sync()
            assert (first["submitted"], first["deleted"]) == (3, 0)
            documents = client.get("/v1/datastores/dapr/documents").json()["items"]
            assert sorted(d["status"] for d in documents) == ["indexed"] * 3, documents
            hits = client.post(
                "/v1/search", json={"query": "GitHub Actions workflow", "datastore_ids": ["dapr"], "mode": "lexical"}
            ).json()["hits"]
            assert hits and hits[0]["source_uri"] == f"gs://{source.name}/dapr/github_actions.md"

            source.blob("dapr/github_actions.md").delete()
            second = sync()
            assert (second["unchanged"], second["submitted"], second["deleted"]) == (2, 0, 1)
            hits = client.post(
                "/v1/search", json={"query": "GitHub Actions workflow", "datastore_ids": ["dapr"], "mode": "lexical"}
            ).json()["hits"]
            assert all(not h["source_uri"].endswith("github_actions.md") for h in hits)
    finally:
        for worker in started:
            for child in worker.children():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
            worker.kill()
    # The bytes of the two remaining documents live in the blob bucket, and only there.
    assert len(list(gcs_client.list_blobs(blob_bucket))) == 2
    assert not (data_dir / "blobs").exists()
