"""`groundwork models push|pull|verify|deploy|deployments` against gcp-storage-emulator (real client)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.cloud import storage
from typer.testing import CliRunner

from groundwork.platform.cli.main import app

pytestmark = pytest.mark.integration


@pytest.fixture
def env(gcs_emulator: str, bucket: str) -> dict[str, str]:
    return {
        "GROUNDWORK_STORAGE__EMULATOR_HOST": gcs_emulator,
        "GROUNDWORK_CLOUD__MODEL_REGISTRY": f"gs://{bucket}/registry",
        "GROUNDWORK_LOG_LEVEL": "WARNING",
        "COLUMNS": "250",
    }


def invoke(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_publish_fetch_verify_and_record_a_model(
    env: dict[str, str], bucket: str, model_dir: Path, tmp_path: Path, gcs_client: storage.Client
) -> None:
    uri = f"gs://{bucket}/models/my-model/v1"
    code, output = invoke(env, "models", "push", str(model_dir), uri, "--revision", "v1")
    assert code == 0, output
    assert f"published {uri}  revision v1  checksum " in output
    checksum = output.split("checksum ")[1].split()[0]
    assert len(checksum) == 64

    code, output = invoke(env, "models", "push", str(model_dir), uri)
    assert code == 0 and "already published" in output

    code, output = invoke(env, "models", "pull", uri, str(tmp_path / "copy"), "--checksum", checksum[:12])
    assert code == 0, output
    assert "downloaded 5 files" in output
    assert (tmp_path / "copy" / "config.json").read_bytes() == (model_dir / "config.json").read_bytes()

    code, output = invoke(env, "models", "verify", uri)
    assert code == 0 and f"ok {uri}  revision v1  checksum {checksum}" in output

    code, output = invoke(env, "models", "deploy", "prod", uri, "--note", "first rollout")
    assert code == 0, output
    assert f"recorded: prod serves {uri} revision v1" in output
    assert f"--set model.checksum={checksum}" in output

    code, output = invoke(env, "models", "deployments", "--json")
    assert code == 0
    [record] = json.loads(output)
    assert (record["deployment"], record["model_uri"], record["checksum"], record["note"]) == (
        "prod",
        uri,
        checksum,
        "first rollout",
    )


def test_a_corrupt_object_fails_pull_and_deploy_with_a_clear_error(
    env: dict[str, str], bucket: str, model_dir: Path, tmp_path: Path, gcs_client: storage.Client
) -> None:
    uri = f"gs://{bucket}/m"
    assert invoke(env, "models", "push", str(model_dir), uri)[0] == 0
    gcs_client.bucket(bucket).blob("m/model-00002-of-00002.safetensors").upload_from_string(b"not the weights")

    code, output = invoke(env, "models", "pull", uri, str(tmp_path / "copy"))
    assert code == 1
    assert "checksum_mismatch" in output and "model-00002-of-00002.safetensors" in output
    assert not (tmp_path / "copy").exists()

    code, output = invoke(env, "models", "deploy", "prod", uri)
    assert code == 1 and "checksum_mismatch" in output
    code, output = invoke(env, "models", "deployments")
    assert code == 0 and "no deployments recorded" in output


def test_usage_errors(env: dict[str, str], tmp_path: Path) -> None:
    code, output = invoke(env, "models", "push", str(tmp_path), "s3://bucket/x")
    assert code == 1 and "invalid_model_uri" in output
    code, output = invoke({**env, "GROUNDWORK_CLOUD__MODEL_REGISTRY": ""}, "models", "deployments")
    assert code == 1 and "GROUNDWORK_CLOUD__MODEL_REGISTRY" in output
