"""`groundwork models`: publish models to Cloud Storage, fetch and verify them, record what each deployment
serves. Settings: `storage.*` (the Cloud Storage client) and `cloud.*` (registry, transfer workers)."""

from __future__ import annotations

import getpass
import json
import socket
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from groundwork.platform.config import Settings
from groundwork.platform.errors import PlatformError
from groundwork.platform.logging import configure_logging
from groundwork.platform.modelstore.manifest import FileDigest
from groundwork.platform.modelstore.protocols import ObjectStoreFactory
from groundwork.platform.modelstore.registry import DeploymentRecord, ModelRegistry
from groundwork.platform.modelstore.transfer import pull, push, verify_remote
from groundwork.platform.modelstore.uris import GcsUri

models_app = typer.Typer(help="Models in Cloud Storage: push, pull, verify, and the deployment registry.")
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

UriArgument = Annotated[str, typer.Argument(help="gs://bucket/prefix of the model")]
ChecksumOption = Annotated[
    str | None, typer.Option("--checksum", help="Fail unless the model's checksum starts with this")
]


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return settings


def _stores(settings: Settings) -> ObjectStoreFactory:
    from groundwork.platform.modelstore.gcs import gcs_object_stores

    return gcs_object_stores(settings.storage)


def _fail(exc: PlatformError) -> None:
    console.print(f"[red]error[/red] ({exc.code}): {exc}")
    raise typer.Exit(code=1)


def _report(verb: str) -> Callable[[FileDigest], None]:
    def report(entry: FileDigest) -> None:
        console.print(f"  {verb} {entry.path} ({entry.size:,} bytes)")

    return report


@models_app.command("push")
def push_model(
    directory: Annotated[Path, typer.Argument(help="A Hugging Face safetensors model directory")],
    uri: UriArgument,
    revision: Annotated[str | None, typer.Option(help="A label for this version (default: checksum[:12])")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a different model already at the URI")] = False,
) -> None:
    """Upload a model directory with a manifest of SHA-256 checksums (the manifest last)."""
    settings = _settings()
    try:
        location = GcsUri.parse(uri)
        published = push(
            _stores(settings)(location.bucket),
            directory,
            location,
            revision=revision,
            overwrite=overwrite,
            workers=settings.cloud.transfer_workers,
            progress=_report("uploaded"),
        )
    except PlatformError as exc:
        _fail(exc)
        return
    manifest = published.manifest
    state = "published" if published.uploaded else "already published"
    out.print(f"{state} {published.uri}  revision {manifest.revision}  checksum {manifest.checksum}")
    out.print(f"{len(manifest.files)} files, {manifest.total_bytes:,} bytes")


@models_app.command("pull")
def pull_model(
    uri: UriArgument,
    directory: Annotated[Path, typer.Argument(help="Where to put the model (created; must be empty)")],
    checksum: ChecksumOption = None,
) -> None:
    """Download a published model and verify every file's size and SHA-256."""
    settings = _settings()
    try:
        location = GcsUri.parse(uri)
        pulled = pull(
            _stores(settings)(location.bucket),
            location,
            directory,
            expected_checksum=checksum,
            workers=settings.cloud.transfer_workers,
            progress=_report("verified"),
        )
    except PlatformError as exc:
        _fail(exc)
        return
    state = f"downloaded {pulled.downloaded} files" if pulled.downloaded else "already present and verified"
    out.print(f"{pulled.path}: {state}; revision {pulled.manifest.revision} checksum {pulled.manifest.checksum}")


@models_app.command("verify")
def verify_model(uri: UriArgument, checksum: ChecksumOption = None) -> None:
    """Check a published model without downloading it: every object exists with the manifest's size and MD5."""
    settings = _settings()
    try:
        location = GcsUri.parse(uri)
        manifest = verify_remote(_stores(settings)(location.bucket), location, expected_checksum=checksum)
    except PlatformError as exc:
        _fail(exc)
        return
    out.print(
        f"ok {location}  revision {manifest.revision}  checksum {manifest.checksum}  ({len(manifest.files)} files)"
    )


@models_app.command("deploy")
def deploy_model(
    deployment: Annotated[str, typer.Argument(help="The deployment (Helm release) that will serve the model")],
    uri: UriArgument,
    note: Annotated[str, typer.Option(help="Why (recorded with the deployment)")] = "",
) -> None:
    """Verify a published model and record that DEPLOYMENT serves it; prints the Helm values to apply."""
    settings = _settings()
    try:
        location = GcsUri.parse(uri)
        stores = _stores(settings)
        manifest = verify_remote(stores(location.bucket), location)
        registry = ModelRegistry.at(settings.cloud.model_registry, stores)
        record = registry.record(
            deployment, str(location), manifest, recorded_by=f"{getpass.getuser()}@{socket.gethostname()}", note=note
        )
    except PlatformError as exc:
        _fail(exc)
        return
    out.print(f"recorded: {record.deployment} serves {record.model_uri} revision {record.revision}")
    out.print("apply with:")
    out.print(
        f"  helm upgrade {record.deployment} infra/helm/groundwork --reuse-values "
        f"--set model.uri={record.model_uri} --set model.revision={record.revision} "
        f"--set model.checksum={record.checksum}"
    )


@models_app.command("deployments")
def list_deployments(
    deployment: Annotated[str | None, typer.Argument(help="One deployment's history (default: all, current)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Which model each deployment serves (or one deployment's history, newest first)."""
    settings = _settings()
    try:
        registry = ModelRegistry.at(settings.cloud.model_registry, _stores(settings))
        records = registry.history(deployment) if deployment else registry.deployments()
    except PlatformError as exc:
        _fail(exc)
        return
    if as_json:
        out.print_json(json.dumps([asdict(r) for r in records]))
        return
    _print_records(records)


def _print_records(records: list[DeploymentRecord]) -> None:
    if not records:
        out.print("no deployments recorded")
        return
    table = Table("deployment", "model", "revision", "checksum", "recorded", "by", "note")
    for r in records:
        table.add_row(r.deployment, r.model_uri, r.revision, r.checksum[:12], r.recorded_at, r.recorded_by, r.note)
    out.print(table)
