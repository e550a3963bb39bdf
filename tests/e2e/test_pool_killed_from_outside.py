"""Pooled sandboxes killed from outside (the OOM killer, an operator's ``kill -9``) while
idle: through a real MCP session to a real ``codeteam serve``, the calls after the kill
all answer normally, none is blamed on a limit it never hit, and the pool refills.

The test finds the pooled sandboxes as an operator would: by scanning ``/proc`` for the
server's descendants, never by asking the server.
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.e2e.conftest import connect, require_sandbox

pytestmark = pytest.mark.usefixtures("sandbox_required")

POOL = 3
#: The ``read`` system call's number, as ``/proc/PID/syscall`` shows it.
READ = {"x86_64": 0, "aarch64": 63}.get(platform.machine())


@pytest.fixture
def sandbox_required() -> None:
    require_sandbox()
    if READ is None:
        pytest.skip(f"no read(2) number known for {platform.machine()}")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, ppid) of ``pid``, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    rest = raw[raw.rfind(b")") + 2 :].split()
    return rest[0].decode(), int(rest[1])


def _read(pid: int, part: str) -> bytes:
    try:
        with open(f"/proc/{pid}/{part}", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _uid(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def server_pid(workspace: Path) -> int:
    """The ``codeteam serve`` the client started (its command line names the workspace)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            argv = _read(int(entry), "cmdline").split(b"\0")
            if b"serve" in argv and str(workspace).encode() in argv:
                return int(entry)
    raise AssertionError("the server process was not found")


def descendants(root: int) -> list[int]:
    """Live (not zombie) processes below ``root``."""
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))) is not None and st[0] != "Z":
            parent[int(entry)] = st[1]
    found, frontier = [], {root}
    while frontier:
        frontier = {pid for pid, ppid in parent.items() if ppid in frontier}
        found += frontier
    return found


def waiting_runners(server: int, exclude_uid: int | None = None) -> list[int]:
    """Pooled sandboxes ready for a call: an interpreter of ``/work/main.py`` blocked
    reading a socket (its control socket; the call's file is not filled yet)."""
    found = []
    for pid in descendants(server):
        if b"/work/main.py" not in _read(pid, "cmdline"):
            continue
        call = _read(pid, "syscall").split()
        if len(call) < 2 or call[0] != str(READ).encode() or _uid(pid) == exclude_uid:
            continue
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{int(call[1], 16)}").startswith("socket:"):
                found.append(pid)
    return found


async def wait_for(what: str, probe: Callable[[], Any], deadline_s: float = 60.0) -> Any:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if got := probe():
            return got
        await anyio.sleep(0.05)
    raise AssertionError(f"never happened within {deadline_s} s: {what}")


def kill_pooled_sandboxes(server: int, runners: list[int]) -> list[int]:
    """SIGKILL every process of those runners' uids below the server: the launcher,
    bubblewrap's pid 1 and the runner, as ``kill -9`` by uid would."""
    uids = {_uid(pid) for pid in runners} - {None}
    victims = [pid for pid in descendants(server) if _uid(pid) in uids]
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):  # died with the one killed before it
            os.kill(pid, signal.SIGKILL)
    return victims


async def call(client: Any, code: str) -> dict[str, Any]:
    r = await client.call_tool("execute_code", {"language": "python", "code": code})
    assert r.structured_content is not None
    return dict(r.structured_content)


async def five_calls_are_all_ok(client: Any) -> None:
    for i in range(5):
        s = await call(client, f"print({i})")
        assert (s["status"], s["limit"], s["stdout"]) == ("ok", None, f"{i}\n"), (i, s)


async def test_calls_after_the_idle_pooled_sandboxes_are_killed_all_answer_ok(
    workspace: Path,
) -> None:
    args = ("--pool-size", str(POOL))
    async with connect("stdio", "auto", workspace, server_args=args) as client:
        assert (await call(client, "print('warm')"))["stdout"] == "warm\n"
        server = server_pid(workspace)
        runners = await wait_for(
            "a full pool", lambda: len(r := waiting_runners(server)) == POOL and r
        )
        assert kill_pooled_sandboxes(server, runners)
        await wait_for(
            "the pooled sandboxes to die", lambda: not set(runners) & set(descendants(server))
        )
        await five_calls_are_all_ok(client)
        await wait_for("the pool to refill", lambda: len(waiting_runners(server)) == POOL)


async def test_the_same_while_a_call_is_in_flight_in_another_slot(workspace: Path) -> None:
    """The call in flight is untouched by the kill and answers normally when it ends (the
    test ends it by killing its ``sleep``, so it is surely running throughout)."""
    token = "307.25"
    in_flight_code = (
        "import subprocess\n"
        f"r = subprocess.run(['sleep', '{token}'])\n"
        "print('woke', r.returncode)\n"
    )
    args = ("--pool-size", str(POOL))
    async with connect("stdio", "auto", workspace, server_args=args) as client:
        assert (await call(client, "print('warm')"))["stdout"] == "warm\n"
        server = server_pid(workspace)
        await wait_for("a full pool", lambda: len(waiting_runners(server)) == POOL)
        async with anyio.create_task_group() as tg:
            answers: list[dict[str, Any]] = []

            async def in_flight() -> None:
                answers.append(await call(client, in_flight_code))

            tg.start_soon(in_flight)

            def sleeper() -> list[int]:
                return [
                    pid
                    for pid in descendants(server)
                    if _read(pid, "cmdline").split(b"\0")[:2] == [b"sleep", token.encode()]
                ]

            sleep_pid = (await wait_for("the call in flight to start", sleeper))[0]
            busy_uid = _uid(sleep_pid)
            runners = waiting_runners(server, exclude_uid=busy_uid)
            assert runners, "some pooled sandboxes are idle beside the call in flight"
            assert busy_uid not in {_uid(pid) for pid in kill_pooled_sandboxes(server, runners)}
            await wait_for(
                "the pooled sandboxes to die", lambda: not set(runners) & set(descendants(server))
            )
            await five_calls_are_all_ok(client)
            assert answers == [], "the call in flight is still running"
            os.kill(sleep_pid, signal.SIGKILL)
        (flight,) = answers
        assert (flight["status"], flight["limit"], flight["stdout"]) == ("ok", None, "woke -9\n")
        await wait_for("the pool to refill", lambda: len(waiting_runners(server)) == POOL)
