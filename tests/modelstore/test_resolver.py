"""The serving layer accepts gs:// model URIs: the platform's resolver pulls, verifies and hands serving a
local directory (serving itself never imports google-cloud-storage)."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.cloud import storage

from groundwork.platform.config import StorageConfig
from groundwork.platform.modelstore.protocols import ObjectStoreFactory
from groundwork.platform.modelstore.resolver import model_resolvers
from groundwork.platform.modelstore.transfer import push
from groundwork.platform.modelstore.uris import GcsUri
from groundwork.serving.errors import ModelResolutionError
from groundwork.serving.models import prepare_model

from .conftest import make_model_dir

pytestmark = pytest.mark.integration


def test_prepare_model_serves_a_gs_uri_from_a_verified_local_copy(
    gcs_emulator: str, stores: ObjectStoreFactory, bucket: str, model_dir: Path, tmp_path: Path
) -> None:
    uri = f"gs://{bucket}/models/my-model"
    checksum = push(stores(bucket), model_dir, GcsUri.parse(uri)).manifest.checksum
    resolvers = model_resolvers(StorageConfig(emulator_host=gcs_emulator), tmp_path / "cache")
    assert resolvers.schemes == ("file", "gs", "package")

    prepared = prepare_model(uri, cache_dir=tmp_path / "cache", registry=resolvers)

    assert prepared.path == tmp_path / "cache" / "gcs" / bucket / f"models--my-model-{checksum[:12]}"
    assert prepared.name == "my-model"
    assert (prepared.path / "model-00001-of-00002.safetensors").read_bytes() == (
        model_dir / "model-00001-of-00002.safetensors"
    ).read_bytes()
    # a second start reads the manifest only and reuses the verified copy
    marker = (prepared.path / "config.json").stat().st_mtime_ns
    again = prepare_model(uri, cache_dir=tmp_path / "cache", registry=resolvers)
    assert again.path == prepared.path
    assert (again.path / "config.json").stat().st_mtime_ns == marker


def test_a_republished_model_gets_a_directory_of_its_own(
    gcs_emulator: str, stores: ObjectStoreFactory, bucket: str, model_dir: Path, tmp_path: Path
) -> None:
    uri = f"gs://{bucket}/m"
    resolvers = model_resolvers(StorageConfig(emulator_host=gcs_emulator), tmp_path / "cache")
    push(stores(bucket), model_dir, GcsUri.parse(uri))
    first = prepare_model(uri, cache_dir=tmp_path / "cache", registry=resolvers).path
    push(stores(bucket), make_model_dir(tmp_path / "v2", seed=2), GcsUri.parse(uri), overwrite=True)
    second = prepare_model(uri, cache_dir=tmp_path / "cache", registry=resolvers).path
    assert first != second
    assert (second / "config.json").read_bytes() == (tmp_path / "v2" / "config.json").read_bytes()


def test_a_corrupt_model_is_never_served(
    gcs_emulator: str,
    gcs_client: storage.Client,
    stores: ObjectStoreFactory,
    bucket: str,
    model_dir: Path,
    tmp_path: Path,
) -> None:
    uri = f"gs://{bucket}/m"
    push(stores(bucket), model_dir, GcsUri.parse(uri))
    gcs_client.bucket(bucket).blob("m/tokenizer.json").upload_from_string(b'{"version": "2.0", "seed": 0}')
    resolvers = model_resolvers(StorageConfig(emulator_host=gcs_emulator), tmp_path / "cache")
    with pytest.raises(ModelResolutionError, match=r"tokenizer\.json"):
        prepare_model(uri, cache_dir=tmp_path / "cache", registry=resolvers)
    assert not list((tmp_path / "cache" / "gcs" / bucket).glob("m-*/config.json"))


def test_unpublished_uris_fail_resolution(gcs_emulator: str, bucket: str, tmp_path: Path) -> None:
    resolvers = model_resolvers(StorageConfig(emulator_host=gcs_emulator), tmp_path / "cache")
    with pytest.raises(ModelResolutionError, match="nothing was published there"):
        prepare_model(f"gs://{bucket}/absent", cache_dir=tmp_path / "cache", registry=resolvers)
