"""Each task on its own copy of the workspace, merged back three-way when it finishes.

A task's base is a snapshot of the workspace as its dependencies left it; tasks starting
between the same two merges share one base. The base is recorded, so a task restarted by a
resume starts from the same one. A file two tasks changed differently is a recorded
conflict with both versions kept (:func:`codeteam.team.workspace.merge_back`).
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from codeteam.store import Store
from codeteam.team.config import Sink
from codeteam.team.plan import TaskSpec
from codeteam.team.workspace import Conflict, merge_back, snapshot


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
        #: bumped by every merge that changed the workspace: tasks starting in the same
        #: generation share one base snapshot
        self._generation = 0
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
                base = self.run_dir / "bases" / f"g{self._generation}"
                if not base.is_dir():
                    await asyncio.to_thread(snapshot, self.workspace, base)
            self.store.set_task_base(self.run_id, spec.id, str(base))
        work = self.run_dir / "work" / spec.id
        await asyncio.to_thread(snapshot, base, work)  # bases never change once made
        return base, work

    async def merge(self, spec: TaskSpec, base: Path, work: Path) -> str:
        """Merge the task's changes into the workspace; a note for its summary."""
        async with self._lock:
            merged = await asyncio.to_thread(merge_back, base, work, self.workspace, spec.id)
            if merged.applied or merged.merged or merged.conflicts:
                self._generation += 1
        for c in merged.conflicts:
            self.conflicts.append(c)
            self.store.record_conflict(self.run_id, spec.id, c.path, c.other, c.detail)
            self.emit({"event": "conflict", "task": spec.id, "path": c.path, "other": c.other})
        shutil.rmtree(work, ignore_errors=True)
        return merged.describe()
