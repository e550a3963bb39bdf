"""What a team run announces as it goes: one dataclass per kind of step.

Watchers (the live table, the JSONL printer, the team tools' progress, a test) match on the
type; :meth:`as_json` is the line ``codeteam run --json`` prints (``event`` names the kind).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class _Event:
    kind: ClassVar[str]

    def as_json(self) -> dict[str, Any]:
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {"event": self.kind, **fields}


@dataclass(frozen=True)
class RunStarted(_Event):
    kind = "run_started"
    run_id: str
    request: str
    workspace: str
    model: str
    resumed: bool = False


@dataclass(frozen=True)
class RunFinished(_Event):
    kind = "run_finished"
    run_id: str
    status: str
    report: str
    error: str | None
    limits: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Notice(_Event):
    """Something about the whole run a person should know (tasks run in place...)."""

    kind = "notice"
    message: str


@dataclass(frozen=True)
class PlannedTask:
    id: str
    agent: str
    depends_on: list[str]
    description: str


@dataclass(frozen=True)
class Plan(_Event):
    kind = "plan"
    tasks: list[PlannedTask]

    def as_json(self) -> dict[str, Any]:
        return {"event": self.kind, "tasks": [dataclasses.asdict(t) for t in self.tasks]}


@dataclass(frozen=True)
class PlanRejected(_Event):
    kind = "plan_rejected"
    errors: list[str]


@dataclass(frozen=True)
class TaskResumed(_Event):
    """A task finished in an earlier attempt of the run: taken from the records."""

    kind = "task_resumed"
    task: str
    agent: str
    status: str


@dataclass(frozen=True)
class TaskStarted(_Event):
    kind = "task_started"
    task: str
    agent: str


@dataclass(frozen=True)
class TaskFinished(_Event):
    kind = "task_finished"
    task: str
    status: str
    error: str | None
    summary: str


@dataclass(frozen=True)
class ModelCalled(_Event):
    """One model call (``task`` None: the lead's)."""

    kind = "model_call"
    task: str | None
    model: str
    input_tokens: int
    output_tokens: int
    stop_reason: str | None
    latency_ms: float
    error: str | None


@dataclass(frozen=True)
class ToolCalled(_Event):
    kind = "tool_call"
    task: str
    name: str
    status: str
    is_error: bool
    duration_ms: float


@dataclass(frozen=True)
class LimitFired(_Event):
    """A budget or guard stopped an agent (``task`` None: the run)."""

    kind = "limit"
    task: str | None
    limit: str
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"event": self.kind, "task": self.task, "kind": self.limit, "detail": self.detail}


@dataclass(frozen=True)
class ConflictKept(_Event):
    """Two tasks changed one file: both versions are kept (``other`` names the second)."""

    kind = "conflict"
    task: str
    path: str
    other: str


Event = (
    RunStarted
    | RunFinished
    | Notice
    | Plan
    | PlanRejected
    | TaskResumed
    | TaskStarted
    | TaskFinished
    | ModelCalled
    | ToolCalled
    | LimitFired
    | ConflictKept
)
#: Where a run's events go.
Sink = Callable[[Event], None]
