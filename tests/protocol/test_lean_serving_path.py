"""The fast paths of issue 4 keep their promises: tools/list over stdio before any heavy
import, the precomputed listing equal to the live catalog, bad settings still fatal, and
the HTTP hot path (calls run in the request's task) still cancelling on disconnect."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path

import fake_tools
import httpx
import pytest
from helpers import SERVE, HttpServer, pid_alive, server_env, wait_for_file

from codeteam.assembly import builtin_listing
from codeteam.protocol.catalog import ToolCatalog
from codeteam.protocol.dispatcher import Answer, Call, Dispatcher, Session

pytestmark = pytest.mark.timeout(60)

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
#: Modules the stdio server must not have imported when it answers the handshake.
HEAVY = (
    "asyncio",
    "argparse",
    "typing",
    "dataclasses",
    "pathlib",
    "codeteam.config",
    "codeteam.tools.base",
    "codeteam.tools.catalog",
    "codeteam.toolchains",
    "codeteam.sandbox",
)


def test_a_stale_listing_is_replaced_by_the_live_one_on_first_load(
    capsys: pytest.CaptureFixture[str],
) -> None:
    catalog = ToolCatalog(["echo"], "[]", fake_tools.catalog, "regenerate-it")
    dispatcher = Dispatcher(lambda: None, catalog)  # type: ignore[arg-type,return-value]
    session = Session()
    listed = dispatcher.route(LIST, session)
    assert isinstance(listed, Answer) and listed.frame is not None
    assert json.loads(listed.frame)["result"]["tools"] == []
    call = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "echo"}}
    assert isinstance(dispatcher.route(call, session), Call)
    err = capsys.readouterr().err
    assert "stale" in err and "Run: regenerate-it" in err
    listed = dispatcher.route(LIST, session)
    assert isinstance(listed, Answer) and listed.frame is not None
    names = [t["name"] for t in json.loads(listed.frame)["result"]["tools"]]
    assert names == ["echo", "sleep_then_echo", "boom"]


def _send(proc: subprocess.Popen[bytes], message: object) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(message).encode() + b"\n")
    proc.stdin.flush()


def _answer(proc: subprocess.Popen[bytes]) -> dict[str, object]:
    assert proc.stdout is not None
    answer: dict[str, object] = json.loads(proc.stdout.readline())
    return answer


def _imported(importtime_log: str) -> set[str]:
    names = set()
    for line in importtime_log.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


#: The number of read(2) on the machines this runs on.
READ_SYSCALL = {"x86_64": 0, "aarch64": 63}


def waits_for_input(proc: subprocess.Popen[bytes], deadline_s: float = 30) -> None:
    """Wait until ``proc`` has one thread, blocked in read(2) on the pipe we write its
    stdin through: it has done all it does before the next message."""
    read = READ_SYSCALL.get(os.uname().machine)
    if read is None:
        pytest.skip(f"read(2)'s number is not known here ({os.uname().machine})")
    assert proc.stdin is not None
    pipe = f"pipe:[{os.fstat(proc.stdin.fileno()).st_ino}]"
    state = ""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        state = Path(f"/proc/{proc.pid}/syscall").read_text().strip()
        number, *args = state.split()
        threads = len(os.listdir(f"/proc/{proc.pid}/task"))
        on_fd = f"/proc/{proc.pid}/fd/{int(args[0], 16)}" if args else ""
        if number == str(read) and threads == 1 and os.readlink(on_fd) == pipe:
            return
        time.sleep(0.005)
    raise AssertionError(f"the server never waited for input (last syscall: {state})")


def test_stdio_handshake_is_answered_before_any_heavy_import() -> None:
    env = server_env(catalog=None, PYTHONPROFILEIMPORTTIME="1")
    bare = subprocess.run([SERVE[0], "-c", "pass"], env=env, capture_output=True, check=True)
    interpreter_own = _imported(bare.stderr.decode())  # e.g. .pth files of a pyenv build
    heavy = set(HEAVY) - interpreter_own
    proc = subprocess.Popen(
        SERVE, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        _send(proc, INIT)
        assert _answer(proc)["id"] == 1
        # Once the server waits for the next message, everything it imported is logged.
        waits_for_input(proc)
        assert proc.stderr is not None
        os.set_blocking(proc.stderr.fileno(), False)
        before = _imported((proc.stderr.read() or b"").decode())
        assert "codeteam.protocol.dispatcher" in before
        assert not before & heavy, sorted(before & heavy)
        _send(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _send(proc, LIST)
        listed = _answer(proc)
        result = listed["result"]
        assert isinstance(result, dict)
        assert [t["name"] for t in result["tools"]] == list(builtin_listing.NAMES)
        proc.stdin.close()  # type: ignore[union-attr]
        assert proc.wait(10) == 0
        os.set_blocking(proc.stderr.fileno(), True)
        after = _imported(proc.stderr.read().decode())
        assert "codeteam.config" in after  # settled (validated) right after tools/list
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_bad_setting_ends_the_stdio_server_right_after_tools_list() -> None:
    env = server_env(catalog=None, CODETEAM_MAX_CONCURRENCY="0")
    proc = subprocess.Popen(
        SERVE, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        _send(proc, INIT)
        assert _answer(proc)["id"] == 1
        _send(proc, LIST)
        assert _answer(proc)["id"] == 2
        assert proc.wait(10) == 2
        assert proc.stderr is not None
        err = proc.stderr.read().decode().strip()
        assert err.startswith("codeteam: ") and "max-concurrency" in err
        assert len(err.splitlines()) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_http_client_disconnect_cancels_a_json_answered_call(
    http_server: HttpServer, tmp_pid_file: Path
) -> None:
    accept = {"accept": "application/json"}
    async with httpx.AsyncClient(base_url=http_server.base, timeout=30) as http:
        r = await http.post("/mcp", json=INIT, headers=accept)
        session = {**accept, "mcp-session-id": r.headers["mcp-session-id"]}
        call = {
            "jsonrpc": "2.0",
            "id": 5,
            "method": "tools/call",
            "params": {
                "name": "sleep_then_echo",
                "arguments": {"text": "x", "seconds": 30, "pid_file": str(tmp_pid_file)},
            },
        }
        request = asyncio.ensure_future(http.post("/mcp", json=call, headers=session))
        pid = int(await wait_for_file(tmp_pid_file))
        assert pid_alive(pid)
        request.cancel()  # drops the connection mid-call
        with pytest.raises(asyncio.CancelledError):
            await request
    for _ in range(250):
        if not pid_alive(pid):
            break
        await asyncio.sleep(0.02)
    assert not pid_alive(pid), "the client left, but its call's child is still running"


def test_http_server_runs_on_httptools_and_uvloop() -> None:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from codeteam.config import load_settings
    from codeteam.protocol.http import McpApp, uvicorn_config

    settings = load_settings({"transport": "http"})
    config = uvicorn_config(McpApp(Dispatcher(settings, []), settings, 1 << 20), settings)
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol
    loop_factory = config.get_loop_factory()
    assert loop_factory is not None
    loop = loop_factory()
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()


async def test_a_reused_tool_outcome_is_answered_under_each_request_id() -> None:
    from dataclasses import dataclass, fields

    from codeteam.tools.base import Outcome, ToolSpec

    same = Outcome({"status": "ok", "n": 1}, "the same answer", False)

    @dataclass
    class AnswersFromCache(ToolSpec):
        async def call(self, ctx: object, arguments: object) -> Outcome:
            return same

    echo = fake_tools.catalog()[0]
    spec = AnswersFromCache(**{f.name: getattr(echo, f.name) for f in fields(echo)})
    dispatcher = Dispatcher(lambda: None, [spec])  # type: ignore[arg-type,return-value]
    session = Session()
    answers = []
    for request_id in (1, "b", 3):
        call = dispatcher.route(
            {
                "jsonrpc": "2.0",
                "id": request_id,
                "method": "tools/call",
                "params": {"name": "echo"},
            },
            session,
        )
        assert isinstance(call, Call)
        answers.append(json.loads(await dispatcher.run(call, None)))
    assert [a["id"] for a in answers] == [1, "b", 3]
    for answer in answers:
        assert answer["result"]["structuredContent"] == {"status": "ok", "n": 1}
        assert answer["result"]["content"][0]["text"] == "the same answer"
