"""Requests as a raw HTTP client builds them, in both eras: 2026-07-28 stateless requests
(``_meta`` and routing headers) and 2025-11-25 sessions (``initialize``)."""

from __future__ import annotations

from typing import Any

import httpx

ACCEPT = {"accept": "application/json, text/event-stream"}
MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}


def modern(method: str, rid: int = 1, **params: Any) -> tuple[dict[str, Any], dict[str, str]]:
    body = {
        "jsonrpc": "2.0",
        "id": rid,
        "method": method,
        "params": {**params, "_meta": MODERN_META},
    }
    headers = {**ACCEPT, "mcp-protocol-version": "2026-07-28", "mcp-method": method}
    if method == "tools/call":
        headers["mcp-name"] = params["name"]
    return body, headers


def initialize(rid: int = 1) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }


async def open_session(http: httpx.AsyncClient) -> str:
    r = await http.post("/mcp", json=initialize(), headers=ACCEPT)
    assert r.status_code == 200
    session = r.headers["mcp-session-id"]
    r = await http.post(
        "/mcp",
        json={"jsonrpc": "2.0", "method": "notifications/initialized"},
        headers={**ACCEPT, "mcp-session-id": session, "mcp-protocol-version": "2025-11-25"},
    )
    assert r.status_code == 202
    return session
