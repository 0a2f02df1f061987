"""`groundwork datastore show`: a datastore's index generation, size and fusion calibration.

Reads the metadata store and the index manifest of the local data directory (no lock: it is safe while a
server runs, and loads no model).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, or_, select

from groundwork.platform.config import RetrievalConfig, Settings
from groundwork.platform.db.models import Chunk, Datastore
from groundwork.platform.db.session import Database
from groundwork.retrieval.errors import IndexCorruptedError, IndexNotFoundError
from groundwork.retrieval.store import HybridIndex

datastore_app = typer.Typer(help="Inspect datastores (local data directory).", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def effective_fusion(retrieval: RetrievalConfig, calibration: dict[str, Any] | None) -> dict[str, Any]:
    """The weights a hybrid search of this datastore uses, and where they come from."""
    if retrieval.fusion_weights == "calibrated" and calibration:
        source, dense, lexical = "calibration", calibration["dense_weight"], calibration["lexical_weight"]
    else:
        source = "settings (retrieval.fusion_weights=fixed)" if retrieval.fusion_weights == "fixed" else "settings"
        dense, lexical = retrieval.dense_weight, retrieval.lexical_weight
    return {
        "method": retrieval.fusion,
        "normalization": retrieval.fusion_normalization,
        "query_weighting": retrieval.query_weighting,
        "dense_weight": dense,
        "lexical_weight": lexical,
        "weights_from": source,
    }


def describe(settings: Settings, reference: str, tenant: str) -> dict[str, Any]:
    database = Database(settings.database_url(), pool_size=settings.database.pool_size)
    try:
        database.migrate()
        with database.session() as session:
            row = session.scalar(
                select(Datastore).where(
                    Datastore.tenant_id == tenant, or_(Datastore.id == reference, Datastore.name == reference)
                )
            )
            if row is None:
                return {}
            chunks = session.scalar(select(func.count()).select_from(Chunk).where(Chunk.datastore_id == row.id))
            info: dict[str, Any] = {
                "id": row.id,
                "name": row.name,
                "embedding_model": row.embedding_model,
                "index_generation": row.index_generation,
                "chunks": int(chunks or 0),
            }
    finally:
        database.close()
    try:
        manifest = HybridIndex.read_manifest(settings.data_dir.resolve() / "indexes" / info["id"])
    except (IndexNotFoundError, IndexCorruptedError) as exc:
        info.update(saved_generation=None, calibration=None, index_note=str(exc))
    else:
        info.update(saved_generation=manifest.generation, calibration=manifest.calibration)
    info["fusion"] = effective_fusion(settings.retrieval, info["calibration"])
    return info


@datastore_app.command("show")
def show(
    datastore: Annotated[str, typer.Argument(help="Datastore name or id")],
    tenant: Annotated[str | None, typer.Option(help="Tenant (default: the operator tenant)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Show a datastore: chunks, index generation (metadata and saved), fusion calibration and the weights
    hybrid search uses."""
    settings = Settings()
    info = describe(settings, datastore, tenant or settings.default_tenant)
    if not info:
        console.print(f"[red]error[/red] (not_found): datastore {datastore!r} not found")
        raise typer.Exit(code=1)
    if as_json:
        out.print_json(json.dumps(info))
        return
    table = Table(title=f"datastore {info['name']} ({info['id']})", show_header=False)
    for key in ("embedding_model", "chunks", "index_generation", "saved_generation"):
        table.add_row(key, str(info[key]))
    calibration = info["calibration"]
    if calibration:
        table.add_row(
            "calibration",
            f"dense {calibration['dense_weight']:.2f} / lexical {calibration['lexical_weight']:.2f} "
            f"({'guard tripped: best pseudo-query weight' if calibration.get('guard_tripped') else 'prior kept'}; "
            f"best {calibration.get('best_weight', calibration['dense_weight']):.1f}) from "
            f"{calibration['pseudo_queries']} pseudo-queries at {calibration['chunk_count']} chunks "
            f"(generation {calibration['generation']}, {calibration['seconds']:.2f} s); MRR@10 "
            f"dense {calibration['dense_mrr']:.3f}, lexical {calibration['lexical_mrr']:.3f}, "
            f"fused {calibration['fused_mrr']:.3f}",
        )
    else:
        table.add_row("calibration", "none yet (fewer than retrieval.calibration.min_chunks chunks, or disabled)")
    fusion = info["fusion"]
    table.add_row(
        "hybrid fusion",
        f"{fusion['method']} {fusion['normalization']}, dense {fusion['dense_weight']:.2f} / lexical "
        f"{fusion['lexical_weight']:.2f} (from {fusion['weights_from']}), query weighting {fusion['query_weighting']}",
    )
    out.print(table)
