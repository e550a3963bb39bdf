"""Every step of a team run, written to the store as it happens and announced as an event.

One place for what a run leaves behind: model calls (charged to the run's budget), tool
calls, limits that fired, task starts and ends, benchmark figures for the report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from codeteam.llm import Turn
from codeteam.store import ModelCall, Store
from codeteam.team.budget import LimitReached, RunBudget
from codeteam.team.events import (
    LimitFired,
    ModelCalled,
    Sink,
    TaskFinished,
    TaskStarted,
    ToolCalled,
)
from codeteam.team.plan import TaskSpec
from codeteam.team.scheduler import TaskOutcome

OnTurn = Callable[[Turn | None, float, str | None], None]


class Recorder:
    def __init__(self, store: Store, run_id: str, emit: Sink, budget: RunBudget, model: str):
        self.store = store
        self.run_id = run_id
        self.emit = emit
        self.budget = budget
        self._model = model  # named on a model call that failed before it said its model
        self.limits: list[str] = []
        #: every successful run_benchmarks: (task, {benchmark: ns/op}), in order
        self.benchmarks: list[tuple[str, dict[str, float]]] = []

    def limit(self, task_id: str | None, exc: LimitReached) -> None:
        if exc.kind in ("tokens", "cost") and any(exc.kind in x for x in self.limits):
            return  # a run cap is recorded once, when it first stops an agent
        self.limits.append(f"{exc.kind}: {exc.detail}" + (f" (task {task_id})" if task_id else ""))
        self.store.record_limit(self.run_id, task_id, exc.kind, exc.detail)
        self.emit(LimitFired(task_id, exc.kind, exc.detail))

    def on_turn(self, task_id: str | None) -> OnTurn:
        """The callback a tool loop calls after each model call (``task_id`` None: the lead)."""

        def record(turn: Turn | None, started: float, error: str | None) -> None:
            u = turn.usage if turn else None
            if u is not None:
                self.budget.charge(u)
            call = ModelCall(
                model=turn.model if turn else self._model,
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
                ModelCalled(
                    task_id,
                    call.model,
                    call.input_tokens,
                    call.output_tokens,
                    call.stop_reason,
                    round(call.latency_ms, 1),
                    error,
                )
            )

        return record

    def tool_call(
        self,
        task_id: str,
        name: str,
        arguments: Any,
        *,
        status: str,
        is_error: bool,
        started: float,
        result: str | None = None,
        structured: dict[str, Any] | None = None,
    ) -> None:
        duration = (time.time() - started) * 1000
        self.store.record_tool_call(
            self.run_id,
            task_id,
            name,
            arguments,
            status=status,
            is_error=is_error,
            duration_ms=duration,
            started_at=started,
            result=result,
            structured=structured,
        )
        self.emit(ToolCalled(task_id, name, status, is_error, round(duration, 1)))
        if name == "run_benchmarks" and status == "ok" and structured:
            self._benchmarks(task_id, structured)

    def _benchmarks(self, task_id: str, structured: dict[str, Any]) -> None:
        figures = {
            str(b["name"]): float(b["ns_per_op"])
            for b in structured.get("benchmarks", [])
            if isinstance(b, dict) and b.get("ns_per_op") is not None
        }
        if figures:
            self.benchmarks.append((task_id, figures))

    def task_started(self, spec: TaskSpec) -> None:
        self.store.start_task(self.run_id, spec.id)
        self.emit(TaskStarted(spec.id, spec.agent))

    def task_done(self, spec: TaskSpec, outcome: TaskOutcome) -> None:
        self.store.finish_task(
            self.run_id,
            spec.id,
            outcome.status,
            result=outcome.summary or None,
            error=outcome.error,
            turns=outcome.turns,
        )
        self.emit(TaskFinished(spec.id, outcome.status, outcome.error, outcome.summary))
