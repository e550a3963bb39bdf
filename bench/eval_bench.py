"""The eval harness benchmark (issue 14): the whole ``humaneval`` eval with a zero-latency
fake model writing the canonical solutions, single mode and team mode.

    python bench/eval_bench.py            # or: python bench/run.py --only eval
    EVAL_BENCH_LIMIT=40 python bench/eval_bench.py   # a quicker look at the first 40

The model is an in-process Provider answering at once, so what is measured is ours: a
fresh workspace per problem, the agents' MCP servers and tool calls, the records, and
the hidden tests run by the scoring server in the sandbox. Orchestration overhead per
problem is its wall time minus its hidden-test run.
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codeteam.eval.config import EvalConfig
from codeteam.eval.harness import Harness
from codeteam.eval.problems import Problem
from codeteam.eval.registry import dataset
from codeteam.llm import Message, ToolDef, Turn, Usage
from codeteam.store import Store

Row = Callable[[str, str, str, str, str], None]
TARGETS = {"single": 30.0, "team": 60.0}
PARALLEL = 8


class CanonicalSolver:
    """Lead: one code task; code agent: writes the canonical files of the problem whose
    prompt its first message holds, then says done."""

    name = "fake"
    model = "fake-model"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems

    async def turn(
        self, *, system: str, messages: list[Message], tools: list[ToolDef], max_tokens: int
    ) -> Turn:
        first = messages[0]["content"][0]["text"]
        (problem,) = [p for p in self.problems if p.prompt in first]
        turn = sum(1 for m in messages if m["role"] == "assistant")
        usage = Usage(100, 20)
        if "lead engineer" in system:
            if turn == 0:
                use = {"id": "solve", "agent": "code", "description": first}
                return Turn([_use("assign_task", use)], "tool_use", usage, self.model)
            return Turn([{"type": "text", "text": "solved"}], "end_turn", usage, self.model)
        if turn == 0:
            writes = [
                _use("write_file", {"path": path, "content": data.decode()}, n)
                for n, (path, data) in enumerate(problem.canonical.items())
            ]
            return Turn(writes, "tool_use", usage, self.model)
        return Turn([{"type": "text", "text": "done"}], "end_turn", usage, self.model)

    async def aclose(self) -> None:
        return None


def _use(name: str, arguments: dict[str, Any], n: int = 0) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_{name}_{n}", "name": name, "input": arguments}


def _cpu_s() -> float:
    """CPU seconds of this process and its reaped descendants (servers, sandboxes)."""
    used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in used)


def whole_eval(mode: str, name: str = "humaneval") -> tuple[float, float, int, int, list[float]]:
    """Seconds for the whole eval, its CPU seconds, passed, total, and each problem's
    overhead (s)."""
    data = dataset(name)
    problems = data.problems()[: int(os.environ.get("EVAL_BENCH_LIMIT") or 10_000)]
    solver = CanonicalSolver(problems)
    overhead: list[float] = []

    def sink(event: dict[str, Any]) -> None:
        if event["event"] == "problem_scored":
            overhead.append(event["wall_s"] - event["score_s"])

    with tempfile.TemporaryDirectory(prefix="codeteam-eval-bench-") as tmp:
        os.environ["CODETEAM_EVAL_DIR"] = str(Path(tmp, "evals"))
        os.environ["CODETEAM_RUN_DIR"] = str(Path(tmp, "runs"))
        Path(tmp).chmod(0o755)
        store = Store(Path(tmp, "runs.db"))
        cfg = EvalConfig(name, mode, tuple(p.id for p in problems), max_parallel=PARALLEL)
        harness = Harness(cfg, data, problems, lambda _pid: solver, solver.model, store, sink)
        t0, cpu0 = time.perf_counter(), _cpu_s()
        result = asyncio.run(harness.run(solver.name))
        elapsed, cpu = time.perf_counter() - t0, _cpu_s() - cpu0
        store.close()
    return elapsed, cpu, result.passed, len(problems), overhead


def bench_eval(row: Row) -> None:
    print(
        f"eval (whole humaneval, zero-latency canonical fake, {PARALLEL} problems at once, "
        f"{os.cpu_count()} cores)",
        flush=True,
    )
    for mode in ("single", "team"):
        elapsed, cpu, passed, total, overhead = whole_eval(mode)
        row(
            f"eval humaneval {mode} mode ({passed}/{total} passed)",
            f"{elapsed:.1f} s ({elapsed / total * 1000:.0f} ms/problem; {cpu:.0f} CPU-s, "
            f"{cpu / total * 1000:.0f} CPU-ms/problem)",
            f"orchestration overhead per problem: median {statistics.median(overhead):.2f} s, "
            f"mean {statistics.mean(overhead):.2f} s (wall minus the hidden-test run; "
            f"{PARALLEL} at once)",
            f"{elapsed / TARGETS[mode]:.2f} of target",
            f"<= {TARGETS[mode]:.0f} s",
        )


def main() -> int:
    def row(*cells: str) -> None:
        print("  " + " | ".join(cells), flush=True)

    bench_eval(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
