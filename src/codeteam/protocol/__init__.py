"""The MCP wire layer: JSON-RPC core (dispatcher) and its transports (stdio, HTTP)."""
