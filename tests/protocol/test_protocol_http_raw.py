"""Streamable HTTP and legacy SSE at the HTTP level (httpx): security checks, sessions,
version headers, keepalives, and the server process's start-up refusal and shutdown."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from helpers import SERVE, HttpServer, free_port, server_env, start_http
from http_messages import ACCEPT, modern, open_session

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def http(http_server: HttpServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=http_server.base, timeout=10) as client:
        yield client


async def test_stateless_request_is_a_single_json_exchange(http: httpx.AsyncClient) -> None:
    body, headers = modern("tools/call", name="echo", arguments={"text": "hi"})
    r = await http.post("/mcp", json=body, headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert "mcp-session-id" not in r.headers
    result = r.json()["result"]
    assert result["structuredContent"] == {"status": "ok", "text": "hi"}
    assert result["resultType"] == "complete"


async def test_stateless_errors_use_the_spec_status_codes(http: httpx.AsyncClient) -> None:
    body, headers = modern("resources/list")
    r = await http.post("/mcp", json=body, headers=headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == -32601

    body, headers = modern("tools/call", name="echo", arguments={"text": "x"})
    r = await http.post("/mcp", json=body, headers={**headers, "mcp-name": "other"})
    assert r.status_code == 400 and r.json()["error"]["code"] == -32020

    body, headers = modern("tools/list")
    r = await http.post("/mcp", json=body, headers={**headers, "mcp-method": "ping"})
    assert r.status_code == 400 and r.json()["error"]["code"] == -32020

    r = await http.post(
        "/mcp", json=body, headers={**headers, "mcp-protocol-version": "1999-01-01"}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == -32022

    r = await http.post("/mcp", content=b"{not json", headers=headers)
    assert r.status_code == 400 and r.json()["error"]["code"] == -32700

    r = await http.post(
        "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=ACCEPT
    )
    assert r.status_code == 400 and "initialize" in r.json()["error"]["message"]


async def test_sessions_are_created_used_and_deleted(http: httpx.AsyncClient) -> None:
    session = await open_session(http)
    headers = {**ACCEPT, "mcp-session-id": session, "mcp-protocol-version": "2025-11-25"}
    r = await http.post(
        "/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers=headers
    )
    assert [t["name"] for t in r.json()["result"]["tools"]] == ["echo", "sleep_then_echo", "boom"]

    bad_version = {**headers, "mcp-protocol-version": "2031-01-01"}
    r = await http.post(
        "/mcp", json={"jsonrpc": "2.0", "id": 3, "method": "ping"}, headers=bad_version
    )
    assert r.status_code == 400

    r = await http.delete("/mcp", headers=headers)
    assert r.status_code == 204
    r = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 4, "method": "ping"}, headers=headers)
    assert r.status_code == 404
    unknown = {**headers, "mcp-session-id": "f" * 32}
    r = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 5, "method": "ping"}, headers=unknown)
    assert r.status_code == 404


async def test_progress_streams_over_sse_and_the_response_ends_the_stream(
    http: httpx.AsyncClient,
) -> None:
    body, headers = modern(
        "tools/call", name="sleep_then_echo", arguments={"text": "p", "steps": 2}
    )
    body["params"]["_meta"]["progressToken"] = "tok"
    async with http.stream("POST", "/mcp", json=body, headers=headers) as r:
        assert r.headers["content-type"] == "text/event-stream"
        events = [
            json.loads(line[6:]) async for line in r.aiter_lines() if line.startswith("data: ")
        ]
    assert [e.get("method") for e in events] == ["notifications/progress"] * 2 + [None]
    assert events[0]["params"]["progressToken"] == "tok"
    assert events[-1]["result"]["structuredContent"]["text"] == "p"


async def _first_lines(response: httpx.Response, count: int) -> list[str]:
    lines: list[str] = []
    async for line in response.aiter_lines():
        lines.append(line)
        if len(lines) >= count:
            break
    return lines


async def test_idle_session_stream_sends_keepalive_comments(http: httpx.AsyncClient) -> None:
    session = await open_session(http)
    headers = {
        "accept": "text/event-stream",
        "mcp-session-id": session,
        "mcp-protocol-version": "2025-11-25",
    }
    async with http.stream("GET", "/mcp", headers=headers) as r:
        assert r.status_code == 200
        lines = await asyncio.wait_for(_first_lines(r, 3), 5)
    assert lines.count(": keepalive") >= 2


async def test_idle_legacy_sse_stream_sends_endpoint_then_keepalives(
    http: httpx.AsyncClient,
) -> None:
    async with http.stream("GET", "/sse", headers={"accept": "text/event-stream"}) as r:
        lines = await asyncio.wait_for(_first_lines(r, 5), 5)
    assert lines[0] == "event: endpoint"
    assert lines[1].startswith("data: /messages?session_id=")
    assert ": keepalive" in lines[2:]


async def test_legacy_sse_rejects_unknown_sessions(http: httpx.AsyncClient) -> None:
    r = await http.post(
        "/messages?session_id=nope", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}
    )
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"origin": "https://evil.example"}, 403),
        ({"origin": "null"}, 403),
        ({"host": "evil.example:8080"}, 403),
        ({"origin": "http://localhost:3000"}, 200),
        ({"origin": "http://127.0.0.1"}, 200),
    ],
)
async def test_origin_and_host_checks(
    http: httpx.AsyncClient, headers: dict[str, str], status: int
) -> None:
    body, base = modern("tools/list")
    r = await http.post("/mcp", json=body, headers={**base, **headers})
    assert r.status_code == status


async def test_bearer_token_is_required_when_set() -> None:
    srv, server, task = await start_http(token="s3cret-token")
    body, headers = modern("tools/list")
    try:
        async with httpx.AsyncClient(base_url=srv.base, timeout=10) as http:
            r = await http.post("/mcp", json=body, headers=headers)
            assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
            r = await http.post(
                "/mcp", json=body, headers={**headers, "authorization": "Bearer wrong"}
            )
            assert r.status_code == 401 and "invalid_token" in r.headers["www-authenticate"]
            r = await http.get("/sse", headers={"accept": "text/event-stream"})
            assert r.status_code == 401
            ok = {**headers, "authorization": "Bearer s3cret-token"}
            r = await http.post("/mcp", json=body, headers=ok)
            assert r.status_code == 200
    finally:
        srv.app.begin_shutdown()
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def test_sdk_client_with_token_header() -> None:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    srv, server, task = await start_http(token="tok")
    try:
        async with httpx2.AsyncClient(headers={"authorization": "Bearer tok"}) as hc:
            transport = streamable_http_client(srv.mcp, http_client=hc)
            async with Client(transport, mode="legacy") as client:
                assert (await client.call_tool("echo", {"text": "a"})).is_error is False
    finally:
        srv.app.begin_shutdown()
        server.should_exit = True
        await asyncio.wait_for(task, 10)


def test_non_loopback_bind_without_token_is_refused() -> None:
    done = subprocess.run(
        [*SERVE, "--transport", "http", "--host", "0.0.0.0", "--port", str(free_port())],
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 2
    assert "token" in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_http_server_shuts_down_on_signal_with_open_streams(sig: int) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*SERVE, "--transport", "http", "--port", str(port)],
        env=server_env(),
        stderr=subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for _ in range(200):
                try:
                    await http.get("/")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            async with http.stream("GET", "/sse", headers={"accept": "text/event-stream"}) as r:
                lines = r.aiter_lines()
                assert await asyncio.wait_for(anext(lines), 5) == "event: endpoint"
                started = time.monotonic()
                proc.send_signal(sig)
                async for _ in lines:  # the server ends the stream as it shuts down
                    pass
        await asyncio.to_thread(proc.wait, 10)
        assert time.monotonic() - started < 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_oversize_body_gets_413_and_the_server_keeps_serving(
    http: httpx.AsyncClient,
) -> None:
    huge = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"' + b"x" * (17 << 20) + b'"}}'
    r = await http.post(
        "/mcp", content=huge, headers={**ACCEPT, "content-type": "application/json"}
    )
    assert r.status_code == 413
    assert "larger than" in r.json()["error"]["message"]
    body, headers = modern("tools/call", name="echo", arguments={"text": "still here"})
    r = await http.post("/mcp", json=body, headers={**headers, "accept": "application/json"})
    assert r.status_code == 200, (r.status_code, r.headers, r.text)
    assert r.json()["result"]["structuredContent"]["text"] == "still here"


async def test_a_client_accepting_neither_json_nor_sse_gets_406(http: httpx.AsyncClient) -> None:
    body, headers = modern("tools/list")
    r = await http.post("/mcp", json=body, headers={**headers, "accept": "text/html"})
    assert r.status_code == 406
    assert "accept application/json or text/event-stream" in r.json()["error"]["message"]
