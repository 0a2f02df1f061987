"""`groundwork sync` and `POST /v1/datastores/{id}/sync` against a bucket on the GCS emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from google.cloud import storage

from groundwork.platform.config import StorageConfig
from tests.conftest import api_client, make_settings, shared_data

from .conftest import new_bucket

pytestmark = pytest.mark.integration

GROUNDWORK = str(Path(sys.executable).with_name("groundwork"))
INTEGRATIONS = ("engdocs", "dapr-docs", "daprdocs", "content", "en", "developing-applications", "integrations")


def page(name: str) -> bytes:
    return shared_data(*INTEGRATIONS, name).read_bytes()


def wait_job(client: TestClient, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "completed_with_errors"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def test_api_syncs_a_gs_prefix_and_refuses_server_paths(
    tmp_path: Path, gcs_emulator: str, gcs_client: storage.Client
) -> None:
    bucket = gcs_client.bucket(new_bucket(gcs_client))
    bucket.blob("docs/github_actions.md").upload_from_string(page("github_actions.md"))
    bucket.blob("docs/kratix.md").upload_from_string(page("kratix-marketplace.md"))
    settings = make_settings(tmp_path / "data", storage=StorageConfig(emulator_host=gcs_emulator))
    with api_client(settings) as client:
        assert client.post("/v1/datastores", json={"name": "dapr"}).status_code == 201
        response = client.post("/v1/datastores/dapr/sync", json={"source": f"gs://{bucket.name}/docs"})
        assert response.status_code == 202, response.text
        body = response.json()
        assert (body["listed"], body["submitted"], body["deleted"], body["rejected"]) == (2, 2, 0, [])
        assert [wait_job(client, job_id)["done"] for job_id in body["job_ids"]] == [2]

        bucket.blob("docs/kratix.md").delete()
        body = client.post("/v1/datastores/dapr/sync", json={"source": f"gs://{bucket.name}/docs"}).json()
        assert (body["unchanged"], body["submitted"], body["deleted"], body["job_ids"]) == (1, 0, 1, [])
        hits = client.post(
            "/v1/search", json={"query": "Kratix promise", "datastore_ids": ["dapr"], "mode": "lexical"}
        ).json()["hits"]
        assert all(not hit["source_uri"].endswith("kratix.md") for hit in hits)

        refused = client.post("/v1/datastores/dapr/sync", json={"source": str(tmp_path)})
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_request"
        missing = client.post("/v1/datastores/dapr/sync", json={"source": "gs://no-such-bucket/x"})
        assert missing.status_code == 404, missing.text


def test_cli_sync_of_a_gs_prefix(tmp_path: Path, gcs_emulator: str, gcs_client: storage.Client) -> None:
    bucket = gcs_client.bucket(new_bucket(gcs_client))
    bucket.blob("docs/github_actions.md").upload_from_string(page("github_actions.md"))
    bucket.blob("docs/kratix.md").upload_from_string(page("kratix-marketplace.md"))
    bucket.blob("docs/skip.txt").upload_from_string(b"Not markdown.\n")
    env = {
        **os.environ,
        "GROUNDWORK_DATA_DIR": str(tmp_path / "data"),
        "GROUNDWORK_LOG_LEVEL": "WARNING",
        "GROUNDWORK_GENERATION__BACKEND": "none",
        "GROUNDWORK_STORAGE__EMULATOR_HOST": gcs_emulator,
        "HF_HUB_OFFLINE": "1",
    }

    def groundwork(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([GROUNDWORK, *args], env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        return result

    source = f"gs://{bucket.name}/docs"
    first = groundwork("sync", source, "--datastore", "dapr", "--include", "*.md")
    assert "2 of 3 files selected, 0 unchanged, 2 read, 0 deleted; 0 failed" in first.stderr
    bucket.blob("docs/github_actions.md").delete()
    second = groundwork("sync", source, "--datastore", "dapr", "--include", "*.md")
    assert "1 of 2 files selected, 1 unchanged, 0 read, 1 deleted" in second.stderr
    hits = json.loads(groundwork("search", "Dapr", "--datastore", "dapr", "--json").stdout)
    assert {hit["source_uri"] for hit in hits} == {f"{source}/kratix.md"}
