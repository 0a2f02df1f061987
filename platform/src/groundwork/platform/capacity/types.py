"""ProvisioningRequests as values: what to ask for, and what the cluster autoscaler says about it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GROUP = "autoscaling.x-k8s.io"
VERSION = "v1"
PLURAL = "provisioningrequests"
QUEUED_PROVISIONING = "queued-provisioning.gke.io"
"""GKE's Dynamic Workload Scheduler class: all-or-nothing capacity, queued until it is available."""
MAX_RUN_SECONDS = 7 * 24 * 3600
"""Flex-start capacity is held for at most seven days (GKE documents this as the maximum and the default)."""

State = Literal["pending", "accepted", "provisioned", "failed", "revoked", "expired"]


@dataclass(frozen=True, slots=True)
class CapacityRequest:
    """Ask for `count` pods' worth of nodes shaped like `pod_template`."""

    name: str
    namespace: str
    pod_template: str
    """A PodTemplate in `namespace` (the chart renders `<release>-vllm-capacity`); its node selector and
    accelerator requests decide which node pool provides the capacity."""
    count: int
    max_run_seconds: int = MAX_RUN_SECONDS
    """How long the nodes are kept (`maxRunDurationSeconds`); then they are removed, pods and all."""
    provisioning_class: str = QUEUED_PROVISIONING


@dataclass(frozen=True, slots=True)
class Condition:
    type: str
    status: str
    """`True`, `False` or `Unknown`."""
    reason: str = ""
    message: str = ""
    last_transition: str = ""


@dataclass(frozen=True, slots=True)
class RequestStatus:
    name: str
    namespace: str
    conditions: tuple[Condition, ...]
    created_at: str = ""

    @property
    def state(self) -> State:
        """One word for the conditions, most decisive first: a failure or a revocation outweighs an earlier
        `Provisioned`. `accepted` means queued: DWS has the request and waits for capacity."""
        true = {c.type for c in self.conditions if c.status == "True"}
        if "Failed" in true:
            return "failed"
        if "CapacityRevoked" in true:
            return "revoked"
        if "BookingExpired" in true:
            return "expired"
        if "Provisioned" in true:
            return "provisioned"
        if "Accepted" in true:
            return "accepted"
        return "pending"

    @property
    def finished(self) -> bool:
        """No further change is coming without a new request."""
        return self.state in ("provisioned", "failed", "revoked", "expired")

    def condition(self, kind: str) -> Condition | None:
        return next((c for c in self.conditions if c.type == kind), None)
