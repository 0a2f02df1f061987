"""Capacity fixtures: the Kubernetes API STAND-IN of `k8s_standin` (not a real API server; it validates
ProvisioningRequest bodies against the real CRD) and the real `kubernetes` client talking to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from groundwork.platform.capacity.client import ProvisioningRequests, make_api_client
from groundwork.platform.config import CloudConfig

from .k8s_standin import KubernetesStandIn, running_standin

NAMESPACE = "groundwork"


@pytest.fixture
def standin() -> Iterator[KubernetesStandIn]:
    with running_standin() as state:
        state.add_pod_template(NAMESPACE, "groundwork-vllm-capacity")
        yield state


@pytest.fixture
def requests(standin: KubernetesStandIn) -> ProvisioningRequests:
    return ProvisioningRequests(make_api_client(CloudConfig(kube_api_server=standin.url)), NAMESPACE)
