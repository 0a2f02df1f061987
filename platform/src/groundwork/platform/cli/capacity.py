"""`groundwork capacity`: ask GKE's Dynamic Workload Scheduler for accelerator capacity (a ProvisioningRequest
of class `queued-provisioning.gke.io`), watch it, give it back. Settings: `cloud.*` (cluster, namespace) and,
for `--when-queue-above`, `celery.broker_url` (the Redis the ingestion queue lives in)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from groundwork.platform.capacity.plan import decide
from groundwork.platform.capacity.types import MAX_RUN_SECONDS, CapacityRequest, RequestStatus
from groundwork.platform.config import Settings
from groundwork.platform.errors import PlatformError
from groundwork.platform.logging import configure_logging

if TYPE_CHECKING:
    from groundwork.platform.capacity.client import ProvisioningRequests

capacity_app = typer.Typer(help="Accelerator capacity through the Dynamic Workload Scheduler (ProvisioningRequests).")
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

NameArgument = Annotated[str, typer.Argument(help="The ProvisioningRequest's name")]
NamespaceOption = Annotated[str | None, typer.Option(help="Kubernetes namespace (default: cloud.namespace)")]
TimeoutOption = Annotated[float, typer.Option(help="Seconds to wait for the capacity")]
_UNHAPPY = ("failed", "revoked", "expired")


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return settings


def _requests(settings: Settings, namespace: str | None) -> ProvisioningRequests:
    # the kubernetes client is imported only by the commands that talk to a cluster
    from groundwork.platform.capacity.client import ProvisioningRequests, make_api_client

    return ProvisioningRequests(make_api_client(settings.cloud), namespace or settings.cloud.namespace)


def _fail(exc: PlatformError) -> None:
    console.print(f"[red]error[/red] ({exc.code}): {exc}")
    raise typer.Exit(code=1)


def _print_status(status: RequestStatus) -> None:
    out.print(f"{status.namespace}/{status.name}: [bold]{status.state}[/bold]")
    for c in status.conditions:
        since = f" since {c.last_transition}" if c.last_transition else ""
        out.print(f"  {c.type}={c.status} {c.reason}{since}" + (f": {c.message}" if c.message else ""))


def _waiting_tasks(settings: Settings) -> int:
    from groundwork.platform.tasks.celery_app import QUEUES, create_celery_app
    from groundwork.platform.tasks.celery_queue import CeleryTaskQueue

    queue = CeleryTaskQueue(create_celery_app(settings.celery), settings.celery)
    try:
        depth = queue.depth()
    finally:
        queue.close()
    return sum(depth[name] for name in QUEUES)


@capacity_app.command("request")
def request_capacity(
    name: NameArgument,
    pod_template: Annotated[
        str, typer.Option(help="PodTemplate the capacity is shaped like (the chart renders <release>-vllm-capacity)")
    ],
    count: Annotated[int, typer.Option(min=1, help="Pods to provision for (the most, with --tasks-per-pod)")] = 1,
    max_run_seconds: Annotated[
        int, typer.Option(min=60, max=MAX_RUN_SECONDS, help="How long the nodes are kept (at most 7 days)")
    ] = MAX_RUN_SECONDS,
    when_queue_above: Annotated[
        int | None, typer.Option(help="Only request when more tasks than this wait in the Celery queue")
    ] = None,
    tasks_per_pod: Annotated[
        int | None, typer.Option(min=1, help="With --when-queue-above: one pod per this many waiting tasks")
    ] = None,
    namespace: NamespaceOption = None,
    wait: Annotated[bool, typer.Option(help="Wait until the capacity is provisioned (or fails)")] = False,
    timeout: TimeoutOption = 3600.0,
) -> None:
    """Create a ProvisioningRequest (queued-provisioning.gke.io) for COUNT pods shaped like a PodTemplate."""
    settings = _settings()
    try:
        if when_queue_above is not None:
            decision = decide(
                _waiting_tasks(settings), threshold=when_queue_above, per_pod=tasks_per_pod, max_count=count
            )
            out.print(decision.reason)
            if not decision.request:
                return
            count = decision.count
        requests = _requests(settings, namespace)
        spec = CapacityRequest(
            name=name,
            namespace=requests.namespace,
            pod_template=pod_template,
            count=count,
            max_run_seconds=max_run_seconds,
        )
        status = requests.create(spec)
        out.print(f"requested capacity for {count} pods: {status.namespace}/{status.name} (queued-provisioning.gke.io)")
        if wait:
            status = requests.watch(
                name,
                timeout_seconds=timeout,
                poll_seconds=settings.cloud.capacity_poll_seconds,
                on_change=_print_status,
            )
    except PlatformError as exc:
        _fail(exc)
        return
    if status.state in _UNHAPPY:
        raise typer.Exit(code=1)


@capacity_app.command("status")
def capacity_status(
    name: NameArgument,
    namespace: NamespaceOption = None,
    watch: Annotated[bool, typer.Option(help="Follow the conditions until provisioned, failed or revoked")] = False,
    timeout: TimeoutOption = 3600.0,
) -> None:
    """Show a ProvisioningRequest's conditions (Accepted, Provisioned, Failed, CapacityRevoked, BookingExpired).
    Exits 1 when the capacity failed, was revoked or expired."""
    settings = _settings()
    try:
        requests = _requests(settings, namespace)
        if watch:
            status = requests.watch(
                name,
                timeout_seconds=timeout,
                poll_seconds=settings.cloud.capacity_poll_seconds,
                on_change=_print_status,
            )
        else:
            status = requests.get(name)
            _print_status(status)
    except PlatformError as exc:
        _fail(exc)
        return
    if status.state in _UNHAPPY:
        raise typer.Exit(code=1)


@capacity_app.command("release")
def release_capacity(name: NameArgument, namespace: NamespaceOption = None) -> None:
    """Delete a ProvisioningRequest; its nodes go once the pods that consume them are gone."""
    settings = _settings()
    try:
        requests = _requests(settings, namespace)
        requests.delete(name)
    except PlatformError as exc:
        _fail(exc)
        return
    out.print(f"released {requests.namespace}/{name}")
