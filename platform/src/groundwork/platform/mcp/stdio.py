"""`groundwork mcp`: the MCP server over stdio, for desktop clients that start it as a subprocess.

With a server named (`--url` or GROUNDWORK_URL) it reads through that server's REST API as the API key it
sends (GROUNDWORK_API_KEY, else the bootstrap key file when this machine has it); otherwise it opens the data
directory itself and acts as the principal of that key. Standard output carries only the protocol."""

from __future__ import annotations

from collections.abc import Mapping

import anyio

from groundwork.client import AsyncGroundwork
from groundwork.platform.config import Settings
from groundwork.platform.errors import AuthenticationError
from groundwork.platform.mcp.knowledge import Knowledge, ServicesKnowledge
from groundwork.platform.mcp.remote import ClientKnowledge
from groundwork.platform.mcp.server import build_server


def run_remote(url: str, api_key: str | None) -> None:
    async def main() -> None:
        async with AsyncGroundwork(url, api_key=api_key) as client:
            knowledge = ClientKnowledge(client)

            async def knowledge_for(_headers: Mapping[str, str] | None) -> Knowledge:
                return knowledge

            await build_server(knowledge_for).run_stdio_async()

    anyio.run(main)


def run_local(settings: Settings, api_key: str | None) -> None:
    from groundwork.platform.services import build_services

    services = build_services(settings, owner="groundwork mcp")
    try:
        if settings.access.enabled and not api_key:
            raise AuthenticationError("no API key: set GROUNDWORK_API_KEY (the MCP server acts as its principal)")
        principal = services.authenticator.authenticate(f"Bearer {api_key}" if api_key else None)
        knowledge = ServicesKnowledge(services, principal)

        async def knowledge_for(_headers: Mapping[str, str] | None) -> Knowledge:
            return knowledge

        async def main() -> None:
            services.generation.start()
            try:
                await build_server(knowledge_for).run_stdio_async()
            finally:
                await services.generation.aclose()

        anyio.run(main)
    finally:
        services.close()
