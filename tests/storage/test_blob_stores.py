"""The `BlobStore` contract, run on every implementation: the local directory and GCS (on the emulator)."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.cloud import storage

from groundwork.platform.config import StorageConfig
from groundwork.platform.errors import InvalidRequestError, NotFoundError, StorageError
from groundwork.platform.storage.gcs import GcsBlobStore, make_gcs_client
from groundwork.platform.storage.local import LocalBlobStore
from groundwork.platform.storage.protocols import BlobStore

from .conftest import new_bucket


@pytest.fixture(params=["local", pytest.param("gcs", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    client: storage.Client = request.getfixturevalue("gcs_client")
    return GcsBlobStore(client, new_bucket(client), "groundwork/test")


def test_put_then_get_returns_the_bytes(store: BlobStore) -> None:
    store.put("t/ds/doc/abc", b"first")
    store.put("t/ds/doc2/abc", b"\x00binary\xff")
    assert store.get("t/ds/doc/abc") == b"first"
    assert store.get("t/ds/doc2/abc") == b"\x00binary\xff"


def test_put_replaces(store: BlobStore) -> None:
    store.put("k/1", b"old")
    store.put("k/1", b"new")
    assert store.get("k/1") == b"new"


def test_get_of_a_missing_key_raises_not_found(store: BlobStore) -> None:
    with pytest.raises(NotFoundError):
        store.get("missing/key")


def test_delete_removes_and_ignores_missing_keys(store: BlobStore) -> None:
    store.put("a/b", b"x")
    store.delete("a/b")
    with pytest.raises(NotFoundError):
        store.get("a/b")
    store.delete("a/b")  # absent: no error
    store.delete("never/there")


def test_delete_prefix_removes_exactly_the_folder(store: BlobStore) -> None:
    for key in ("t/ds/d1/h1", "t/ds/d1/h2", "t/ds/d1/sub/h3", "t/ds/d10/h1", "t/ds/d2/h1"):
        store.put(key, key.encode())
    assert store.delete_prefix("t/ds/d1") == 3
    for gone in ("t/ds/d1/h1", "t/ds/d1/h2", "t/ds/d1/sub/h3"):
        with pytest.raises(NotFoundError):
            store.get(gone)
    # A sibling whose name merely starts with the prefix is not under it.
    assert store.get("t/ds/d10/h1") == b"t/ds/d10/h1"
    assert store.get("t/ds/d2/h1") == b"t/ds/d2/h1"
    assert store.delete_prefix("t/ds/d1/") == 0
    assert store.delete_prefix("nothing/here") == 0
    assert store.delete_prefix("t/ds/d2/h1") == 0  # a key is not a folder
    assert store.get("t/ds/d2/h1") == b"t/ds/d2/h1"


@pytest.mark.parametrize("key", ["", "/a", "a//b", "a/../b", "./a", "a/"])
def test_invalid_keys_are_refused(store: BlobStore, key: str) -> None:
    with pytest.raises(InvalidRequestError):
        store.put(key, b"x")
    with pytest.raises(InvalidRequestError):
        store.get(key)


@pytest.mark.integration
def test_gcs_keys_live_under_the_prefix(gcs_client: storage.Client) -> None:
    bucket = new_bucket(gcs_client)
    GcsBlobStore(gcs_client, bucket, "/env/prod/").put("t/d/h", b"x")
    assert [blob.name for blob in gcs_client.list_blobs(bucket)] == ["env/prod/t/d/h"]


@pytest.mark.integration
def test_gcs_honours_storage_emulator_host(emulator_env: str) -> None:
    """With `STORAGE_EMULATOR_HOST` set and no setting, the client reaches the emulator by itself."""
    client = make_gcs_client(StorageConfig())
    bucket = new_bucket(client)
    store = GcsBlobStore(client, bucket)
    store.put("a/b", b"via env")
    assert store.get("a/b") == b"via env"


@pytest.mark.integration
def test_gcs_missing_bucket_is_a_storage_error(gcs_client: storage.Client) -> None:
    store = GcsBlobStore(gcs_client, "no-such-bucket-here")
    with pytest.raises(StorageError):
        store.put("a/b", b"x")


@pytest.mark.integration
def test_gcs_unreachable_server_is_a_storage_error() -> None:
    client = make_gcs_client(StorageConfig(emulator_host="http://127.0.0.1:9", gcs_timeout_seconds=1))
    store = GcsBlobStore(client, "bucket", timeout_seconds=1)
    with pytest.raises(StorageError):
        store.delete_prefix("a")
