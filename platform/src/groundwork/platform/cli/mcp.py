"""`groundwork mcp`: the MCP server over stdio (see groundwork.platform.mcp and docs/mcp.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from groundwork.platform.config import Settings
from groundwork.platform.errors import PlatformError
from groundwork.platform.logging import configure_logging


def mcp_stdio(
    url: Annotated[
        str | None,
        typer.Option("--url", help="A running Groundwork server (default: GROUNDWORK_URL; unset: local)"),
    ] = None,
) -> None:
    """Run the MCP server over stdio (for Claude Desktop, VS Code, Cursor): tools search, answer, get_passage and
    list_datastores, as the principal of GROUNDWORK_API_KEY."""
    from groundwork.platform.mcp.stdio import run_local, run_remote

    settings = Settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)  # to stderr: stdout is the protocol
    target = url or settings.url
    try:
        if target:
            run_remote(target, settings.client_api_key())
        else:
            run_local(settings, settings.client_api_key())
    except PlatformError as exc:
        typer.echo(f"error ({exc.code}): {exc}", err=True)
        raise typer.Exit(code=1) from exc
