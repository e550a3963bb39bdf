"""SIGTERM/SIGINT with a call running on every HTTP answer path: each call is answered that
the server is stopping (JSON-RPC -32000), its child dies, and the server exits 0."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import SERVE, free_port, pid_alive, server_env, wait_for_file
from http_messages import ACCEPT, modern, open_session

pytestmark = pytest.mark.timeout(90)

STOPPING = -32000


def sleep_call(rid: int, pid_file: Path, progress: bool = False) -> dict[str, Any]:
    params: dict[str, Any] = {
        "name": "sleep_then_echo",
        "arguments": {"text": "never", "seconds": 60, "pid_file": str(pid_file)},
    }
    if progress:
        params["_meta"] = {"progressToken": "p"}
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}


def last_event(lines: list[str]) -> Any:
    data = [line[len("data: ") :] for line in lines if line.startswith("data: ")]
    return json.loads(data[-1])


async def json_only(http: httpx.AsyncClient, pid_file: Path) -> Any:
    """2026-07-28, a client accepting JSON only: the call runs in its request's task."""
    body, headers = modern("tools/call", 1, **sleep_call(1, pid_file)["params"])
    r = await http.post("/mcp", json=body, headers={**headers, "accept": "application/json"})
    assert r.headers["content-type"] == "application/json"
    return r.json()


#: Set once the late-stream call is streaming (its first keepalive arrived).
STREAMING: dict[str, asyncio.Event] = {}


async def late_stream(http: httpx.AsyncClient, pid_file: Path) -> Any:
    """A 2025-11-25 session accepting both: JSON that turned into an SSE stream."""
    session = await open_session(http)
    headers = {**ACCEPT, "mcp-session-id": session, "mcp-protocol-version": "2025-11-25"}
    async with http.stream("POST", "/mcp", json=sleep_call(2, pid_file), headers=headers) as r:
        assert r.headers["content-type"] == "text/event-stream"
        lines = r.aiter_lines()
        assert await anext(lines) == ": keepalive"
        STREAMING["late"].set()
        return last_event([line async for line in lines])


async def progress_stream(http: httpx.AsyncClient, pid_file: Path) -> Any:
    """A call with a progress token: an SSE stream from the start, its call in a task."""
    session = await open_session(http)
    headers = {**ACCEPT, "mcp-session-id": session, "mcp-protocol-version": "2025-11-25"}
    message = sleep_call(3, pid_file, progress=True)
    async with http.stream("POST", "/mcp", json=message, headers=headers) as r:
        return last_event([line async for line in r.aiter_lines()])


async def legacy_sse(http: httpx.AsyncClient, pid_file: Path) -> Any:
    """The 2024-11-05 transport: the answer comes on the GET /sse stream."""
    async with http.stream("GET", "/sse", headers={"accept": "text/event-stream"}) as r:
        lines = r.aiter_lines()
        assert await anext(lines) == "event: endpoint"
        endpoint = (await anext(lines))[len("data: ") :]
        posted = await http.post(endpoint, json=sleep_call(4, pid_file))
        assert posted.status_code == 202
        return last_event([line async for line in lines])


PATHS: list[Callable[[httpx.AsyncClient, Path], Awaitable[Any]]] = [
    json_only,
    late_stream,
    progress_stream,
    legacy_sse,
]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_stopping_http_server_answers_the_call_on_every_path(
    sig: int, tmp_path: Path
) -> None:
    STREAMING["late"] = asyncio.Event()
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *SERVE, "--transport", "http", "--port", str(port), "--keepalive", "0.5",
        "--sse-after", "0.5", env=server_env(),
    )  # fmt: skip
    try:
        for _ in range(400):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            pid_files = [tmp_path / f"{path.__name__}.pid" for path in PATHS]
            calls = [
                asyncio.ensure_future(path(http, f))
                for path, f in zip(PATHS, pid_files, strict=True)
            ]
            pids = [int(await wait_for_file(f, 30)) for f in pid_files]
            await asyncio.wait_for(STREAMING["late"].wait(), 30)
            proc.send_signal(sig)
            answers = await asyncio.wait_for(asyncio.gather(*calls), 20)
        assert [a["error"]["code"] for a in answers] == [STOPPING] * len(PATHS), answers
        assert all("shutting down" in a["error"]["message"] for a in answers)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
        assert not any(pid_alive(pid) for pid in pids)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
