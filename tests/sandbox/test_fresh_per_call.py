"""Every execute_code call runs in a fresh sandbox: nothing of one call is visible to the
next. Written before making calls cheaper (issue 16), so no saving can trade any of it away.

Through a real MCP session (the official SDK client over stdio) against a real server, with
the pool of pre-started sandboxes (the default) and without it: a second call cannot see
the first one's files, processes or environment changes, and every call's interpreter has
its own string hash seed and its own memory layout (what a call forked from one shared,
pre-started interpreter would give away).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.sandbox.conftest import UID_BASE, host_dir, require_bwrap, uid_processes

POOLS = ["pooled", "unpooled"]
#: Slot uids of their own: other suites' servers sweep theirs.
FRESH_UID_BASE = UID_BASE + 100
#: Written by the first call wherever a sandboxed program can write.
PLANT = r"""
import os, subprocess, sys
for d in ("/work", "/tmp", "/dev/shm"):
    with open(f"{d}/planted-by-first-call", "w") as f:
        f.write("first")
os.environ["CODETEAM_PLANTED"] = "first"
os.putenv("CODETEAM_PLANTED_PUT", "first")
# A daemon that outlives the call if anything of the call is kept: own session, no pipes.
subprocess.Popen(
    ["/bin/sleep", "3600"], start_new_session=True,
    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
print("planted")
"""
#: What any call can see: its files, processes, environment, hash seed and memory layout.
LOOK = r"""
import json, os
mark = object()
procs = []
for entry in os.listdir("/proc"):
    if entry.isdigit():
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                procs.append(f.read().replace(b"\0", b" ").decode().strip())
        except OSError:
            pass
print(json.dumps({
    "files": sorted(
        f"{d}/{n}" for d in ("/work", "/tmp", "/dev/shm") for n in os.listdir(d)
        if n != "main.py"
    ),
    "procs": procs,
    "env": dict(os.environ),
    "hash": hash("codeteam fresh interpreter"),
    "ids": [id(object()), id([]), id(mark)],
}))
"""


@pytest.fixture
def workspace() -> Iterator[Path]:
    with host_dir("codeteam-fresh-", 0o755) as path:
        yield path


@asynccontextmanager
async def session(workspace: Path, pool: str) -> AsyncIterator[Client]:
    """A real server over stdio, with (``pooled``) or without pre-started sandboxes."""
    require_bwrap()
    pool_size = "3" if pool == "pooled" else "0"
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            *("-m", "codeteam", "serve", "--root", str(workspace)),
            *("--pool-size", pool_size, "--sandbox-uid-base", str(FRESH_UID_BASE)),
        ],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")},
        cwd=str(workspace),
    )
    async with Client(params) as client:
        yield client


async def _run(client: Client, code: str) -> dict[str, Any]:
    result = await client.call_tool("execute_code", {"language": "python", "code": code})
    content = dict(result.structured_content or {})
    assert content.get("status") == "ok", content
    return content


async def _look(client: Client) -> dict[str, Any]:
    seen: dict[str, Any] = json.loads((await _run(client, LOOK))["stdout"])
    return seen


@pytest.mark.parametrize("pool", POOLS)
async def test_a_call_sees_nothing_the_previous_call_left(workspace: Path, pool: str) -> None:
    async with session(workspace, pool) as client:
        await _sees_nothing_left(client)


async def _sees_nothing_left(client: Client) -> None:
    before = await _look(client)
    assert (await _run(client, PLANT))["stdout"].strip() == "planted"
    after = await _look(client)
    assert after["files"] == [], "files written by the previous call are visible"
    assert not [p for p in after["procs"] if "sleep" in p], after["procs"]
    # Only this call's own interpreter (the sandbox's pid 1 has no cmdline of its own kind):
    assert not [p for p in after["procs"] if "planted" in p]
    assert "CODETEAM_PLANTED" not in after["env"]
    assert "CODETEAM_PLANTED_PUT" not in after["env"]
    assert after["env"] == before["env"], "the environment changed between calls"


@pytest.mark.parametrize("pool", POOLS)
async def test_nothing_of_a_call_is_left_running_on_the_host(workspace: Path, pool: str) -> None:
    async with session(workspace, pool) as client:
        await _run(client, PLANT)
        await _look(client)  # by the next call's answer, the first one's tree is gone
    left = [
        pid
        for uid in range(FRESH_UID_BASE, FRESH_UID_BASE + 8)
        for pid in uid_processes(uid)
        if b"sleep\x003600" in _cmdline(pid)
    ]
    assert left == [], "a daemon of an earlier call still runs on the host"


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # gone meanwhile
        return b""


@pytest.mark.parametrize("pool", POOLS)
async def test_every_call_has_its_own_hash_seed_and_memory_layout(
    workspace: Path, pool: str
) -> None:
    async with session(workspace, pool) as client:
        seen = [await _look(client) for _ in range(4)]
    hashes = [s["hash"] for s in seen]
    assert len(set(hashes)) == len(hashes), f"a string hashed the same in two calls: {hashes}"
    for k in range(3):
        ids = [s["ids"][k] for s in seen]
        assert len(set(ids)) == len(ids), f"two calls had the same object addresses: {ids}"


#: Go's PLANT: files wherever it can write, an environment change, a daemon of its own.
GO_PLANT = """package main

import (
\t"fmt"
\t"os"
\t"os/exec"
\t"syscall"
)

func main() {
\tfor _, d := range []string{"/work", "/tmp", "/dev/shm"} {
\t\tif err := os.WriteFile(d+"/planted-by-first-call", []byte("first"), 0o644); err != nil {
\t\t\tpanic(err)
\t\t}
\t}
\tos.Setenv("CODETEAM_PLANTED", "first")
\tdaemon := exec.Command("/bin/sleep", "3600")
\tdaemon.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
\tif err := daemon.Start(); err != nil {
\t\tpanic(err)
\t}
\tfmt.Println("planted")
}
"""
#: Go's LOOK: files, processes, environment, and who and under what limits it runs.
GO_LOOK = """package main

import (
\t"encoding/json"
\t"fmt"
\t"os"
\t"strings"
)

func main() {
\tfiles := []string{}
\tfor _, d := range []string{"/work", "/tmp", "/dev/shm"} {
\t\tentries, _ := os.ReadDir(d)
\t\tfor _, e := range entries {
\t\t\tif e.Name() != "main" {
\t\t\t\tfiles = append(files, d+"/"+e.Name())
\t\t\t}
\t\t}
\t}
\tprocs := []string{}
\tentries, _ := os.ReadDir("/proc")
\tfor _, e := range entries {
\t\tif c := e.Name()[0]; c >= '0' && c <= '9' {
\t\t\tif b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil {
\t\t\t\tprocs = append(procs, strings.TrimSpace(strings.ReplaceAll(string(b), "\\x00", " ")))
\t\t\t}
\t\t}
\t}
\tlimits, _ := os.ReadFile("/proc/self/limits")
\tcgroup, _ := os.ReadFile("/proc/self/cgroup")
\tmounts, _ := os.ReadFile("/proc/self/mountinfo")
\tkinds := []string{}
\tfor _, line := range strings.Split(strings.TrimSpace(string(mounts)), "\\n") {
\t\tf := strings.Fields(line)
\t\tkinds = append(kinds, f[4]+" "+f[len(f)-3])
\t}
\tout, _ := json.Marshal(map[string]any{
\t\t"files": files, "procs": procs, "env": os.Environ(), "uid": os.Getuid(),
\t\t"limits": string(limits), "cgroup": string(cgroup), "mounts": kinds, "args": os.Args,
\t})
\tfmt.Println(string(out))
}
"""


async def _go(client: Client, code: str) -> dict[str, Any]:
    result = await client.call_tool("execute_code", {"language": "go", "code": code})
    content = dict(result.structured_content or {})
    assert content.get("status") == "ok", (content.get("stdout"), content.get("stderr"))
    return content


@pytest.mark.parametrize("pool", POOLS)
async def test_a_go_call_sees_nothing_the_previous_call_left(workspace: Path, pool: str) -> None:
    """A cached Go binary runs in a pre-started sandbox when the pool is on (bubblewrap's
    start off the call), with all the same: own tmpfs, processes, environment, slot uid,
    limits, memory cgroup and mounts, and it is the sandbox's command itself (exec'd)."""
    async with session(workspace, pool) as client:
        looks = [json.loads((await _go(client, GO_LOOK))["stdout"]) for _ in range(2)]
        assert (await _go(client, GO_PLANT))["stdout"].strip() == "planted"
        after = json.loads((await _go(client, GO_LOOK))["stdout"])
    before = looks[0]  # the build's call: never pre-started (the binary was not there yet)
    assert after["files"] == [], "files written by the previous call are visible"
    assert not [p for p in after["procs"] if "sleep" in p], after["procs"]
    assert "CODETEAM_PLANTED=first" not in after["env"]
    for seen in (looks[1], after):
        for what in ("env", "limits", "cgroup", "mounts", "args"):
            assert seen[what] == before[what], what
        assert FRESH_UID_BASE <= seen["uid"] < FRESH_UID_BASE + 8
        # pid 1 (bubblewrap's init, its command line) and the program, nothing else:
        assert len(seen["procs"]) == 2 and seen["procs"][1] == "/work/main", seen["procs"]
        pre_started = "/usr/bin/perl -e" in seen["procs"][0]
        assert pre_started == (pool == "pooled"), seen["procs"][0]
    assert "/usr/bin/perl -e" not in before["procs"][0]
