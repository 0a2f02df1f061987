"""ProvisioningRequests through the real `kubernetes` client, against the Kubernetes API STAND-IN (a local
HTTP server, not an API server) that validates every body against the real autoscaler CRD schema."""

from __future__ import annotations

import socket

import httpx
import pytest

from groundwork.platform.capacity.client import ProvisioningRequests, make_api_client
from groundwork.platform.capacity.errors import (
    CapacityTimeoutError,
    KubernetesUnavailableError,
    PodTemplateNotFoundError,
    ProvisioningRequestExistsError,
    ProvisioningRequestNotFoundError,
    RequestRejectedError,
)
from groundwork.platform.capacity.types import CapacityRequest, RequestStatus
from groundwork.platform.config import CloudConfig

from .conftest import NAMESPACE
from .k8s_standin import KubernetesStandIn

TEMPLATE = "groundwork-vllm-capacity"


def _spec(name: str = "vllm-burst", count: int = 2, **kwargs: object) -> CapacityRequest:
    return CapacityRequest(name=name, namespace=NAMESPACE, pod_template=TEMPLATE, count=count, **kwargs)  # type: ignore[arg-type]


def test_create_sends_a_provisioning_request_the_real_crd_accepts(
    standin: KubernetesStandIn, requests: ProvisioningRequests
) -> None:
    status = requests.create(_spec(max_run_seconds=86_400))
    assert (status.name, status.namespace, status.state) == ("vllm-burst", NAMESPACE, "pending")
    stored = standin.provisioning_requests[(NAMESPACE, "vllm-burst")]
    assert stored["spec"] == {
        "provisioningClassName": "queued-provisioning.gke.io",
        "parameters": {"maxRunDurationSeconds": "86400"},
        "podSets": [{"count": 2, "podTemplateRef": {"name": TEMPLATE}}],
    }
    methods = [(m, p) for m, p, _ in standin.requests]
    assert methods == [
        ("GET", f"/api/v1/namespaces/{NAMESPACE}/podtemplates/{TEMPLATE}"),
        ("POST", f"/apis/autoscaling.x-k8s.io/v1/namespaces/{NAMESPACE}/provisioningrequests"),
    ]


def test_the_standin_rejects_what_the_crd_rejects() -> None:
    """The stand-in's validation is what makes the other tests able to fail: a body the CRD refuses is a 422."""
    from .k8s_standin import running_standin

    with running_standin() as state:
        url = f"{state.url}/apis/autoscaling.x-k8s.io/v1/namespaces/{NAMESPACE}/provisioningrequests"
        good = {
            "apiVersion": "autoscaling.x-k8s.io/v1",
            "kind": "ProvisioningRequest",
            "metadata": {"name": "ok"},
            "spec": {
                "provisioningClassName": "queued-provisioning.gke.io",
                "podSets": [{"count": 1, "podTemplateRef": {"name": "t"}}],
            },
        }
        assert httpx.post(url, params={"fieldValidation": "Strict"}, json=good).status_code == 201
        for bad_spec in (
            {"provisioningClassName": "queued-provisioning.gke.io", "podSets": []},  # minItems 1
            {"provisioningClassName": "Not_A_Class", "podSets": [{"count": 1, "podTemplateRef": {"name": "t"}}]},
            {"provisioningClassName": "x.io", "podSets": [{"count": 1, "podTemplateRef": {"name": "t"}}], "extra": 1},
            {"podSets": [{"count": 1, "podTemplateRef": {"name": "t"}}]},  # provisioningClassName is required
        ):
            response = httpx.post(
                url, params={"fieldValidation": "Strict"}, json={**good, "metadata": {"name": "bad"}, "spec": bad_spec}
            )
            assert response.status_code == 422, bad_spec
            assert response.json()["reason"] == "Invalid"


def test_an_invalid_request_is_reported_with_the_servers_reason(requests: ProvisioningRequests) -> None:
    with pytest.raises(RequestRejectedError, match=r"HTTP 422: .*count.*less than the minimum of 1"):
        requests.create(_spec(count=0))
    with pytest.raises(RequestRejectedError, match=r"HTTP 422: .*is not a DNS subdomain name"):
        requests.create(_spec(name="x" * 300))


def test_a_missing_pod_template_is_caught_before_anything_is_created(
    standin: KubernetesStandIn, requests: ProvisioningRequests
) -> None:
    with pytest.raises(PodTemplateNotFoundError, match="PodTemplate groundwork/absent does not exist"):
        requests.create(CapacityRequest(name="r", namespace=NAMESPACE, pod_template="absent", count=1))
    assert standin.provisioning_requests == {}


def test_a_second_request_of_the_same_name_is_refused(requests: ProvisioningRequests) -> None:
    requests.create(_spec())
    with pytest.raises(ProvisioningRequestExistsError, match="already exists; `groundwork capacity release` it first"):
        requests.create(_spec(count=4))


@pytest.mark.parametrize(
    ("conditions", "state"),
    [
        ((), "pending"),
        ((("Accepted", "True", "Queued"),), "accepted"),
        ((("Accepted", "True", "Queued"), ("Provisioned", "True", "CapacityProvisioned")), "provisioned"),
        ((("Accepted", "True", "Queued"), ("Failed", "True", "NotProvisioned")), "failed"),
        ((("Provisioned", "True", "CapacityProvisioned"), ("CapacityRevoked", "True", "Preempted")), "revoked"),
        ((("Provisioned", "True", "CapacityProvisioned"), ("BookingExpired", "True", "Expired")), "expired"),
        ((("Accepted", "True", "Queued"), ("Provisioned", "False", "Waiting")), "accepted"),
    ],
)
def test_status_reports_the_conditions_the_autoscaler_set(
    standin: KubernetesStandIn,
    requests: ProvisioningRequests,
    conditions: tuple[tuple[str, str, str], ...],
    state: str,
) -> None:
    requests.create(_spec())
    if conditions:
        standin.set_conditions(NAMESPACE, "vllm-burst", *conditions)
    status = requests.get("vllm-burst")
    assert status.state == state
    assert [(c.type, c.status, c.reason) for c in status.conditions] == list(conditions)


def test_watch_follows_the_request_until_it_is_provisioned(
    standin: KubernetesStandIn, requests: ProvisioningRequests
) -> None:
    requests.create(_spec())
    steps = iter(
        [
            (("Accepted", "True", "Queued"),),
            (("Accepted", "True", "Queued"),),  # no change: not reported twice
            (("Accepted", "True", "Queued"), ("Provisioned", "True", "CapacityProvisioned")),
        ]
    )
    seen: list[RequestStatus] = []

    def autoscaler_acts(_seconds: float) -> None:  # runs between two reads, as the cluster autoscaler would
        standin.set_conditions(NAMESPACE, "vllm-burst", *next(steps))

    final = requests.watch(
        "vllm-burst", timeout_seconds=30, poll_seconds=0.01, on_change=seen.append, sleep=autoscaler_acts
    )
    assert final.state == "provisioned"
    assert [s.state for s in seen] == ["pending", "accepted", "provisioned"]


def test_watch_gives_up_after_the_timeout(requests: ProvisioningRequests) -> None:
    requests.create(_spec())
    with pytest.raises(CapacityTimeoutError, match="still pending after 0 s"):
        requests.watch("vllm-burst", timeout_seconds=0.2, poll_seconds=0.05)


def test_release_deletes_the_request(standin: KubernetesStandIn, requests: ProvisioningRequests) -> None:
    requests.create(_spec())
    requests.delete("vllm-burst")
    assert standin.provisioning_requests == {}
    with pytest.raises(ProvisioningRequestNotFoundError):
        requests.delete("vllm-burst")
    with pytest.raises(ProvisioningRequestNotFoundError):
        requests.get("vllm-burst")


def test_an_unreachable_api_server_is_a_clear_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = make_api_client(CloudConfig(kube_api_server=f"http://127.0.0.1:{port}"))
    api.configuration.retries = 0
    with pytest.raises(KubernetesUnavailableError, match="cannot be reached"):
        ProvisioningRequests(api, NAMESPACE).get("anything")


def test_a_missing_kubeconfig_says_what_to_do(tmp_path: object) -> None:
    with pytest.raises(KubernetesUnavailableError, match="cannot load the kubeconfig"):
        make_api_client(CloudConfig(kubeconfig=f"{tmp_path}/absent-kubeconfig"))  # type: ignore[arg-type]
