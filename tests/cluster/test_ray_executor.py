"""``codeteam serve --executor ray`` on a real three-node Ray cluster (token auth on): calls
spread over the nodes, survive a node killed mid-run, reach a restarted node, cannot reach
Ray's control store from the sandbox, and an unreachable cluster stops the server at
start with one line."""

from __future__ import annotations

import asyncio
import collections
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.cluster.conftest import PYTHON, STATE, node_of, ray_client, serve_args
from tests.cluster.raycluster import RayCluster, free_port

PRINT = "import sys; print(int(sys.stdin.read()) * 7)"


def _ray_loaded_in_servers() -> list[bool]:
    """For each ``codeteam serve --executor ray`` of this test process: whether Ray's core
    library is mapped into it."""
    import os

    loaded = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if b"serve" in cmdline and b"ray" in cmdline and int(stat[1]) == os.getpid():
            loaded.append("_raylet" in Path(f"/proc/{pid}/maps").read_text())
    return loaded


def _slow_calls(client: object, n: int) -> list[asyncio.Future[Any]]:
    """``n`` calls started at once, each 0.3 s long, call i answering ``i * 7``."""
    slow = "import sys, time; n = int(sys.stdin.read()); time.sleep(0.3); print(n * 7)"
    return [
        asyncio.ensure_future(
            client.call_tool(  # type: ignore[attr-defined]
                "execute_code", {"language": "python", "code": slow, "stdin": str(i)}
            )
        )
        for i in range(n)
    ]


async def _seven_times(client: object, n: int) -> object:
    return await client.call_tool(  # type: ignore[attr-defined]
        "execute_code", {"language": "python", "code": PRINT, "stdin": str(n)}
    )


async def test_calls_spread_over_nodes_say_which_and_cannot_reach_ray(
    cluster: RayCluster, workspace: Path
) -> None:
    probe = f"""
import socket
for host in ("{cluster.head_ip}", "127.0.0.1"):
    try:
        socket.create_connection((host, {cluster.port}), timeout=2).close()
        print("connected", host)
    except OSError as exc:
        print("refused", host, type(exc).__name__)
"""
    import socket

    # the control store's port is open outside the sandbox, so the check below means something
    socket.create_connection((cluster.head_ip, cluster.port), timeout=2).close()
    async with ray_client(cluster, workspace, "--max-concurrency", "2") as client:
        results = await asyncio.gather(*(_seven_times(client, n) for n in range(24)))
        assert _ray_loaded_in_servers() == [False]  # Ray lives in the agent, not the server
        probes = await asyncio.gather(
            *(
                client.call_tool("execute_code", {"language": "python", "code": probe})
                for _ in range(6)
            )
        )
    for n, result in enumerate(results):
        assert not result.is_error, result
        assert result.structured_content["stdout"] == f"{n * 7}\n"
    nodes = collections.Counter(node_of(r) for r in results)
    assert None not in nodes
    assert len(nodes) >= 2, nodes  # 24 calls, 2 slots a node: one node cannot take them all
    assert len({node_of(r) for r in probes}) >= 2
    for result in probes:
        out = result.structured_content["stdout"]
        assert "connected" not in out, out
        assert out.count("refused") == 2, out


async def test_a_node_killed_mid_run_loses_no_call_and_a_restarted_node_serves(
    cluster: RayCluster, workspace: Path
) -> None:
    async with ray_client(cluster, workspace, "--max-concurrency", "4") as client:
        before = await asyncio.gather(*(_seven_times(client, n) for n in range(12)))
        victim = cluster.node("worker1")
        calls = _slow_calls(client, 200)
        await asyncio.sleep(1.0)  # calls are running on every node now
        victim.kill()
        results = await asyncio.gather(*calls)
        for n, result in enumerate(results):
            assert not result.is_error, (n, result.content)
            assert result.structured_content["stdout"] == f"{n * 7}\n"
        survivors = {node_of(r) for r in results[-50:]}

        restarted = cluster.add_worker("worker1-again")
        deadline = time.monotonic() + 60
        seen: set[str | None] = set()
        while time.monotonic() < deadline:
            batch = await asyncio.gather(*(_seven_times(client, n) for n in range(16)))
            assert all(not r.is_error for r in batch)
            seen |= {node_of(r) for r in batch}
            if seen - survivors - {node_of(r) for r in before}:
                break
            await asyncio.sleep(1.0)
        new = seen - survivors - {node_of(r) for r in before}
        assert new, f"no call ran on the restarted node {restarted.ip} within 60 s"


def _host_pid(node_sid: int) -> int:
    """The sandbox host actor's worker process of the node whose session is given (each
    node's ``ray start`` leads one; Ray's workers have process groups of their own)."""
    import os

    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if cmdline.startswith(b"ray::SandboxHost") and int(stat[3]) == node_sid:
            return int(pid)
    raise AssertionError(f"no SandboxHost process in session {node_sid}")


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


async def test_a_host_killed_alone_is_restarted_and_reached_over_a_new_connection(
    cluster: RayCluster, workspace: Path
) -> None:
    """Calls without a project reach a host over the agent's own connection to it
    (cluster/channel.py): a host whose process dies (its node alive) loses that
    connection; its calls run again elsewhere, and once Ray has restarted it the agent
    connects to the new process."""
    import os
    import signal

    async with ray_client(cluster, workspace, "--max-concurrency", "2") as client:
        before = await asyncio.gather(*(_seven_times(client, n) for n in range(24)))
        everyone = {node_of(r) for r in before}
        assert len(everyone) == len(cluster.live())
        victim = cluster.node("worker2")
        host = _host_pid(victim.proc.pid)
        # what the host's check for a lost raylet rests on (cluster/host.py)
        assert Path(f"/proc/{_ppid(host)}/comm").read_text() == "raylet\n"
        calls = _slow_calls(client, 40)
        await asyncio.sleep(0.5)
        os.kill(host, signal.SIGKILL)
        results = await asyncio.gather(*calls)
        for n, result in enumerate(results):
            assert not result.is_error, (n, result.content)
            assert result.structured_content["stdout"] == f"{n * 7}\n"
        deadline = time.monotonic() + 60
        seen: set[str | None] = set()
        while time.monotonic() < deadline and seen != everyone:
            batch = await asyncio.gather(*(_seven_times(client, n) for n in range(16)))
            assert all(not r.is_error for r in batch)
            seen |= {node_of(r) for r in batch}
            await asyncio.sleep(0.5)
        assert seen == everyone, f"the restarted host served no call within 60 s: {seen}"


def test_an_unreachable_cluster_stops_the_server_at_start(
    cluster: RayCluster, workspace: Path
) -> None:
    nowhere = RayCluster(workers=0, port=free_port())
    args = serve_args(nowhere, workspace, "--transport", "http", "--port", str(free_port()))
    started = time.monotonic()
    proc = subprocess.run(
        [PYTHON, *args], env=cluster.env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("codeteam:")]
    assert len(lines) == 1 and nowhere.address in lines[0], proc.stderr
    assert time.monotonic() - started < 60
    nowhere.stop()


def _per_test(result: object) -> list[tuple[str, str]]:
    structured = result.structured_content  # type: ignore[attr-defined]
    return sorted((t["name"], t["outcome"]) for t in structured["tests"])


async def test_remote_run_tests_give_the_local_per_test_results(
    cluster: RayCluster, workspace: Path
) -> None:
    import shutil

    from mcp import Client, StdioServerParameters

    projects = Path(__file__).parents[1] / "tools" / "projects"
    for name in ("pyproj", "goproj"):
        shutil.copytree(projects / name, workspace / "ws" / name, dirs_exist_ok=True)
    started = time.time() - 1
    async with ray_client(cluster, workspace) as client:
        remote = {p: await client.call_tool("run_tests", {"path": p}) for p in ("goproj", "pyproj")}
    local_args = [a for a in serve_args(cluster, workspace) if a not in ("ray", cluster.address)]
    local_args = [a for a in local_args if a not in ("--executor", "--ray-address")]
    env = {"PATH": "/usr/bin:/bin", "HOME": "/root"}
    target = StdioServerParameters(command=PYTHON, args=local_args, env=env)
    async with Client(target, read_timeout_seconds=300) as client:
        local = {p: await client.call_tool("run_tests", {"path": p}) for p in ("goproj", "pyproj")}
    for project in ("pyproj", "goproj"):
        assert node_of(remote[project]) is not None and node_of(local[project]) is None
        assert _per_test(remote[project]) == _per_test(local[project]), project
        assert len(_per_test(remote[project])) >= 2
    unpacked = [p for p in (STATE / "cluster" / "projects").iterdir() if len(p.name) == 64]
    assert len([p for p in unpacked if p.stat().st_mtime >= started]) >= 2  # as snapshots


async def test_a_full_cluster_refuses_at_once_saying_when_to_retry(
    cluster: RayCluster, workspace: Path
) -> None:
    slow = "import time; time.sleep(2); print('done')"
    async with ray_client(
        cluster, workspace, "--max-concurrency", "1", "--ray-queue", "2"
    ) as client:
        await _seven_times(client, 1)  # the server and its hosts are up
        started = time.monotonic()

        async def call() -> tuple[object, float]:
            result = await client.call_tool(
                "execute_code", {"language": "python", "code": slow}
            )
            return result, time.monotonic() - started

        answers = await asyncio.gather(*(call() for _ in range(12)))
    refused = [(r, t) for r, t in answers if r.is_error]
    done = [r for r, _ in answers if not r.is_error]
    # a slot on each node running, 2 waiting: the others are refused, at once
    nodes = len(cluster.live())  # as earlier tests left it
    assert len(done) == nodes + 2, (nodes, len(done))
    assert all(r.structured_content["stdout"] == "done\n" for r in done)
    assert len(refused) == 12 - nodes - 2
    for result, took in refused:
        text = result.content[0].text
        assert "cluster busy" in text and "retry in" in text, text
        assert took < 2.0, (took, sorted(round(t, 1) for _, t in answers))  # not after waiting
