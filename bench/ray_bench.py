"""The ``ray`` section: what running sandboxes on a Ray cluster (``--executor ray``) costs
and what a second node brings, each against a baseline measured in the same run.

- added latency of a trivial ``execute_code`` through Ray (a one-node cluster on this machine)
  against the local executor, p50 and p99 (target: at most 2 ms at p50), calls alternating
  between the two, once back to back and once 50 ms apart (back to back, each call also
  meets the other executor's pool refill, which starts when the previous call returns);
- scaling: 500 trivial calls on one node pinned to one core (``taskset``) against two nodes
  each pinned to its own core (target: at least 1.7x the throughput). This machine has 2
  cores and the dispatching side (this client, the server, its Ray agent) needs one too: it
  is pinned to core 0 in both cases, beside node 0. The burst starts once the nodes are idle
  (Ray's start-up work done). The CPU per call of each side is printed,
  and what ratio it allows; every process of each side is checked to be on its core, and
  how busy our processes kept each core is printed (on a shared machine, other work takes
  a share of a core we use, more so when we use both);
- machine CPU per call through Ray against local.

``python bench/ray_bench.py --trace [N]`` instead runs N calls each way with
``CODETEAM_TRACE`` on (:mod:`codeteam.trace`) and prints where a call's time goes, hop by hop.

The clusters are real (``ray start`` per node, token auth), started and stopped here.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from run import tree_pids  # type: ignore[import-not-found]  # noqa: E402
from tests.cluster.raycluster import RayCluster  # noqa: E402 - the tests' real cluster

CODE = "print('hi')"
CALLS = 500
#: Calls this far apart meet no pool refill (a refill's start takes ~15-20 ms).
APART_S = 0.05
#: Nodes count as idle once all of them take less than this CPU in half a second.
IDLE_CPU_S = 0.025
SETTLE_S = 30.0
Row = Callable[[str, str, str, str, str], None]
Call = Callable[[], Awaitable[tuple[int, int]]]


def _cpu_s(pids: list[int]) -> float:
    """CPU seconds of ``pids`` and the children they reaped."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def _tree_cpu_s() -> float:
    """CPU seconds of every process this benchmark started (servers, agents, Ray's nodes,
    their workers and the sandboxes they reaped), not of the machine's other work: this
    machine is shared, and machine-wide CPU would count that too."""
    return _cpu_s(tree_pids(os.getpid())[1:])


def _env(cluster: RayCluster, **more: str) -> dict[str, str]:
    home = os.environ.get("HOME", "/root")
    return {**cluster.env, "PATH": "/usr/bin:/bin", "HOME": home, **more}


@contextlib.asynccontextmanager
async def _session(args: list[str], env: dict[str, str], work: str) -> AsyncIterator[Call]:
    """A stdio MCP session on ``codeteam serve ARGS``, as a function making one trivial
    execute_code call and returning its start and end (monotonic ns), after 5 warm-up
    calls."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "codeteam", "serve", *args], env=env, cwd=work
    )
    arguments = {"language": "python", "code": CODE}
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()

        async def one() -> tuple[int, int]:
            t0 = time.monotonic_ns()
            result = await session.call_tool("execute_code", arguments)
            assert not result.is_error and result.structured_content["stdout"] == "hi\n"
            return t0, time.monotonic_ns()

        for _ in range(5):
            await one()
        yield one


async def _latency(
    ray_args: list[str],
    envs: tuple[dict[str, str], dict[str, str]],
    work: str,
    n: int,
    apart_s: float,
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Each call's (start, end) of the local and the Ray executor, calls alternating between
    the two, so that both see the same load of this shared machine, ``apart_s`` apart."""
    local: list[tuple[int, int]] = []
    remote: list[tuple[int, int]] = []
    async with _session([], envs[0], work) as on_local, _session(ray_args, envs[1], work) as on_ray:
        for _ in range(n):
            local.append(await on_local())
            await asyncio.sleep(apart_s)
            remote.append(await on_ray())
            await asyncio.sleep(apart_s)
    return local, remote


def _ms(spans: list[tuple[int, int]]) -> list[float]:
    return [(end - start) / 1e6 for start, end in spans]


async def _cpu_per_call(args: list[str], env: dict[str, str], work: str, n: int) -> float:
    async with _session(args, env, work) as one:
        before = _tree_cpu_s()
        for _ in range(n):
            await one()
        return (_tree_cpu_s() - before) / n


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_ray(row: Row, work: str, runs: int) -> None:
    print("ray: execute_code through a Ray cluster against the local executor", flush=True)
    n = 20 * runs
    cluster = RayCluster(workers=0).start()
    try:
        env = _env(cluster)
        ray_args = ["--executor", "ray", "--ray-address", cluster.address]
        latency = {
            apart: asyncio.run(_latency(ray_args, (env, env), work, n, apart))
            for apart in (0.0, APART_S)
        }
        local_cpu = asyncio.run(_cpu_per_call([], env, work, n))
        remote_cpu = asyncio.run(_cpu_per_call(ray_args, env, work, n))
    finally:
        cluster.stop()
    for apart, (local_spans, remote_spans) in latency.items():
        local, remote = _ms(local_spans), _ms(remote_spans)
        how = f"{apart * 1000:.0f} ms apart" if apart else "back to back"
        for name, q in (("p50", 0.5), ("p99", 0.99)):
            added = _pct(remote, q) - _pct(local, q)
            row(
                f"ray: execute_code {name}, one node on this machine, calls {how}",
                f"{_pct(remote, q):.1f} ms ({added:+.1f} ms)",
                f"{_pct(local, q):.1f} ms local executor",
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
    one, two = _scaling(work, nodes=1), _scaling(work, nodes=2)
    row(
        f"ray: {CALLS} trivial calls, throughput two nodes (a core each) vs one node (one "
        "core); the dispatching side (client, server, agent) on core 0 in both",
        f"{CALLS / two.wall_s:.0f} calls/s",
        f"{CALLS / one.wall_s:.0f} calls/s",
        f"{one.wall_s / two.wall_s:.2f}x",
        ">= 1.7x",
    )
    d, node = one.dispatcher_ms, one.nodes_ms
    # two nodes: core 0 runs the dispatcher and a share x of the calls, core 1 the rest;
    # at best the two cores are equally busy: (d + n) / 2 per call each, unless the
    # dispatcher alone is more than half of it
    bound = (d + node) / max((d + node) / 2, d)
    row(
        "ray: CPU per call of the dispatching side (client, server, agent) vs the nodes "
        "(Ray, host, sandboxes), two nodes vs one; the ratio one node's figures allow on "
        "2 cores (more if a call costs less CPU with two)",
        f"{two.dispatcher_ms:.1f} ms dispatcher, {two.nodes_ms:.1f} ms nodes",
        f"{d:.1f} ms dispatcher, {node:.1f} ms node",
        f"at most {bound:.2f}x",
        "",
    )
    for case in (one, two):
        busy = ", ".join(f"core {i} {b:.0%}" for i, b in enumerate(case.busy))
        print(
            f"ray: {case.nodes} node(s): idle {case.settled_s:.1f} s after start; "
            f"busy with our processes during the burst: {busy}",
            flush=True,
        )
        print(f"ray: {case.nodes} node(s): {case.confinement}", flush=True)


class _Scaled:
    def __init__(self, nodes: int) -> None:
        self.nodes = nodes
        self.wall_s = 0.0
        self.dispatcher_ms = 0.0
        self.nodes_ms = 0.0
        self.busy: list[float] = []  # each core's share spent on our processes
        self.settled_s = 0.0  # how long the nodes took to become idle before the burst
        self.confinement = ""


def _scaling(work: str, nodes: int) -> _Scaled:
    """``CALLS`` concurrent trivial calls on ``nodes`` nodes, node i pinned to core i
    (``taskset``: a node's raylet, workers, host actor and sandboxes inherit it), the
    dispatching side (this process, the server it starts, that server's agent) pinned to
    core 0."""
    out = _Scaled(nodes)
    cluster = RayCluster(workers=0, pin=0)
    cluster.start()
    try:
        for core in range(1, nodes):
            cluster.add_worker(f"worker{core}", pin=core)
        args = ["--executor", "ray", "--ray-address", cluster.address, "--max-concurrency", "4"]
        roots = {i: node.proc.pid for i, node in enumerate(cluster.nodes)}
        with _pinned({0}), _Sampler(roots) as sampler:
            asyncio.run(_burst(args, _env(cluster), work, out, roots))
        out.confinement = sampler.verdict()
    finally:
        cluster.stop()
    return out


async def _burst(
    args: list[str], env: dict[str, str], work: str, out: _Scaled, roots: dict[int, int]
) -> None:
    async with _session(args, env, work) as one:

        def cpu() -> collections.Counter[str]:
            """CPU seconds by side: "dispatcher" (this process included), "node I"."""
            by_side: collections.Counter[str] = collections.Counter()
            for pid, side in _sides(roots).items():
                by_side[side] += _cpu_s([pid])
            by_side["dispatcher"] += _cpu_s([os.getpid()])
            return by_side

        out.settled_s = await _settled(cpu)
        before = cpu()
        wall = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(CALLS)))
        out.wall_s = time.perf_counter() - wall
        used = cpu() - before
    out.dispatcher_ms = used["dispatcher"] / CALLS * 1000
    out.nodes_ms = sum(v for k, v in used.items() if k != "dispatcher") / CALLS * 1000
    # core 0 runs the dispatching side and node 0, core i node i
    out.busy = [
        (used[f"node {i}"] + (used["dispatcher"] if i == 0 else 0)) / out.wall_s
        for i in range(len(roots))
    ]


async def _settled(cpu: Callable[[], collections.Counter[str]]) -> float:
    """Wait until the nodes are idle (at most ``SETTLE_S``): a node just started still
    runs Ray's agents and pre-started workers through their imports, seconds of CPU that
    would otherwise land in the burst (more so with two nodes, the second started last).
    How long it took."""
    started = time.monotonic()
    last = cpu()
    while time.monotonic() - started < SETTLE_S:
        await asyncio.sleep(0.5)
        now = cpu()
        if sum(v for k, v in (now - last).items() if k != "dispatcher") < IDLE_CPU_S:
            break
        last = now
    return time.monotonic() - started


def _sides(roots: dict[int, int]) -> dict[int, str]:
    """This process's descendants, each as "node I" (under node I's ``ray start``) or
    "dispatcher" (the server, its agent), from one reading of /proc (two readings would
    see a sandbox started between them on neither side or the wrong one)."""
    parent: dict[int, int] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError, IndexError, ValueError), open(f"/proc/{entry}/stat") as f:
            parent[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
    node_of = {root: f"node {i}" for i, root in roots.items()}
    sides: dict[int, str] = {}
    for pid in parent:
        chain, p = [], pid
        while p in parent and p not in node_of and p != os.getpid():
            chain.append(p)
            p = parent[p]
        side = node_of.get(p, "dispatcher" if p == os.getpid() else None)
        if side is not None:
            sides.update({c: side for c in chain})
            if p in node_of:
                sides[p] = side
    return sides


@contextlib.contextmanager
def _pinned(cores: set[int]) -> Iterator[None]:
    """Every thread of this process on ``cores`` (affinity is per thread; what they start
    inherits it), and back after."""
    tasks = [int(t) for t in os.listdir("/proc/self/task")]
    before = {t: os.sched_getaffinity(t) for t in tasks}
    for t in tasks:
        os.sched_setaffinity(t, cores)
    try:
        yield
    finally:
        for t, mask in before.items():
            with contextlib.suppress(OSError):
                os.sched_setaffinity(t, mask)


class _Sampler:
    """Which cores each process of each node may run on: sampled every 0.5 s during the
    burst (sandboxes live ~10 ms: a sample sees the few running), every thread once at the
    end. Node i must be on core i only, the dispatching side (this process's other
    descendants) on core 0."""

    def __init__(self, roots: dict[int, int]) -> None:
        self.roots = roots
        self.seen: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self._sample(threads=True)

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            self._sample(threads=False)

    def _sample(self, threads: bool) -> None:
        for pid, side in _sides(self.roots).items():
            tids = os.listdir(f"/proc/{pid}/task") if threads else [str(pid)]
            for tid in tids:
                with contextlib.suppress(OSError, ValueError):
                    with open(f"/proc/{pid}/task/{tid}/status") as f:
                        line = next(x for x in f if x.startswith("Cpus_allowed_list"))
                    self.seen[side][line.split()[1]] += 1

    def verdict(self) -> str:
        parts = []
        for side, cores in sorted(self.seen.items()):
            want = "0" if side == "dispatcher" else side.split()[1]
            bad = {c: k for c, k in cores.items() if c != want}
            state = "all on core " + want if not bad else f"NOT confined: {dict(bad)}"
            parts.append(f"{side}: {sum(cores.values())} process/thread samples, {state}")
        return "; ".join(parts)


def trace(n: int) -> None:
    """Where a trivial call's time goes, hop by hop, local and through Ray (p50 of each
    hop over ``n`` calls, 50 ms apart)."""
    out = Path(tempfile.mkdtemp(prefix="raytrace"))
    files = {"local": out / "local", "ray": out / "ray"}
    cluster = RayCluster(workers=0).start()
    work = tempfile.mkdtemp(prefix="raytrace-work")
    try:
        envs = (
            _env(cluster, CODETEAM_TRACE=str(files["local"])),
            _env(cluster, CODETEAM_TRACE=str(files["ray"])),
        )
        ray_args = ["--executor", "ray", "--ray-address", cluster.address]
        spans = asyncio.run(_latency(ray_args, envs, work, n, APART_S))
    finally:
        cluster.stop()
    for name, calls in zip(("local", "ray"), spans, strict=True):
        marks = sorted(
            (int(line.split()[-1]), line.split()[0])
            for line in files[name].read_text().splitlines()
        )
        hops: dict[str, list[float]] = collections.defaultdict(list)
        for start, end in calls:
            inside = [("C0", start), *[(s, t) for t, s in marks if start <= t <= end]]
            for (a, ta), (b, tb) in zip(inside, [*inside[1:], ("C1", end)], strict=False):
                hops[f"{a}->{b}"].append((tb - ta) / 1e6)
        total = statistics.median(_ms(calls))
        print(f"{name}: {len(calls)} calls, p50 {total:.2f} ms; p50 per hop:")
        for hop, ms in hops.items():
            if len(ms) >= len(calls) // 2:
                p50, p90 = statistics.median(ms), _pct(ms, 0.9)
                print(f"  {hop:8} {p50:7.3f} ms  (p90 {p90:.3f}, n {len(ms)})")
    print(
        "C0/C1: the client sends / has the answer; D1: the server's tool call; S1/S2: the "
        "server sends to / hears from its agent; A1-A4: the agent hears the call, submits "
        "it to the host, has its result, answers; H1/H2: the host actor's method starts / "
        "returns; L1/L2: the sandbox run (same code in both)."
    )


if __name__ == "__main__":
    if sys.argv[1:2] != ["--trace"]:
        raise SystemExit("usage: bench/ray_bench.py --trace [N]   (or run.py --only ray)")
    trace(int(sys.argv[2]) if len(sys.argv) > 2 else 100)
