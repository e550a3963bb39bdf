"""The ``go`` dataset scored for real: one ``codeteam serve`` (stdio, official SDK client) runs
every task's hidden tests against its canonical solution (passes), its stub (fails), its
plausible wrong answer (fails) and, for race tasks, its racy answer (fails only under -race)."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from codeteam.eval.go import GoDataset, GoTask
from codeteam.eval.problems import Verdict
from tests.e2e.conftest import require_sandbox, server_env

DATASET = GoDataset()
TASKS = list(DATASET.tasks.values())
AT_ONCE = 4  # scorings in flight: the server runs up to 8 sandboxes, the box has 2 cores


@pytest.fixture
def evaldir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="codeteam-goeval-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_the_dataset_has_the_tasks_the_issue_asks_for() -> None:
    ids = [t.id for t in TASKS]
    assert len(ids) >= 24 and "ttl-cache" in ids
    assert sum(t.race and bool(t.racy) for t in TASKS) >= 6
    assert any(t.benchmark for t in TASKS)
    for task in TASKS:
        assert task.solution and task.wrong and task.hidden, task.id
        assert task.race == bool(task.racy), task.id


def test_hidden_tests_never_reach_the_agents() -> None:
    for problem, task in zip(DATASET.problems(), TASKS, strict=True):
        shown = problem.prompt.encode() + b"".join(problem.files.values())
        assert not any(name.endswith("_test.go") for name in problem.files), problem.id
        for body in task.hidden.values():
            # every hidden test function's signature line, and the baseline copy's name
            for line in body.splitlines():
                if line.startswith((b"func Test", b"func Benchmark", b"func baseline")):
                    assert line not in shown, (problem.id, line)
        assert problem.files["README.md"] == problem.prompt.encode()


def _workspace(root: Path, name: str, *layers: Mapping[str, bytes]) -> Path:
    ws = root / name
    for layer in layers:
        for rel, data in layer.items():
            (ws / rel).parent.mkdir(parents=True, exist_ok=True)
            (ws / rel).write_bytes(data)
    # The agents' own tests are dropped by the scorer: this one would fail every run.
    (ws / "agents_test.go").write_text(
        f'package {_package(layers[0])}\n\nimport "testing"\n\n'
        'func TestAgentsOwn(t *testing.T) { t.Fatal("agents\' tests must not be scored") }\n'
    )
    return ws


def _package(files: Mapping[str, bytes]) -> str:
    for rel, data in files.items():
        if rel.endswith(".go"):
            for line in data.decode().splitlines():
                if line.startswith("package "):
                    return line.split()[1]
    raise AssertionError("no Go package in the stub")


def _variants(task: GoTask) -> list[tuple[str, Mapping[str, bytes], bool]]:
    out = [("canonical", task.solution, True), ("stub", {}, False), ("wrong", task.wrong, False)]
    if task.racy:
        out.append(("racy", task.racy, False))
    return out


async def test_every_task_scores_canonical_pass_and_stub_wrong_racy_fail(evaldir: Path) -> None:
    require_sandbox()
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "codeteam",
            "serve",
            "--root",
            str(evaldir),
            "--max-timeout",
            "600",
            "--processes",
            "256",
        ],
        env=server_env(),
        cwd=str(evaldir),
    )
    verdicts: dict[tuple[str, str], Verdict] = {}
    calls: list[tuple[str, dict[str, Any]]] = []
    started = time.monotonic()
    async with Client(params) as client:

        async def call(name: str, args: dict[str, Any]) -> dict[str, Any]:
            calls.append((name, args))
            result = await client.call_tool(name, args)
            # a failed test run is a result (is_error set, structured content present);
            # only a refused call has none
            assert result.structured_content is not None, result.content
            return dict(result.structured_content)

        gate = asyncio.Semaphore(AT_ONCE)

        async def score(task: GoTask, variant: str, files: Mapping[str, bytes]) -> None:
            problem = next(p for p in DATASET.problems() if p.id == task.id)
            ws = _workspace(evaldir, f"{task.id}-{variant}", problem.files, files)
            async with gate:
                verdicts[task.id, variant] = await DATASET.score(problem, ws, call)

        # Race runs (cold -race builds) first, so the cheap ones fill the gaps behind them.
        jobs = sorted(
            ((t, v, f) for t in TASKS for v, f, _ in _variants(t)),
            key=lambda job: not job[0].race,
        )
        await asyncio.gather(*(score(t, v, f) for t, v, f in jobs))
    elapsed = time.monotonic() - started

    wrong_answers = []
    for task in TASKS:
        for variant, _files, should_pass in _variants(task):
            verdict = verdicts[task.id, variant]
            if verdict.passed != should_pass:
                wrong_answers.append(f"{task.id}/{variant}: {verdict}")
                continue
            if should_pass:
                assert verdict.reason is None
                continue
            assert verdict.reason and "\n" not in verdict.reason
            assert "TestAgentsOwn" not in verdict.reason, verdict
            if variant == "racy":
                assert "under -race" in verdict.reason, (task.id, verdict.reason)
            elif variant == "stub" and task.benchmark:
                assert "needs" in verdict.reason and "x" in verdict.reason, verdict.reason
            else:  # compiles with the hidden tests and fails one of them
                assert verdict.reason.startswith("hidden tests failed"), (task.id, verdict.reason)
    assert not wrong_answers, "\n".join(wrong_answers)
    # the scoring folders beside the workspaces are gone; only the workspaces remain
    assert sorted(p.name for p in evaldir.iterdir()) == sorted(
        f"{t.id}-{v}" for t in TASKS for v, _f, _p in _variants(t)
    )
    assert all(args["path"].startswith(str(evaldir)) for _name, args in calls)
    print(f"scored {len(verdicts)} answers of {len(TASKS)} tasks in {elapsed:.0f} s")
