"""Publishing, downloading and checking models in a bucket.

Layout: the files of a model are the objects `<prefix>/<relative path>`, exactly the directory vLLM loads
(`vllm serve gs://bucket/prefix --load-format runai_streamer`), plus `<prefix>/groundwork-model.json`.
The manifest is written last: a model is published when its manifest exists, and a reader that finds one
finds every file it lists (a push that died half-way left no manifest). Models are immutable: pushing a
different model to a URI that has one fails unless `overwrite` is given.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from groundwork.platform.modelstore.errors import (
    ChecksumMismatchError,
    InvalidModelDirectoryError,
    ModelExistsError,
    ModelNotFoundError,
)
from groundwork.platform.modelstore.manifest import MANIFEST_NAME, FileDigest, ModelManifest, build_manifest, check_file
from groundwork.platform.modelstore.protocols import ObjectStore, StoredObject
from groundwork.platform.modelstore.uris import GcsUri
from groundwork.serving.models import verify_manifest

logger = logging.getLogger(__name__)

Progress = Callable[[FileDigest], None]
"""Called after each file is uploaded or downloaded and checked."""


@dataclass(frozen=True, slots=True)
class Published:
    uri: str
    manifest: ModelManifest
    uploaded: int
    """Files sent; 0 when the same model was already published there."""


@dataclass(frozen=True, slots=True)
class Pulled:
    path: Path
    manifest: ModelManifest
    downloaded: int
    """Files fetched; 0 when `path` already held a verified copy."""


def read_manifest(store: ObjectStore, uri: GcsUri) -> ModelManifest:
    name = uri.object_name(MANIFEST_NAME)
    data = store.read(name)
    if data is None:
        raise ModelNotFoundError(
            f"no {MANIFEST_NAME} at {uri}: nothing was published there with `groundwork models push`"
        )
    return ModelManifest.from_json(data, where=f"gs://{uri.bucket}/{name}")


def push(
    store: ObjectStore,
    directory: Path,
    uri: GcsUri,
    *,
    revision: str | None = None,
    overwrite: bool = False,
    workers: int = 8,
    progress: Progress | None = None,
) -> Published:
    """Publish `directory` at `uri`: files first (each checked against the MD5 the server computed), the
    manifest last."""
    manifest = build_manifest(directory, source_uri=str(uri), revision=revision)
    existing = _existing_manifest(store, uri)
    if existing is not None and existing.checksum == manifest.checksum:
        logger.info("%s already holds model %s; nothing to upload", uri, manifest.checksum[:12])
        return Published(uri=str(uri), manifest=existing, uploaded=0)
    if existing is not None and not overwrite:
        raise ModelExistsError(
            f"{uri} already holds another model (checksum {existing.checksum[:12]}, revision {existing.revision!r}); "
            "publish to a new prefix, or pass --overwrite to replace it"
        )
    if existing is not None:
        store.delete(uri.object_name(MANIFEST_NAME))  # readers never see the old manifest over new files

    def upload(entry: FileDigest) -> None:
        stored = store.upload_file(uri.object_name(entry.path), directory / entry.path)
        _check_object(stored, entry, where=f"gs://{uri.bucket}/{stored.name}")
        if progress:
            progress(entry)

    _run(upload, manifest.files, workers)
    store.write(uri.object_name(MANIFEST_NAME), manifest.to_json())
    if existing is not None:
        listed = {uri.object_name(f.path) for f in manifest.files} | {uri.object_name(MANIFEST_NAME)}
        for stale in (f.path for f in existing.files if uri.object_name(f.path) not in listed):
            store.delete(uri.object_name(stale))
    logger.info(
        "published %s (%d files, %d bytes) at %s", manifest.revision, len(manifest.files), manifest.total_bytes, uri
    )
    return Published(uri=str(uri), manifest=manifest, uploaded=len(manifest.files))


def verify_remote(store: ObjectStore, uri: GcsUri, *, expected_checksum: str | None = None) -> ModelManifest:
    """Check a published model without downloading it: the manifest is consistent (and has `expected_checksum`),
    and every file it lists exists with the listed size and the MD5 Cloud Storage computed for it."""
    manifest = read_manifest(store, uri)
    _expect_checksum(manifest, expected_checksum, str(uri))
    objects = {o.name: o for o in store.list(uri.folder)}
    for entry in manifest.files:
        name = uri.object_name(entry.path)
        stored = objects.get(name)
        if stored is None:
            raise ChecksumMismatchError(f"gs://{uri.bucket}/{name} is listed in the manifest but does not exist")
        _check_object(stored, entry, where=f"gs://{uri.bucket}/{name}")
    return manifest


def pull(
    store: ObjectStore,
    uri: GcsUri,
    directory: Path,
    *,
    expected_checksum: str | None = None,
    workers: int = 8,
    progress: Progress | None = None,
) -> Pulled:
    """Download the model at `uri` into `directory` and verify every file's size and SHA-256. The directory
    appears complete or not at all (staging directory + rename); one that already holds a verified copy of the
    same model is kept as it is. Raises `ChecksumMismatchError` naming the first corrupt object."""
    manifest = read_manifest(store, uri)
    _expect_checksum(manifest, expected_checksum, str(uri))
    if verify_manifest(directory, source_sha256=manifest.checksum):
        logger.info("%s already holds %s (verified)", directory, uri)
        return Pulled(path=directory, manifest=manifest, downloaded=0)
    if directory.exists() and any(directory.iterdir()):
        raise InvalidModelDirectoryError(f"{directory} is not empty and does not hold this model; choose another")
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = directory.with_name(f".{directory.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:

        def download(entry: FileDigest) -> None:
            target = staging / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            name = uri.object_name(entry.path)
            store.download_file(name, target)
            check_file(target, entry, where=f"gs://{uri.bucket}/{name}")
            if progress:
                progress(entry)

        staging.mkdir(parents=True)
        _run(download, manifest.files, workers)
        (staging / MANIFEST_NAME).write_bytes(manifest.to_json())
        if directory.exists():
            directory.rmdir()  # empty (checked above)
        staging.rename(directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Pulled(path=directory, manifest=manifest, downloaded=len(manifest.files))


def _existing_manifest(store: ObjectStore, uri: GcsUri) -> ModelManifest | None:
    try:
        return read_manifest(store, uri)
    except ModelNotFoundError:
        return None


def _expect_checksum(manifest: ModelManifest, expected: str | None, where: str) -> None:
    if expected and not manifest.checksum.startswith(expected.lower()):
        raise ChecksumMismatchError(
            f"{where} holds model {manifest.checksum[:12]} (revision {manifest.revision!r}), not {expected}; "
            "it was overwritten since it was recorded"
        )


def _check_object(stored: StoredObject, entry: FileDigest, *, where: str) -> None:
    if stored.size != entry.size:
        raise ChecksumMismatchError(f"{where}: {stored.size} bytes where the manifest lists {entry.size}")
    if stored.md5 is not None and stored.md5 != entry.md5:
        raise ChecksumMismatchError(f"{where}: MD5 {stored.md5} does not match the manifest's {entry.md5}")


def _run(task: Callable[[FileDigest], None], entries: Iterable[FileDigest], workers: int) -> None:
    """Run `task` on every entry with `workers` threads; the first failure is raised once all have stopped."""
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="model-transfer") as pool:
        futures = [pool.submit(task, entry) for entry in entries]
        try:
            for future in futures:
                future.result()
        finally:
            for future in futures:
                future.cancel()  # after a failure, files not yet started are not transferred
