"""The ``ray`` section: what running sandboxes on a Ray cluster (``--executor ray``) costs
and what a second node brings, each against a baseline measured in the same run.

- added latency of a trivial ``execute_code`` through Ray (a one-node cluster on this machine)
  against the local executor, p50 and p99 (target: at most 2 ms at p50);
- scaling: 500 trivial calls on one node pinned to one core (``taskset``) against two nodes
  each pinned to its own core (target: at least 1.7x the throughput);
- machine CPU per call through Ray against local.

The clusters are real (``ray start`` per node, token auth), started and stopped here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.cluster.raycluster import RayCluster  # noqa: E402 - the tests' real cluster

CODE = "print('hi')"
Row = Callable[[str, str, str, str, str], None]
Call = Callable[[], Awaitable[float]]


def _tree_cpu_s() -> float:
    """CPU seconds of every process this benchmark started (servers, agents, Ray's nodes,
    their workers and the sandboxes they reaped), not of the machine's other work: this
    machine is shared, and machine-wide CPU would count that too."""
    from run import tree_pids  # type: ignore[import-not-found]

    total = 0.0
    for pid in tree_pids(os.getpid())[1:]:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def _session(args: list[str], env: dict[str, str], work: str) -> AsyncIterator[Call]:
    """A stdio MCP session on ``codeteam serve ARGS``, as a function making one trivial
    execute_code call and returning its seconds (after 5 warm-up calls)."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "codeteam", "serve", *args], env=env, cwd=work
    )
    arguments = {"language": "python", "code": CODE}
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()

        async def one() -> float:
            t0 = time.perf_counter()
            result = await session.call_tool("execute_code", arguments)
            assert not result.is_error and result.structured_content["stdout"] == "hi\n"
            return time.perf_counter() - t0

        for _ in range(5):
            await one()
        yield one


async def _latency(
    ray_args: list[str], env: dict[str, str], work: str, n: int
) -> tuple[list[float], list[float]]:
    """Per-call seconds of the local and the Ray executor, calls alternating between the
    two, so that both see the same load of this shared machine."""
    local: list[float] = []
    remote: list[float] = []
    async with _session([], env, work) as on_local, _session(ray_args, env, work) as on_ray:
        for _ in range(n):
            local.append(await on_local())
            remote.append(await on_ray())
    return local, remote


async def _cpu_per_call(args: list[str], env: dict[str, str], work: str, n: int) -> float:
    async with _session(args, env, work) as one:
        before = _tree_cpu_s()
        for _ in range(n):
            await one()
        return (_tree_cpu_s() - before) / n


async def _burst(args: list[str], env: dict[str, str], work: str, n: int) -> float:
    async with _session(args, env, work) as one:
        wall = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return time.perf_counter() - wall


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_ray(row: Row, work: str, runs: int) -> None:
    print("ray: execute_code through a Ray cluster against the local executor", flush=True)
    n = 20 * runs
    cluster = RayCluster(workers=0).start()
    try:
        env = {**cluster.env, "PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}
        ray_args = ["--executor", "ray", "--ray-address", cluster.address]
        local, remote = asyncio.run(_latency(ray_args, env, work, n))
        local_cpu = asyncio.run(_cpu_per_call([], env, work, n))
        remote_cpu = asyncio.run(_cpu_per_call(ray_args, env, work, n))
    finally:
        cluster.stop()
    for name, q in (("p50", 0.5), ("p99", 0.99)):
        added = (_pct(remote, q) - _pct(local, q)) * 1000
        row(
            f"ray: execute_code {name}, one node on this machine",
            f"{_pct(remote, q) * 1000:.1f} ms ({added:+.1f} ms)",
            f"{_pct(local, q) * 1000:.1f} ms local executor",
            f"{_pct(remote, q) / _pct(local, q):.2f}x",
            "<= +2 ms at p50" if name == "p50" else "",
        )
    row(
        "ray: CPU per call of every process it takes (server, agent, Ray, host, sandbox)",
        f"{remote_cpu * 1000:.1f} ms",
        f"{local_cpu * 1000:.1f} ms local executor",
        f"{remote_cpu / local_cpu:.2f}x",
        "",
    )
    one = _scaling(work, nodes=1)
    two = _scaling(work, nodes=2)
    row(
        "ray: 500 trivial calls, throughput two nodes (a core each) vs one node (one core)",
        f"{500 / two:.0f} calls/s",
        f"{500 / one:.0f} calls/s",
        f"{one / two:.2f}x",
        ">= 1.7x",
    )


def _scaling(work: str, nodes: int) -> float:
    """Wall seconds for 500 concurrent trivial calls on ``nodes`` nodes, node i pinned to
    core i (``taskset``: a node's raylet, workers, host actor and sandboxes inherit it)."""
    cluster = RayCluster(workers=0, pin=0)
    cluster.start()
    try:
        for core in range(1, nodes):
            cluster.add_worker(f"worker{core}", pin=core)
        env = {**cluster.env, "PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}
        args = ["--executor", "ray", "--ray-address", cluster.address, "--max-concurrency", "4"]
        return asyncio.run(_burst(args, env, work, 500))
    finally:
        cluster.stop()
