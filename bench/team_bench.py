"""The team's orchestration benchmark (issue 5): what the lead/scheduler/copies/records
cost per task, whether independent tasks really overlap, and what a per-task MCP server
(the isolation design) costs.

    python bench/team_bench.py            # or: python bench/run.py --only team

The model is an in-process fake Provider (zero latency, or a fixed sleep): only our own
orchestration is measured. The real ``codeteam serve`` is started as usual; tasks run on
isolated copies of a small workspace, recorded in a real SQLite file.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeteam.llm import Message, ToolDef, Turn, Usage
from codeteam.store import Store
from codeteam.team.config import TeamConfig
from codeteam.team.events import Event, Plan, TaskFinished
from codeteam.team.mcp import connect
from codeteam.team.runner import run_team
from codeteam.team.workspace import merge_back, snapshot

Row = Callable[[str, str, str, str, str], None]


class FakeModel:
    """A Provider answering at once (or after ``delay_s`` for specialists): the lead
    assigns ``tasks`` independent tasks, each specialist answers in one turn."""

    name = "fake"
    model = "fake-model"

    def __init__(self, tasks: int, delay_s: float = 0.0) -> None:
        self.tasks = tasks
        self.delay_s = delay_s
        self.calls = 0

    async def turn(
        self, *, system: str, messages: list[Message], tools: list[ToolDef], max_tokens: int
    ) -> Turn:
        self.calls += 1
        usage = Usage(100, 20)
        if "lead engineer" in system:
            if len(messages) == 1:
                uses = [
                    {
                        "type": "tool_use",
                        "id": f"toolu_{i}",
                        "name": "assign_task",
                        "input": {"id": f"t{i}", "agent": "code", "description": f"task {i}"},
                    }
                    for i in range(self.tasks)
                ]
                return Turn(uses, "tool_use", usage, self.model)
            return Turn([{"type": "text", "text": "report"}], "end_turn", usage, self.model)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return Turn([{"type": "text", "text": "done"}], "end_turn", usage, self.model)

    async def aclose(self) -> None:
        return None


def _workspace(root: Path) -> Path:
    ws = root / "ws"
    (ws / "pkg").mkdir(parents=True)
    for i in range(10):
        (ws / "pkg" / f"mod{i}.py").write_text(f"X{i} = {i}\n" * 50)
    return ws


async def _run(root: Path, tasks: int, delay_s: float, parallel: int) -> tuple[float, Any]:
    ws = _workspace(root)
    store = Store(root / "runs.db")
    cfg = TeamConfig(
        request="bench",
        workspace=ws,
        max_parallel=parallel,
        run_root=root / "runs",
        task_timeout_s=None,
    )
    marks: dict[str, float] = {}

    def sink(event: Event) -> None:
        if isinstance(event, Plan):
            marks["plan"] = time.perf_counter()
        elif isinstance(event, TaskFinished):
            marks["last"] = time.perf_counter()

    started = time.perf_counter()
    result = await run_team(cfg, FakeModel(tasks, delay_s), store, sink)
    total = time.perf_counter() - started
    store.close()
    assert result.status == "completed" and len(result.tasks) == tasks, result.error
    return total, marks["last"] - marks["plan"]


def overhead_per_task(n: int = 50, repeats: int = 3) -> tuple[float, float]:
    """(ms per task, baseline ms per task of bare asyncio tasks) from the plan phase of a
    run of ``n`` one-turn tasks: copies, merge, records, events, scheduling."""
    phases = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="codeteam-team-bench-") as d:
            _, phase = asyncio.run(_run(Path(d), n, 0.0, parallel=8))
            phases.append(phase)

    async def bare() -> float:
        model = FakeModel(n)
        t0 = time.perf_counter()
        await asyncio.gather(
            *(model.turn(system="", messages=[], tools=[], max_tokens=1) for _ in range(n))
        )
        return time.perf_counter() - t0

    base = statistics.median(asyncio.run(bare()) for _ in range(repeats))
    return statistics.median(phases) / n * 1000, base / n * 1000


def parallel_tasks(n: int = 8, delay_s: float = 1.0) -> tuple[float, float]:
    """(seconds for the whole run, seconds for its plan phase) of ``n`` independent tasks
    whose model calls take ``delay_s`` each."""
    with tempfile.TemporaryDirectory(prefix="codeteam-team-bench-") as d:
        return asyncio.run(_run(Path(d), n, delay_s, parallel=n))


def server_per_task(repeats: int = 5) -> tuple[float, float]:
    """(ms to start a server rooted at a copy and make one call, ms for one call on an
    open session): the price of one server per task instead of path prefixes."""

    async def measure() -> tuple[list[float], list[float]]:
        starts, calls = [], []
        with tempfile.TemporaryDirectory(prefix="codeteam-team-bench-") as d:
            ws = _workspace(Path(d))
            for _ in range(repeats):
                t0 = time.perf_counter()
                async with connect(None, ws) as tools:
                    await tools.call("list_files", {})
                    starts.append(time.perf_counter() - t0)
                    t1 = time.perf_counter()
                    await tools.call("list_files", {})
                    calls.append(time.perf_counter() - t1)
        return starts, calls

    starts, calls = asyncio.run(measure())
    return statistics.median(starts) * 1000, statistics.median(calls) * 1000


def copy_and_merge(repeats: int = 10) -> float:
    """ms for what a task that edits one file adds: its working copy of the (10-file)
    workspace and the three-way merge back."""
    times = []
    with tempfile.TemporaryDirectory(prefix="codeteam-team-bench-") as d:
        ws = _workspace(Path(d))
        base = Path(d) / "base"
        snapshot(ws, base)
        for i in range(repeats):
            t0 = time.perf_counter()
            work = Path(d) / f"work{i}"
            snapshot(base, work)
            (work / "pkg" / "mod0.py").write_text(f"edited {i}\n")
            merge_back(base, work, ws, f"t{i}")
            times.append(time.perf_counter() - t0)
            snapshot(ws, base)
    return statistics.median(times) * 1000


def bench_team(row: Row) -> None:
    per_task, bare = overhead_per_task()
    row(
        "team: orchestration overhead per task (50 one-turn tasks, zero-latency model)",
        f"{per_task:.2f} ms",
        f"{bare:.3f} ms (bare asyncio call)",
        f"+{per_task - bare:.2f} ms",
        "<= 5 ms",
    )
    total, phase = parallel_tasks()
    row(
        "team: 8 independent tasks, model calls 1 s each",
        f"{total:.2f} s run ({phase:.2f} s plan phase)",
        "1.00 s (one call)",
        f"{total / 1.0:.2f}x",
        "<= 1.3 s",
    )
    row(
        "team: working copy + 3-way merge of a task that edits (10-file workspace)",
        f"{copy_and_merge():.1f} ms",
        "-",
        "-",
        "only for tasks that call a tool",
    )
    start_ms, call_ms = server_per_task()
    row(
        "team: per-task MCP server (start + first call, vs a call on an open session)",
        f"{start_ms:.0f} ms",
        f"{call_ms:.1f} ms",
        f"{start_ms / call_ms:.0f}x",
        "paid once per task that calls a tool",
    )


# ---------------------------------------------------------------------------- memory of a run

ROOT = Path(__file__).resolve().parent.parent

CACHE = """import threading
import time


class TTLCache:
    def __init__(self, ttl: float) -> None:
        self._ttl, self._data, self._lock = ttl, {}, threading.Lock()

    def set(self, key, value) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + self._ttl, value)

    def get(self, key, default=None):
        with self._lock:
            item = self._data.get(key)
            if item is None or item[0] <= time.monotonic():
                return default
            return item[1]
"""
CACHE_TESTS = """from ttl_cache import TTLCache


def test_get_returns_what_was_set() -> None:
    c = TTLCache(60)
    c.set("a", 1)
    assert c.get("a") == 1


def test_expired_entry_is_gone() -> None:
    c = TTLCache(-1)
    c.set("a", 1)
    assert c.get("a") is None
"""


def _team_script(parallel: int | None, think_s: float) -> Callable[[Any], Any]:
    """The fake model's part: ``parallel`` None is the two-task run (code, then tests that
    run them); a number is that many independent code tasks. Each specialist reply takes
    ``think_s``, so the servers live as long as they would beside a real model."""
    from tests.team.conftest import role, task_id
    from tests.team.fake_anthropic import Reply, text, tool_use

    def lead(turn: int) -> Any:
        if turn:
            return Reply([text("report")])
        if parallel is None:
            tasks = [
                tool_use("assign_task", id="impl", agent="code", description="TTL cache"),
                tool_use(
                    "assign_task",
                    id="tests",
                    agent="test",
                    depends_on=["impl"],
                    description="test it",
                ),
            ]
        else:
            tasks = [
                tool_use("assign_task", id=f"t{i}", agent="code", description=f"part {i}")
                for i in range(parallel)
            ]
        return Reply(tasks)

    def script(req: Any) -> Any:
        who, turn = role(req), req.turn
        if who == "lead":
            return lead(turn)
        steps: list[list[dict[str, Any]]]
        if who == "test":
            steps = [
                [tool_use("write_file", path="test_ttl_cache.py", content=CACHE_TESTS)],
                [tool_use("run_tests", path=".", language="python")],
            ]
        else:
            tid = task_id(req)
            name = "ttl_cache.py" if tid == "impl" else f"part_{tid}.py"
            steps = [
                [tool_use("write_file", path=name, content=CACHE)],
                [tool_use("execute_code", language="python", code=CACHE + "print('ok')")],
            ]
        if turn < len(steps):
            return Reply(steps[turn], delay=think_s)
        return Reply([text("done")], delay=think_s)

    return script


def _part(pid: int, root: int) -> str:
    """Which part of a run a process is: the CLI, a ``codeteam serve``, or a sandbox."""
    if pid == root:
        return "cli"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read()
    except OSError:
        return "sandboxes"
    return "servers" if b"codeteam\0serve" in cmd else "sandboxes"


@dataclass
class TreeMemory:
    """One sample of a process tree: PSS KiB by part, summed RSS KiB, process count."""

    pss_kb: dict[str, int] = field(default_factory=dict)
    rss_kb: int = 0
    procs: int = 0

    @property
    def total_pss_kb(self) -> int:
        return sum(self.pss_kb.values())


def tree_memory(pid: int) -> TreeMemory:
    """PSS (from /proc/PID/smaps_rollup: each shared page split among the processes that
    map it) and RSS of a process and all its descendants."""
    from run import proc_kb, tree_pids  # type: ignore[import-not-found]

    sample = TreeMemory()
    for p in tree_pids(pid):
        got = proc_kb(p, "smaps_rollup", "Pss", "Rss")
        if got is None:
            continue  # gone meanwhile
        part = _part(p, pid)
        sample.pss_kb[part] = sample.pss_kb.get(part, 0) + got["Pss"]
        sample.rss_kb += got["Rss"]
        sample.procs += 1
    return sample


@dataclass
class TreePeak:
    peak: TreeMemory = field(default_factory=TreeMemory)  # the sample of highest PSS
    rss_kb: int = 0
    procs: int = 0


def team_run_memory(parallel: int | None, think_s: float = 0.3, every_s: float = 0.05) -> TreePeak:
    """Run ``codeteam run`` as a user does (live table, output not a terminal) against the
    fake Messages API, sampling its whole process tree every ``every_s``: the peaks."""
    from tests.team.fake_anthropic import FakeAnthropic

    result = TreePeak()
    with tempfile.TemporaryDirectory(prefix="codeteam-team-mem-") as d:
        ws = Path(d, "ws")
        ws.mkdir()
        os.chmod(d, 0o755)  # the sandbox runs as another uid
        with FakeAnthropic(_team_script(parallel, think_s)) as fake:
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")},
                "ANTHROPIC_API_KEY": "k",
                "ANTHROPIC_BASE_URL": fake.url,
                "CODETEAM_RUN_DIR": str(Path(d, "runs")),
                "COLUMNS": "120",
            }
            cmd = [sys.executable, "-m", "codeteam", "run", "write a TTL cache"]
            cmd += ["--workspace", str(ws), "--db", str(Path(d, "runs.db"))]
            cmd += ["--max-parallel", str(parallel or 2)]
            proc = subprocess.Popen(
                cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=d
            )
            while proc.poll() is None:
                sample = tree_memory(proc.pid)
                if sample.total_pss_kb > result.peak.total_pss_kb:
                    result.peak = sample
                result.rss_kb = max(result.rss_kb, sample.rss_kb)
                result.procs = max(result.procs, sample.procs)
                time.sleep(every_s)
            out = proc.stdout.read().decode() if proc.stdout else ""
        if proc.returncode != 0 or fake.rejections:
            raise RuntimeError(f"team run failed ({proc.returncode}): {out[-2000:]}")
    return result


def bench_team_memory(row: Row, repeats: int = 3) -> None:
    """Issue 10 item 4: the whole tree of a team run, peak PSS sampled every 50 ms."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # the fake Messages API lives in tests/team
    for label, parallel in (("2 tasks (code, then tests)", None), ("8 parallel tasks", 8)):
        runs = sorted(
            (team_run_memory(parallel) for _ in range(repeats)),
            key=lambda r: r.peak.total_pss_kb,
        )
        mid = runs[len(runs) // 2]
        lo, mib, hi = (r.peak.total_pss_kb / 1024 for r in (runs[0], mid, runs[-1]))
        parts = ", ".join(f"{k} {v / 1024:.0f}" for k, v in sorted(mid.peak.pss_kb.items()))
        row(
            f"team run memory, {label}: peak PSS of the CLI and all its descendants",
            f"{mib:.0f} MiB (runs {lo:.0f}-{hi:.0f}; at that peak: {parts})",
            f"{mid.rss_kb / 1024:.0f} MiB peak summed RSS",
            f"up to {max(r.procs for r in runs)} processes",
            "2 tasks < 100 MiB" if parallel is None else "-",
        )


def main() -> int:
    rows: list[tuple[str, ...]] = []

    def row(*cells: str) -> None:
        rows.append(cells)
        print("  " + " | ".join(cells), flush=True)

    bench_team(row)
    bench_team_memory(row)
    print("\n| figure | codeteam | baseline | ratio | target |\n| --- | --- | --- | --- | --- |")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
