"""An eval from start to end: each problem solved in a fresh workspace (by the team, as
``codeteam run`` does, or by one code agent), then scored by its hidden tests through
the scoring server, then recorded.

The agents never see the hidden tests: their servers are rooted at their own workspace,
and the tests exist only in the scoring server's calls and in a copy of their result
under that server's root, made after they have finished. A problem's record is written
once, when it is scored; ``resume`` skips the scored ones.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeteam.config import ConfigError
from codeteam.eval.config import EvalConfig, ProblemBudget, default_eval_root
from codeteam.eval.problems import Dataset, Problem, ToolCaller, Verdict
from codeteam.eval.scoring import BackgroundScorer, ScoringError, scoring_copy
from codeteam.llm import Provider
from codeteam.store import Store
from codeteam.store.evals import Evals, ProblemRecord
from codeteam.store.owner import HEARTBEAT_S
from codeteam.team.budget import RunBudget, load_prices, price_for
from codeteam.team.config import RunResult, TeamConfig
from codeteam.team.mcp import innermost

#: Where the eval's own events go (eval_started, problem_scored...: plain JSON objects).
Sink = Callable[[dict[str, Any]], None]
#: The provider a problem's agents talk to (record and replay wrap one per problem).
ProviderFor = Callable[[str], Provider]

#: Task statuses that mean the agents produced something worth scoring.
_PRODUCED = ("ok", "tests_failed", "build_failed")


@dataclass
class EvalResult:
    eval_id: str
    status: str  # completed | stopped | interrupted | failed
    records: list[ProblemRecord] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.records)


def _describe(exc: BaseException) -> str:
    inner = innermost(exc)
    return str(inner) if isinstance(inner, ConfigError) else f"{type(inner).__name__}: {inner}"


def slug(problem_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", problem_id).strip("-") or "problem"


def _fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    for d in (path.parent, path):
        d.chmod(0o755)
    return path


def _solver_failure(result: RunResult) -> str | None:
    """Why a problem counts as failed whatever its files hold: a limit stopped the agents,
    a task timed out, or they produced nothing (the model failed, the lead gave up)."""
    if result.limits:
        return f"stopped by a limit: {result.limits[0]}"
    for outcome in result.tasks.values():
        if outcome.timed_out:
            return outcome.error or "timed out"
    produced = any(o.status in _PRODUCED for o in result.tasks.values())
    if result.status in ("failed", "stopped") and not produced:
        return result.error or f"the agents' run {result.status}"
    return None


class Harness:
    def __init__(
        self,
        cfg: EvalConfig,
        dataset: Dataset,
        problems: list[Problem],
        provider_for: ProviderFor,
        model: str,
        store: Store,
        emit: Sink | None = None,
    ) -> None:
        self.cfg = cfg
        self.dataset = dataset
        self.problems = problems
        self.provider_for = provider_for
        self.model = model
        self.store = store
        self.evals = Evals(store)
        self.emit: Sink = emit or (lambda _e: None)
        self.prices = cfg.prices if cfg.prices is not None else load_prices(None)
        self.budget = RunBudget.create(
            model, self.prices, max_tokens=None, max_cost_usd=cfg.max_cost_usd
        )

    async def run(self, provider_name: str, resume: str | None = None) -> EvalResult:
        """Solve and score every problem not yet scored; never raises for a problem's
        trouble (its record says). Cancellation records the eval as interrupted."""
        eval_id, done = self._open(provider_name, resume)
        records = dict(done)
        root = default_eval_root() / eval_id
        status, error = "failed", None
        alive = asyncio.create_task(self._heartbeat(eval_id))
        try:
            await self._solve_and_score(eval_id, root, records)
            capped = any(
                (r.reason or "").startswith("not run: the eval's cost cap")
                for r in records.values()
            )
            status = "stopped" if capped else "completed"
        except asyncio.CancelledError:
            status, error = "interrupted", "interrupted before every problem was scored"
            raise
        except Exception as exc:  # the scoring server could not start, a bug
            error = _describe(exc)
        finally:
            alive.cancel()
            if status == "interrupted":
                error = (
                    f"{error}; {len(records)} of {len(self.problems)} scored, finish it: "
                    f"codeteam eval --resume {eval_id}"
                )
            self.evals.finish(eval_id, status, error)
            shutil.rmtree(root, ignore_errors=True)
            ordered = [records[p.id] for p in self.problems if p.id in records]
            self.emit(
                {
                    "event": "eval_finished",
                    "eval_id": eval_id,
                    "status": status,
                    "error": error,
                    "total": len(self.problems),
                    "scored": len(ordered),
                    "passed": sum(r.passed for r in ordered),
                    "cost_usd": sum(r.cost_usd for r in ordered),
                }
            )
        return EvalResult(eval_id, status, ordered, error)

    def _open(self, provider_name: str, resume: str | None) -> tuple[str, dict[str, ProblemRecord]]:
        """A new eval's record, or the resumed one's and what it already scored (whose
        cost counts against the eval's cap)."""
        done: dict[str, ProblemRecord] = {}
        if resume is not None:
            eval_id = resume
            done = self.evals.scored(eval_id)
            self.evals.reopen(eval_id)
            for r in done.values():
                self.budget.tokens += r.input_tokens + r.output_tokens
                self.budget.cost_usd += r.cost_usd
        else:
            eval_id = self.evals.create(
                self.dataset.name,
                self.cfg.mode,
                provider_name,
                self.model,
                self.cfg.record(),
                len(self.problems),
            )
        self.emit(
            {
                "event": "eval_started",
                "eval_id": eval_id,
                "dataset": self.dataset.name,
                "mode": self.cfg.mode,
                "model": self.model,
                "total": len(self.problems),
                "scored": len(done),
                "passed": sum(r.passed for r in done.values()),
                "cost_usd": sum(r.cost_usd for r in done.values()),
                "resumed": resume is not None,
            }
        )
        return eval_id, done

    async def _solve_and_score(
        self, eval_id: str, root: Path, records: dict[str, ProblemRecord]
    ) -> None:
        """Each problem not in ``records``, ``max_parallel`` at a time, recorded as scored."""
        scorer = BackgroundScorer(_fresh(root / "score"), self.cfg.max_parallel)
        async with scorer:
            gate = asyncio.Semaphore(max(1, self.cfg.max_parallel))

            async def one(position: int, problem: Problem) -> None:
                async with gate:
                    rec, score_s = await self._problem(
                        eval_id, root, position, problem, scorer.call
                    )
                self.evals.record(eval_id, rec)
                records[problem.id] = rec
                self.emit({"event": "problem_scored", **_event(rec), "score_s": round(score_s, 3)})

            async with asyncio.TaskGroup() as group:
                for position, problem in enumerate(self.problems):
                    if problem.id not in records:
                        group.create_task(one(position, problem))

    async def _heartbeat(self, eval_id: str) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            self.evals.heartbeat(eval_id)

    async def _problem(
        self, eval_id: str, root: Path, position: int, problem: Problem, call: ToolCaller
    ) -> tuple[ProblemRecord, float]:
        """The problem's record, and the seconds its hidden tests took."""
        started = time.monotonic()
        whole = self.budget
        if whole.max_cost_usd is not None and whole.cost_usd >= whole.max_cost_usd:
            cap = "not run: the eval's cost cap (--max-cost) was reached"
            return ProblemRecord(problem.id, position, False, 0, 0, 0, 0, 0, 0, cap, None), 0.0
        self.emit({"event": "problem_started", "problem": problem.id})
        work = _fresh(root / "work" / slug(problem.id))
        for rel, data in problem.files.items():
            target = work / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        budget = ProblemBudget(
            self.model,
            max_tokens=self.cfg.max_run_tokens,
            price=price_for(self.model, self.prices),
            whole=whole,
        )
        result = await self._solve(problem, work, root, budget)
        reason: str | None = _solver_failure(result)
        score_s = 0.0
        if reason is None:
            t0 = time.monotonic()
            verdict = await self._score(problem, work, root / "score", call)
            score_s = time.monotonic() - t0
            passed, reason = verdict.passed, verdict.reason
        else:
            passed = False
        shutil.rmtree(work, ignore_errors=True)
        totals = self.evals.run_totals(result.run_id)
        rec = ProblemRecord(
            problem_id=problem.id,
            position=position,
            passed=passed,
            input_tokens=totals["input_tokens"],
            output_tokens=totals["output_tokens"],
            cost_usd=budget.cost_usd,
            wall_s=round(time.monotonic() - started, 3),
            model_calls=totals["model_calls"],
            tool_calls=totals["tool_calls"],
            reason=None if passed else (reason or "failed"),
            run_id=result.run_id,
        )
        return rec, score_s

    async def _solve(
        self, problem: Problem, work: Path, root: Path, budget: ProblemBudget
    ) -> RunResult:
        from codeteam.team.runner import run_agent, run_team

        cfg = TeamConfig(
            request=problem.prompt,
            workspace=work,
            max_parallel=self.cfg.team_parallel,
            max_turns=self.cfg.max_turns,
            task_timeout_s=self.cfg.task_timeout_s,
            max_tokens=self.cfg.max_tokens,
            max_tool_calls=self.cfg.max_tool_calls,
            repeat_limit=self.cfg.repeat_limit,
            max_run_tokens=self.cfg.max_run_tokens,
            max_cost_usd=self.cfg.max_cost_usd,
            prices=self.prices,
            run_root=root / "runs",
        )
        provider = self.provider_for(problem.id)
        if self.cfg.mode == "team":
            return await run_team(cfg, provider, self.store, budget=budget)
        return await run_agent(
            "code", problem.prompt, work, provider, self.store, cfg=cfg, budget=budget
        )

    async def _score(
        self, problem: Problem, work: Path, score_root: Path, call: ToolCaller
    ) -> Verdict:
        copy = scoring_copy(work, score_root, slug(problem.id))
        try:
            return await self.dataset.score(problem, copy, call)
        except ScoringError as exc:
            return Verdict(False, f"scoring failed: {exc}")
        finally:
            shutil.rmtree(copy, ignore_errors=True)


def _event(rec: ProblemRecord) -> dict[str, object]:
    return {
        "problem": rec.problem_id,
        "passed": rec.passed,
        "reason": rec.reason,
        "input_tokens": rec.input_tokens,
        "output_tokens": rec.output_tokens,
        "cost_usd": rec.cost_usd,
        "wall_s": rec.wall_s,
        "model_calls": rec.model_calls,
        "tool_calls": rec.tool_calls,
        "run_id": rec.run_id,
    }
