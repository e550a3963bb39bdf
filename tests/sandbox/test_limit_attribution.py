"""A result names a limit only when that limit fired on the call's own code: a SIGKILL
from outside (an operator, the host's OOM killer) is a signal, not ``memory``; the call's
memory cgroup killing it is ``memory``, proven by the cgroup's OOM-kill count."""

from __future__ import annotations

import asyncio
import time

from codeteam.sandbox import Limits, Sandbox, SandboxSpec, procs
from tests.sandbox.conftest import PY, sandbox_processes
from tests.sandbox.test_limits import memory_cgroups_or_skip


async def test_a_call_killed_from_outside_names_no_limit(sandbox: Sandbox) -> None:
    token = "306.75"
    code = f"import subprocess\nsubprocess.run(['sleep', '{token}'])"
    call = asyncio.ensure_future(sandbox.run(SandboxSpec(argv=[PY, "-c", code], timeout_s=60)))
    end = time.monotonic() + 30
    while not [p for p in sandbox_processes(sandbox) if _cmdline(p) == f"sleep {token} "]:
        assert time.monotonic() < end, "the call never started"
        await asyncio.sleep(0.02)
    python = [p for p in sandbox_processes(sandbox) if _cmdline(p).startswith(f"{PY} ")]
    assert python
    for pid in python:  # the call's interpreter, as the host's OOM killer would pick it
        procs.kill(pid)
    r = await call
    assert (r.exit_code, r.signal, r.limit, r.timed_out) == (None, 9, None, False), r


async def test_a_call_its_memory_cgroup_kills_names_memory(sandbox: Sandbox) -> None:
    memory_cgroups_or_skip(sandbox)
    limits = Limits(memory_bytes=1 << 30, call_memory_bytes=256 << 20)
    code = "b = bytearray(600 << 20)\nfor i in range(0, len(b), 4096):\n    b[i] = 1\n"
    r = await sandbox.run(SandboxSpec(argv=[PY, "-c", code], limits=limits, timeout_s=60))
    assert (r.exit_code, r.signal, r.limit) == (None, 9, "memory"), r


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
