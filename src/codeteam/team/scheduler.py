"""Run a plan as a DAG on asyncio: dependencies first, at most ``max_parallel`` at once.

A failed task does not stop its siblings; its dependents are skipped with the reason.
Cancellation (Ctrl-C) propagates: the caller records the run as interrupted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from codeteam.team.plan import TaskSpec


@dataclass
class TaskOutcome:
    status: str  # ok | failed | skipped | tests_failed | build_failed (what the tools said)
    summary: str = ""
    error: str | None = None
    turns: int = 0
    timed_out: bool = False  # stopped by the per-task timeout (its work was cut short)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def describe(self) -> str:
        if self.ok:
            return self.summary or "done"
        return f"{self.status}: {self.error}" + (f"\n{self.summary}" if self.summary else "")


RunTask = Callable[[TaskSpec, dict[str, TaskOutcome]], Awaitable[TaskOutcome]]
OnDone = Callable[[TaskSpec, TaskOutcome], None]


async def run_plan(
    tasks: list[TaskSpec],
    run_task: RunTask,
    *,
    max_parallel: int,
    task_timeout_s: float | None,
    prior: dict[str, TaskOutcome] | None = None,
    on_done: OnDone | None = None,
) -> dict[str, TaskOutcome]:
    """Run ``tasks`` (already checked acyclic); ``prior`` holds outcomes of earlier plans.

    ``run_task`` gets the spec and the outcomes of its dependencies; ``on_done`` sees
    every final outcome, including skips and timeouts that ``run_task`` never returns.
    """
    known: dict[str, TaskOutcome] = dict(prior or {})
    finished: dict[str, asyncio.Event] = {t.id: asyncio.Event() for t in tasks}
    gate = asyncio.Semaphore(max(1, max_parallel))

    async def one(spec: TaskSpec) -> None:
        try:
            for dep in spec.depends_on:
                if dep in finished:
                    await finished[dep].wait()
            deps = {d: known[d] for d in spec.depends_on}
            bad = [f"{d} {o.status}" for d, o in deps.items() if not o.ok]
            if bad:
                outcome = TaskOutcome("skipped", error=f"dependency {', '.join(bad)}")
                known[spec.id] = outcome
                if on_done is not None:
                    on_done(spec, outcome)
                return
            async with gate:
                try:
                    known[spec.id] = await asyncio.wait_for(run_task(spec, deps), task_timeout_s)
                except TimeoutError:
                    known[spec.id] = TaskOutcome(
                        "failed",
                        error=f"timed out after {task_timeout_s:g} s (--task-timeout)",
                        timed_out=True,
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a bug or I/O failure in one task spares the rest
                    known[spec.id] = TaskOutcome("failed", error=f"{type(exc).__name__}: {exc}")
            if on_done is not None:
                on_done(spec, known[spec.id])
        finally:
            finished[spec.id].set()

    async with asyncio.TaskGroup() as group:
        for spec in tasks:
            group.create_task(one(spec), name=f"task:{spec.id}")
    return {t.id: known[t.id] for t in tasks}
