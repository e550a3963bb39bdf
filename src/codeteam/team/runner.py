"""One run of the team: the lead plans, the scheduler runs specialists, all recorded.

Every step is written to the store as it happens and announced as an event (a plain
dict) to whoever watches: the live table, the JSONL printer, a test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeteam.llm import Block, LLMError, Provider, Turn
from codeteam.store import ModelCall, Store
from codeteam.team import agents
from codeteam.team.loop import tool_loop, tool_result
from codeteam.team.mcp import McpTools, connect
from codeteam.team.plan import TaskSpec, check_plan
from codeteam.team.scheduler import TaskOutcome, run_plan

Event = dict[str, Any]
Sink = Callable[[Event], None]


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


@dataclass
class RunResult:
    run_id: str
    status: str  # completed | failed | interrupted
    report: str
    error: str | None = None
    tasks: dict[str, TaskOutcome] = field(default_factory=dict)

    @property
    def failed_tasks(self) -> dict[str, TaskOutcome]:
        return {k: v for k, v in self.tasks.items() if not v.ok}


class PlanError(Exception):
    """The lead kept sending invalid plans."""


class _Run:
    def __init__(
        self, cfg: TeamConfig, provider: Provider, store: Store, run_id: str, emit: Sink
    ) -> None:
        self.cfg = cfg
        self.provider = provider
        self.store = store
        self.run_id = run_id
        self.emit = emit
        self.outcomes: dict[str, TaskOutcome] = {}
        self.rejections = 0
        self.mcp: McpTools | None = None

    # -------------------------------------------------------------- recording

    def _on_turn(self, task_id: str | None) -> Callable[[Turn | None, float, str | None], None]:
        def record(turn: Turn | None, started: float, error: str | None) -> None:
            u = turn.usage if turn else None
            call = ModelCall(
                model=turn.model if turn else self.provider.model,
                input_tokens=u.input_tokens if u else 0,
                output_tokens=u.output_tokens if u else 0,
                cache_creation_tokens=u.cache_creation_tokens if u else 0,
                cache_read_tokens=u.cache_read_tokens if u else 0,
                latency_ms=turn.latency_ms if turn else (time.time() - started) * 1000,
                stop_reason=turn.stop_reason if turn else None,
                error=error,
            )
            self.store.record_model_call(self.run_id, task_id, call, started)
            self.emit(
                {
                    "event": "model_call",
                    "task": task_id,
                    "model": call.model,
                    "input_tokens": call.input_tokens,
                    "output_tokens": call.output_tokens,
                    "stop_reason": call.stop_reason,
                    "latency_ms": round(call.latency_ms, 1),
                    "error": error,
                }
            )

        return record

    # -------------------------------------------------------------- specialists

    async def _call_tools(self, task_id: str, allowed: set[str], uses: list[Block]) -> list[Block]:
        assert self.mcp is not None
        results: list[Block] = []
        for use in uses:
            started = time.time()
            name = use["name"]
            if name not in allowed:
                text = f"unknown tool {name!r}; you can call: {', '.join(sorted(allowed))}"
                results.append(tool_result(use["id"], text, True))
                status, is_error = "unknown_tool", True
            else:
                out = await self.mcp.call(name, use["input"])
                results.append(tool_result(use["id"], out.text, out.is_error))
                status, is_error = out.status, out.is_error
            duration = (time.time() - started) * 1000
            self.store.record_tool_call(
                self.run_id,
                task_id,
                name,
                use["input"],
                status=status,
                is_error=is_error,
                duration_ms=duration,
                started_at=started,
            )
            self.emit(
                {
                    "event": "tool_call",
                    "task": task_id,
                    "name": name,
                    "status": status,
                    "is_error": is_error,
                    "duration_ms": round(duration, 1),
                }
            )
        return results

    async def _specialist(self, spec: TaskSpec, deps: dict[str, TaskOutcome]) -> TaskOutcome:
        assert self.mcp is not None
        self.store.start_task(self.run_id, spec.id)
        self.emit({"event": "task_started", "task": spec.id, "agent": spec.agent})
        b = agents.brief(self.cfg.request, spec, deps)
        tools = [self.mcp.tools[n] for n in b.tool_names if n in self.mcp.tools]
        allowed = {t.name for t in tools}
        turns = 0
        record = self._on_turn(spec.id)

        def on_turn(turn: Turn | None, started: float, error: str | None) -> None:
            nonlocal turns
            turns += 1
            record(turn, started, error)

        async def handle(uses: list[Block]) -> list[Block]:
            return await self._call_tools(spec.id, allowed, uses)

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
            )
        except LLMError as exc:
            return TaskOutcome("failed", error=str(exc), turns=turns)
        if res.status == "turn_limit":
            return TaskOutcome(
                "failed",
                summary=res.text,
                error=f"stopped at the turn limit ({self.cfg.max_turns} turns, --max-turns)",
                turns=res.turns,
            )
        return TaskOutcome("ok", summary=res.text or "(no summary)", turns=res.turns)

    def _task_done(self, spec: TaskSpec, outcome: TaskOutcome) -> None:
        self.store.finish_task(
            self.run_id,
            spec.id,
            outcome.status,
            result=outcome.summary or None,
            error=outcome.error,
            turns=outcome.turns,
        )
        self.emit(
            {
                "event": "task_finished",
                "task": spec.id,
                "status": outcome.status,
                "error": outcome.error,
                "summary": outcome.summary,
            }
        )

    # -------------------------------------------------------------- lead

    async def _plan(self, uses: list[Block]) -> list[Block]:
        assign = [u for u in uses if u["name"] == "assign_task"]
        check = check_plan([(u["id"], u["input"]) for u in assign], done=self.outcomes)
        if not check.ok:
            self.rejections += 1
            self.emit({"event": "plan_rejected", "errors": list(check.errors.values())})
            if self.rejections >= self.cfg.max_plan_attempts:
                raise PlanError(
                    f"the lead sent {self.rejections} invalid plans; last problems: "
                    + "; ".join(check.errors.values())
                )
        else:
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
            done = await run_plan(
                check.tasks,
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

    async def lead(self) -> str:
        res = await tool_loop(
            self.provider,
            system=agents.LEAD_SYSTEM,
            prompt=agents.lead_prompt(self.cfg.request),
            tools=[agents.ASSIGN_TASK],
            handle=self._plan,
            max_turns=self.cfg.lead_max_turns,
            max_tokens=self.cfg.max_tokens,
            on_turn=self._on_turn(None),
        )
        if res.status == "turn_limit" and not res.text:
            return f"(the lead stopped at its turn limit of {self.cfg.lead_max_turns} turns)"
        return res.text


def _describe(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def failure_note(tasks: dict[str, TaskOutcome]) -> str:
    bad = {k: v for k, v in tasks.items() if not v.ok}
    if not bad:
        return ""
    return f"{len(bad)} of {len(tasks)} task(s) did not succeed: " + "; ".join(
        f"{k} {v.status} ({v.error})" for k, v in bad.items()
    )


async def run_team(
    cfg: TeamConfig, provider: Provider, store: Store, emit: Sink | None = None
) -> RunResult:
    """Carry out one request. Never raises for model or tool trouble: the result says.

    Cancellation (Ctrl-C) records the run as interrupted and propagates.
    """
    sink: Sink = emit or (lambda _e: None)
    workspace = cfg.workspace.resolve()
    workspace.mkdir(parents=True, exist_ok=True)
    run_id = store.create_run(cfg.request, str(workspace), provider.name, provider.model)
    sink(
        {
            "event": "run_started",
            "run_id": run_id,
            "request": cfg.request,
            "workspace": str(workspace),
            "model": provider.model,
        }
    )
    run = _Run(cfg, provider, store, run_id, sink)
    status, report, error = "failed", "", None
    try:
        async with connect(cfg.mcp_server, workspace) as mcp:
            run.mcp = mcp
            # Caught inside: the MCP session's task group would wrap them in a group.
            try:
                report = await run.lead()
                status = "completed"
            except (LLMError, PlanError) as exc:
                error = str(exc)
    except asyncio.CancelledError:
        status, error = "interrupted", "interrupted (Ctrl-C) before the run finished"
        raise
    except Exception as exc:  # an MCP server that died, a bug: record it, report it
        error = _describe(exc)
    finally:
        note = failure_note(run.outcomes)
        if note and status == "completed":
            error = note
        store.finish_run(run_id, status, report or None, error)
        sink(
            {
                "event": "run_finished",
                "run_id": run_id,
                "status": status,
                "report": report,
                "error": error,
            }
        )
    return RunResult(run_id, status, report, error, dict(run.outcomes))
