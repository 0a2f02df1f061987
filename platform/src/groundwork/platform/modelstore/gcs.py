"""`ObjectStore` on google-cloud-storage: the only module of the model store that imports it. Vendor
exceptions become `TransferError`/`ModelNotFoundError`/`ModelExistsError` here. The client comes from
`storage.gcs.make_gcs_client`, so `storage.emulator_host` and `storage.gcs_project` apply to models too."""

from __future__ import annotations

import logging
from pathlib import Path

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.auth.exceptions import GoogleAuthError
from google.cloud import storage

from groundwork.platform.config import StorageConfig
from groundwork.platform.modelstore.errors import ModelExistsError, ModelNotFoundError, TransferError
from groundwork.platform.modelstore.protocols import ObjectStore, ObjectStoreFactory, StoredObject
from groundwork.platform.storage.gcs import make_gcs_client

logger = logging.getLogger(__name__)

_FAILURES = (gexc.GoogleAPIError, GoogleAuthError, OSError)


class GcsObjectStore:
    """The objects of one bucket. Model files are immutable once published and a rewrite carries the same
    bytes, so every request, uploads included, is retried on transient errors (429, 5xx, resets)."""

    def __init__(self, client: storage.Client, bucket: str, *, timeout_seconds: float = 60.0) -> None:
        self._client = client
        self._bucket = client.bucket(bucket)  # no request is made
        self._timeout = timeout_seconds
        self._retry = Retry(initial=0.25, maximum=8.0, multiplier=2.0, timeout=timeout_seconds)

    @property
    def bucket(self) -> str:
        name: str = self._bucket.name
        return name

    def _where(self, name: str) -> str:
        return f"gs://{self.bucket}/{name}"

    def upload_file(self, name: str, path: Path) -> StoredObject:
        blob = self._bucket.blob(name)
        try:
            # checksum="md5": the library compares its MD5 with the one the server computed and fails on a difference
            blob.upload_from_filename(str(path), checksum="md5", timeout=self._timeout, retry=self._retry)
        except gexc.NotFound as exc:
            raise TransferError(f"writing {self._where(name)}: bucket gs://{self.bucket} not found") from exc
        except _FAILURES as exc:
            raise TransferError(f"writing {self._where(name)}: {exc}") from exc
        return StoredObject(name=name, size=int(blob.size or 0), md5=blob.md5_hash)

    def download_file(self, name: str, path: Path) -> None:
        try:
            with path.open("wb") as handle:
                self._bucket.blob(name).download_to_file(handle, timeout=self._timeout, retry=self._retry)
        except gexc.NotFound as exc:
            raise ModelNotFoundError(f"{self._where(name)} does not exist") from exc
        except _FAILURES as exc:
            raise TransferError(f"reading {self._where(name)}: {exc}") from exc

    def read(self, name: str) -> bytes | None:
        try:
            data: bytes = self._bucket.blob(name).download_as_bytes(timeout=self._timeout, retry=self._retry)
        except gexc.NotFound:
            return None
        except _FAILURES as exc:
            raise TransferError(f"reading {self._where(name)}: {exc}") from exc
        return data

    def write(self, name: str, data: bytes, *, if_absent: bool = False) -> None:
        try:
            self._bucket.blob(name).upload_from_string(
                data,
                content_type="application/json",
                if_generation_match=0 if if_absent else None,
                timeout=self._timeout,
                retry=self._retry,
            )
        except gexc.PreconditionFailed as exc:
            raise ModelExistsError(f"{self._where(name)} already exists") from exc
        except _FAILURES as exc:
            raise TransferError(f"writing {self._where(name)}: {exc}") from exc

    def list(self, prefix: str) -> list[StoredObject]:
        try:
            blobs = self._client.list_blobs(self._bucket, prefix=prefix, timeout=self._timeout, retry=self._retry)
            return [
                StoredObject(name=b.name, size=int(b.size or 0), md5=b.md5_hash)
                for b in blobs
                if not b.name.endswith("/")
            ]
        except gexc.NotFound as exc:
            raise TransferError(f"bucket gs://{self.bucket} not found") from exc
        except _FAILURES as exc:
            raise TransferError(f"listing gs://{self.bucket}/{prefix}: {exc}") from exc

    def delete(self, name: str) -> None:
        try:
            self._bucket.blob(name).delete(timeout=self._timeout, retry=self._retry)
        except gexc.NotFound:
            logger.debug("%s was already deleted", self._where(name))
        except _FAILURES as exc:
            raise TransferError(f"deleting {self._where(name)}: {exc}") from exc


def gcs_object_stores(config: StorageConfig) -> ObjectStoreFactory:
    """Opens the buckets of one client (built on first use, then shared: the client is thread-safe)."""
    clients: list[storage.Client] = []

    def open_bucket(bucket: str) -> ObjectStore:
        if not clients:
            try:
                clients.append(make_gcs_client(config))
            except _FAILURES as exc:
                raise TransferError(f"cannot create a Cloud Storage client: {exc}") from exc
        return GcsObjectStore(clients[0], bucket, timeout_seconds=config.gcs_timeout_seconds)

    return open_bucket
