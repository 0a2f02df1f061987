"""Model store fixtures: the real gcp-storage-emulator of tests/storage (started once for this folder) and the
real google-cloud-storage client."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from google.cloud import storage

from groundwork.platform.config import StorageConfig
from groundwork.platform.modelstore.gcs import gcs_object_stores
from groundwork.platform.modelstore.protocols import ObjectStoreFactory
from tests.storage.conftest import gcs_client, gcs_emulator, new_bucket

__all__ = ["gcs_client", "gcs_emulator"]


@pytest.fixture
def bucket(gcs_client: storage.Client) -> str:
    return new_bucket(gcs_client)


@pytest.fixture
def stores(gcs_emulator: str) -> ObjectStoreFactory:
    return gcs_object_stores(StorageConfig(emulator_host=gcs_emulator, gcs_timeout_seconds=10))


def make_model_dir(path: Path, *, seed: int = 0, weights_bytes: int = 300_000) -> Path:
    """A small Hugging Face-shaped model directory (config, tokenizer, sharded safetensors in a subfolder)."""
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"model_type": "llama", "seed": seed}), encoding="utf-8")
    (path / "tokenizer.json").write_text(json.dumps({"version": "1.0", "seed": seed}), encoding="utf-8")
    (path / "model-00001-of-00002.safetensors").write_bytes(os.urandom(weights_bytes))
    (path / "model-00002-of-00002.safetensors").write_bytes(os.urandom(weights_bytes // 3))
    (path / "extra").mkdir()
    (path / "extra" / "generation_config.json").write_text('{"temperature": 0.6}', encoding="utf-8")
    return path


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    return make_model_dir(tmp_path / "my-model")
