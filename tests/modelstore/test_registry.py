"""The model registry: deployment records kept in Cloud Storage (the emulator, real client)."""

from __future__ import annotations

from pathlib import Path

import pytest

from groundwork.platform.modelstore.errors import InvalidModelUriError
from groundwork.platform.modelstore.manifest import build_manifest
from groundwork.platform.modelstore.protocols import ObjectStoreFactory
from groundwork.platform.modelstore.registry import ModelRegistry

from .conftest import make_model_dir

pytestmark = pytest.mark.integration


def test_records_say_which_model_each_deployment_serves_newest_first(
    stores: ObjectStoreFactory, bucket: str, tmp_path: Path
) -> None:
    registry = ModelRegistry.at(f"gs://{bucket}/groundwork/registry", stores)
    v1 = build_manifest(make_model_dir(tmp_path / "a", seed=1), source_uri="gs://m/a", revision="v1")
    v2 = build_manifest(make_model_dir(tmp_path / "b", seed=2), source_uri="gs://m/b", revision="v2")
    assert registry.current("prod") is None

    registry.record("prod", "gs://m/a", v1, recorded_by="ci")
    registry.record("staging", "gs://m/b", v2, recorded_by="alice", note="canary")
    latest = registry.record("prod", "gs://m/b", v2, recorded_by="ci")

    current = registry.current("prod")
    assert current == latest
    assert (current.model_uri, current.revision, current.checksum) == ("gs://m/b", "v2", v2.checksum)
    assert [r.revision for r in registry.history("prod")] == ["v2", "v1"]
    assert [(r.deployment, r.revision, r.note) for r in registry.deployments()] == [
        ("prod", "v2", ""),
        ("staging", "v2", "canary"),
    ]
    names = [o.name for o in stores(bucket).list("groundwork/registry/deployments/prod/")]
    assert len(names) == 2 and all(n.endswith(".json") for n in names)


def test_registry_errors_are_clear(stores: ObjectStoreFactory, bucket: str) -> None:
    with pytest.raises(InvalidModelUriError, match="GROUNDWORK_CLOUD__MODEL_REGISTRY"):
        ModelRegistry.at(None, stores)
    registry = ModelRegistry.at(f"gs://{bucket}/r", stores)
    with pytest.raises(InvalidModelUriError, match="not a deployment name"):
        registry.current("Prod_1")
