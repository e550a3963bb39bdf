"""The agent team as MCP tools: ``team_run`` (lead + specialists) and one tool per
specialist, so a client such as Claude Code can delegate. Offered only when a provider is
configured (the composition root, :mod:`codeteam.assembly`, decides); progress notifications
follow the run's events.

The team's own MCP session (a ``codeteam serve`` child) never offers these tools again:
the child does not inherit ``CODETEAM_TEAM_PROVIDER`` and specialists only see their
toolsets, so there is no recursion.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from codeteam.team.events import (
    ConflictKept,
    Event,
    LimitFired,
    ModelCalled,
    Plan,
    Sink,
    TaskFinished,
    TaskStarted,
    ToolCalled,
)
from codeteam.tools.base import Annotations, Doc, ToolContext, ToolError, ToolFn, ToolSpec
from codeteam.tools.paths import confine

if TYPE_CHECKING:
    from codeteam.llm import Provider
    from codeteam.store import Store
    from codeteam.team.config import RunResult

#: What a team tool starts once the provider, store and progress sink exist.
Go = Callable[[Path, "Provider", "Store", Sink], Awaitable["RunResult"]]


@dataclass
class TaskRow:
    id: str
    status: str
    summary: str = ""
    error: str | None = None


@dataclass
class TeamResult:
    status: Annotated[
        Literal["ok", "failed", "stopped", "interrupted"],
        Doc("ok: done and every task succeeded; failed; stopped: a run budget fired"),
    ]
    run_id: Annotated[str, Doc("the run's record: codeteam runs show RUN_ID")]
    report: str
    reason: Annotated[str | None, Doc("why the run failed or stopped")] = None
    tasks: list[TaskRow] = field(default_factory=list)
    limits: Annotated[list[str], Doc("budgets and guards that fired")] = field(default_factory=list)
    conflicts: Annotated[list[str], Doc("files two tasks changed: both versions kept")] = field(
        default_factory=list
    )

    def render(self) -> str:
        lines = [f"run {self.run_id}: {self.status}" + (f" ({self.reason})" if self.reason else "")]
        lines += [
            f"- {t.id}: {t.status}" + (f" ({t.error})" if t.error else "") for t in self.tasks
        ]
        return "\n".join([*lines, "", self.report])


def _result(res: RunResult) -> TeamResult:
    ok = res.status == "completed" and not res.failed_tasks
    status = "ok" if ok else res.status if res.status in ("stopped", "interrupted") else "failed"
    return TeamResult(
        status=status,  # type: ignore[arg-type]
        run_id=res.run_id,
        report=res.report,
        reason=res.error,
        tasks=[TaskRow(k, v.status, v.summary, v.error) for k, v in res.tasks.items()],
        limits=list(res.limits),
        conflicts=[c.path for c in res.conflicts],
    )


def _message(event: Event) -> str | None:
    """The progress notification a step of the run sends, if any."""
    match event:
        case Plan():
            return "plan: " + ", ".join(f"{t.id} ({t.agent})" for t in event.tasks)
        case TaskStarted():
            return f"{event.task}: started"
        case TaskFinished():
            return f"{event.task}: {event.status}"
        case ToolCalled():
            return f"{event.task}: {event.name} {event.status}"
        case ModelCalled():
            return f"{event.task or 'lead'}: model answered ({event.stop_reason})"
        case LimitFired():
            return f"{event.task or 'lead'}: limit {event.detail}"
        case ConflictKept():
            return f"{event.task}: conflict {event.path}"
    return None


def _said(text: str, name: str) -> None:
    """Refuse an empty or blank request before anything starts (the CLI does the same)."""
    if not text.strip():
        raise ToolError(f"{name} is empty: say what to build or change, in plain words")


async def _with_team(ctx: ToolContext, workspace: str | None, go: Go) -> TeamResult:
    """Provider, store and progress plumbing shared by every team tool."""
    import asyncio

    from codeteam.config import ConfigError
    from codeteam.llm import ProviderConfig, make_provider
    from codeteam.store import Store, default_db_path

    settings = ctx.settings
    roots = settings.roots
    ws = confine(roots, workspace, must_exist=False).path if workspace else roots[0].resolve()
    try:
        provider = make_provider(ProviderConfig(provider=settings.team_provider or "anthropic"))
    except ConfigError as exc:
        raise ToolError(str(exc), "unavailable") from None
    store = Store(settings.team_db or default_db_path())
    loop = asyncio.get_running_loop()
    sent: set[asyncio.Task[None]] = set()
    step = 0

    def sink(event: Event) -> None:
        nonlocal step
        message = _message(event)
        if message is None:
            return
        step += 1
        task = loop.create_task(ctx.progress(float(step), None, message))
        sent.add(task)
        task.add_done_callback(sent.discard)

    try:
        result: RunResult = await go(ws, provider, store, sink)
    except ConfigError as exc:
        raise ToolError(str(exc)) from None
    finally:
        await provider.aclose()
        store.close()
        if sent:
            await asyncio.gather(*sent, return_exceptions=True)
    return _result(result)


async def team_run(
    ctx: ToolContext,
    request: Annotated[str, Doc("what to build or change, in plain words")],
    workspace: Annotated[str, Doc("project directory, relative to the workspace root")],
) -> TeamResult:
    from codeteam.team.config import TeamConfig
    from codeteam.team.runner import run_team

    _said(request, "request")

    async def go(ws: Path, provider: Provider, store: Store, sink: Sink) -> RunResult:
        return await run_team(TeamConfig(request=request, workspace=ws), provider, store, sink)

    return await _with_team(ctx, workspace, go)


def _agent_tool(agent: str) -> ToolFn:
    async def tool(
        ctx: ToolContext,
        task: Annotated[str, Doc("the task, complete: files, behaviour, language")],
        workspace: Annotated[
            str | None, Doc("project directory (default: the workspace root)")
        ] = None,
    ) -> TeamResult:
        from codeteam.team.runner import run_agent

        _said(task, "task")

        async def go(ws: Path, provider: Provider, store: Store, sink: Sink) -> RunResult:
            return await run_agent(agent, task, ws, provider, store, sink)

        return await _with_team(ctx, workspace, go)

    tool.__name__ = f"{agent}_agent"
    return tool


TEAM_RUN = """Delegate a coding request to the agent team: a lead agent plans it, specialists
(code, test, review, deploy) carry it out in parallel through the sandboxed code tools, each on
its own copy of `workspace`, merged back (conflicts kept side by side, never overwritten).
Slow (minutes): progress notifications report each step. Returns the lead's report, each
task's outcome, limits that fired and merge conflicts; the run is recorded (run_id)."""

AGENT = {
    "code": "the code agent: writes source files in `workspace` and runs them",
    "test": "the test agent: writes unit and concurrency tests and runs them until they pass",
    "review": "the review agent: lints and reads the code for bugs and leaks (no edits)",
    "deploy": "the deploy agent: builds and packages the project and checks the build",
}


def team_tools() -> list[ToolSpec]:
    """The team's tools; the catalog adds them only when a provider is configured."""
    specs = [
        ToolSpec.from_function(
            team_run,
            description=TEAM_RUN,
            annotations=Annotations(
                "Run the agent team",
                read_only=False,
                destructive=True,
                idempotent=False,
                open_world=True,
            ),
        )
    ]
    for agent, what in AGENT.items():
        specs.append(
            ToolSpec.from_function(
                _agent_tool(agent),
                description=f"Delegate one task to {what}. Slow: progress notifications "
                "report each step. Returns its summary; the run is recorded (run_id).",
                annotations=Annotations(
                    f"{agent.capitalize()} agent",
                    read_only=agent == "review",
                    destructive=agent != "review",
                    idempotent=False,
                    open_world=True,
                ),
            )
        )
    return specs
