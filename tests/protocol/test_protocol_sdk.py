"""The official MCP SDK client (mcp 2.3.0) as the oracle: every transport, both eras."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from helpers import SERVE, HttpServer, pid_alive, server_env, wait_for_file
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client

pytestmark = pytest.mark.timeout(60)


def stdio_client(mode: str) -> Client:
    params = StdioServerParameters(command=SERVE[0], args=SERVE[1:], env=server_env())
    return Client(params, mode=mode)


async def _exercise(client: Client, expected_version: str, pid_file: Path) -> None:
    async with client:
        assert client.protocol_version == expected_version
        tools = await client.list_tools()
        assert [t.name for t in tools.tools] == ["echo", "sleep_then_echo", "boom"]
        assert tools.tools[0].input_schema["additionalProperties"] is False

        result = await client.call_tool("echo", {"text": "héllo"})
        assert result.is_error is False
        assert result.structured_content == {"status": "ok", "text": "héllo"}
        assert result.content[0].text == "echo: héllo"  # type: ignore[union-attr]

        rejected = await client.call_tool("echo", {"text": "reject me"})
        assert rejected.is_error is True
        assert rejected.structured_content["status"] == "rejected"  # type: ignore[index]

        bad_args = await client.call_tool("echo", {"text": 5, "extra": 1})
        assert bad_args.is_error is True
        assert "unknown argument" in bad_args.structured_content["error"]  # type: ignore[index]

        seen: list[tuple[float, float | None, str | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append((progress, total, message))

        done = await client.call_tool(
            "sleep_then_echo", {"text": "x", "steps": 3}, progress_callback=on_progress
        )
        assert done.structured_content == {"status": "ok", "text": "x"}
        assert seen == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]

        # concurrent calls, answered independently
        results = await asyncio.gather(
            *(client.call_tool("echo", {"text": str(i)}) for i in range(20))
        )
        assert [r.structured_content["text"] for r in results] == [  # type: ignore[index]
            str(i) for i in range(20)
        ]

        # cancellation: the tool's child process dies with the request
        call = asyncio.ensure_future(
            client.call_tool(
                "sleep_then_echo", {"text": "late", "seconds": 60, "pid_file": str(pid_file)}
            )
        )
        pid = int(await wait_for_file(pid_file))
        assert pid_alive(pid)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        for _ in range(200):
            if not pid_alive(pid):
                break
            await asyncio.sleep(0.02)
        assert not pid_alive(pid), "cancelling the request did not kill the call's child"

        # the server still serves after all that
        again = await client.call_tool("echo", {"text": "still here"})
        assert again.structured_content == {"status": "ok", "text": "still here"}


@pytest.mark.parametrize(("mode", "version"), [("legacy", "2025-11-25"), ("auto", "2026-07-28")])
async def test_sdk_client_over_stdio(mode: str, version: str, tmp_pid_file: Path) -> None:
    await _exercise(stdio_client(mode), version, tmp_pid_file)


@pytest.mark.parametrize(("mode", "version"), [("legacy", "2025-11-25"), ("auto", "2026-07-28")])
async def test_sdk_client_over_streamable_http(
    mode: str, version: str, http_server: HttpServer, tmp_pid_file: Path
) -> None:
    await _exercise(Client(http_server.mcp, mode=mode), version, tmp_pid_file)


async def test_sdk_client_over_legacy_sse(http_server: HttpServer, tmp_pid_file: Path) -> None:
    transport: AbstractAsyncContextManager[Any] = sse_client(http_server.sse)
    await _exercise(Client(transport, mode="legacy"), "2025-11-25", tmp_pid_file)


async def test_unknown_tool_is_a_protocol_error(http_server: HttpServer) -> None:
    from mcp.shared.exceptions import MCPError

    async with Client(http_server.mcp, mode="legacy") as client:
        with pytest.raises(MCPError) as info:
            await client.call_tool("no_such_tool", {})
        assert info.value.code == -32602
        assert "no_such_tool" in str(info.value)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_real_catalog_over_stdio_lists_and_calls_list_toolchains(mode: str) -> None:
    params = StdioServerParameters(command=SERVE[0], args=SERVE[1:], env=server_env(catalog=None))
    async with Client(params, mode=mode) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert {"execute_code", "run_tests", "code_review", "list_toolchains"} <= names
        result = await client.call_tool("list_toolchains", {})
        assert result.is_error is False
        assert result.structured_content is not None
        assert result.structured_content["status"] == "ok"
        assert "python" in result.content[0].text.lower()  # type: ignore[union-attr]
