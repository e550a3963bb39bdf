"""A specialist at work on one task: a tool-use loop over the MCP tools its role may use,
on the task's own copy of the workspace when the run isolates tasks.

The loop stops at the turn limit, at a budget (checked before every model call), or when
the guard sees too many or identical repeated tool calls; whatever stops it is recorded.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from codeteam.llm import Block, LLMError, Provider, Turn
from codeteam.team import agents
from codeteam.team.budget import CallGuard, LimitReached, RunBudget
from codeteam.team.config import TeamConfig
from codeteam.team.copies import TaskCopies
from codeteam.team.loop import tool_loop, tool_result
from codeteam.team.mcp import McpTools, TaskServer, ToolOutcome
from codeteam.team.plan import TaskSpec
from codeteam.team.recorder import Recorder
from codeteam.team.scheduler import TaskOutcome

#: Tools whose last result is the task's verdict on the code, and the task's status when
#: that last result failed: a task is not ``ok`` while the tools say its code is not.
VERDICTS = {"run_tests": "tests_failed", "build": "build_failed"}


def _verdict(outcome: TaskOutcome, last: dict[str, ToolOutcome]) -> None:
    """Mark an otherwise successful outcome with what its last tests or build said."""
    if not outcome.ok:
        return
    for name, status in VERDICTS.items():
        out = last.get(name)
        if out is not None and (out.is_error or out.status != "ok"):
            head = out.text.strip().splitlines()[0][:200] if out.text.strip() else out.status
            outcome.status, outcome.error = status, f"its last {name} failed: {head}"
            return


class Specialists:
    def __init__(
        self,
        cfg: TeamConfig,
        provider: Provider,
        budget: RunBudget,
        rec: Recorder,
        mcp: McpTools,
        copies: TaskCopies | None,
    ) -> None:
        self.cfg = cfg
        self.provider = provider
        self.budget = budget
        self.rec = rec
        self.mcp = mcp
        self.copies = copies  # None: tasks run in place, on the shared session
        self._merged: set[str] = set()  # tasks whose changes are in the workspace

    async def run(self, spec: TaskSpec, deps: dict[str, TaskOutcome]) -> TaskOutcome:
        """Carry out ``spec`` given what its dependencies did; never raises for model,
        tool or budget trouble (the outcome says)."""
        self.rec.task_started(spec)
        b = agents.brief(self.cfg.request, spec, deps)
        tools = [self.mcp.tools[n] for n in b.tool_names if n in self.mcp.tools]
        allowed = {t.name for t in tools}
        server: McpTools | TaskServer = self.mcp
        copies: list[Path] = []  # base, work: made when the task first calls a tool

        async def prepare() -> Path:
            assert self.copies is not None
            copies.extend(await self.copies.make(spec))
            return copies[1]

        if self.copies is not None:
            server = TaskServer(self.cfg.mcp_server, prepare)
        guard = CallGuard(self.cfg.max_tool_calls, self.cfg.repeat_limit)
        last: dict[str, ToolOutcome] = {}  # the latest result of each verdict tool
        turns = 0
        record = self.rec.on_turn(spec.id)

        def on_turn(turn: Turn | None, started: float, error: str | None) -> None:
            nonlocal turns
            turns += 1
            record(turn, started, error)

        async def handle(uses: list[Block]) -> list[Block]:
            return await self._call_tools(spec.id, allowed, uses, server, guard, last)

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
        _verdict(outcome, last)
        if copies:
            assert self.copies is not None
            # Never left half-done by a timeout or Ctrl-C: finished before they propagate.
            merge = asyncio.ensure_future(self.copies.merge(spec, copies[0], copies[1], outcome))
            try:
                await asyncio.shield(merge)
            except asyncio.CancelledError:
                await merge
                self._merged.add(spec.id)
                raise
            self._merged.add(spec.id)
        return outcome

    def done(self, spec: TaskSpec, outcome: TaskOutcome) -> None:
        """Record a task's final outcome (also for those :meth:`run` never returned)."""
        if outcome.timed_out:  # cut short: say what became of its edits
            outcome.error = f"{outcome.error}; " + (
                "what it changed in the workspace before that is kept (it ran in place)"
                if self.copies is None
                else "its changes were merged (it timed out while merging them)"
                if spec.id in self._merged
                else "its unfinished changes were not merged into the workspace"
            )
        self.rec.task_done(spec, outcome)

    async def _call_tools(
        self,
        task_id: str,
        allowed: set[str],
        uses: list[Block],
        server: McpTools | TaskServer,
        guard: CallGuard,
        last: dict[str, ToolOutcome],
    ) -> list[Block]:
        results: list[Block] = []
        for use in uses:
            started = time.time()
            name = use["name"]
            structured = None
            if name not in allowed:
                text = f"unknown tool {name!r}; you can call: {', '.join(sorted(allowed))}"
                status, is_error = "unknown_tool", True
            else:
                guard.admit(name, use["input"])
                out = await server.call(name, use["input"])
                if name in VERDICTS:
                    last[name] = out
                text, status, is_error, structured = (
                    out.text,
                    out.status,
                    out.is_error,
                    out.structured,
                )
            results.append(tool_result(use["id"], text, is_error))
            self.rec.tool_call(
                task_id,
                name,
                use["input"],
                status=status,
                is_error=is_error,
                started=started,
                result=text,
                structured=structured,
            )
        return results
