"""One run of the team: the lead plans, the scheduler runs the specialists, and the run
ends with the lead's report.

What the run leaves behind is :mod:`codeteam.team.recorder`'s job (store rows and events);
each task's own copy of the workspace is :mod:`codeteam.team.copies`'.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from codeteam.config import ConfigError
from codeteam.llm import Block, LLMError, Message, Provider, Turn
from codeteam.store import Store
from codeteam.team import agents
from codeteam.team.budget import CallGuard, LimitReached, RunBudget, load_prices
from codeteam.team.config import FINISHED, RunResult, Sink, TeamConfig, default_run_root
from codeteam.team.copies import TaskCopies
from codeteam.team.loop import tool_loop, tool_result
from codeteam.team.mcp import McpTools, TaskServer, can_isolate, connect
from codeteam.team.plan import TaskSpec, check_plan
from codeteam.team.recorder import Recorder
from codeteam.team.report import appendix, failure_note
from codeteam.team.scheduler import TaskOutcome, run_plan


class PlanError(Exception):
    """The lead kept sending invalid plans."""


class _Run:
    def __init__(
        self,
        cfg: TeamConfig,
        provider: Provider,
        store: Store,
        run_id: str,
        emit: Sink,
        budget: RunBudget,
    ) -> None:
        self.cfg = cfg
        self.provider = provider
        self.store = store
        self.run_id = run_id
        self.emit = emit
        self.budget = budget
        self.rec = Recorder(store, run_id, emit, budget, provider.model)
        self.outcomes: dict[str, TaskOutcome] = {}
        #: finished tasks loaded from the records on resume: never run again
        self.resumed: set[str] = set()
        #: recorded task bases (on resume): a restarted task starts from the same one
        self.bases: dict[str, str] = {}
        self.rejections = 0
        self.mcp: McpTools | None = None
        self.workspace = cfg.workspace.resolve()
        #: each task on its own copy (None: tasks run in place)
        self.copies: TaskCopies | None = None

    # -------------------------------------------------------------- specialists

    async def _call_tools(
        self,
        task_id: str,
        allowed: set[str],
        uses: list[Block],
        server: McpTools | TaskServer,
        guard: CallGuard,
    ) -> list[Block]:
        results: list[Block] = []
        for use in uses:
            started = time.time()
            name = use["name"]
            structured = None
            if name not in allowed:
                text = f"unknown tool {name!r}; you can call: {', '.join(sorted(allowed))}"
                results.append(tool_result(use["id"], text, True))
                status, is_error = "unknown_tool", True
            else:
                guard.admit(name, use["input"])
                out = await server.call(name, use["input"])
                results.append(tool_result(use["id"], out.text, out.is_error))
                status, is_error, structured = out.status, out.is_error, out.structured
            self.rec.tool_call(
                task_id,
                name,
                use["input"],
                status=status,
                is_error=is_error,
                started=started,
                structured=structured,
            )
        return results

    async def _specialist(self, spec: TaskSpec, deps: dict[str, TaskOutcome]) -> TaskOutcome:
        assert self.mcp is not None
        self.rec.task_started(spec)
        b = agents.brief(self.cfg.request, spec, deps)
        tools = [self.mcp.tools[n] for n in b.tool_names if n in self.mcp.tools]
        allowed = {t.name for t in tools}
        server: McpTools | TaskServer = self.mcp
        copies: list[Path] = []

        async def prepare() -> Path:
            assert self.copies is not None
            copies.extend(await self.copies.make(spec))
            return copies[1]

        if self.copies is not None:
            server = TaskServer(self.cfg.mcp_server, prepare)
        guard = CallGuard(self.cfg.max_tool_calls, self.cfg.repeat_limit)
        turns = 0
        record = self.rec.on_turn(spec.id)

        def on_turn(turn: Turn | None, started: float, error: str | None) -> None:
            nonlocal turns
            turns += 1
            record(turn, started, error)

        async def handle(uses: list[Block]) -> list[Block]:
            return await self._call_tools(spec.id, allowed, uses, server, guard)

        try:
            res = await tool_loop(
                self.provider,
                system=b.system,
                prompt=b.prompt,
                tools=tools,
                handle=handle,
                max_turns=self.cfg.max_turns,
                max_tokens=self.cfg.max_tokens,
                on_turn=on_turn,
                before_turn=self.budget.check,
            )
            if res.status == "turn_limit":
                detail = f"stopped at the turn limit ({self.cfg.max_turns} turns, --max-turns)"
                self.rec.limit(spec.id, LimitReached("turns", detail))
                outcome = TaskOutcome("failed", summary=res.text, error=detail, turns=res.turns)
            else:
                outcome = TaskOutcome("ok", summary=res.text or "(no summary)", turns=res.turns)
        except LLMError as exc:
            outcome = TaskOutcome("failed", error=str(exc), turns=turns)
        except LimitReached as exc:
            self.rec.limit(spec.id, exc)
            outcome = TaskOutcome("failed", error=exc.detail, turns=turns)
        finally:
            if isinstance(server, TaskServer):
                await server.aclose()
        if copies:
            assert self.copies is not None
            note = await self.copies.merge(spec, copies[0], copies[1])
            if note:
                outcome.summary = f"{outcome.summary}\n[{note}]".strip()
        return outcome

    def _task_done(self, spec: TaskSpec, outcome: TaskOutcome) -> None:
        if outcome.timed_out:  # cut short mid-work: say what became of its edits
            outcome.error = f"{outcome.error}; " + (
                "its unfinished changes were not merged into the workspace"
                if self.copies is not None
                else "what it changed in the workspace before that is kept (it ran in place)"
            )
        self.rec.task_done(spec, outcome)

    # -------------------------------------------------------------- lead

    async def _plan(self, uses: list[Block]) -> list[Block]:
        assign = [u for u in uses if u["name"] == "assign_task"]
        # A weak model may send any JSON as the id: only strings can name a task.
        ids = {
            u["input"]["id"]
            for u in assign
            if isinstance(u.get("input"), dict) and isinstance(u["input"].get("id"), str)
        }
        # On resume the pending plan's finished tasks are in the records: not duplicates.
        earlier = [k for k in self.outcomes if not (k in self.resumed and k in ids)]
        check = check_plan([(u["id"], u["input"]) for u in assign], done=earlier)
        if not check.ok:
            self.rejections += 1
            self.emit({"event": "plan_rejected", "errors": list(check.errors.values())})
            if self.rejections >= self.cfg.max_plan_attempts:
                raise PlanError(
                    f"the lead sent {self.rejections} invalid plans; last problems: "
                    + "; ".join(check.errors.values())
                )
        else:
            self.rejections = 0  # the limit is on invalid plans in a row
            for spec in check.tasks:
                self.store.add_task(
                    self.run_id, spec.id, spec.agent, spec.description, list(spec.depends_on)
                )
            self.emit(
                {
                    "event": "plan",
                    "tasks": [
                        {
                            "id": t.id,
                            "agent": t.agent,
                            "depends_on": list(t.depends_on),
                            "description": t.description,
                        }
                        for t in check.tasks
                    ],
                }
            )
            todo = [t for t in check.tasks if t.id not in self.resumed]
            for t in check.tasks:
                if t.id in self.resumed:
                    self.emit({"event": "task_resumed", "task": t.id, "agent": t.agent})
            done = await run_plan(
                todo,
                self._specialist,
                max_parallel=self.cfg.max_parallel,
                task_timeout_s=self.cfg.task_timeout_s,
                prior=self.outcomes,
                on_done=self._task_done,
            )
            self.outcomes.update(done)
        by_use = {t.tool_use_id: t for t in check.tasks}
        results: list[Block] = []
        for use in uses:
            if use["name"] != "assign_task":
                text = f"unknown tool {use['name']!r}; the lead can only call assign_task"
                results.append(tool_result(use["id"], text, True))
            elif use["id"] in check.errors:
                results.append(tool_result(use["id"], check.errors[use["id"]], True))
            elif not check.ok:
                text = (
                    "not run: the plan was rejected (see the other errors); send the corrected plan"
                )
                results.append(tool_result(use["id"], text, True))
            else:
                spec = by_use[use["id"]]
                outcome = self.outcomes[spec.id]
                results.append(
                    tool_result(
                        use["id"],
                        f"task {spec.id} ({spec.agent}) {outcome.describe()}",
                        not outcome.ok,
                    )
                )
        return results

    async def lead(self, history: list[Message] | None = None) -> str:
        def keep(messages: list[Message]) -> None:
            self.store.set_run_state(self.run_id, lead_messages=messages)

        res = await tool_loop(
            self.provider,
            system=agents.LEAD_SYSTEM,
            prompt=agents.lead_prompt(self.cfg.request),
            tools=[agents.ASSIGN_TASK],
            handle=self._plan,
            max_turns=self.cfg.lead_max_turns,
            max_tokens=self.cfg.max_tokens,
            on_turn=self.rec.on_turn(None),
            before_turn=self.budget.check,
            history=history,
            on_messages=keep,
        )
        if res.status == "turn_limit" and not res.text:
            return f"(the lead stopped at its turn limit of {self.cfg.lead_max_turns} turns)"
        return res.text


def _describe(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def _budget(cfg: TeamConfig, provider: Provider) -> RunBudget:
    prices = cfg.prices if cfg.prices is not None else load_prices(None)
    return RunBudget.create(
        provider.model, prices, max_tokens=cfg.max_run_tokens, max_cost_usd=cfg.max_cost_usd
    )


def _load_resume(run: _Run, record: dict[str, Any]) -> list[Message] | None:
    """Finished tasks and the lead's conversation from the records; tokens spent so far."""
    for t in record["tasks"]:
        if t.get("base"):
            run.bases[t["id"]] = t["base"]
        if t["status"] in FINISHED:
            run.outcomes[t["id"]] = TaskOutcome(
                t["status"], summary=t["result"] or "", error=t["error"], turns=t["turns"]
            )
            run.resumed.add(t["id"])
    for m in record["model_calls"]:
        from codeteam.llm import Usage

        run.budget.charge(
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
    return TeamConfig.from_record(record)


async def run_team(
    cfg: TeamConfig,
    provider: Provider,
    store: Store,
    emit: Sink | None = None,
    *,
    resume: str | None = None,
) -> RunResult:
    """Carry out one request, or with ``resume`` finish a recorded one without redoing
    its finished tasks. Never raises for model or tool trouble: the result says.

    Raises :class:`ConfigError` up front (a cost cap on a model without a price, a run
    that cannot be resumed), and for an MCP server that cannot be started or reached
    (after recording the run as failed with that reason). Cancellation (Ctrl-C) records
    the run as interrupted and propagates.
    """
    sink: Sink = emit or (lambda _e: None)
    budget = _budget(cfg, provider)
    workspace = cfg.workspace.resolve()
    workspace.mkdir(parents=True, exist_ok=True)
    history: list[Message] | None = None
    record: dict[str, Any] | None = None
    if resume is not None:
        record = store.get_run(resume)
        if record is None or record["status"] == "completed":
            resume_config(store, resume)  # raises the right message
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
    run = _Run(cfg, provider, store, run_id, sink, budget)
    notes: list[str] = []
    if record is not None:
        history = _load_resume(run, record)
    run_dir: Path | None = None
    if cfg.isolate and can_isolate(cfg.mcp_server):
        run_dir = (cfg.run_root or default_run_root()) / run_id
        run_dir.mkdir(parents=True, exist_ok=True)
        for d in (run_dir.parent, run_dir):
            d.chmod(0o755)
        store.set_run_state(run_id, run_dir=str(run_dir))
        run.copies = TaskCopies(run_dir, run.workspace, store, run_id, sink, run.bases)
    else:
        if cfg.isolate:
            notes.append(
                f"the MCP server {cfg.mcp_server} cannot be pointed at per-task copies (a URL, "
                "or a command without {root}): tasks run in place, one at a time"
            )
            run.cfg = replace(cfg, max_parallel=1)
            sink({"event": "notice", "message": notes[-1]})
    status, report, error = "failed", "", None
    setup_error: ConfigError | None = None
    try:
        async with connect(cfg.mcp_server, workspace) as mcp:
            run.mcp = mcp
            # Caught inside: the MCP session's task group would wrap them in a group.
            try:
                report = await run.lead(history)
                status = "completed"
            except (LLMError, PlanError) as exc:
                error = str(exc)
            except LimitReached as exc:
                run.rec.limit(None, exc)
                status, error = "stopped", exc.detail
    except asyncio.CancelledError:
        status, error = "interrupted", "interrupted (Ctrl-C) before the run finished"
        raise
    except ConfigError as exc:  # the MCP server could not be started or reached
        error, setup_error = str(exc), exc
    except Exception as exc:  # an MCP server that died, a bug: record it, report it
        error = _describe(exc)
    finally:
        note = failure_note(run.outcomes)
        if note and status == "completed":
            error = note
        conflicts = run.copies.conflicts if run.copies is not None else []
        extra = appendix(status, error, run.outcomes, run.rec.limits, run.rec.benchmarks, conflicts)
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
                "limits": list(run.rec.limits),
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
        dict(run.outcomes),
        list(run.rec.limits),
        list(conflicts),
        notes,
        list(run.rec.benchmarks),
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
) -> RunResult:
    """One specialist on one task, in place, without a lead (the per-agent MCP tools).
    Recorded as a run of one task, like any other."""
    sink: Sink = emit or (lambda _e: None)
    cfg = TeamConfig(request=task, workspace=workspace, max_turns=max_turns, isolate=False)
    run_id = store.create_run(task, str(workspace), provider.name, provider.model)
    run = _Run(cfg, provider, store, run_id, sink, _budget(cfg, provider))
    spec = TaskSpec(agent, agent, task)
    store.add_task(run_id, spec.id, agent, task, [])
    sink({"event": "run_started", "run_id": run_id, "request": task, "model": provider.model})
    status, error = "failed", None
    outcome = TaskOutcome("failed", error="not started")
    try:
        async with connect(None, workspace) as mcp:
            run.mcp = mcp
            outcome = await run._specialist(spec, {})
            status = "completed" if outcome.ok else "failed"
            error = outcome.error
    except asyncio.CancelledError:
        status, error = "interrupted", "cancelled before the agent finished"
        raise
    except Exception as exc:  # a server that died: the result says so
        error = _describe(exc)
        outcome = TaskOutcome("failed", error=error)
    finally:
        run._task_done(spec, outcome)
        store.finish_run(run_id, status, outcome.summary or None, error)
        sink({"event": "run_finished", "run_id": run_id, "status": status, "error": error})
    return RunResult(run_id, status, outcome.summary, error, {agent: outcome}, list(run.rec.limits))
