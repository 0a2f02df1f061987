"""`groundwork models prepare-embedding` (make the optimised embedding model once) and `groundwork reembed`
(re-embed a datastore made with another embedding)."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console

from groundwork.platform.access.principal import Principal
from groundwork.platform.config import Settings
from groundwork.platform.errors import PlatformError
from groundwork.platform.logging import configure_logging
from groundwork.retrieval.embedder import embedding_identity, resolve_model_path
from groundwork.retrieval.embedding_cache import export_format, prepare_embedding_model
from groundwork.retrieval.errors import RetrievalError

console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return settings


def prepare_embedding() -> None:
    """Make the configured embedding backend's model copy (ONNX / OpenVINO) once, or verify the one made."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = _settings()
    embedding = settings.embedding
    identity = embedding_identity(embedding.model, embedding.backend, embedding.precision)
    if embedding.backend == "torch":
        out.print(f"{identity}: backend torch reads the model directory as it is; nothing to prepare")
        return
    try:
        graph = prepare_embedding_model(
            resolve_model_path(embedding.model),
            embedding.cache_dir,
            export_format(embedding.backend, embedding.precision),
            progress=lambda line: console.print(line),
        )
    except RetrievalError as exc:
        console.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(code=1) from exc
    out.print(f"{identity}: {graph.parent} (verified against its manifest)")


def reembed(
    datastore: Annotated[str, typer.Argument(help="Datastore name or id")],
    tenant: Annotated[str | None, typer.Option(help="Tenant (default: default_tenant)")] = None,
) -> None:
    """Embed every chunk of a datastore again with the configured embedding (model + backend + precision), so a
    datastore made with another one can be searched and added to again. Needs the data directory (no server)."""
    from groundwork.platform.reembed import reembed_datastore
    from groundwork.platform.services import build_services

    settings = _settings()
    try:
        services = build_services(settings, owner="groundwork reembed", recover=False)
    except PlatformError as exc:
        console.print(f"[red]error[/red] ({exc.code}): {exc}")
        raise typer.Exit(code=1) from exc
    try:
        principal = Principal.operator(tenant or settings.default_tenant)
        target = services.documents.get_datastore(principal, datastore)
        done = reembed_datastore(
            services.database,
            services.indexes,
            services.embedder,
            services.embedder.identity,
            target.id,
            progress=lambda n, total: console.print(f"  {n:,}/{total:,} chunks", highlight=False),
        )
    except PlatformError as exc:
        console.print(f"[red]error[/red] ({exc.code}): {exc}")
        raise typer.Exit(code=1) from exc
    finally:
        services.close()
    out.print(
        f"{target.name}: {done.chunks:,} chunks re-embedded in {done.seconds:.1f} s ({done.previous} -> {done.current})"
    )
