"""Which model each deployment serves, kept in Cloud Storage beside the models (docs/decisions/0004).

A record is one immutable JSON object, `<registry>/deployments/<deployment>/<UTC time>-<checksum[:12]>.json`,
written only if absent: recording never overwrites, so concurrent deploys cannot lose a record and the history
of a deployment is its folder. The current model of a deployment is its newest record.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from groundwork.platform.modelstore.errors import InvalidModelUriError, ManifestError, ModelStoreError
from groundwork.platform.modelstore.manifest import ModelManifest
from groundwork.platform.modelstore.protocols import ObjectStore, ObjectStoreFactory
from groundwork.platform.modelstore.uris import GcsUri

_DEPLOYMENT = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class DeploymentRecord:
    """One deployment serving one model from some time on."""

    deployment: str
    """The deployment's name (the Helm release, e.g. `groundwork-prod`)."""
    model_uri: str
    revision: str
    checksum: str
    """The model's checksum (manifest `checksum`): what the serving pods verify before they start."""
    recorded_at: str
    recorded_by: str
    note: str = ""


class ModelRegistry:
    """Deployment records under `gs://bucket/prefix/deployments/`."""

    def __init__(self, store: ObjectStore, prefix: str) -> None:
        self._store = store
        self._root = f"{prefix.strip('/')}/deployments/" if prefix.strip("/") else "deployments/"

    @classmethod
    def at(cls, uri: str | None, stores: ObjectStoreFactory) -> ModelRegistry:
        if not uri:
            raise InvalidModelUriError(
                "no model registry is configured: set GROUNDWORK_CLOUD__MODEL_REGISTRY to gs://bucket/prefix"
            )
        location = GcsUri.parse(uri)
        return cls(stores(location.bucket), location.prefix)

    def record(
        self, deployment: str, model_uri: str, manifest: ModelManifest, *, recorded_by: str, note: str = ""
    ) -> DeploymentRecord:
        _check_name(deployment)
        now = datetime.now(UTC)
        record = DeploymentRecord(
            deployment=deployment,
            model_uri=model_uri,
            revision=manifest.revision,
            checksum=manifest.checksum,
            recorded_at=now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            recorded_by=recorded_by,
            note=note,
        )
        name = f"{self._root}{deployment}/{now.strftime('%Y%m%dT%H%M%S.%fZ')}-{manifest.checksum[:12]}.json"
        self._store.write(name, json.dumps(asdict(record), indent=2).encode(), if_absent=True)
        return record

    def history(self, deployment: str) -> list[DeploymentRecord]:
        """Every record of `deployment`, newest first."""
        _check_name(deployment)
        names = sorted((o.name for o in self._store.list(f"{self._root}{deployment}/")), reverse=True)
        return [self._read(name) for name in names]

    def current(self, deployment: str) -> DeploymentRecord | None:
        _check_name(deployment)
        names = [o.name for o in self._store.list(f"{self._root}{deployment}/")]
        return self._read(max(names)) if names else None

    def deployments(self) -> list[DeploymentRecord]:
        """The current record of every deployment, by name."""
        newest: dict[str, str] = {}
        for stored in self._store.list(self._root):
            deployment = stored.name[len(self._root) :].split("/", 1)[0]
            newest[deployment] = max(newest.get(deployment, ""), stored.name)
        return [self._read(newest[d]) for d in sorted(newest)]

    def _read(self, name: str) -> DeploymentRecord:
        data = self._store.read(name)
        if data is None:
            raise ModelStoreError(f"registry record gs://{self._store.bucket}/{name} disappeared while being read")
        try:
            return DeploymentRecord(**json.loads(data))
        except (ValueError, TypeError) as exc:
            raise ManifestError(f"gs://{self._store.bucket}/{name} is not a deployment record: {exc}") from exc


def _check_name(deployment: str) -> None:
    if not _DEPLOYMENT.match(deployment):
        raise InvalidModelUriError(
            f"{deployment!r} is not a deployment name (lower-case letters, digits and '-', at most 63 characters)"
        )
