"""The team's stdio MCP client where a server misbehaves or a caller gives up: a server
that dies mid-call, asks the client something, ignores the end of its stdin, or has a
call cancelled under it. (Well-behaved servers, ours and the official SDK's, are the
rest of tests/team.)"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from codeteam.team import stdio_client
from codeteam.team.mcp import McpTools
from codeteam.team.stdio_client import RequestFailed, open_stdio_session

pytestmark = pytest.mark.timeout(60)

#: A server whose tools misbehave on purpose; it logs every message it receives.
SERVER = """
import json, os, signal, sys, time
log = open(sys.argv[1], "a")
def send(m):
    sys.stdout.write(json.dumps(m) + "\\n"); sys.stdout.flush()
for line in sys.stdin:
    m = json.loads(line); log.write(line); log.flush()
    method, rid = m.get("method"), m.get("id")
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": rid, "result": {"protocolVersion": "2025-11-25",
              "capabilities": {"tools": {}}, "serverInfo": {"name": "s", "version": "1"}}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": rid, "result": {"tools": [{"name": "t",
              "inputSchema": {"type": "object"}}]}})
    elif method == "tools/call":
        how = m["params"]["name"]
        if how == "die":
            sys.exit(3)
        if how == "ask":
            send({"jsonrpc": "2.0", "id": "s1", "method": "ping"})
            send({"jsonrpc": "2.0", "id": "s2", "method": "roots/list"})
            answers = [json.loads(sys.stdin.readline()) for _ in range(2)]
            send({"jsonrpc": "2.0", "id": rid, "result": {"content": [
                {"type": "text", "text": json.dumps(answers)}]}})
        if how == "stubborn":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            send({"jsonrpc": "2.0", "id": rid, "result": {"content": []}})
            while True:
                time.sleep(1)
        # "hang": never answered
"""


@pytest.fixture
def server(tmp_path: Path) -> tuple[list[str], Path]:
    script, log = tmp_path / "server.py", tmp_path / "received.jsonl"
    script.write_text(SERVER)
    return [sys.executable, str(script), str(log)], log


def received(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


async def test_a_server_that_dies_during_a_call_answers_it_as_a_protocol_error(
    server: tuple[list[str], Path], tmp_path: Path
) -> None:
    argv, _ = server
    async with open_stdio_session(argv, {}, str(tmp_path)) as session:
        outcome = await McpTools(session, []).call("die", {})
        assert outcome.status == "protocol_error" and outcome.is_error
        assert "the server exited, code 3" in outcome.text
        with pytest.raises(RequestFailed, match="code 3"):  # and every later request
            await session.call_tool("t", {})


async def test_arguments_that_are_not_json_fail_that_call_only(
    server: tuple[list[str], Path], tmp_path: Path
) -> None:
    argv, _ = server
    async with open_stdio_session(argv, {}, str(tmp_path)) as session:
        outcome = await McpTools(session, []).call("t", {"x": float("nan")})
        assert outcome.status == "protocol_error" and "cannot send" in outcome.text
        assert [t["name"] for t in await session.list_tools()] == ["t"]


async def test_requests_from_the_server_are_answered(
    server: tuple[list[str], Path], tmp_path: Path
) -> None:
    argv, _ = server
    async with open_stdio_session(argv, {}, str(tmp_path)) as session:
        result = await session.call_tool("ask", {})
    ping, roots = json.loads(result["content"][0]["text"])
    assert ping == {"jsonrpc": "2.0", "id": "s1", "result": {}}
    assert roots["id"] == "s2" and roots["error"]["code"] == -32601


async def test_a_cancelled_call_is_cancelled_at_the_server_too(
    server: tuple[list[str], Path], tmp_path: Path
) -> None:
    argv, log = server
    async with open_stdio_session(argv, {}, str(tmp_path)) as session:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(session.call_tool("hang", {}), 0.5)
        await session.list_tools()  # the session goes on; the server has read the notice
    call, cancel = received(log)[2:4]
    assert call["method"] == "tools/call"
    assert cancel["method"] == "notifications/cancelled"
    assert cancel["params"]["requestId"] == call["id"]  # type: ignore[index]


async def test_a_server_that_ignores_the_end_of_stdin_and_sigterm_is_killed(
    server: tuple[list[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stdio_client, "EXIT_GRACE_S", 0.2)
    monkeypatch.setattr(stdio_client, "TERM_GRACE_S", 0.2)
    argv, _ = server
    async with open_stdio_session(argv, {}, str(tmp_path)) as session:
        await session.call_tool("stubborn", {})
        proc = session._proc
    assert proc.returncode == -9
