"""Errors of capacity management. One base class; the CLI prints `code` and the message."""

from __future__ import annotations

from groundwork.platform.errors import PlatformError


class CapacityError(PlatformError):
    """Base class of every capacity error."""

    code = "capacity_error"


class KubernetesUnavailableError(CapacityError):
    """No cluster configuration (kubeconfig, in-cluster account) or the API server cannot be reached."""

    code = "kubernetes_unavailable"


class ProvisioningRequestNotFoundError(CapacityError):
    code = "provisioning_request_not_found"


class ProvisioningRequestExistsError(CapacityError):
    """A request of that name exists; its spec is immutable, so release it first."""

    code = "provisioning_request_exists"


class PodTemplateNotFoundError(CapacityError):
    """The PodTemplate a request must reference does not exist (the Helm chart renders it)."""

    code = "pod_template_not_found"


class RequestRejectedError(CapacityError):
    """The API server refused the request (invalid body, forbidden)."""

    code = "provisioning_request_rejected"


class CapacityTimeoutError(CapacityError):
    """Capacity was not provisioned before the wait ran out (the request stays queued)."""

    code = "capacity_timeout"
