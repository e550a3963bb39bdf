"""The sandbox host: one Ray actor per node, owning that node's sandbox.

It holds the node's :class:`~codeteam.executor.local.LocalExecutor` (slots, uid leases,
the pre-started pool, memory cgroups, the Go build cache: the same sandbox code as a
local server) and runs the specs it is sent in bubblewrap sandboxes on its node. Untrusted
code never runs in this Ray worker process itself, only in the sandboxes it starts.

The sandboxes are started and supervised on an event loop of the host's own, a standard
asyncio loop in a thread: Ray runs actors on uvloop, whose child-process handling off the
main thread took ~10 ms to notice a process had exited (2 ms on a standard loop). Ray
also starts its workers at niceness 15 (``RAY_worker_niceness``), which sandboxes would
inherit: the worker's threads are put back at 0, as a local server and its sandboxes run.

Ray restarts it (``max_restarts``) when its process dies; it then starts with an empty
pool and takes fresh uid leases, as a restarted local server does.

A spec arrives as the server made it, with host paths in its binds. Those are remapped to
this node: a cache directory (``<state_dir>/cache/NAME``) to this node's cache of that
name (a ``private-*`` one, a per-build cache, removed after the call), a project
directory to this node's unpacked copy of its snapshot (:mod:`codeteam.cluster.projects`).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Coroutine
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from codeteam.config import Settings
from codeteam.sandbox.spec import Bind, Prestart, SandboxResult, SandboxSpec

if TYPE_CHECKING:
    from codeteam.cluster.projects import NodeProjects
    from codeteam.executor.local import LocalExecutor

T = TypeVar("T")
#: Per-build caches (``go test -race``): made for one call and removed after it.
PRIVATE_CACHE = "private-"


def _not_niced() -> None:
    """Every thread of this worker process at niceness 0 (niceness is per thread on Linux):
    the sandboxes' loop, which forks them, and Ray's own threads that carry a call in and
    its result out. Left at 15, those lose the core to the pool's refill, which starts a
    sandbox right after each result. Needs root, as the sandbox itself does; otherwise
    left as it is."""
    import contextlib
    import os

    for task in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):
            if os.getpriority(os.PRIO_PROCESS, int(task)) > 0:
                os.setpriority(os.PRIO_PROCESS, int(task), 0)


class Failure(Exception):
    """A tool error raised on the node, carried back as plain text (``status``: its kind)."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message, status)
        self.message, self.status = message, status


class SandboxHost:
    """The actor's class (made a Ray actor by the agent: this module imports no Ray)."""

    def __init__(self, settings: Settings, node_id: str) -> None:
        self.settings = settings
        self.node_id = node_id
        self._local: LocalExecutor | None = None
        self._projects: NodeProjects | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _sandbox_loop(self) -> asyncio.AbstractEventLoop:
        """The host's own standard event loop, in its own thread (see the module docstring)."""
        if self._loop is None:
            import threading

            # uvloop's policy has no child watcher: a standard loop's subprocesses need one
            asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
            loop = asyncio.new_event_loop()

            def forever() -> None:
                _not_niced()
                asyncio.set_event_loop(loop)
                loop.run_forever()

            threading.Thread(target=forever, name="codeteam-sandboxes", daemon=True).start()
            self._loop = loop
        return self._loop

    async def _on_sandbox_loop(self, work: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(work, self._sandbox_loop())
        return await asyncio.wrap_future(future)

    def _executor(self) -> LocalExecutor:
        if self._local is None:
            from codeteam.executor.local import LocalExecutor

            self._local = LocalExecutor.from_settings(self.settings)
        return self._local

    def _snapshots(self) -> NodeProjects:
        if self._projects is None:
            from codeteam.cluster.projects import NodeProjects

            self._projects = NodeProjects(self.settings.state_dir / "cluster" / "projects")
        return self._projects

    async def ready(self) -> tuple[str, int]:
        """This node's id and its slots: answered once the actor is up."""
        return self.node_id, self.settings.max_concurrency

    async def stats(self) -> dict[str, int]:
        """What this host did (tests check snapshots crossed once per node)."""
        return {"unpacked": self._projects.unpacked if self._projects else 0}

    async def run(
        self,
        spec: SandboxSpec,
        prestart: Prestart | None,
        unbounded: bool,
        snapshots: dict[str, tuple[str, list[Any]]],
    ) -> SandboxResult | Failure:
        """Run ``spec`` here; ``snapshots`` maps a bind's target to (digest, [object ref])
        of the project to bind there (the ref in a list, so Ray does not fetch it unless
        this node lacks that snapshot). A tool error comes back as a :class:`Failure`
        value (Ray would wrap a raised one)."""
        from codeteam.tools.base import ToolError

        executor = self._executor()
        private: list[Path] = []
        try:
            binds = [await self._bind(b, snapshots, private) for b in spec.binds]
            chosen = executor.unbounded_memory() if unbounded else executor
            result = await self._on_sandbox_loop(chosen.run(replace(spec, binds=binds), prestart))
        except ToolError as exc:
            return Failure(exc.message, exc.status)
        except Failure as exc:
            return exc
        finally:
            for path in private:
                shutil.rmtree(path, ignore_errors=True)
        return replace(result, node=self.node_id)

    async def _bind(
        self, bind: Bind, snapshots: dict[str, tuple[str, list[Any]]], private: list[Path]
    ) -> Bind:
        caches = self.settings.state_dir / "cache"
        if bind.source.is_relative_to(caches) and bind.source != caches:
            name = bind.source.relative_to(caches).parts[0]
            path = self._executor().cache_dir(name)
            if name.startswith(PRIVATE_CACHE):
                private.append(path)
            return replace(bind, source=path)
        if bind.target in snapshots:
            digest, (ref,) = snapshots[bind.target]

            async def fetch() -> bytes:
                data: bytes = await ref
                return data

            return replace(bind, source=await self._snapshots().path(digest, fetch))
        raise Failure(
            f"cannot run on another node: {bind.source} is bound at {bind.target} and is "
            "neither a cache nor a project snapshot",
            "unavailable",
        )

    async def aclose(self) -> None:
        if self._local is not None:
            await self._on_sandbox_loop(self._local.aclose())
