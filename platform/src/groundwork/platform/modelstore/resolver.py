"""`gs://` model URIs for the serving layer: a resolver registered into `groundwork.serving`'s
`ResolverRegistry` (serving is a leaf and never imports google-cloud-storage; this module plugs it in).

`gs://bucket/prefix` is pulled once into `<cache_dir>/gcs/<bucket>/<prefix>-<checksum[:12]>/`, every file
verified against the manifest, and served from there. A later start reads only the manifest: the same model
reuses the verified copy; a model re-published at the same URI gets a directory of its own.
"""

from __future__ import annotations

from pathlib import Path

from groundwork.platform.config import StorageConfig
from groundwork.platform.modelstore.errors import ModelStoreError
from groundwork.platform.modelstore.protocols import ObjectStore, ObjectStoreFactory
from groundwork.platform.modelstore.transfer import pull, read_manifest
from groundwork.platform.modelstore.uris import GcsUri
from groundwork.serving.errors import ModelResolutionError
from groundwork.serving.models import ModelSource, ResolverRegistry, default_registry, exclusive_file_lock


class GcsModelResolver:
    """Resolves `gs://bucket/prefix` to a verified local copy (a Hugging Face safetensors directory)."""

    def __init__(self, stores: ObjectStoreFactory, cache_dir: Path, *, workers: int = 8) -> None:
        self._stores = stores
        self._cache_dir = cache_dir
        self._workers = workers

    def resolve(self, uri: str, *, python: str) -> ModelSource:
        try:
            location = GcsUri.parse(uri)
            store = self._stores(location.bucket)
            manifest = read_manifest(store, location)
            slug = location.prefix.replace("/", "--") or "root"
            target = self._cache_dir / "gcs" / location.bucket / f"{slug}-{manifest.checksum[:12]}"
            target.parent.mkdir(parents=True, exist_ok=True)
            with exclusive_file_lock(target.with_name(f".{target.name}.lock")):
                pulled = pull(store, location, target, expected_checksum=manifest.checksum, workers=self._workers)
        except ModelStoreError as exc:
            raise ModelResolutionError(f"{uri}: {exc}") from exc
        return ModelSource(uri=uri, name=location.name, path=pulled.path, format="hf")


def model_resolvers(storage: StorageConfig, cache_dir: Path, *, workers: int = 8) -> ResolverRegistry:
    """serving's resolvers (`package://`, `file://`) plus `gs://`. google-cloud-storage is imported only when a
    `gs://` model is resolved."""

    def open_bucket(bucket: str) -> ObjectStore:
        from groundwork.platform.modelstore.gcs import gcs_object_stores

        return gcs_object_stores(storage)(bucket)

    registry = default_registry()
    registry.register("gs", GcsModelResolver(open_bucket, cache_dir, workers=workers))
    return registry
