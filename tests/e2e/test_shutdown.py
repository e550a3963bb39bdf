"""Shutdown under load (issue 9, item 6): a real ``codeteam serve`` with 50 calls in flight
(every slot running code, the rest queued) is stopped with SIGTERM, SIGINT, SIGINT then
SIGTERM 100 ms later (how Claude Code stops a server), or, over stdio, by closing stdin.
Every call is answered (its result, or an error saying the server is stopping), the server
exits 0 within 10 s, and nothing of it is left: no process, uid lease, cgroup or temp dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from tests.e2e.conftest import PYTHON, free_port, require_sandbox, server_env
from tests.e2e.footprint import Footprint, descendants

pytestmark = pytest.mark.timeout(180)

SLOTS = 4
CALLS = 50
#: What each call runs: a ``sleep`` with this argument (found in /proc while it runs).
SLEEP = "117"
CODE = f"import os; os.execv('/bin/sleep', ['sleep', '{SLEEP}'])"
SLOW_TEST = (
    f"import subprocess\n\n\ndef test_slow():\n    subprocess.run(['/bin/sleep', '{SLEEP}'])\n"
)
EXECUTE = {"language": "python", "code": CODE, "timeout_s": 150}
STOPPING = -32000
STOPS = {
    "SIGTERM": [signal.SIGTERM],
    "SIGINT": [signal.SIGINT],
    "SIGINT+SIGTERM": [signal.SIGINT, signal.SIGTERM],
}
META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}

#: Starts call number ``i`` of tool ``name``; resolves to its JSON-RPC answer.
StartCall = Callable[[int, str, dict[str, Any]], "asyncio.Future[dict[str, Any]]"]


class Box:
    """A server's private temp and state directories (its ``$TMPDIR``, its state dir).

    Under the host's /tmp, not pytest's 0700 one: the sandbox uids must reach the files
    the server makes there (the JUnit file run_tests collects)."""

    def __init__(self, workspace: Path) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="codeteam-shutdown-test-"))
        self.tmp = self.root / "tmp"
        self.state = self.root / "state"
        for d in (self.root, self.tmp, self.state):
            d.mkdir(exist_ok=True)
            d.chmod(0o755)
        (workspace / "slow").mkdir()
        (workspace / "slow" / "test_slow.py").write_text(SLOW_TEST)
        self.env = {**server_env(), "TMPDIR": str(self.tmp), "CODETEAM_STATE_DIR": str(self.state)}
        self.args = ["--root", str(workspace), "--max-concurrency", str(SLOTS)]


@pytest.fixture
def box(workspace: Path) -> Iterator[Box]:
    made = Box(workspace)
    yield made
    shutil.rmtree(made.root, ignore_errors=True)


def sleepers(server: int) -> int:
    """How many calls of ``server`` are running their code now."""
    count = 0
    for pid in descendants(server):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(argv) > 1 and argv[0].endswith(b"sleep") and argv[1] == SLEEP.encode():
            count += 1
    return count


async def until(condition: Callable[[], bool], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.05)


async def load(server: int, start: StartCall) -> list[asyncio.Future[dict[str, Any]]]:
    """50 calls in flight: two run_tests (their JUnit files in temp dirs), then
    execute_code until every slot runs code and the rest wait for one."""
    calls = [start(0, "run_tests", {"path": "slow"}), start(1, "run_tests", {"path": "slow"})]
    await until(lambda: sleepers(server) >= 2 or any(c.done() for c in calls), "tests run")
    calls += [start(i, "execute_code", EXECUTE) for i in range(2, CALLS)]
    await until(lambda: sleepers(server) >= SLOTS or any(c.done() for c in calls), "slots full")
    assert [c.result() for c in calls if c.done()] == [], "a call ended before the stop"
    return calls


def check_answer(answer: dict[str, Any]) -> str:
    if "result" in answer:
        return "result"
    error = answer["error"]
    assert error["code"] == STOPPING and "shutting down" in error["message"], answer
    return "stopping"


async def stop(proc_pid: int, how: str) -> float:
    started = time.monotonic()
    for i, sig in enumerate(STOPS[how]):
        if i:
            await asyncio.sleep(0.1)  # Claude Code's SIGINT-then-SIGTERM gap, not a wait
        with contextlib.suppress(ProcessLookupError):  # done (and reaped) already
            os.kill(proc_pid, sig)
    return started


def check_clean(fp: Footprint, box: Box, stderr: str) -> None:
    assert fp.uids, "the server leased no sandbox uids: the footprint proves nothing"
    assert fp.temp_dirs, "no temp dirs while tests ran: the temp check proves nothing"
    assert fp.cgroups or "no memory cgroup for calls" in stderr
    assert fp.leftovers([box.tmp, box.state], keep=frozenset({"cache"})) == []
    assert "Traceback" not in stderr, stderr[-3000:]


# ---------------------------------------------------------------------- HTTP


@pytest.mark.parametrize("how", list(STOPS))
async def test_http_server_under_load_answers_every_call_and_leaves_nothing(
    how: str, tmp_path: Path, box: Box
) -> None:
    require_sandbox()
    port = free_port()
    log = (tmp_path / "stderr").open("w+")
    proc = subprocess.Popen(
        [PYTHON, "-m", "codeteam", "serve", "--transport", "http", "--port", str(port), *box.args],
        env=box.env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    limits = httpx.Limits(max_connections=CALLS + 10)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=120, limits=limits
        ) as http:
            await until(lambda: _listening(port), "the server listens", 30)
            async with Client(f"http://127.0.0.1:{port}/mcp", mode="legacy") as sdk:

                async def via_httpx(i: int, name: str, args: dict[str, Any]) -> dict[str, Any]:
                    body = {
                        "jsonrpc": "2.0",
                        "id": i,
                        "method": "tools/call",
                        "params": {"name": name, "arguments": args, "_meta": META},
                    }
                    headers = {
                        "accept": "application/json",
                        "mcp-protocol-version": "2026-07-28",
                        "mcp-method": "tools/call",
                        "mcp-name": name,
                    }
                    r = await http.post("/mcp", json=body, headers=headers)
                    assert r.status_code == 200, (r.status_code, r.text)
                    answer: dict[str, Any] = r.json()
                    return answer

                async def via_sdk(i: int, name: str, args: dict[str, Any]) -> dict[str, Any]:
                    try:
                        result = await sdk.call_tool(name, args)
                    except MCPError as exc:
                        return {"error": {"code": exc.error.code, "message": exc.error.message}}
                    return {"result": result}

                def start(i: int, name: str, args: dict[str, Any]) -> asyncio.Future[Any]:
                    return asyncio.ensure_future((via_sdk if i == 2 else via_httpx)(i, name, args))

                calls = await load(proc.pid, start)
                fp = Footprint.take(proc.pid, [box.tmp, box.state])
                started = await stop(proc.pid, how)
                answers = await asyncio.wait_for(asyncio.gather(*calls), 30)
                await asyncio.to_thread(proc.wait, 30)
        elapsed = time.monotonic() - started
        assert {check_answer(a) for a in answers} <= {"result", "stopping"}
        assert len(answers) == CALLS
        assert proc.returncode == 0 and elapsed < 10, (proc.returncode, elapsed)
        log.seek(0)
        check_clean(fp, box, log.read())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _listening(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
    except OSError:
        return False
    return True


# ---------------------------------------------------------------------- stdio


class StdioClient:
    """Raw JSON lines to a ``codeteam serve`` subprocess; answers matched by id."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            message = json.loads(line)
            future = self.waiting.get(message.get("id"))
            if future is not None and not future.done():
                future.set_result(message)

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")

    def request(self, i: int, method: str, params: dict[str, Any]) -> asyncio.Future[Any]:
        self.waiting[i] = asyncio.get_running_loop().create_future()
        self.send({"jsonrpc": "2.0", "id": i, "method": method, "params": params})
        return self.waiting[i]


@pytest.mark.parametrize("how", ["stdin-closed", *STOPS])
async def test_stdio_server_under_load_answers_every_call_and_leaves_nothing(
    how: str, tmp_path: Path, box: Box
) -> None:
    require_sandbox()
    log = (tmp_path / "stderr").open("w+")
    proc = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "codeteam", "serve", *box.args,
        env=box.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
    )  # fmt: skip
    try:
        client = StdioClient(proc)
        init = {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "shutdown-test", "version": "1"},
        }
        await asyncio.wait_for(client.request(1000, "initialize", init), 30)
        client.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

        def start(i: int, name: str, args: dict[str, Any]) -> asyncio.Future[Any]:
            return client.request(i, "tools/call", {"name": name, "arguments": args})

        calls = await load(proc.pid, start)
        fp = Footprint.take(proc.pid, [box.tmp, box.state])
        if how == "stdin-closed":
            started = time.monotonic()
            assert proc.stdin is not None
            proc.stdin.close()
        else:
            started = await stop(proc.pid, how)
        await asyncio.wait_for(proc.wait(), 30)
        elapsed = time.monotonic() - started
        await asyncio.wait_for(client.reader, 10)
        unanswered = [i for i, f in enumerate(calls) if not f.done()]
        assert unanswered == []
        assert {check_answer(f.result()) for f in calls} <= {"result", "stopping"}
        assert proc.returncode == 0 and elapsed < 10, (proc.returncode, elapsed)
        log.seek(0)
        check_clean(fp, box, log.read())
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
