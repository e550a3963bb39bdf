"""The sandbox host: one Ray actor per node, owning that node's sandbox.

It holds the node's :class:`~codeteam.executor.local.LocalExecutor` (slots, uid leases,
the pre-started pool, memory cgroups, the Go build cache: the same sandbox code as a
local server) and runs the specs it is sent in bubblewrap sandboxes on its node. Untrusted
code never runs in this Ray worker process itself, only in the sandboxes it starts.

It is an async actor whose methods start and supervise the sandboxes on the actor's own
event loop, which must be a standard asyncio loop: Ray runs async actors on uvloop unless
``RAY_USE_UVLOOP=0`` (the agent starts the host with it), and uvloop's child-process
handling off the main thread took ~10 ms to notice a process had exited (2 ms on a
standard loop). A loop of the host's own in another thread served as well, but each call
then crossed two threads, and the hop back waited for the interpreter lock while that
thread spawned the pool's refill: ~1 ms per call (traced with
:mod:`codeteam.trace`). For the same reason the pool here refills
``REFILL_DELAY_S`` after a call, once its result has left the node, rather than at once.
Ray also starts its workers at niceness 15 (``RAY_worker_niceness``), which sandboxes
would inherit: the worker's threads are put back at 0, as a local server and its
sandboxes run.

Ray restarts it (``max_restarts``) when its process dies; it then starts with an empty
pool and takes fresh uid leases, as a restarted local server does. When the node's raylet
dies, Ray's core worker SIGKILLs the worker's children (the sandboxes) before it ends the
worker, and for a moment the actor's loop still runs: a call whose sandbox died that way
must not answer "signal 9" but go unanswered, so the agent runs it again on another node
(seen once in CI, among 200 calls on a node killed mid-run).

A spec arrives as the server made it, with host paths in its binds. Those are remapped to
this node: a cache directory (``<state_dir>/cache/NAME``) to this node's cache of that
name (a ``private-*`` one, a per-build cache, removed after the call), a project
directory to this node's unpacked copy of its snapshot (:mod:`codeteam.cluster.projects`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codeteam.config import Settings
from codeteam.sandbox.spec import Bind, Prestart, SandboxResult, SandboxSpec

if TYPE_CHECKING:
    from codeteam.cluster.projects import NodeProjects
    from codeteam.executor.local import LocalExecutor


def worker_env() -> dict[str, str]:
    """What the actor's worker needs in its environment (see the module docstring), and
    the agent's ``CODETEAM_TRACE`` (:mod:`codeteam.trace`) when set."""
    import os

    trace = os.environ.get("CODETEAM_TRACE")
    return {"RAY_USE_UVLOOP": "0", **({"CODETEAM_TRACE": trace} if trace else {})}


#: How long after a call the node's pool starts its refill: the result's way back (Ray's
#: reply, the agent, the server) took ~1.3 ms at p50 and under 2 ms at p90 on 2 busy cores.
REFILL_DELAY_S = 0.005
#: How long a call whose sandbox died with the node's raylet waits for Ray to end this
#: worker (it does within milliseconds) before it answers that the node is lost.
NODE_EXIT_WAIT_S = 30.0
#: Per-build caches (``go test -race``): made for one call and removed after it.
PRIVATE_CACHE = "private-"


def _not_niced() -> None:
    """Every thread of this worker process at niceness 0 (niceness is per thread on Linux,
    and a new thread inherits its creator's): the actor's loop, which forks the sandboxes,
    and Ray's own threads that carry a call in and its result out. Left at 15, those lose
    the core to the pool's refill. Needs root, as the sandbox itself does; otherwise left
    as it is."""
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

    def __init__(self, settings: Settings, node_id: str, ip: str) -> None:
        self.settings = settings
        self.node_id = node_id
        self.ip = ip
        self._channel: tuple[str, int, bytes] | None = None
        self._server: asyncio.Server | None = None
        self._local: LocalExecutor | None = None
        self._projects: NodeProjects | None = None
        self._raylet = os.getppid()  # Ray's workers are its children

    def _raylet_lost(self) -> bool:
        from codeteam.sandbox import procs

        return os.getppid() != self._raylet or not procs.running(self._raylet)

    def _executor(self) -> LocalExecutor:
        """The node's executor, made on the first call (on the actor's loop, which it
        checks: see the module docstring)."""
        if self._local is None:
            from codeteam.executor.local import LocalExecutor

            loop = type(asyncio.get_running_loop())
            if not issubclass(loop, asyncio.BaseEventLoop):
                raise Failure(
                    f"the sandbox host runs on {loop.__module__}.{loop.__name__}, not a "
                    "standard asyncio loop: start it with RAY_USE_UVLOOP=0",
                    "unavailable",
                )
            _not_niced()
            self._local = LocalExecutor.from_settings(self.settings)
            self._local.sandbox.refill_delay_s = REFILL_DELAY_S
        return self._local

    def _snapshots(self) -> NodeProjects:
        if self._projects is None:
            from codeteam.cluster.projects import NodeProjects

            self._projects = NodeProjects(self.settings.state_dir / "cluster" / "projects")
        return self._projects

    async def ready(self) -> tuple[str, int, tuple[str, int, bytes]]:
        """This node's id, its slots and its channel's address and key
        (:mod:`codeteam.cluster.channel`): answered once the actor is up."""
        if self._channel is None:
            from codeteam.cluster.channel import listen

            async def handle(args: tuple[Any, ...]) -> SandboxResult | Failure:
                spec, prestart, unbounded = args
                try:
                    return await self.run(spec, prestart, unbounded, {})
                except Exception as exc:  # a bug: the call's answer (Ray would wrap it)
                    return Failure(f"host: {type(exc).__name__}: {exc}", "unavailable")

            self._channel, self._server = await listen(self.ip, handle)
        return self.node_id, self.settings.max_concurrency, self._channel

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
        """Run ``spec`` here (a Ray call when it binds projects; other calls come over the
        channel, with no ``snapshots``); ``snapshots`` maps a bind's target to (digest,
        [object ref]) of the project to bind there (the ref in a list, so Ray does not
        fetch it unless this node lacks that snapshot). A tool error comes back as a
        :class:`Failure` value (Ray would wrap a raised one)."""
        from codeteam.tools.base import ToolError
        from codeteam.trace import mark

        mark("H1 host run")
        private: list[Path] = []
        try:
            executor = self._executor()
            binds = [await self._bind(b, snapshots, private) for b in spec.binds]
            chosen = executor.unbounded_memory() if unbounded else executor
            result = await chosen.run(replace(spec, binds=binds), prestart)
        except ToolError as exc:
            return Failure(exc.message, exc.status)
        except Failure as exc:
            return exc
        finally:
            for path in private:
                shutil.rmtree(path, ignore_errors=True)
        if result.signal == signal.SIGKILL and result.limit is None and self._raylet_lost():
            await asyncio.sleep(NODE_EXIT_WAIT_S)  # Ray ends this worker meanwhile
            return Failure(
                f"node {self.node_id[:12]} lost its raylet during the call", "unavailable"
            )
        mark("H2 host return")
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
            await self._local.aclose()
