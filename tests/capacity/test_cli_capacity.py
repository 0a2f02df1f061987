"""`groundwork capacity request|status|release` as an operator runs it, against the Kubernetes API STAND-IN
(not a real API server; it validates bodies against the real CRD) and, for `--when-queue-above`, the real
Redis the Celery ingestion queue lives in."""

from __future__ import annotations

import os

import pytest
import redis
from typer.testing import CliRunner

from groundwork.platform.cli.main import app
from groundwork.platform.config import CeleryConfig
from groundwork.platform.tasks.celery_app import create_celery_app
from groundwork.platform.tasks.celery_queue import CeleryTaskQueue
from groundwork.platform.tasks.names import PROCESS_BATCH

from .conftest import NAMESPACE
from .k8s_standin import KubernetesStandIn

REDIS_URL = os.environ.get("GROUNDWORK_TEST_CAPACITY_REDIS_URL", "redis://127.0.0.1:6379/7")


@pytest.fixture
def env(standin: KubernetesStandIn) -> dict[str, str]:
    return {
        "GROUNDWORK_CLOUD__KUBE_API_SERVER": standin.url,
        "GROUNDWORK_CLOUD__NAMESPACE": NAMESPACE,
        "GROUNDWORK_CLOUD__CAPACITY_POLL_SECONDS": "0.05",
        "GROUNDWORK_CELERY__BROKER_URL": REDIS_URL,
        "GROUNDWORK_LOG_LEVEL": "WARNING",
    }


def invoke(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_request_status_release(env: dict[str, str], standin: KubernetesStandIn) -> None:
    code, output = invoke(
        env, "capacity", "request", "burst", "--pod-template", "groundwork-vllm-capacity", "--count", "2"
    )
    assert code == 0, output
    assert "requested capacity for 2 pods: groundwork/burst" in output
    assert standin.provisioning_requests[(NAMESPACE, "burst")]["spec"]["podSets"][0]["count"] == 2

    standin.set_conditions(NAMESPACE, "burst", ("Accepted", "True", "Queued"))
    code, output = invoke(env, "capacity", "status", "burst")
    assert code == 0 and "groundwork/burst: accepted" in output and "Queued" in output

    standin.set_conditions(NAMESPACE, "burst", ("Accepted", "True", "Queued"), ("Failed", "True", "NoCapacity"))
    code, output = invoke(env, "capacity", "status", "burst")
    assert code == 1 and "failed" in output and "NoCapacity" in output

    code, output = invoke(env, "capacity", "release", "burst")
    assert code == 0 and "released groundwork/burst" in output
    assert standin.provisioning_requests == {}
    code, output = invoke(env, "capacity", "release", "burst")
    assert code == 1 and "provisioning_request_not_found" in output


def test_status_watch_reports_each_change_until_provisioned(env: dict[str, str], standin: KubernetesStandIn) -> None:
    invoke(env, "capacity", "request", "burst", "--pod-template", "groundwork-vllm-capacity")
    standin.set_conditions(
        NAMESPACE, "burst", ("Accepted", "True", "Queued"), ("Provisioned", "True", "CapacityProvisioned")
    )
    code, output = invoke(env, "capacity", "status", "burst", "--watch", "--timeout", "5")
    assert code == 0
    assert "groundwork/burst: provisioned" in output and "CapacityProvisioned" in output


def test_errors_are_printed_with_their_code(env: dict[str, str]) -> None:
    code, output = invoke(env, "capacity", "request", "burst", "--pod-template", "missing")
    assert code == 1 and "pod_template_not_found" in output and "does not exist" in output
    code, output = invoke(env, "capacity", "status", "nothing")
    assert code == 1 and "provisioning_request_not_found" in output


@pytest.fixture
def queue() -> CeleryTaskQueue:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc} (scripts/services.sh starts it)")
    client.flushdb()
    client.close()
    config = CeleryConfig(broker_url=REDIS_URL)
    return CeleryTaskQueue(create_celery_app(config), config)


@pytest.mark.integration
def test_when_queue_above_requests_only_when_enough_ingestion_work_waits(
    env: dict[str, str], standin: KubernetesStandIn, queue: CeleryTaskQueue
) -> None:
    args = ("capacity", "request", "burst", "--pod-template", "groundwork-vllm-capacity", "--count", "4")
    for _ in range(3):
        queue.submit(PROCESS_BATCH, {"datastore_id": "d", "document_ids": ["x"]})
    code, output = invoke(env, *args, "--when-queue-above", "5")
    assert code == 0 and "3 waiting, not above 5: no capacity requested" in output
    assert standin.provisioning_requests == {}

    for _ in range(5):
        queue.submit(PROCESS_BATCH, {"datastore_id": "d", "document_ids": ["x"]})
    code, output = invoke(env, *args, "--when-queue-above", "5", "--tasks-per-pod", "3")
    assert code == 0, output
    assert "8 waiting, above 5: requesting capacity for 3 pods" in output
    assert standin.provisioning_requests[(NAMESPACE, "burst")]["spec"]["podSets"][0]["count"] == 3
    queue.close()
