"""What an eval is given (:class:`EvalConfig`, recorded so ``--resume`` reuses it) and the
budget each of its problems runs under."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from codeteam.llm import Usage
from codeteam.team.budget import Price, RunBudget


def default_eval_root() -> Path:
    """Where evals keep their workspaces while they run: ``$CODETEAM_EVAL_DIR`` or
    /var/tmp/codeteam-evals (sandboxed code runs as another uid and must reach them)."""
    return Path(os.environ.get("CODETEAM_EVAL_DIR") or "/var/tmp/codeteam-evals")  # noqa: S108


@dataclass(frozen=True)
class EvalConfig:
    dataset: str
    mode: str  # team | single
    problem_ids: tuple[str, ...]
    provider: str = "anthropic"
    model: str | None = None
    base_url: str | None = None
    #: problems at once
    max_parallel: int = 4
    #: per problem, as for ``codeteam run`` (team mode: tasks at once within a problem)
    team_parallel: int = 4
    max_turns: int = 20
    task_timeout_s: float | None = 900.0
    max_tokens: int = 8192
    max_tool_calls: int | None = 100
    repeat_limit: int | None = 3
    max_run_tokens: int | None = None
    #: the whole eval
    max_cost_usd: float | None = None
    prices: dict[str, Price] | None = None
    #: where code runs (``codeteam serve --executor``), for every server the eval starts
    executor: str | None = None
    record_dir: str | None = None
    replay_dir: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        out = asdict(self)
        out["problem_ids"] = list(self.problem_ids)
        return out

    @classmethod
    def from_record(cls, raw: dict[str, Any]) -> EvalConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        values["problem_ids"] = tuple(values.get("problem_ids") or ())
        if values.get("prices"):
            values["prices"] = {k: Price(**v) for k, v in values["prices"].items()}
        return cls(**values)


@dataclass
class ProblemBudget(RunBudget):
    """One problem's budget (its run caps), charging the eval's too (``--max-cost``
    covers the whole eval): either one being used up stops the problem's agents."""

    whole: RunBudget | None = None

    def check(self) -> None:
        super().check()
        if self.whole is not None:
            self.whole.check()

    def charge(self, usage: Usage) -> None:
        super().charge(usage)
        if self.whole is not None:
            self.whole.charge(usage)
