"""The Helm chart, rendered with Helm's engine for the GPU and the TPU configuration (and each provisioning
mode), every object validated against the Kubernetes schemas and the CRD schemas in infra/schemas."""

from __future__ import annotations

import copy
from typing import Any

import helm_python as helm
import pytest

from tests.infra.chart import CHART, CONFIGURATIONS, RELEASE, find, render, walk
from tests.infra.schemas import KUBERNETES_VERSION, validate

VLLM = f"{RELEASE}-groundwork-vllm"


@pytest.mark.parametrize("configuration", sorted(CONFIGURATIONS))
def test_every_rendered_manifest_is_valid(configuration: str) -> None:
    objects = render(CONFIGURATIONS[configuration])
    assert len(objects) >= 10  # API, workers, vLLM with their services, config, accounts: never an empty render
    problems = [problem for document in objects for problem in validate(document)]
    assert problems == []


@pytest.mark.parametrize("configuration", sorted(CONFIGURATIONS))
def test_helm_lint_strict_finds_nothing(configuration: str) -> None:
    report = helm.lint(CHART, CONFIGURATIONS[configuration], strict=True, kube_version=f"v{KUBERNETES_VERSION}.0")
    serious = [m for m in report["messages"] if m["severity"] >= 2]
    assert (report["errors"], serious) == ([], [])


def test_the_validation_can_fail() -> None:
    """Broken objects are reported: a typo'd field, a wrong type, a kind nothing describes, a bad CRD value."""
    objects = render(CONFIGURATIONS["gpu-queued"])
    typo = copy.deepcopy(find(objects, "Deployment", VLLM))
    typo["spec"]["template"]["spec"]["nodeSelecter"] = {"a": "b"}
    assert any("nodeSelecter" in p for p in validate(typo))
    wrong_type = copy.deepcopy(find(objects, "Deployment", VLLM))
    wrong_type["spec"]["replicas"] = "two"
    assert any("spec.replicas" in p for p in validate(wrong_type))

    request = copy.deepcopy(find(objects, "ProvisioningRequest"))
    request["spec"]["podSets"][0]["count"] = 0
    assert any("podSets.0.count" in p for p in validate(request))
    monitoring = copy.deepcopy(find(render(CONFIGURATIONS["gpu"]), "PodMonitoring"))
    monitoring["spec"]["endpoints"][0]["interval"] = "fifteen seconds"
    assert any("interval" in p for p in validate(monitoring))
    assert validate({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}) == [
        "Widget w: no schema for example.com/v1 Widget (neither Kubernetes nor infra/schemas)"
    ]


def _vllm_pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = find(objects, "Deployment", VLLM)["spec"]["template"]
    return spec


def test_gpu_configuration_runs_the_cuda_image_on_the_a3_pool() -> None:
    objects = render(CONFIGURATIONS["gpu"])
    pod = _vllm_pod(objects)["spec"]
    [container] = pod["containers"]
    assert container["image"].startswith("vllm/vllm-openai:")
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod["nodeSelector"]["cloud.google.com/gke-nodepool"] == "gpu-a3"
    assert pod["nodeSelector"]["cloud.google.com/gke-accelerator"] == "nvidia-h100-80gb"
    assert "--tensor-parallel-size=1" in container["args"]
    assert not [v for v in walk(objects) if isinstance(v, str) and "tpu" in v.lower()]


def test_tpu_configuration_runs_the_tpu_image_on_v6e_with_topology_selectors() -> None:
    objects = render(CONFIGURATIONS["tpu"])
    pod = _vllm_pod(objects)["spec"]
    [container] = pod["containers"]
    assert container["image"].startswith("vllm/vllm-tpu:")
    assert container["resources"]["requests"]["google.com/tpu"] == "8"
    assert pod["nodeSelector"] == {
        "cloud.google.com/gke-nodepool": "tpu-v6e",
        "cloud.google.com/gke-tpu-accelerator": "tpu-v6e-slice",
        "cloud.google.com/gke-tpu-topology": "2x4",
        "cloud.google.com/gke-flex-start": "true",
    }
    assert {"key": "google.com/tpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert "--tensor-parallel-size=8" in container["args"]
    assert '--model-loader-extra-config={"distributed":true}' in container["args"]
    assert not [v for v in walk(objects) if isinstance(v, str) and ("nvidia" in v or "gpu" in v)]


@pytest.mark.parametrize("accelerator", ["gpu", "tpu"])
def test_weights_stream_from_gcs_with_workload_identity(accelerator: str) -> None:
    objects = render({"accelerator": accelerator, "model": {"checksum": "abcdef012345"}})
    pod = _vllm_pod(objects)["spec"]
    [container] = pod["containers"]
    assert container["command"] == ["vllm", "serve"]
    assert container["args"][:2] == ["gs://my-project-models/llama-3.1-8b-instruct/v1", "--load-format=runai_streamer"]
    account = find(objects, "ServiceAccount", pod["serviceAccountName"])
    gsa = account["metadata"]["annotations"]["iam.gke.io/gcp-service-account"]
    assert gsa == "groundwork-inference@my-project.iam.gserviceaccount.com"
    [verify] = pod["initContainers"]
    assert verify["args"] == [
        "models",
        "verify",
        "gs://my-project-models/llama-3.1-8b-instruct/v1",
        "--checksum",
        "abcdef012345",
    ]
    deployment = find(objects, "Deployment", VLLM)
    assert deployment["metadata"]["annotations"]["groundwork.dev/model-checksum"] == "abcdef012345"
    platform = find(objects, "ServiceAccount", f"{RELEASE}-groundwork")
    assert platform["metadata"]["annotations"]["iam.gke.io/gcp-service-account"].startswith("groundwork-platform@")


@pytest.mark.parametrize("accelerator", ["gpu", "tpu"])
def test_vllm_autoscales_on_its_own_metrics(accelerator: str) -> None:
    objects = render({"accelerator": accelerator})
    hpa = find(objects, "HorizontalPodAutoscaler", VLLM)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": VLLM}
    metrics = {m["external"]["metric"]["name"]: m["external"]["target"] for m in hpa["spec"]["metrics"]}
    assert metrics == {
        "prometheus.googleapis.com|vllm:num_requests_waiting|gauge": {"type": "AverageValue", "averageValue": "8"},
        "prometheus.googleapis.com|groundwork:vllm_time_to_first_token_seconds:p90|gauge": {
            "type": "Value",
            "value": "1500m",
        },
    }
    [rule] = find(objects, "Rules")["spec"]["groups"][0]["rules"]
    assert rule["record"] == "groundwork:vllm_time_to_first_token_seconds:p90"
    assert "vllm:time_to_first_token_seconds_bucket" in rule["expr"]
    monitor = find(objects, "PodMonitoring")
    assert monitor["spec"]["selector"]["matchLabels"] == _vllm_pod(objects)["metadata"]["labels"]
    assert "replicas" not in find(objects, "Deployment", VLLM)["spec"]  # the HPA owns the replica count


@pytest.mark.parametrize("accelerator", ["gpu", "tpu"])
def test_queued_provisioning_renders_a_request_its_pods_consume(accelerator: str) -> None:
    objects = render(CONFIGURATIONS[f"{accelerator}-queued"])
    request = find(objects, "ProvisioningRequest", VLLM)
    assert request["apiVersion"] == "autoscaling.x-k8s.io/v1"
    assert request["spec"]["provisioningClassName"] == "queued-provisioning.gke.io"
    assert request["spec"]["parameters"] == {"maxRunDurationSeconds": "604800"}
    [pod_set] = request["spec"]["podSets"]
    template = find(objects, "PodTemplate", pod_set["podTemplateRef"]["name"])
    assert pod_set["count"] == find(objects, "Deployment", VLLM)["spec"]["replicas"]

    pod = _vllm_pod(objects)
    annotations = pod["metadata"]["annotations"]
    assert annotations["autoscaling.x-k8s.io/consume-provisioning-request"] == VLLM
    assert annotations["autoscaling.x-k8s.io/provisioning-class-name"] == "queued-provisioning.gke.io"
    for key in ("nodeSelector", "tolerations"):  # the template must describe the pods that will consume it
        assert template["template"]["spec"][key] == pod["spec"][key]
    assert template["template"]["spec"]["containers"][0]["resources"] == pod["spec"]["containers"][0]["resources"]
    assert {"key": "cloud.google.com/gke-queued", "operator": "Equal", "value": "true", "effect": "NoSchedule"} in pod[
        "spec"
    ]["tolerations"]
    assert not [o for o in objects if o["kind"] == "HorizontalPodAutoscaler"]


def test_on_demand_pools_need_no_flex_start_selector_and_external_services_render_no_statefulsets() -> None:
    objects = render(CONFIGURATIONS["gpu-managed-services"])
    assert "cloud.google.com/gke-flex-start" not in _vllm_pod(objects)["spec"]["nodeSelector"]
    assert not [o for o in objects if o["kind"] == "StatefulSet"]
    config = find(objects, "ConfigMap")["data"]
    assert config["GROUNDWORK_CELERY__BROKER_URL"] == "redis://10.20.0.4:6379/0"
    api = find(objects, "Deployment", f"{RELEASE}-groundwork-api")["spec"]["template"]["spec"]["containers"][0]
    database = next(e for e in api["env"] if e["name"] == "GROUNDWORK_DATABASE__URL")
    assert database["value"] == "postgresql+psycopg://groundwork:$(POSTGRES_PASSWORD)@10.20.0.3:5432/groundwork"
    # The chat UI is served by the API itself (at /), from the same image: no Deployment of its own.
    assert not [o for o in objects if o["metadata"]["name"].endswith("-ui")]


def test_the_platform_talks_to_vllm_and_gcs() -> None:
    config = find(render(CONFIGURATIONS["gpu"]), "ConfigMap")["data"]
    assert config["GROUNDWORK_GENERATION__BACKEND"] == "remote"
    assert config["GROUNDWORK_GENERATION__BASE_URL"] == f"http://{VLLM}:8000/v1"
    assert config["GROUNDWORK_STORAGE__BACKEND"] == "gcs"
    assert config["GROUNDWORK_INGESTION__QUEUE"] == "celery"
    assert config["GROUNDWORK_CLOUD__MODEL_REGISTRY"] == "gs://my-project-models/registry"


def test_values_outside_the_schema_are_refused() -> None:
    with pytest.raises(helm.HelmValuesError, match="accelerator"):
        render({"accelerator": "cpu"})
    with pytest.raises(helm.HelmValuesError, match="uri"):
        render({"model": {"uri": "/local/model"}})
    with pytest.raises(helm.HelmValuesError, match="host"):
        render({"redis": {"mode": "external"}})


def test_every_template_renders_in_some_configuration() -> None:
    with helm.Chart.load(CHART) as chart:
        templates = {t["name"] for t in chart.templates if t["name"].endswith(".yaml")}
        rendered: set[str] = set()
        for values in CONFIGURATIONS.values():
            manifests = chart.render(values, name=RELEASE, namespace="groundwork")
            rendered |= {path.split("/", 1)[1] for path, text in manifests.items() if text.strip()}
    assert templates <= rendered
