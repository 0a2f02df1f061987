"""push / pull / verify_remote against gcp-storage-emulator with the real google-cloud-storage client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.cloud import storage

from groundwork.platform.modelstore.errors import (
    ChecksumMismatchError,
    InvalidModelDirectoryError,
    ManifestError,
    ModelExistsError,
    ModelNotFoundError,
)
from groundwork.platform.modelstore.manifest import MANIFEST_NAME, build_manifest
from groundwork.platform.modelstore.protocols import ObjectStoreFactory
from groundwork.platform.modelstore.transfer import pull, push, read_manifest, verify_remote
from groundwork.platform.modelstore.uris import GcsUri
from groundwork.serving.models import verify_manifest

from .conftest import make_model_dir

pytestmark = pytest.mark.integration

FILES = [
    "config.json",
    "extra/generation_config.json",
    "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors",
    "tokenizer.json",
]


def _uri(bucket: str, prefix: str = "models/my-model/v1") -> GcsUri:
    return GcsUri.parse(f"gs://{bucket}/{prefix}")


def _corrupt(client: storage.Client, bucket: str, name: str) -> None:
    """Replace an object with different bytes of the same size (what bit rot or a bad re-upload looks like)."""
    blob = client.bucket(bucket).blob(name)
    data = bytearray(blob.download_as_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.upload_from_string(bytes(data))


def test_push_then_pull_gives_the_same_files_and_a_manifest_serving_accepts(
    stores: ObjectStoreFactory, bucket: str, model_dir: Path, tmp_path: Path
) -> None:
    uri = _uri(bucket)
    published = push(stores(bucket), model_dir, uri, revision="v1")
    assert published.uploaded == len(FILES)
    assert [f.path for f in published.manifest.files] == FILES
    names = sorted(o.name for o in stores(bucket).list(uri.folder))
    assert names == sorted([f"models/my-model/v1/{f}" for f in FILES] + [f"models/my-model/v1/{MANIFEST_NAME}"])

    pulled = pull(stores(bucket), uri, tmp_path / "copy")
    assert pulled.downloaded == len(FILES)
    for name in FILES:
        assert (pulled.path / name).read_bytes() == (model_dir / name).read_bytes()
    assert pulled.manifest.checksum == published.manifest.checksum
    assert pulled.manifest.revision == "v1"
    # the manifest is serving's own format: its verifier accepts the pulled directory
    assert verify_manifest(pulled.path, source_sha256=published.manifest.checksum)


def test_checksum_identifies_the_content_not_the_place(tmp_path: Path, model_dir: Path) -> None:
    first = build_manifest(model_dir, source_uri="gs://a/x")
    moved = model_dir.rename(tmp_path / "elsewhere")
    assert build_manifest(moved, source_uri="gs://b/y").checksum == first.checksum
    (moved / "tokenizer.json").write_text("{}", encoding="utf-8")
    assert build_manifest(moved, source_uri="gs://a/x").checksum != first.checksum


def test_pull_of_a_corrupted_object_fails_naming_it_and_leaves_no_directory(
    stores: ObjectStoreFactory, gcs_client: storage.Client, bucket: str, model_dir: Path, tmp_path: Path
) -> None:
    uri = _uri(bucket)
    push(stores(bucket), model_dir, uri)
    _corrupt(gcs_client, bucket, "models/my-model/v1/model-00002-of-00002.safetensors")

    with pytest.raises(ChecksumMismatchError, match=r"model-00002-of-00002\.safetensors: SHA-256 .* does not match"):
        pull(stores(bucket), uri, tmp_path / "copy", workers=2)
    assert not (tmp_path / "copy").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".copy.tmp")]


def test_pull_of_a_truncated_object_fails(
    stores: ObjectStoreFactory, gcs_client: storage.Client, bucket: str, model_dir: Path, tmp_path: Path
) -> None:
    uri = _uri(bucket)
    push(stores(bucket), model_dir, uri)
    gcs_client.bucket(bucket).blob("models/my-model/v1/config.json").upload_from_string(b"{}")
    with pytest.raises(ChecksumMismatchError, match=r"config\.json: 2 bytes where the manifest lists"):
        pull(stores(bucket), uri, tmp_path / "copy")


def test_verify_remote_finds_corrupt_and_missing_objects_without_downloading(
    stores: ObjectStoreFactory, gcs_client: storage.Client, bucket: str, model_dir: Path
) -> None:
    uri = _uri(bucket)
    checksum = push(stores(bucket), model_dir, uri).manifest.checksum
    assert verify_remote(stores(bucket), uri, expected_checksum=checksum[:12]).checksum == checksum

    _corrupt(gcs_client, bucket, "models/my-model/v1/model-00001-of-00002.safetensors")
    with pytest.raises(ChecksumMismatchError, match=r"model-00001-of-00002\.safetensors: MD5"):
        verify_remote(stores(bucket), uri)

    gcs_client.bucket(bucket).blob("models/my-model/v1/model-00001-of-00002.safetensors").delete()
    with pytest.raises(ChecksumMismatchError, match="listed in the manifest but does not exist"):
        verify_remote(stores(bucket), uri)


def test_an_expected_checksum_that_differs_is_refused(
    stores: ObjectStoreFactory, bucket: str, model_dir: Path, tmp_path: Path
) -> None:
    uri = _uri(bucket)
    push(stores(bucket), model_dir, uri)
    with pytest.raises(ChecksumMismatchError, match="not 0000"):
        pull(stores(bucket), uri, tmp_path / "copy", expected_checksum="0000")
    with pytest.raises(ChecksumMismatchError, match="overwritten since it was recorded"):
        verify_remote(stores(bucket), uri, expected_checksum="0000")


def test_pushing_the_same_model_again_uploads_nothing(stores: ObjectStoreFactory, bucket: str, model_dir: Path) -> None:
    uri = _uri(bucket)
    first = push(stores(bucket), model_dir, uri, revision="v1")
    again = push(stores(bucket), model_dir, uri, revision="ignored")
    assert again.uploaded == 0
    assert again.manifest.checksum == first.manifest.checksum
    assert again.manifest.revision == "v1"


def test_a_different_model_needs_overwrite_and_then_replaces_every_file(
    stores: ObjectStoreFactory, bucket: str, model_dir: Path, tmp_path: Path
) -> None:
    uri = _uri(bucket)
    push(stores(bucket), model_dir, uri, revision="v1")
    other = make_model_dir(tmp_path / "other", seed=1)
    (other / "extra" / "generation_config.json").unlink()

    with pytest.raises(ModelExistsError, match="already holds another model"):
        push(stores(bucket), other, uri, revision="v2")

    replaced = push(stores(bucket), other, uri, revision="v2", overwrite=True)
    assert read_manifest(stores(bucket), uri).checksum == replaced.manifest.checksum
    names = {o.name for o in stores(bucket).list(uri.folder)}
    assert "models/my-model/v1/extra/generation_config.json" not in names  # stale file removed
    pulled = pull(stores(bucket), uri, tmp_path / "copy")
    assert (pulled.path / "config.json").read_bytes() == (other / "config.json").read_bytes()


def test_pull_reuses_a_verified_copy_and_refuses_a_foreign_directory(
    stores: ObjectStoreFactory, bucket: str, model_dir: Path, tmp_path: Path
) -> None:
    uri = _uri(bucket)
    push(stores(bucket), model_dir, uri)
    target = tmp_path / "copy"
    assert pull(stores(bucket), uri, target).downloaded == len(FILES)
    assert pull(stores(bucket), uri, target).downloaded == 0

    (target / "tokenizer.json").write_text("tampered", encoding="utf-8")
    with pytest.raises(InvalidModelDirectoryError, match="not empty"):
        pull(stores(bucket), uri, target)


def test_directories_that_are_not_servable_models_are_refused(
    stores: ObjectStoreFactory, bucket: str, tmp_path: Path
) -> None:
    no_config = tmp_path / "no-config"
    no_config.mkdir()
    (no_config / "model.safetensors").write_bytes(b"x")
    with pytest.raises(InvalidModelDirectoryError, match=r"no config\.json"):
        push(stores(bucket), no_config, _uri(bucket))

    pickles = tmp_path / "pickles"
    pickles.mkdir()
    (pickles / "config.json").write_text("{}", encoding="utf-8")
    (pickles / "pytorch_model.bin").write_bytes(b"x")
    with pytest.raises(InvalidModelDirectoryError, match=r"no \.safetensors file"):
        push(stores(bucket), pickles, _uri(bucket))


def test_missing_and_inconsistent_manifests_are_clear_errors(
    stores: ObjectStoreFactory, gcs_client: storage.Client, bucket: str, model_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(ModelNotFoundError, match=r"no groundwork-model\.json at gs://"):
        pull(stores(bucket), _uri(bucket, "nothing/here"), tmp_path / "copy")

    uri = _uri(bucket)
    push(stores(bucket), model_dir, uri)
    blob = gcs_client.bucket(bucket).blob(f"models/my-model/v1/{MANIFEST_NAME}")
    document = json.loads(blob.download_as_bytes())
    document["files"]["config.json"]["sha256"] = "0" * 64  # the listing no longer matches the recorded checksum
    blob.upload_from_string(json.dumps(document))
    with pytest.raises(ManifestError, match="recorded checksum does not match"):
        read_manifest(stores(bucket), uri)
