"""Chooses the blob store from the settings (the composition root calls this)."""

from __future__ import annotations

from pathlib import Path

from groundwork.platform.config import Settings
from groundwork.platform.storage.local import LocalBlobStore
from groundwork.platform.storage.protocols import BlobStore


def make_blob_store(settings: Settings) -> BlobStore:
    """`storage.backend=local`: `<data_dir>/blobs`; `gcs`: the bucket `storage.gcs_bucket` under
    `storage.gcs_prefix`. google-cloud-storage is imported only when GCS is chosen."""
    config = settings.storage
    if config.backend == "gcs":
        from groundwork.platform.storage.gcs import GcsBlobStore, make_gcs_client

        return GcsBlobStore(
            make_gcs_client(config),
            config.gcs_bucket or "",
            config.gcs_prefix,
            timeout_seconds=config.gcs_timeout_seconds,
        )
    return LocalBlobStore(Path(settings.data_dir).resolve() / "blobs")
