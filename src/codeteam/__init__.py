"""codeteam: an MCP server of sandboxed code tools, and a team of coding agents that uses it."""

__version__ = "0.1.0"
