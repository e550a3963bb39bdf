"""A team run from start to end: open the run's records (or reopen them to resume), choose
in-place or per-task copies, connect to the MCP server, let the lead work, write the report.

The parts: :mod:`~codeteam.team.lead` (plans, hands outcomes back), the scheduler, the
:mod:`~codeteam.team.specialists` (one tool loop per task), :mod:`~codeteam.team.copies`
(per-task workspace copies, three-way merge) and :mod:`~codeteam.team.recorder` (store rows
and events for every step).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from codeteam.config import ConfigError
from codeteam.llm import LLMError, Message, Provider, Usage
from codeteam.store import Store
from codeteam.store.owner import HEARTBEAT_S
from codeteam.team.budget import LimitReached, RunBudget, load_prices
from codeteam.team.config import FINISHED, RunResult, TeamConfig, default_run_root
from codeteam.team.copies import TaskCopies
from codeteam.team.events import Notice, RunFinished, RunStarted, Sink
from codeteam.team.lead import Lead, PlanError
from codeteam.team.mcp import TASK_SERVER_DEFAULTS, can_isolate, connect, innermost
from codeteam.team.plan import TaskSpec
from codeteam.team.recorder import Recorder
from codeteam.team.report import appendix, failure_note
from codeteam.team.scheduler import TaskOutcome, run_plan
from codeteam.team.specialists import Specialists


def _describe(exc: BaseException) -> str:
    inner = innermost(exc)
    return f"{type(inner).__name__}: {inner}"


def run_budget(cfg: TeamConfig, model: str) -> RunBudget:
    """The run's token and cost caps; :class:`ConfigError` for a cost cap on a model
    without a price (refused before anything is recorded)."""
    prices = cfg.prices if cfg.prices is not None else load_prices(None)
    return RunBudget.create(
        model, prices, max_tokens=cfg.max_run_tokens, max_cost_usd=cfg.max_cost_usd
    )


def _ignore(_event: object) -> None:
    pass


def resume_config(store: Store, run_id: str) -> TeamConfig:
    """The recorded settings of a run to resume, or :class:`ConfigError` saying why not."""
    record = store.get_run(run_id)
    if record is None:
        raise ConfigError(f"no run {run_id!r} in {store.path}: see 'codeteam runs'")
    if record["status"] == "completed":
        raise ConfigError(f"run {run_id} already completed: nothing to resume")
    if record["status"] == "running":  # its process is alive (else it reads interrupted)
        raise ConfigError(
            f"run {run_id} is still running (pid {record['owner_pid']} on "
            f"{record['owner_host']}): wait for it, or stop it, then resume"
        )
    return TeamConfig.from_record(record)


def run_status(lead_status: str, outcomes: dict[str, TaskOutcome]) -> str:
    """A run the lead finished is ``completed`` only if every task succeeded: ``partial``
    if some did, ``failed`` if none did."""
    if lead_status != "completed" or all(o.ok for o in outcomes.values()):
        return lead_status
    return "partial" if any(o.ok for o in outcomes.values()) else "failed"


async def _heartbeat(store: Store, run_id: str) -> None:
    """Say the run's process is alive, so a run whose process is gone reads interrupted."""
    while True:
        await asyncio.sleep(HEARTBEAT_S)
        store.heartbeat(run_id)


class _TeamRun:
    """One run's state between its start and its report: the outcomes so far (from the
    records too, on resume), its task copies, and how it ended."""

    def __init__(
        self, cfg: TeamConfig, provider: Provider, store: Store, run_id: str, rec: Recorder
    ) -> None:
        self.cfg = cfg
        self.provider = provider
        self.store = store
        self.run_id = run_id
        self.rec = rec
        self.outcomes: dict[str, TaskOutcome] = {}
        self.resumed: set[str] = set()  # finished tasks from the records: never run again
        self.bases: dict[str, str] = {}  # recorded task bases: a restarted task starts there
        self.history: list[Message] | None = None  # the lead's conversation to continue
        self.notes: list[str] = []
        self.run_dir: Path | None = None
        self.copies: TaskCopies | None = None
        self.status = "failed"
        self.report = ""
        self.error: str | None = None

    def load_records(self, record: dict[str, Any]) -> None:
        """Fill in the finished tasks, their bases and the tokens spent so far from the
        records of an earlier attempt."""
        for t in record["tasks"]:
            if t.get("base"):
                self.bases[t["id"]] = t["base"]
            if t["status"] in FINISHED:
                self.outcomes[t["id"]] = TaskOutcome(
                    t["status"], summary=t["result"] or "", error=t["error"], turns=t["turns"]
                )
                self.resumed.add(t["id"])
        for m in record["model_calls"]:
            self.rec.budget.charge(
                Usage(
                    m["input_tokens"],
                    m["output_tokens"],
                    m["cache_creation_tokens"],
                    m["cache_read_tokens"],
                )
            )
        raw = record.get("lead_messages")
        self.history = json.loads(raw) if raw else None

    async def place_tasks(self, workspace: Path, record: dict[str, Any] | None) -> None:
        """Per-task copies of the workspace when the MCP server can be rooted at one (on
        resume, first finishing merges a crash left half-done); else tasks run in place,
        one at a time, and a notice says so."""
        cfg = self.cfg
        if not (cfg.isolate and can_isolate(cfg.mcp_server)):
            if cfg.isolate:
                self.notes.append(
                    f"the MCP server {cfg.mcp_server} cannot be pointed at per-task copies (a "
                    "URL, or a command without {root}): tasks run in place, one at a time"
                )
                self.cfg = replace(cfg, max_parallel=1)
                self.rec.emit(Notice(self.notes[-1]))
            return
        run_dir = (cfg.run_root or default_run_root()) / self.run_id
        run_dir.mkdir(parents=True, exist_ok=True)
        for d in (run_dir.parent, run_dir):
            d.chmod(0o755)
        self.store.set_run_state(self.run_id, run_dir=str(run_dir))
        self.run_dir = run_dir
        self.copies = TaskCopies(
            run_dir, workspace, self.store, self.run_id, self.rec.emit, self.bases
        )
        if record is not None:
            for lost in await self.copies.recover(record["tasks"], self.outcomes):
                self.outcomes.pop(lost, None)
                self.resumed.discard(lost)

    async def work(self, workspace: Path) -> None:
        """Connect to the MCP server and let the lead plan and hand out tasks until it
        reports; a model failure, a bad plan or a run limit ends it with the reason."""
        cfg, rec = self.cfg, self.rec
        async with connect(cfg.mcp_server, workspace, listing_only=self.copies is not None) as mcp:
            specialists = Specialists(cfg, self.provider, rec.budget, rec, mcp, self.copies)
            lead = Lead(
                cfg,
                self.provider,
                rec.budget,
                self.store,
                rec,
                run_task=specialists.run,
                task_done=specialists.done,
                outcomes=self.outcomes,
                resumed=self.resumed,
            )
            # Caught inside: the MCP session's task group would wrap them in a group.
            try:
                self.report = await lead.run(self.history)
                self.status = "completed"
            except (LLMError, PlanError) as exc:
                self.error = str(exc)
            except LimitReached as exc:
                rec.limit(None, exc)
                self.status, self.error = "stopped", exc.detail

    def finish(self) -> RunResult:
        """Judge the run by its tasks, complete the report from the records, record the
        end, drop the task copies (kept when interrupted: a resume needs them)."""
        note = failure_note(self.outcomes)
        if note and self.status == "completed":
            self.status, self.error = run_status(self.status, self.outcomes), note
        conflicts = self.copies.conflicts if self.copies is not None else []
        rec = self.rec
        extra = appendix(
            self.status, self.error, self.outcomes, rec.limits, rec.benchmarks, conflicts
        )
        if extra and self.status != "interrupted":
            self.report = f"{self.report}\n\n{extra}".strip()
        self.store.finish_run(self.run_id, self.status, self.report or None, self.error)
        if self.status != "interrupted" and self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
        rec.emit(
            RunFinished(
                self.run_id,
                self.status,
                self.report,
                self.error,
                list(rec.limits),
                [c.path for c in conflicts],
            )
        )
        return RunResult(
            self.run_id,
            self.status,
            self.report,
            self.error,
            dict(self.outcomes),
            list(rec.limits),
            list(conflicts),
            self.notes,
            list(rec.benchmarks),
        )


async def run_team(
    cfg: TeamConfig,
    provider: Provider,
    store: Store,
    emit: Sink | None = None,
    *,
    resume: str | None = None,
    budget: RunBudget | None = None,
) -> RunResult:
    """Carry out one request, or with ``resume`` finish a recorded one without redoing
    its finished tasks. Never raises for model or tool trouble: the result says.

    Raises :class:`ConfigError` up front (a cost cap on a model without a price, a run
    that cannot be resumed), and for an MCP server that cannot be started or reached
    (after recording the run as failed with that reason). Cancellation (Ctrl-C) records
    the run as interrupted and propagates. ``budget``: one built already with
    :func:`run_budget` (the CLI checks it up front), or shared with other runs (an eval's
    caps cover all its runs), instead of the run's own.
    """
    sink: Sink = emit or _ignore
    budget = budget if budget is not None else run_budget(cfg, provider.model)
    workspace = cfg.workspace.resolve()
    workspace.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] | None = None
    if resume is not None:
        resume_config(store, resume)  # raises the reason a run cannot be resumed
        record = store.get_run(resume)
        assert record is not None
        run_id = resume
        store.reopen_run(run_id)
    else:
        run_id = store.create_run(cfg.request, str(workspace), provider.name, provider.model)
        store.set_run_state(run_id, config=cfg.record())
    sink(RunStarted(run_id, cfg.request, str(workspace), provider.model, resume is not None))
    run = _TeamRun(
        cfg, provider, store, run_id, Recorder(store, run_id, sink, budget, provider.model)
    )
    if record is not None:
        run.load_records(record)
    await run.place_tasks(workspace, record)
    setup_error: ConfigError | None = None
    alive = asyncio.create_task(_heartbeat(store, run_id))
    try:
        await run.work(workspace)
    except asyncio.CancelledError:
        run.status, run.error = "interrupted", "interrupted (Ctrl-C) before the run finished"
        raise
    except ConfigError as exc:  # the MCP server could not be started or reached
        run.error, setup_error = str(exc), exc
    except Exception as exc:  # an MCP server that died, a bug: record it, report it
        run.error = _describe(exc)
    finally:
        alive.cancel()
        result = run.finish()
    if setup_error is not None:
        raise setup_error
    return result


async def run_agent(
    agent: str,
    task: str,
    workspace: Path,
    provider: Provider,
    store: Store,
    emit: Sink | None = None,
    *,
    max_turns: int = 20,
    cfg: TeamConfig | None = None,
    budget: RunBudget | None = None,
) -> RunResult:
    """One specialist on one task, in place, without a lead (the per-agent MCP tools, and
    an eval's single mode). Recorded as a run of one task, like any other. ``cfg``: the
    limits of a team run (turns, tool calls, task timeout...); ``budget``: as for
    :func:`run_team`."""
    sink: Sink = emit or _ignore
    if cfg is None:
        cfg = TeamConfig(request=task, workspace=workspace, max_turns=max_turns)
    cfg = replace(cfg, request=task, workspace=workspace, isolate=False)
    run_id = store.create_run(task, str(workspace), provider.name, provider.model)
    store.set_run_state(run_id, config=cfg.record())
    budget = budget if budget is not None else run_budget(cfg, provider.model)
    rec = Recorder(store, run_id, sink, budget, provider.model)
    spec = TaskSpec(agent, agent, task)
    store.add_task(run_id, spec.id, agent, task, [])
    sink(RunStarted(run_id, task, str(workspace), provider.model))
    status, error = "failed", None
    outcome = TaskOutcome("failed", error="not started")
    try:
        async with connect(None, workspace, defaults=TASK_SERVER_DEFAULTS) as mcp:
            specialists = Specialists(cfg, provider, budget, rec, mcp, None)
            done = await run_plan(
                [spec],
                specialists.run,
                max_parallel=1,
                task_timeout_s=cfg.task_timeout_s,
                on_done=specialists.done,
            )
            outcome = done[spec.id]
            status = "completed" if outcome.ok else "failed"
            error = outcome.error
    except asyncio.CancelledError:
        status, error = "interrupted", "cancelled before the agent finished"
        raise
    except Exception as exc:  # a server that died: the result says so
        error = _describe(exc)
        outcome = TaskOutcome("failed", error=error)
        rec.task_done(spec, outcome)
    finally:
        store.finish_run(run_id, status, outcome.summary or None, error)
        sink(RunFinished(run_id, status, outcome.summary, error, list(rec.limits)))
    return RunResult(run_id, status, outcome.summary, error, {agent: outcome}, list(rec.limits))
