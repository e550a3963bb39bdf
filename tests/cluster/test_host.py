"""The sandbox host when its node's raylet dies mid-call, without Ray: a real host object in a
child of a stand-in "raylet" process, its sandbox SIGKILLed as Ray's core worker kills a
worker's children before it exits. With the raylet gone the call must go unanswered (the
agent then runs it on another node); with the raylet alive the same kill is the call's
answer ("signal 9")."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.sandbox.conftest import PY, host_dir, require_bwrap

HOST = f"""
import asyncio, json, os, signal, sys
from pathlib import Path
from codeteam.cluster import host
from codeteam.config import Settings
from codeteam.sandbox.spec import SandboxSpec

host.NODE_EXIT_WAIT_S = 1.5
state = Path(sys.argv[1])
settings = Settings(roots=(state,), state_dir=state / "state", sandbox_uid_base=63000)

def children() -> list[int]:
    me = str(os.getpid())
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and
            Path(f"/proc/{{p}}/stat").read_text().rsplit(")", 1)[1].split()[1] == me]

async def main() -> None:
    node = host.SandboxHost(settings, "n" * 56, "127.0.0.1")
    spec = SandboxSpec(argv=["{PY}", "-c", "import time; time.sleep(30)"])
    call = asyncio.ensure_future(node.run(spec, None, False, {{}}))
    while not call.done() and len(children()) < 1:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # the program runs
    print("running", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    for pid in children():  # as Ray's core worker does before it exits
        os.kill(pid, signal.SIGKILL)
    killed = asyncio.get_running_loop().time()
    result = await call
    took = asyncio.get_running_loop().time() - killed
    text = getattr(result, "message", None) or f"signal {{result.signal}}"
    print(json.dumps({{"answer": text, "after_s": took}}), flush=True)
    await node.aclose()

asyncio.run(main())
"""


def _call_killed_under(raylet_dies: bool) -> dict[str, object]:
    """The host's answer when its sandbox is SIGKILLed, its parent (the "raylet") killed
    first or left alive."""
    with host_dir("codeteam-host-") as state:
        raylet = subprocess.Popen(
            [sys.executable, "-c",
             "import subprocess, sys; subprocess.run([sys.executable, '-c', sys.argv[1], "
             "sys.argv[2]])", HOST, str(state)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        assert raylet.stdin is not None and raylet.stdout is not None
        try:
            assert raylet.stdout.readline() == "running\n"
            if raylet_dies:
                os.kill(raylet.pid, signal.SIGKILL)
                raylet.wait()
            raylet.stdin.write("kill\n")
            raylet.stdin.flush()
            answer: dict[str, object] = json.loads(raylet.stdout.readline())
            return answer
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(raylet.pid, signal.SIGKILL)  # the host too: it keeps the group
            time.sleep(0.1)


@pytest.mark.parametrize("raylet_dies", [False, True])
def test_a_sandbox_killed_with_its_raylet_goes_unanswered(raylet_dies: bool) -> None:
    require_bwrap()
    answer = _call_killed_under(raylet_dies)
    if raylet_dies:
        assert "lost its raylet" in str(answer["answer"]), answer
        assert float(answer["after_s"]) >= 1.4, answer  # held back for Ray to end the worker
    else:
        assert answer["answer"] == "signal 9", answer
        assert float(answer["after_s"]) < 1.0, answer
