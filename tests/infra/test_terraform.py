"""infra/terraform: parsed with a real HCL2 parser (python-hcl2) and checked against the chart it provisions
for; `terraform fmt -check` when the terraform binary is installed. `terraform validate` needs the Google
provider, which `terraform init` downloads from the Terraform registry — not reachable here (see
docs/decisions/0003-helm-chart-rendered-with-helms-go-sdk.md)."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import hcl2
import pytest
import yaml

from tests.infra.chart import CHART, find, render
from tests.infra.schemas import REPO

TERRAFORM = REPO / "infra" / "terraform"


def _clean(value: Any) -> Any:
    """python-hcl2 keeps HCL's quotes on keys and strings and marks blocks; drop both."""
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items() if k not in ("__is_block__", "__comments__")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _parsed() -> dict[str, list[dict[str, Any]]]:
    merged: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(TERRAFORM.glob("*.tf")):
        for key, blocks in _clean(hcl2.loads(path.read_text(encoding="utf-8"))).items():
            merged.setdefault(key, []).extend(blocks)
    return merged


def _resources() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (kind, name): body
        for block in _parsed()["resource"]
        for kind, named in block.items()
        for name, body in named.items()
    }


def _variable_defaults() -> dict[str, Any]:
    return {name: body.get("default") for block in _parsed()["variable"] for name, body in block.items()}


def test_cluster_has_workload_identity_and_managed_prometheus() -> None:
    cluster = _resources()[("google_container_cluster", "groundwork")]
    assert cluster["workload_identity_config"][0]["workload_pool"] == "${var.project_id}.svc.id.goog"
    assert cluster["monitoring_config"][0]["managed_prometheus"][0]["enabled"] is True
    assert cluster["addons_config"][0]["gcp_filestore_csi_driver_config"][0]["enabled"] is True


@pytest.mark.parametrize("accelerator", ["gpu", "tpu"])
def test_accelerator_pools_use_flex_start_or_queued_provisioning(accelerator: str) -> None:
    pool = _resources()[("google_container_node_pool", accelerator)]
    assert pool["count"] == f'${{contains(local.pools, "{accelerator}") ? 1 : 0}}'
    [queued] = pool["dynamic"]
    assert queued["queued_provisioning"]["for_each"] == "${local.queued ? [1] : []}"
    node = pool["node_config"][0]
    assert node["flex_start"] == "${local.dws}"
    assert node["max_run_duration"] == '${local.dws ? "${var.max_run_duration_seconds}s" : null}'
    assert node["workload_metadata_config"][0]["mode"] == "GKE_METADATA"
    assert pool["autoscaling"][0]["total_min_node_count"] == 0
    locals_ = {k: v for block in _parsed()["locals"] for k, v in block.items()}
    assert locals_["dws"] == '${var.provisioning != "onDemand"}'
    assert locals_["queued"] == '${var.provisioning == "queued"}'
    assert locals_["pools"] == "${toset(concat([var.accelerator], var.additional_accelerator_pools))}"


def test_node_pools_match_what_the_chart_schedules_on() -> None:
    defaults = _variable_defaults()
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    gpu, tpu = values["accelerators"]["gpu"], values["accelerators"]["tpu"]
    assert defaults["gpu"]["node_pool"] == gpu["nodePool"]
    assert defaults["gpu"]["type"] == gpu["nodeSelector"]["cloud.google.com/gke-accelerator"]
    assert defaults["gpu"]["count"] == gpu["count"]
    assert defaults["tpu"]["node_pool"] == tpu["nodePool"]
    assert defaults["tpu"]["topology"] == tpu["nodeSelector"]["cloud.google.com/gke-tpu-topology"]
    assert defaults["tpu"]["machine_type"] == "ct6e-standard-8t" and tpu["count"] == 8  # 8 chips per host
    guest = _resources()[("google_container_node_pool", "gpu")]["node_config"][0]["guest_accelerator"][0]
    assert (guest["type"], guest["count"]) == ("${var.gpu.type}", "${var.gpu.count}")
    assert defaults["max_run_duration_seconds"] == values["capacity"]["maxRunDurationSeconds"]


def test_workload_identity_binds_the_service_accounts_the_chart_renders() -> None:
    defaults = _variable_defaults()
    accounts = {
        o["metadata"]["name"]: o["metadata"]["annotations"]["iam.gke.io/gcp-service-account"]
        for o in render({})
        if o["kind"] == "ServiceAccount"
    }
    locals_ = {k: v for block in _parsed()["locals"] for k, v in block.items()}
    resources = _resources()
    for binding, gsa, ksa_local in (
        ("platform_workload_identity", "platform", "platform_ksa"),
        ("inference_workload_identity", "inference", "inference_ksa"),
    ):
        member = resources[("google_service_account_iam_member", binding)]
        assert member["role"] == "roles/iam.workloadIdentityUser"
        assert member["member"] == f"serviceAccount:${{local.workload_pool}}[${{var.namespace}}/${{local.{ksa_local}}}]"
        ksa = locals_[ksa_local].replace("${var.release}", defaults["release"])
        account_id = resources[("google_service_account", gsa)]["account_id"]
        assert accounts[ksa].startswith(f"{account_id}@")
    assert find(render({}), "Deployment", "gw-groundwork-vllm")


def test_inference_reads_models_and_the_platform_writes_blobs() -> None:
    resources = _resources()
    inference = resources[("google_storage_bucket_iam_member", "inference_models")]
    assert (inference["bucket"], inference["role"]) == (
        "${google_storage_bucket.models.name}",
        "roles/storage.objectViewer",
    )
    platform = resources[("google_storage_bucket_iam_member", "platform_data")]
    assert (platform["bucket"], platform["role"]) == ("${google_storage_bucket.data.name}", "roles/storage.objectAdmin")
    for bucket in ("models", "data"):
        assert resources[("google_storage_bucket", bucket)]["uniform_bucket_level_access"] is True


@pytest.mark.skipif(shutil.which("terraform") is None, reason="the terraform binary is not installed")
def test_terraform_fmt_accepts_the_configuration() -> None:
    done = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-diff", "-no-color", str(TERRAFORM)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
