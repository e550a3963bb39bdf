"""Baseline: a minimal 4-tool MCP server on the official SDK (``mcp``), default configuration."""

import sys

from mcp.server import MCPServer

server = MCPServer("baseline")


@server.tool()
def execute_code(language: str, code: str) -> str:
    return "ok"


@server.tool()
def run_tests(path: str) -> str:
    return "ok"


@server.tool()
def code_review(code: str) -> str:
    return "ok"


@server.tool()
def list_toolchains() -> dict[str, str]:
    return {"python": sys.version.split()[0]}


if __name__ == "__main__":
    if sys.argv[1:2] == ["http"]:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
