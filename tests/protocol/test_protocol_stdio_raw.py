"""Raw stdio frames: every malformed message gets its JSON-RPC answer, and the server
keeps serving; EOF and signals end it promptly without leaving children behind."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from helpers import SERVE, pid_alive, server_env, wait_for_file

pytestmark = pytest.mark.timeout(60)

INIT = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}


class Raw:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def send(self, frame: bytes | dict[str, Any] | list[Any]) -> None:
        data = frame if isinstance(frame, bytes) else json.dumps(frame).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(data + b"\n")
        await self.proc.stdin.drain()

    async def recv(self, timeout: float = 10) -> Any:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        assert line.endswith(b"\n"), f"no answer, got {line!r}"
        assert line.isascii()
        return json.loads(line)

    async def ask(self, frame: bytes | dict[str, Any] | list[Any]) -> Any:
        await self.send(frame)
        return await self.recv()

    async def still_serving(self) -> None:
        answer = await self.ask({"jsonrpc": "2.0", "id": "alive", "method": "ping"})
        assert answer == {"jsonrpc": "2.0", "id": "alive", "result": {}}


async def spawn(**env: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *SERVE,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=server_env(**env),
    )


@pytest.fixture
async def raw() -> AsyncIterator[Raw]:
    proc = await spawn()
    r = Raw(proc)
    assert (await r.ask(INIT))["result"]["protocolVersion"] == "2025-11-25"
    yield r
    if proc.returncode is None:
        proc.kill()
        await proc.wait()


async def test_bytes_that_are_not_json_get_a_parse_error_with_null_id(raw: Raw) -> None:
    answer = await raw.ask(b"this is not json {")
    assert answer["id"] is None and answer["error"]["code"] == -32700
    await raw.still_serving()


async def test_invalid_utf8_gets_a_parse_error_carrying_the_recovered_id(raw: Raw) -> None:
    answer = await raw.ask(b'{"jsonrpc":"2.0","id":7,"method":"ping","params":{"x":"\xff\xfe"}}')
    assert answer["id"] == 7 and answer["error"]["code"] == -32700
    assert "UTF-8" in answer["error"]["message"]
    await raw.still_serving()


async def test_lone_surrogate_in_arguments_is_a_tool_error_not_a_crash(raw: Raw) -> None:
    frame = (
        b'{"jsonrpc":"2.0","id":8,"method":"tools/call",'
        b'"params":{"name":"echo","arguments":{"text":"a\\ud800b"}}}'
    )
    answer = await raw.ask(frame)
    assert answer["id"] == 8
    assert answer["result"]["isError"] is True
    assert "surrogate" in answer["result"]["structuredContent"]["error"]
    await raw.still_serving()


async def test_lone_surrogate_in_id_and_method_is_echoed_safely(raw: Raw) -> None:
    answer = await raw.ask(b'{"jsonrpc":"2.0","id":"\\udc00","method":"x\\ud800"}')
    assert answer["id"] == "\udc00" and answer["error"]["code"] == -32601
    await raw.still_serving()


async def test_unknown_method_is_method_not_found(raw: Raw) -> None:
    answer = await raw.ask({"jsonrpc": "2.0", "id": 9, "method": "resources/list"})
    assert answer["error"]["code"] == -32601 and answer["id"] == 9
    await raw.still_serving()


async def test_wrong_shapes_are_invalid_requests(raw: Raw) -> None:
    for frame, expected_id in [
        ({"jsonrpc": "1.0", "id": 1, "method": "ping"}, 1),
        ({"jsonrpc": "2.0", "id": None, "method": "ping"}, None),
        ({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}, None),
        ({"jsonrpc": "2.0", "id": 2, "method": 5}, 2),
        (42, None),
        ("ping", None),
    ]:
        answer = await raw.ask(frame)
        assert answer["error"]["code"] == -32600, frame
        assert answer["id"] == expected_id
    bad_params = await raw.ask({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": [1]})
    assert bad_params["error"]["code"] == -32602
    await raw.still_serving()


async def test_a_message_without_id_is_a_notification_and_gets_no_answer(raw: Raw) -> None:
    await raw.send({"jsonrpc": "2.0", "method": "tools/list"})
    await raw.send({"jsonrpc": "2.0", "method": "notifications/unknown"})
    await raw.still_serving()  # the next line read is the ping's answer, nothing before it


async def test_batches_are_answered_as_one_array(raw: Raw) -> None:
    answer = await raw.ask(
        [
            {"jsonrpc": "2.0", "id": 1, "method": "ping"},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "echo", "arguments": {"text": "b"}},
            },
            {"jsonrpc": "2.0", "id": 3, "method": "nope"},
        ]
    )
    by_id = {a["id"]: a for a in answer}
    assert set(by_id) == {1, 2, 3}
    assert by_id[2]["result"]["structuredContent"]["text"] == "b"
    assert by_id[3]["error"]["code"] == -32601
    empty = await raw.ask([])
    assert empty["error"]["code"] == -32600
    await raw.still_serving()


async def test_unknown_tool_and_bad_params_are_invalid_params(raw: Raw) -> None:
    unknown = await raw.ask(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "nope"}}
    )
    assert unknown["error"]["code"] == -32602 and "nope" in unknown["error"]["message"]
    nameless = await raw.ask({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {}})
    assert nameless["error"]["code"] == -32602
    await raw.still_serving()


async def test_a_crashing_tool_is_an_internal_error_and_the_server_stays_up(raw: Raw) -> None:
    answer = await raw.ask(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "boom"}}
    )
    assert answer["error"]["code"] == -32603
    await raw.still_serving()


async def test_modern_requests_are_checked_per_request(raw: Raw) -> None:
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    listed = await raw.ask(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}}
    )
    assert (
        listed["result"]["resultType"] == "complete" and listed["result"]["cacheScope"] == "public"
    )
    old = dict(meta, **{"io.modelcontextprotocol/protocolVersion": "1999-01-01"})
    refused = await raw.ask(
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": old}}
    )
    assert refused["error"]["code"] == -32022
    assert "2026-07-28" in refused["error"]["data"]["supported"]
    no_caps = {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}
    missing = await raw.ask(
        {"jsonrpc": "2.0", "id": 3, "method": "server/discover", "params": {"_meta": no_caps}}
    )
    assert missing["error"]["code"] == -32602


async def test_oversize_line_is_refused_and_the_next_line_served() -> None:
    # small code/stdin caps: the frame cap is then its 8 MiB floor
    proc = await spawn(CODETEAM_MAX_CODE_BYTES="1000", CODETEAM_MAX_STDIN_BYTES="1000")
    r = Raw(proc)
    try:
        await r.send(b'{"x":"' + b"a" * (9 << 20) + b'"}')
        answer = await r.recv()
        assert answer["error"]["code"] == -32700 and "larger" in answer["error"]["message"]
        await r.still_serving()
    finally:
        proc.kill()
        await proc.wait()


async def _running_call(r: Raw, pid_file: Path) -> int:
    await r.send(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {
                "name": "sleep_then_echo",
                "arguments": {"text": "t", "seconds": 60, "pid_file": str(pid_file)},
            },
        }
    )
    return int(await wait_for_file(pid_file))


@pytest.mark.parametrize("how", ["eof", signal.SIGINT, signal.SIGTERM, "SIGINT+SIGTERM"])
async def test_server_exits_0_promptly_and_answers_and_kills_running_calls(
    how: Any, tmp_pid_file: Path
) -> None:
    proc = await spawn()
    r = Raw(proc)
    await r.ask(INIT)
    child = await _running_call(r, tmp_pid_file)
    started = time.monotonic()
    if how == "eof":
        assert proc.stdin is not None
        proc.stdin.close()
    elif how == "SIGINT+SIGTERM":  # how Claude Code stops a stdio server
        proc.send_signal(signal.SIGINT)
        await asyncio.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):  # done already
            proc.send_signal(signal.SIGTERM)
    else:
        proc.send_signal(how)
    answer = await r.recv()
    assert answer["id"] == 1 and answer["error"]["code"] == -32000, answer
    assert "shutting down" in answer["error"]["message"]
    assert await asyncio.wait_for(proc.wait(), 5) == 0
    assert time.monotonic() - started < 3
    assert not pid_alive(child)


@pytest.mark.parametrize("how", ["eof", signal.SIGINT, signal.SIGTERM])
async def test_idle_server_exits_promptly(how: Any) -> None:
    proc = await spawn()
    r = Raw(proc)
    await r.ask(INIT)
    if how == "eof":
        assert proc.stdin is not None
        proc.stdin.close()
    else:
        proc.send_signal(how)
    await asyncio.wait_for(proc.wait(), 3)


async def test_stray_prints_cannot_corrupt_stdout(raw: Raw) -> None:
    # the server points fd 1 at stderr; only protocol frames reach the client
    await raw.still_serving()
    assert raw.proc.stdout is not None
    await raw.send({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "boom"}})
    answer = await raw.recv()
    assert answer["id"] == 5  # the traceback-ish log line went to stderr, not stdout
