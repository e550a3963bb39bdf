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
from codeteam.team.config import FINISHED, RunResult, Sink, TeamConfig, default_run_root
from codeteam.team.copies import TaskCopies
from codeteam.team.lead import Lead, PlanError
from codeteam.team.mcp import TASK_SERVER_DEFAULTS, can_isolate, connect
from codeteam.team.plan import TaskSpec
from codeteam.team.recorder import Recorder
from codeteam.team.report import appendix, failure_note
from codeteam.team.scheduler import TaskOutcome, run_plan
from codeteam.team.specialists import Specialists


def _describe(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def _budget(cfg: TeamConfig, provider: Provider) -> RunBudget:
    prices = cfg.prices if cfg.prices is not None else load_prices(None)
    return RunBudget.create(
        provider.model, prices, max_tokens=cfg.max_run_tokens, max_cost_usd=cfg.max_cost_usd
    )


def _load_resume(
    record: dict[str, Any],
    outcomes: dict[str, TaskOutcome],
    resumed: set[str],
    bases: dict[str, str],
    budget: RunBudget,
) -> list[Message] | None:
    """Fill in the finished tasks, their bases and the tokens spent so far from the records;
    the lead's conversation to continue."""
    for t in record["tasks"]:
        if t.get("base"):
            bases[t["id"]] = t["base"]
        if t["status"] in FINISHED:
            outcomes[t["id"]] = TaskOutcome(
                t["status"], summary=t["result"] or "", error=t["error"], turns=t["turns"]
            )
            resumed.add(t["id"])
    for m in record["model_calls"]:
        budget.charge(
            Usage(
                m["input_tokens"],
                m["output_tokens"],
                m["cache_creation_tokens"],
                m["cache_read_tokens"],
            )
        )
    raw = record.get("lead_messages")
    history: list[Message] | None = json.loads(raw) if raw else None
    return history


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
    the run as interrupted and propagates. ``budget``: a budget shared with other runs
    (an eval's caps cover all its runs) instead of the run's own.
    """
    sink: Sink = emit or (lambda _e: None)
    budget = budget or _budget(cfg, provider)
    workspace = cfg.workspace.resolve()
    workspace.mkdir(parents=True, exist_ok=True)
    history: list[Message] | None = None
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
    sink(
        {
            "event": "run_started",
            "run_id": run_id,
            "request": cfg.request,
            "workspace": str(workspace),
            "model": provider.model,
            "resumed": resume is not None,
        }
    )
    rec = Recorder(store, run_id, sink, budget, provider.model)
    outcomes: dict[str, TaskOutcome] = {}
    resumed: set[str] = set()  # finished tasks from the records: never run again
    bases: dict[str, str] = {}  # recorded task bases: a restarted task starts from its own
    notes: list[str] = []
    if record is not None:
        history = _load_resume(record, outcomes, resumed, bases, budget)
    run_dir: Path | None = None
    copies: TaskCopies | None = None
    if cfg.isolate and can_isolate(cfg.mcp_server):
        run_dir = (cfg.run_root or default_run_root()) / run_id
        run_dir.mkdir(parents=True, exist_ok=True)
        for d in (run_dir.parent, run_dir):
            d.chmod(0o755)
        store.set_run_state(run_id, run_dir=str(run_dir))
        copies = TaskCopies(run_dir, workspace, store, run_id, sink, bases)
        if record is not None:  # merges a crash left half-done, before anything else runs
            for lost in await copies.recover(record["tasks"], outcomes):
                outcomes.pop(lost, None)
                resumed.discard(lost)
    else:
        if cfg.isolate:
            notes.append(
                f"the MCP server {cfg.mcp_server} cannot be pointed at per-task copies (a URL, "
                "or a command without {root}): tasks run in place, one at a time"
            )
            cfg = replace(cfg, max_parallel=1)
            sink({"event": "notice", "message": notes[-1]})
    status, report, error = "failed", "", None
    setup_error: ConfigError | None = None
    alive = asyncio.create_task(_heartbeat(store, run_id))
    try:
        async with connect(cfg.mcp_server, workspace, listing_only=copies is not None) as mcp:
            specialists = Specialists(cfg, provider, budget, rec, mcp, copies)
            lead = Lead(
                cfg,
                provider,
                budget,
                store,
                rec,
                run_task=specialists.run,
                task_done=specialists.done,
                outcomes=outcomes,
                resumed=resumed,
            )
            # Caught inside: the MCP session's task group would wrap them in a group.
            try:
                report = await lead.run(history)
                status = "completed"
            except (LLMError, PlanError) as exc:
                error = str(exc)
            except LimitReached as exc:
                rec.limit(None, exc)
                status, error = "stopped", exc.detail
    except asyncio.CancelledError:
        status, error = "interrupted", "interrupted (Ctrl-C) before the run finished"
        raise
    except ConfigError as exc:  # the MCP server could not be started or reached
        error, setup_error = str(exc), exc
    except Exception as exc:  # an MCP server that died, a bug: record it, report it
        error = _describe(exc)
    finally:
        alive.cancel()
        note = failure_note(outcomes)
        if note and status == "completed":
            status, error = run_status(status, outcomes), note
        conflicts = copies.conflicts if copies is not None else []
        extra = appendix(status, error, outcomes, rec.limits, rec.benchmarks, conflicts)
        if extra and status != "interrupted":
            report = f"{report}\n\n{extra}".strip()
        store.finish_run(run_id, status, report or None, error)
        if status != "interrupted" and run_dir is not None:
            shutil.rmtree(run_dir, ignore_errors=True)
        sink(
            {
                "event": "run_finished",
                "run_id": run_id,
                "status": status,
                "report": report,
                "error": error,
                "limits": list(rec.limits),
                "conflicts": [c.path for c in conflicts],
            }
        )
    if setup_error is not None:
        raise setup_error
    return RunResult(
        run_id,
        status,
        report,
        error,
        dict(outcomes),
        list(rec.limits),
        list(conflicts),
        notes,
        list(rec.benchmarks),
    )


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
    sink: Sink = emit or (lambda _e: None)
    if cfg is None:
        cfg = TeamConfig(request=task, workspace=workspace, max_turns=max_turns)
    cfg = replace(cfg, request=task, workspace=workspace, isolate=False)
    run_id = store.create_run(task, str(workspace), provider.name, provider.model)
    store.set_run_state(run_id, config=cfg.record())
    budget = budget or _budget(cfg, provider)
    rec = Recorder(store, run_id, sink, budget, provider.model)
    spec = TaskSpec(agent, agent, task)
    store.add_task(run_id, spec.id, agent, task, [])
    sink({"event": "run_started", "run_id": run_id, "request": task, "model": provider.model})
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
        sink({"event": "run_finished", "run_id": run_id, "status": status, "error": error})
    return RunResult(run_id, status, outcome.summary, error, {agent: outcome}, list(rec.limits))
