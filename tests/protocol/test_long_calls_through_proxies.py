"""Long calls over Streamable HTTP survive a proxy's idle time-out (issue 9, item 8).

A client that accepts both JSON and SSE and sent no progress token gets JSON from a quick
call; a call still running after ``--sse-after`` switches to an SSE stream whose keepalive
comments keep the connection busy, then ends with the answer. Proved through a proxy that
cuts connections idle for 2 s, with httpx and the official SDK, in both protocol eras; and,
without the switch, the same call is cut.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import SERVE, free_port, pid_alive, server_env, wait_for_file
from http_messages import ACCEPT, modern, open_session
from idle_proxy import IdleProxy
from mcp import Client

pytestmark = pytest.mark.timeout(90)

IDLE_S = 2.0
LONG_S = 5


@pytest.fixture
async def proxy(request: pytest.FixtureRequest) -> AsyncIterator[IdleProxy]:
    """A real ``codeteam serve --transport http`` (the fake catalog) behind the proxy;
    ``--sse-after`` from the test's parameter (default 1 s)."""
    port = free_port()
    sse_after = getattr(request, "param", 1.0)
    args = ["--port", str(port), "--keepalive", "0.5", "--sse-after", str(sse_after)]
    proc = await asyncio.create_subprocess_exec(
        *SERVE, "--transport", "http", *args, env=server_env()
    )
    try:
        for _ in range(400):
            assert proc.returncode is None, "the server exited at start"
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        async with IdleProxy(port, IDLE_S) as p:
            yield p
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 20)


def long_call(rid: int = 7, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "tools/call",
        "params": {
            "name": "sleep_then_echo",
            "arguments": arguments or {"text": "late", "seconds": LONG_S},
        },
    }


async def post_call(
    http: httpx.AsyncClient, era: str, message: dict[str, Any]
) -> tuple[str, list[str]]:
    """POST a call as a client accepting both answers: (content type, lines received)."""
    if era == "stateless":
        params = message["params"]
        message, headers = modern("tools/call", message["id"], **params)
    else:
        session = await open_session(http)
        headers = {**ACCEPT, "mcp-session-id": session, "mcp-protocol-version": "2025-11-25"}
    async with http.stream("POST", "/mcp", json=message, headers=headers) as r:
        assert r.status_code == 200
        return r.headers["content-type"], [line async for line in r.aiter_lines()]


def answer_of(content_type: str, lines: list[str]) -> Any:
    if content_type.startswith("application/json"):
        return json.loads("".join(lines))
    data = [line[len("data: ") :] for line in lines if line.startswith("data: ")]
    assert len(data) == 1, lines
    return json.loads(data[0])


@pytest.mark.parametrize("era", ["stateless", "session"])
async def test_a_long_call_streams_keepalives_and_passes_an_idle_proxy(
    proxy: IdleProxy, era: str
) -> None:
    async with httpx.AsyncClient(base_url=proxy.url, timeout=30) as http:
        content_type, lines = await post_call(http, era, long_call())
    assert content_type == "text/event-stream"
    assert lines.count(": keepalive") >= 3  # one every 0.5 s from 1 s until the end at 5 s
    answer = answer_of(content_type, lines)
    assert answer["id"] == 7
    assert answer["result"]["structuredContent"] == {"status": "ok", "text": "late"}
    assert proxy.cut == 0


@pytest.mark.parametrize("era", ["stateless", "session"])
async def test_a_quick_call_stays_plain_json(proxy: IdleProxy, era: str) -> None:
    quick = long_call()
    quick["params"]["arguments"]["seconds"] = 0
    async with httpx.AsyncClient(base_url=proxy.url, timeout=30) as http:
        content_type, lines = await post_call(http, era, quick)
    assert content_type == "application/json"
    assert answer_of(content_type, lines)["result"]["structuredContent"]["text"] == "late"


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_sdk_client_gets_a_long_call_through_an_idle_proxy(
    proxy: IdleProxy, mode: str
) -> None:
    async with Client(f"{proxy.url}/mcp", mode=mode) as client:
        result = await client.call_tool("sleep_then_echo", {"text": "late", "seconds": LONG_S})
    assert result.structured_content == {"status": "ok", "text": "late"}
    assert proxy.cut == 0


@pytest.mark.parametrize("proxy", [1000.0], indirect=True)
async def test_without_the_switch_an_idle_proxy_cuts_a_long_call(proxy: IdleProxy) -> None:
    async with httpx.AsyncClient(base_url=proxy.url, timeout=30) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await post_call(http, "stateless", long_call())
    assert proxy.cut == 1


async def test_a_client_leaving_a_streaming_long_call_cancels_it(
    proxy: IdleProxy, tmp_pid_file: Path
) -> None:
    arguments = {"text": "x", "seconds": 60, "pid_file": str(tmp_pid_file)}
    message, headers = modern("tools/call", **long_call(arguments=arguments)["params"])
    async with (
        httpx.AsyncClient(base_url=proxy.url, timeout=30) as http,
        http.stream("POST", "/mcp", json=message, headers=headers) as r,
    ):
        assert r.headers["content-type"] == "text/event-stream"
        lines = r.aiter_lines()
        assert await anext(lines) == ": keepalive"
        pid = int(await wait_for_file(tmp_pid_file))
        assert pid_alive(pid)
    # the connection is closed mid-stream
    for _ in range(500):
        if not pid_alive(pid):
            break
        await asyncio.sleep(0.02)
    assert not pid_alive(pid), "the client left, but its call's child is still running"
