"""Google Cloud Storage: the `BlobStore` of the scale-out mode and the reader behind `gs://` sources.

The only module that imports google-cloud-storage; vendor exceptions become `StorageError`/`NotFoundError`
here. Tests run it against `gcp-storage-emulator` (`StorageConfig.emulator_host` or `STORAGE_EMULATOR_HOST`).
One client is shared by the threads of a process (its `requests` session is safe to share, as the library
documents); a client must not cross a fork, and Celery's worker children build their services after it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.auth.credentials import AnonymousCredentials
from google.auth.exceptions import GoogleAuthError
from google.cloud import storage

from groundwork.platform.config import StorageConfig
from groundwork.platform.errors import InvalidRequestError, NotFoundError, StorageError
from groundwork.platform.storage.keys import key_parts

logger = logging.getLogger(__name__)


def _retry(deadline_seconds: float) -> Retry:
    """Transient errors (429, 5xx, connection errors) are retried with backoff until the deadline. The
    library retries uploads only when they are conditional; a blob key names its content (it ends in the
    sha256), so rewriting one is always safe and every request here is retried."""
    return Retry(initial=0.25, maximum=8.0, multiplier=2.0, timeout=deadline_seconds)


def make_gcs_client(config: StorageConfig) -> storage.Client:
    """A client from the settings: the emulator with anonymous credentials when `emulator_host` is set,
    otherwise Application Default Credentials (google-cloud-storage itself switches to an emulator when
    `STORAGE_EMULATOR_HOST` is in the environment)."""
    try:
        if config.emulator_host:
            return storage.Client(
                project=config.gcs_project or "groundwork-emulator",
                credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                client_options={"api_endpoint": config.emulator_host},
            )
        return storage.Client(project=config.gcs_project)
    except GoogleAuthError as exc:
        raise StorageError(f"no Google Cloud credentials for Cloud Storage: {exc}") from exc


def _translate(exc: Exception, what: str) -> StorageError:
    return StorageError(f"{what}: {exc}")


class GcsBlobStore:
    """`BlobStore` on a bucket: key `k` is the object `<prefix>/k`. The bucket must exist."""

    def __init__(self, client: storage.Client, bucket: str, prefix: str = "", *, timeout_seconds: float = 60.0) -> None:
        if not bucket:
            raise InvalidRequestError("storage.gcs_bucket must be set when storage.backend is gcs")
        self._client = client
        self._bucket = client.bucket(bucket)  # no request is made
        self._prefix = "/".join(key_parts(prefix.strip("/"))) + "/" if prefix.strip("/") else ""
        self._timeout = timeout_seconds
        self._retry = _retry(timeout_seconds)

    def _name(self, key: str) -> str:
        return self._prefix + "/".join(key_parts(key))

    def put(self, key: str, data: bytes) -> None:
        name = self._name(key)
        try:
            self._bucket.blob(name).upload_from_string(
                data, content_type="application/octet-stream", timeout=self._timeout, retry=self._retry
            )
        except (gexc.GoogleAPIError, GoogleAuthError) as exc:
            raise _translate(exc, f"writing gs://{self._bucket.name}/{name}") from exc

    def get(self, key: str) -> bytes:
        name = self._name(key)
        try:
            data: bytes = self._bucket.blob(name).download_as_bytes(timeout=self._timeout, retry=self._retry)
        except gexc.NotFound as exc:
            raise NotFoundError(f"blob {key!r} not found") from exc
        except (gexc.GoogleAPIError, GoogleAuthError) as exc:
            raise _translate(exc, f"reading gs://{self._bucket.name}/{name}") from exc
        return data

    def delete(self, key: str) -> None:
        self._delete_name(self._name(key))

    def delete_prefix(self, prefix: str) -> int:
        folder = self._name(prefix.rstrip("/")) + "/"
        try:
            listed = self._client.list_blobs(self._bucket, prefix=folder, timeout=self._timeout, retry=self._retry)
            names = [blob.name for blob in listed]
        except (gexc.GoogleAPIError, GoogleAuthError) as exc:
            raise _translate(exc, f"listing gs://{self._bucket.name}/{folder}") from exc
        return sum(self._delete_name(name) for name in names)

    def _delete_name(self, name: str) -> bool:
        """Delete one object; False when it was already gone (absent keys are not an error)."""
        try:
            self._bucket.blob(name).delete(timeout=self._timeout, retry=self._retry)
        except gexc.NotFound:
            logger.debug("gs://%s/%s was already deleted", self._bucket.name, name)
            return False
        except (gexc.GoogleAPIError, GoogleAuthError) as exc:
            raise _translate(exc, f"deleting gs://{self._bucket.name}/{name}") from exc
        return True


@dataclass(frozen=True)
class GcsObject:
    """One object as listed: enough to decide whether it changed without downloading it."""

    name: str
    size: int
    fingerprint: str
    """`md5:<base64>` of the content, or `generation:<n>` for objects without an MD5 (composite objects)."""


class GcsReader:
    """Lists and reads the objects of one bucket (for `gs://` sources)."""

    def __init__(self, client: storage.Client, bucket: str, *, timeout_seconds: float = 60.0) -> None:
        self._client = client
        self._bucket = client.bucket(bucket)
        self._timeout = timeout_seconds
        self._retry = _retry(timeout_seconds)

    @property
    def bucket(self) -> str:
        name: str = self._bucket.name
        return name

    def list(self, prefix: str) -> Iterator[GcsObject]:
        """Every object whose name starts with `prefix`, in name order (folder placeholders skipped)."""
        try:
            for blob in self._client.list_blobs(self._bucket, prefix=prefix, timeout=self._timeout, retry=self._retry):
                if blob.name.endswith("/"):
                    continue
                fingerprint = f"md5:{blob.md5_hash}" if blob.md5_hash else f"generation:{blob.generation}"
                yield GcsObject(name=blob.name, size=int(blob.size or 0), fingerprint=fingerprint)
        except gexc.NotFound as exc:
            raise NotFoundError(f"bucket gs://{self.bucket} not found") from exc
        except (gexc.GoogleAPIError, GoogleAuthError) as exc:
            raise _translate(exc, f"listing gs://{self.bucket}/{prefix}") from exc

    def read(self, name: str) -> bytes | None:
        """The object's bytes; None when it was deleted since it was listed."""
        try:
            data: bytes = self._bucket.blob(name).download_as_bytes(timeout=self._timeout, retry=self._retry)
        except gexc.NotFound:
            return None
        except (gexc.GoogleAPIError, GoogleAuthError) as exc:
            raise _translate(exc, f"reading gs://{self.bucket}/{name}") from exc
        return data
