"""Each task on its own copy of the workspace, merged back three-way when it finishes.

A task's base is a snapshot of the workspace as the tasks before it left it, named by its
content (``bases/<digest>``), so a name never stands for another state, not across a
resume either; tasks starting between the same two merges share one. The base is recorded
at the task's first tool call, so a task restarted by a resume starts from the same one.

A finished task's merge is journaled: its outcome is recorded with the merge ``pending``
(its copy kept), then applied, then marked ``done``. A resume completes a pending merge
from the kept copy before anything else runs; applying a merge again is harmless (files
already as the task left them are skipped), so each merge takes effect exactly once. A
file two tasks changed differently is a recorded conflict with both versions kept
(:func:`codeteam.team.workspace.merge_back`).
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from codeteam.store import Store
from codeteam.team import crashpoints
from codeteam.team.events import ConflictKept, Sink
from codeteam.team.plan import TaskSpec
from codeteam.team.scheduler import TaskOutcome
from codeteam.team.workspace import Conflict, changes, content_snapshot, merge_back, snapshot


class TaskCopies:
    def __init__(
        self,
        run_dir: Path,
        workspace: Path,
        store: Store,
        run_id: str,
        emit: Sink,
        bases: dict[str, str],
    ) -> None:
        self.run_dir = run_dir
        self.workspace = workspace
        self.store = store
        self.run_id = run_id
        self.emit = emit
        self._bases = bases  # task id -> recorded base directory (from a resumed run)
        #: the snapshot of the workspace as it is now; None once a merge changed it
        self._current: Path | None = None
        self._lock = asyncio.Lock()  # snapshots of the workspace vs merges into it
        self.conflicts: list[Conflict] = []

    async def make(self, spec: TaskSpec) -> tuple[Path, Path]:
        """The task's base and a fresh working copy of it. File work runs in a thread (a
        large workspace must not stall the other tasks' model calls)."""
        recorded = self._bases.get(spec.id)
        if recorded and Path(recorded).is_dir():
            base = Path(recorded)
        else:
            async with self._lock:
                if self._current is None or not self._current.is_dir():
                    into = self.run_dir / "bases"
                    self._current = await asyncio.to_thread(content_snapshot, self.workspace, into)
                base = self._current
            self.store.set_task_base(self.run_id, spec.id, str(base))
            self._bases[spec.id] = str(base)
        work = self.run_dir / "work" / spec.id
        await asyncio.to_thread(snapshot, base, work)  # bases never change once made
        return base, work

    async def merge(self, spec: TaskSpec, base: Path, work: Path, outcome: TaskOutcome) -> None:
        """Record ``outcome`` and merge the task's changes into the workspace, journaled;
        the merge's note goes into the outcome's summary."""
        end = (outcome.status, outcome.summary or None, outcome.error, outcome.turns)
        self.store.merge_pending(self.run_id, spec.id, str(work), end)
        crashpoints.reached("merge", spec.id)
        outcome.summary = await self._apply(spec.id, base, work, outcome.summary)

    async def recover(
        self, tasks: list[dict[str, Any]], outcomes: dict[str, TaskOutcome]
    ) -> list[str]:
        """Complete the merges a crash left pending, in the order their tasks finished;
        the tasks whose kept copy is gone, to run again."""
        lost: list[str] = []
        pending = [t for t in tasks if t.get("merge") == "pending"]
        for t in sorted(pending, key=lambda t: t["finished_at"] or 0):
            base, work = Path(t["base"] or ""), Path(t["work"] or "")
            if not (t["base"] and t["work"] and base.is_dir() and work.is_dir()):
                self.store.finish_task(self.run_id, t["id"], "interrupted")
                lost.append(t["id"])
                continue
            self.store.clear_merge(self.run_id, t["id"])
            summary = await self._apply(t["id"], base, work, t["result"] or "")
            if t["id"] in outcomes:
                outcomes[t["id"]].summary = summary
        return lost

    async def _apply(self, task: str, base: Path, work: Path, summary: str) -> str:
        for path, diff in await asyncio.to_thread(changes, base, work):
            self.store.record_diff(self.run_id, task, path, diff)
        async with self._lock:
            merged = await asyncio.to_thread(merge_back, base, work, self.workspace, task)
            if merged.applied or merged.merged or merged.conflicts:
                self._current = None
        for c in merged.conflicts:
            self.conflicts.append(c)
            self.store.record_conflict(self.run_id, task, c.path, c.other, c.detail)
            self.emit(ConflictKept(task, c.path, c.other))
        note = merged.describe()
        if note:
            summary = f"{summary}\n[{note}]".strip()
        crashpoints.reached("merged", task)
        self.store.merge_done(self.run_id, task, summary or None)
        shutil.rmtree(work, ignore_errors=True)
        return summary
