"""The ProvisioningRequest object for a `CapacityRequest`, as GKE's queued provisioning documents it."""

from __future__ import annotations

from typing import Any

from groundwork.platform.capacity.types import GROUP, VERSION, CapacityRequest


def provisioning_request(request: CapacityRequest, *, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ProvisioningRequest",
        "metadata": {
            "name": request.name,
            "namespace": request.namespace,
            "labels": {"app.kubernetes.io/managed-by": "groundwork", **(labels or {})},
        },
        "spec": {
            "provisioningClassName": request.provisioning_class,
            "parameters": {"maxRunDurationSeconds": str(request.max_run_seconds)},
            "podSets": [{"count": request.count, "podTemplateRef": {"name": request.pod_template}}],
        },
    }
