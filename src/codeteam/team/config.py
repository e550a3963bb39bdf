"""What a team run is given (:class:`TeamConfig`, recorded so a resume reuses it) and what it
hands back (:class:`RunResult`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codeteam.team.budget import Price
from codeteam.team.scheduler import TaskOutcome
from codeteam.team.workspace import Conflict


def default_run_root() -> Path:
    """Where runs keep their task copies: ``$CODETEAM_RUN_DIR`` or /var/tmp/codeteam-runs
    (outside the user's home: sandboxed code runs as another uid and must reach them)."""
    return Path(os.environ.get("CODETEAM_RUN_DIR") or "/var/tmp/codeteam-runs")  # noqa: S108


@dataclass(frozen=True)
class TeamConfig:
    request: str
    workspace: Path
    max_parallel: int = 4
    max_turns: int = 20
    lead_max_turns: int = 8
    max_plan_attempts: int = 3
    task_timeout_s: float | None = 900.0
    max_tokens: int = 8192
    mcp_server: str | None = None
    #: per specialist: tool calls, and identical calls in a row before it is stopped
    max_tool_calls: int | None = 100
    repeat_limit: int | None = 3
    #: per run (None: no cap)
    max_run_tokens: int | None = None
    max_cost_usd: float | None = None
    prices: dict[str, Price] | None = None
    #: each task on its own copy of the workspace, merged back three-way
    isolate: bool = True
    run_root: Path | None = None

    def record(self) -> dict[str, Any]:
        """The settings a resume reuses (JSON)."""
        out = {
            k: getattr(self, k)
            for k in (
                "max_parallel",
                "max_turns",
                "lead_max_turns",
                "max_plan_attempts",
                "task_timeout_s",
                "max_tokens",
                "mcp_server",
                "max_tool_calls",
                "repeat_limit",
                "max_run_tokens",
                "max_cost_usd",
                "isolate",
            )
        }
        out["prices"] = {k: vars(v) for k, v in (self.prices or {}).items()}
        return out

    @classmethod
    def from_record(cls, run: dict[str, Any]) -> TeamConfig:
        raw = json.loads(run.get("config") or "{}")
        prices = raw.pop("prices", None)
        cfg = cls(request=run["request"], workspace=Path(run["workspace"]), **raw)
        if prices:
            cfg = replace(cfg, prices={k: Price(**v) for k, v in prices.items()})
        return cfg


@dataclass
class RunResult:
    run_id: str
    #: completed (every task ok) | partial (some did not succeed) | failed (none did, or the
    #: lead could not finish) | stopped (a run limit) | interrupted (resumable)
    status: str
    report: str
    error: str | None = None
    tasks: dict[str, TaskOutcome] = field(default_factory=dict)
    limits: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: every successful run_benchmarks of the run: (task, {benchmark: ns/op})
    benchmarks: list[tuple[str, dict[str, float]]] = field(default_factory=list)

    @property
    def failed_tasks(self) -> dict[str, TaskOutcome]:
        return {k: v for k, v in self.tasks.items() if not v.ok}


#: Task states a resume keeps; any other task is run again from its recorded base.
FINISHED = ("ok", "failed", "skipped", "tests_failed", "build_failed")
