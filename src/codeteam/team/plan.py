"""The lead's plan: ``assign_task`` calls of one turn, checked as a DAG.

Every problem is reported against the ``tool_use`` that caused it, so the lead gets an
``is_error`` tool result with the reason and can revise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

AGENTS = ("code", "test", "review", "deploy")


@dataclass(frozen=True)
class TaskSpec:
    id: str
    agent: str
    description: str
    depends_on: tuple[str, ...] = ()
    tool_use_id: str = ""


@dataclass
class PlanCheck:
    tasks: list[TaskSpec] = field(default_factory=list)
    #: tool_use id -> reason the call was rejected
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _parse(tool_use_id: str, raw: Any) -> tuple[TaskSpec | None, str | None]:
    if not isinstance(raw, dict):
        return None, "assign_task input must be an object with id, agent, description"
    unknown = sorted(set(raw) - {"id", "agent", "description", "depends_on"})
    if unknown:
        return (
            None,
            f"unknown field(s) {', '.join(unknown)}; allowed: id, agent, description, depends_on",
        )
    tid, agent, desc = raw.get("id"), raw.get("agent"), raw.get("description")
    deps = raw.get("depends_on", [])
    if not isinstance(tid, str) or not tid.strip():
        return None, "'id' must be a non-empty string naming the task"
    if agent not in AGENTS:
        return None, f"task {tid!r}: unknown agent {agent!r}; use one of {', '.join(AGENTS)}"
    if not isinstance(desc, str) or not desc.strip():
        return None, f"task {tid!r}: 'description' must say what to do"
    if deps is None:
        deps = []
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        return None, f"task {tid!r}: 'depends_on' must be a list of task ids"
    return TaskSpec(tid.strip(), agent, desc.strip(), tuple(deps), tool_use_id), None


def _cycle(tasks: dict[str, TaskSpec]) -> list[str] | None:
    """A dependency cycle among ``tasks`` as a list of ids, or None."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(tid: str) -> list[str] | None:
        state[tid] = 1
        stack.append(tid)
        for dep in tasks[tid].depends_on:
            if dep not in tasks:
                continue
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[tid] = 2
        return None

    for tid in tasks:
        if tid not in state and (found := visit(tid)):
            return found
    return None


def check_plan(calls: Iterable[tuple[str, Any]], done: Iterable[str] = ()) -> PlanCheck:
    """Check ``(tool_use_id, input)`` pairs; ``done`` are ids of tasks from earlier plans,
    which new tasks may depend on but not reuse."""
    earlier = set(done)
    check = PlanCheck()
    by_id: dict[str, TaskSpec] = {}
    for use_id, raw in calls:
        spec, err = _parse(use_id, raw)
        if err is not None or spec is None:
            check.errors[use_id] = err or "invalid task"
            continue
        if spec.id in by_id or spec.id in earlier:
            check.errors[use_id] = f"duplicate task id {spec.id!r}: give every task its own id"
            continue
        by_id[spec.id] = spec
    for spec in by_id.values():
        missing = [d for d in spec.depends_on if d not in by_id and d not in earlier]
        if spec.id in spec.depends_on:
            check.errors[spec.tool_use_id] = f"task {spec.id!r} depends on itself"
        elif missing:
            check.errors[spec.tool_use_id] = (
                f"task {spec.id!r} depends on unknown task(s) {', '.join(map(repr, missing))}; "
                f"known ids: {', '.join(sorted(by_id)) or 'none'}"
            )
    cycle = _cycle({k: v for k, v in by_id.items() if v.tool_use_id not in check.errors})
    if cycle:
        for tid in set(cycle):
            check.errors[by_id[tid].tool_use_id] = (
                f"dependency cycle {' -> '.join(cycle)}: remove one of these dependencies"
            )
    check.tasks = list(by_id.values())
    return check
