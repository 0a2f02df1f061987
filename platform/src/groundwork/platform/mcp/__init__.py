"""The MCP server: Groundwork's search and verified answers as Model Context Protocol tools and resources, for
agents and IDEs. Mounted by `groundwork serve` at /mcp (streamable HTTP) and run by `groundwork mcp` over
stdio. A surface like `api/`: it calls the same services with the caller's principal."""
