"""Render infra/helm/groundwork with Helm's own engine (helm-python-sdk binds Helm's Go SDK; no helm binary)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import helm_python as helm
import yaml

from tests.infra.schemas import REPO

CHART = REPO / "infra" / "helm" / "groundwork"
RELEASE, NAMESPACE = "gw", "groundwork"

CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "gpu": {"accelerator": "gpu"},
    "tpu": {"accelerator": "tpu"},
    "gpu-queued": {
        "accelerator": "gpu",
        "inference": {"provisioning": "queued", "replicas": 2},
        "capacity": {"provisioningRequest": {"create": True}},
    },
    "tpu-queued": {
        "accelerator": "tpu",
        "inference": {"provisioning": "queued"},
        "capacity": {"provisioningRequest": {"create": True}},
    },
    "gpu-managed-services": {
        "accelerator": "gpu",
        "inference": {"provisioning": "onDemand", "autoscaling": {"enabled": False}, "verifyModel": False},
        "postgresql": {"mode": "external", "host": "10.20.0.3"},
        "redis": {"mode": "external", "host": "10.20.0.4"},
        "model": {"checksum": "0123456789abcdef"},
    },
    "tpu-no-monitoring": {
        "accelerator": "tpu",
        "monitoring": {"enabled": False},
        "inference": {"autoscaling": {"enabled": False}},
    },
}
"""Every configuration CI renders and validates: both accelerators, each provisioning mode, managed services."""


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object the chart renders with `values` (over values.yaml), in template order."""
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    return [
        document
        for path, text in sorted(manifests.items())
        if path.endswith((".yaml", ".yml"))
        for document in yaml.safe_load_all(text)
        if document
    ]


def find(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(matches) == 1, f"expected one {kind} {name or ''}, found {len(matches)}"
    return matches[0]


def walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)
