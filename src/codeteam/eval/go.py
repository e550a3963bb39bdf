"""The ``go`` dataset: Go tasks written for codeteam, scored by hidden tests (and, for the
"make this faster" tasks, a benchmark against the given code) run through the scoring server.

Each task is a folder of ``datasets/go``: ``task.json``, ``README.md`` (the prompt),
``stub/`` (the starting workspace), ``solution/``, ``wrong/``, ``racy/`` (race tasks: passes
plain ``go test``, fails under ``-race``) and ``hidden/`` (the hidden ``*_test.go`` files, read
only by :meth:`GoDataset.score`).
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from codeteam.eval.problems import Problem, ToolCaller, Verdict

DATA = Path(__file__).parent / "datasets" / "go"
#: A benchmark below its factor is measured once more if it reached this share of it: the
#: scoring machine may be busy, and one noisy run should not fail a real speed-up.
RETRY_SHARE = 0.5


@dataclass(frozen=True)
class Benchmark:
    name: str  # the hidden benchmark of the agents' code
    baseline: str  # the hidden benchmark of the given (slow) code, renamed
    factor: float  # baseline ns/op over name ns/op must reach this


@dataclass(frozen=True)
class GoTask:
    id: str
    title: str
    race: bool
    timeout_s: float
    benchmark: Benchmark | None
    prompt: str
    stub: Mapping[str, bytes]
    solution: Mapping[str, bytes]
    wrong: Mapping[str, bytes]
    hidden: Mapping[str, bytes]
    racy: Mapping[str, bytes] = field(default_factory=dict)

    def problem(self) -> Problem:
        return Problem(
            dataset="go",
            id=self.id,
            language="go",
            prompt=self.prompt,
            files={**self.stub, "README.md": self.prompt.encode()},
            canonical=self.solution,
            wrong=self.wrong,
        )


def _files(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def load_task(folder: Path) -> GoTask:
    meta = json.loads((folder / "task.json").read_text())
    bench = meta.get("benchmark")
    task = GoTask(
        id=meta["id"],
        title=meta["title"],
        race=bool(meta.get("race", False)),
        timeout_s=float(meta.get("timeout_s", 30)),
        benchmark=Benchmark(bench["name"], bench["baseline"], float(bench["factor"]))
        if bench
        else None,
        prompt=(folder / "README.md").read_text(),
        stub=_files(folder / "stub"),
        solution=_files(folder / "solution"),
        wrong=_files(folder / "wrong"),
        hidden=_files(folder / "hidden"),
        racy=_files(folder / "racy"),
    )
    if task.id != folder.name or "go.mod" not in task.stub or not task.hidden:
        raise ValueError(f"{folder}: a go task needs id == folder name, stub/go.mod, hidden/")
    return task


class GoDataset:
    """Problems in id order; :meth:`score` runs the hidden tests beside the workspace."""

    name = "go"

    def __init__(self, root: Path = DATA) -> None:
        self.root = root

    @cached_property
    def tasks(self) -> dict[str, GoTask]:
        folders = sorted(p for p in self.root.iterdir() if (p / "task.json").is_file())
        return {t.id: t for t in map(load_task, folders)}

    def problems(self) -> list[Problem]:
        return [t.problem() for t in self.tasks.values()]

    async def score(self, problem: Problem, workspace: Path, call: ToolCaller) -> Verdict:
        """Copy the workspace's Go sources (not its tests) with the task's ``go.mod`` and the
        hidden tests into a fresh folder beside ``workspace`` (so the scoring server's roots
        must hold ``workspace.parent``), run the tests there — under ``-race`` too for race
        tasks — and, for benchmark tasks, compare against the given code."""
        task = self.tasks[problem.id]
        scoring = workspace.parent / f".{workspace.name}.score-{secrets.token_hex(4)}"
        try:
            write_scoring_tree(task, workspace, scoring)
            return await _judge(task, str(scoring), call)
        finally:
            shutil.rmtree(scoring, ignore_errors=True)


def write_scoring_tree(task: GoTask, workspace: Path, scoring: Path) -> None:
    """The agents' ``.go`` files minus ``*_test.go`` (regular files only: a symlink could point
    anywhere), the task's own ``go.mod`` (so no ``require`` or ``godebug`` line the agents
    added changes the build), then the hidden tests."""
    scoring.mkdir(mode=0o755)
    sources = {
        p.relative_to(workspace).as_posix(): p.read_bytes()
        for p in sorted(workspace.rglob("*.go"))
        if p.is_file()
        and not p.is_symlink()
        and not p.name.endswith("_test.go")
        and not any(part.startswith(".") for part in p.relative_to(workspace).parts)
    }
    for rel, data in {**sources, "go.mod": task.stub["go.mod"], **task.hidden}.items():
        path = scoring / rel
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o644)


async def _judge(task: GoTask, path: str, call: ToolCaller) -> Verdict:
    args: dict[str, Any] = {"path": path, "language": "go", "timeout_s": task.timeout_s}
    # Plain first: a failing answer is told apart without a -race build (slow when cold).
    runs = [False, True] if task.race else [False]
    detail: dict[str, Any] = {}
    for race in runs:
        result = await call("run_tests", {**args, "race": race})
        detail["race" if race else "tests"] = [
            {"name": t["name"], "outcome": t["outcome"]} for t in result.get("tests", [])
        ]
        if result["status"] != "ok":
            return Verdict(False, _test_failure(result, race), detail)
    if task.benchmark is None:
        return Verdict(True, None, detail)
    return await _race_the_baseline(task.benchmark, args, call, detail)


def _test_failure(result: Mapping[str, Any], race: bool) -> str:
    label = "under -race" if race else "hidden tests"
    failing = [t for t in result.get("tests", []) if t["outcome"] in ("failed", "error")]
    if failing:
        message = (failing[0].get("message") or "").strip().splitlines()
        why = f": {message[-1].strip()}" if message else ""
        return f"{label} {result['status']}: {failing[0]['name']}{why}"[:300]
    text = str(result.get("error") or result.get("output") or "")  # error: a refused call
    lines = [line for line in text.splitlines() if line.strip()]
    return f"{label} {result['status']}: {lines[-1].strip() if lines else 'no output'}"[:300]


async def _race_the_baseline(
    bench: Benchmark, args: dict[str, Any], call: ToolCaller, detail: dict[str, Any]
) -> Verdict:
    best = 0.0
    for _attempt in range(2):
        result = await call("run_benchmarks", {**args, "select": [bench.name, bench.baseline]})
        ns = {b["name"]: b["ns_per_op"] for b in result.get("benchmarks", [])}
        if result["status"] != "ok" or not ns.get(bench.name) or not ns.get(bench.baseline):
            why = f"benchmark {bench.name} did not run ({result['status']})"
            return Verdict(False, why, detail)
        best = max(best, ns[bench.baseline] / ns[bench.name])
        detail["benchmark"] = {"ns_per_op": ns, "speedup": round(best, 2), "factor": bench.factor}
        if best >= bench.factor or best < bench.factor * RETRY_SHARE:
            break
    if best >= bench.factor:
        return Verdict(True, None, detail)
    return Verdict(
        False, f"{bench.name}: {best:.1f}x the given code's speed, needs {bench.factor:g}x", detail
    )
