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
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.cluster.raycluster import RayCluster  # noqa: E402 - the tests' real cluster

CODE = "print('hi')"
Row = Callable[[str, str, str, str, str], None]


def _busy_s() -> float:
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


async def _calls(
    args: list[str], env: dict[str, str], work: str, n: int, concurrent: bool
) -> tuple[list[float], float, float]:
    """``n`` trivial execute_code calls over one stdio session: per-call seconds (after 5
    warm-up calls), wall seconds and machine CPU seconds of the measured calls."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "codeteam", "serve", *args], env=env, cwd=work
    )
    arguments = {"language": "python", "code": CODE}
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        for _ in range(5):
            await session.call_tool("execute_code", arguments)
        times: list[float] = []

        async def one() -> None:
            t0 = time.perf_counter()
            result = await session.call_tool("execute_code", arguments)
            assert not result.isError and result.structuredContent["stdout"] == "hi\n"
            times.append(time.perf_counter() - t0)

        busy, wall = _busy_s(), time.perf_counter()
        if concurrent:
            await asyncio.gather(*(one() for _ in range(n)))
        else:
            for _ in range(n):
                await one()
        return times, time.perf_counter() - wall, _busy_s() - busy


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
        local, _, local_cpu = asyncio.run(_calls([], env, work, n, concurrent=False))
        remote, _, remote_cpu = asyncio.run(_calls(ray_args, env, work, n, concurrent=False))
    finally:
        cluster.stop()
    for name, q in (("p50", 0.5), ("p99", 0.99)):
        added = (_pct(remote, q) - _pct(local, q)) * 1000
        row(
            f"ray: execute_code {name}, one node on this machine",
            f"{_pct(remote, q) * 1000:.1f} ms (+{added:.1f} ms)",
            f"{_pct(local, q) * 1000:.1f} ms local executor",
            f"{_pct(remote, q) / _pct(local, q):.2f}x",
            "<= +2 ms at p50" if name == "p50" else "",
        )
    row(
        "ray: machine CPU per call (client, server, agent, Ray, host, sandbox)",
        f"{remote_cpu / n * 1000:.1f} ms",
        f"{local_cpu / n * 1000:.1f} ms local executor",
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
        _, wall, _ = asyncio.run(_calls(args, env, work, 500, concurrent=True))
        return wall
    finally:
        cluster.stop()

