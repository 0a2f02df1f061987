"""ProvisioningRequests through the Kubernetes API, with the `kubernetes` client (the only module of this
area that imports it). API errors become `CapacityError`s here."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from groundwork.platform.capacity.errors import (
    CapacityTimeoutError,
    KubernetesUnavailableError,
    PodTemplateNotFoundError,
    ProvisioningRequestExistsError,
    ProvisioningRequestNotFoundError,
    RequestRejectedError,
)
from groundwork.platform.capacity.manifests import provisioning_request
from groundwork.platform.capacity.types import GROUP, PLURAL, VERSION, CapacityRequest, Condition, RequestStatus
from groundwork.platform.config import CloudConfig

logger = logging.getLogger(__name__)

_TIMEOUT = (5.0, 30.0)  # connect, read (seconds) for every API call


def make_api_client(config: CloudConfig) -> k8s.ApiClient:
    """`cloud.kube_api_server` without credentials (kubectl proxy, tests); else the kubeconfig (file and context
    from the settings, or the default); else the in-cluster service account."""
    if config.kube_api_server:
        configuration = k8s.Configuration()
        configuration.host = config.kube_api_server.rstrip("/")
        return k8s.ApiClient(configuration)
    try:
        return k8s_config.new_client_from_config(
            config_file=str(config.kubeconfig) if config.kubeconfig else None, context=config.kube_context
        )
    except (k8s_config.ConfigException, OSError) as kubeconfig_error:
        if config.kubeconfig or config.kube_context:
            raise KubernetesUnavailableError(f"cannot load the kubeconfig: {kubeconfig_error}") from kubeconfig_error
        configuration = k8s.Configuration()
        try:
            k8s_config.load_incluster_config(client_configuration=configuration)
        except k8s_config.ConfigException as exc:
            raise KubernetesUnavailableError(
                f"no Kubernetes cluster configured: no kubeconfig ({kubeconfig_error}) and not in a pod ({exc}); "
                "run `gcloud container clusters get-credentials CLUSTER` or set GROUNDWORK_CLOUD__KUBECONFIG"
            ) from exc
        return k8s.ApiClient(configuration)


class ProvisioningRequests:
    """Create, read, watch and delete ProvisioningRequests in one namespace."""

    def __init__(self, api: k8s.ApiClient, namespace: str) -> None:
        self._objects = k8s.CustomObjectsApi(api)
        self._core = k8s.CoreV1Api(api)
        self.namespace = namespace

    def create(self, request: CapacityRequest) -> RequestStatus:
        """Create the request after checking its PodTemplate exists (a request naming a missing template would
        be accepted by the API and then never provisioned)."""
        try:
            self._core.read_namespaced_pod_template(request.pod_template, request.namespace, _request_timeout=_TIMEOUT)
        except ApiException as exc:
            if exc.status == 404:
                raise PodTemplateNotFoundError(
                    f"PodTemplate {request.namespace}/{request.pod_template} does not exist; install the Helm chart "
                    "with inference.provisioning=queued (it renders the template) or name another with --pod-template"
                ) from exc
            raise _translate(exc, f"reading PodTemplate {request.pod_template}") from exc
        except HTTPError as exc:
            raise _unreachable(exc) from exc
        body = provisioning_request(request)
        try:
            created = self._objects.create_namespaced_custom_object(
                GROUP, VERSION, request.namespace, PLURAL, body, field_validation="Strict", _request_timeout=_TIMEOUT
            )
        except ApiException as exc:
            if exc.status == 409:
                raise ProvisioningRequestExistsError(
                    f"ProvisioningRequest {request.namespace}/{request.name} already exists; "
                    "`groundwork capacity release` it first (its spec cannot change)"
                ) from exc
            raise _translate(exc, f"creating ProvisioningRequest {request.name}") from exc
        except HTTPError as exc:
            raise _unreachable(exc) from exc
        logger.info("created ProvisioningRequest %s/%s for %d pods", request.namespace, request.name, request.count)
        return _status(created)

    def get(self, name: str) -> RequestStatus:
        try:
            found = self._objects.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, name, _request_timeout=_TIMEOUT
            )
        except ApiException as exc:
            if exc.status == 404:
                raise ProvisioningRequestNotFoundError(f"no ProvisioningRequest {self.namespace}/{name}") from exc
            raise _translate(exc, f"reading ProvisioningRequest {name}") from exc
        except HTTPError as exc:
            raise _unreachable(exc) from exc
        return _status(found)

    def delete(self, name: str) -> None:
        """Delete the request; the capacity it obtained is given back when its pods are gone."""
        try:
            self._objects.delete_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, name, _request_timeout=_TIMEOUT
            )
        except ApiException as exc:
            if exc.status == 404:
                raise ProvisioningRequestNotFoundError(f"no ProvisioningRequest {self.namespace}/{name}") from exc
            raise _translate(exc, f"deleting ProvisioningRequest {name}") from exc
        except HTTPError as exc:
            raise _unreachable(exc) from exc

    def watch(
        self,
        name: str,
        *,
        timeout_seconds: float,
        poll_seconds: float,
        on_change: Callable[[RequestStatus], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> RequestStatus:
        """Read the request every `poll_seconds` until it is `finished` (provisioned, failed, revoked, expired);
        `on_change` sees each new set of conditions. Raises `CapacityTimeoutError` after `timeout_seconds`."""
        deadline = time.monotonic() + timeout_seconds
        last: tuple[Condition, ...] | None = None
        while True:
            status = self.get(name)
            if status.conditions != last:
                last = status.conditions
                if on_change:
                    on_change(status)
            if status.finished:
                return status
            if time.monotonic() >= deadline:
                raise CapacityTimeoutError(
                    f"ProvisioningRequest {self.namespace}/{name} is still {status.state} after {timeout_seconds:.0f} s"
                )
            sleep(min(poll_seconds, max(0.0, deadline - time.monotonic())))


def _status(document: dict[str, Any]) -> RequestStatus:
    metadata = document.get("metadata") or {}
    conditions = tuple(
        Condition(
            type=str(c.get("type", "")),
            status=str(c.get("status", "Unknown")),
            reason=str(c.get("reason", "")),
            message=str(c.get("message", "")),
            last_transition=str(c.get("lastTransitionTime", "")),
        )
        for c in (document.get("status") or {}).get("conditions") or []
    )
    return RequestStatus(
        name=str(metadata.get("name", "")),
        namespace=str(metadata.get("namespace", "")),
        conditions=conditions,
        created_at=str(metadata.get("creationTimestamp", "")),
    )


def _translate(exc: ApiException, what: str) -> RequestRejectedError:
    message = exc.reason or ""
    try:
        message = json.loads(exc.body or "{}").get("message") or message
    except (ValueError, AttributeError):
        logger.debug("API error body is not a Status object: %r", exc.body)
    return RequestRejectedError(f"{what}: HTTP {exc.status}: {message}")


def _unreachable(exc: HTTPError) -> KubernetesUnavailableError:
    return KubernetesUnavailableError(f"the Kubernetes API server cannot be reached: {exc}")
