"""A few pre-started sandboxes, so a call never waits for bubblewrap and its program's
runtime (an interpreter) to start.

Each pooled sandbox is an ordinary sandbox tree (same mounts, namespaces, rlimits and slot
uid as :meth:`Sandbox.run`) whose command is a :class:`~codeteam.sandbox.spec.Prestart`'s
waiting process, supplied by a toolchain: it makes the call's empty file, reports ready
on a control socket (its start gate) and blocks there; a call fills the file from
outside and says go, and it runs the program as the call's own command would (the
protocol is :class:`Prestart`'s). The pool knows no language; it keeps
up to ``size`` trees per kind of :class:`Prestart` (Python's interpreter, the exec runner for
a built binary), each kind refilled with what its last call needed. One
sandbox serves exactly one call and is then torn down like any other run; nothing is
shared between calls. The pool refills in the background once a
call has its result: a refill (bubblewrap and an interpreter start, ~15 ms of CPU) running
beside a call slowed it from ~5 ms to ~8-10 ms on 2 cores. (A cluster node's host delays it
a little more: its result still has several processes to cross.) The slot's uid sweep also runs
after the result (the call's pid namespace, and so every process of it, is gone by then);
the slot is reused only after it.

Slots: an idle pooled sandbox holds a slot (its uid). The pool takes one only when at
least two are free and no call is waiting for one, and a call that finds every slot taken
evicts an idle pooled sandbox before it queues, so the pool never makes a call wait.

Killed from outside: an idle pooled sandbox can die (an operator's ``kill -9``, the
host's OOM killer). Its control socket then reads as closed, and it is discarded and
replaced at once. One that dies between being taken and receiving the program (a race no
check can close) is caught by the runner's receipt: it writes one byte once it has been
told go, before any of the program runs. A pooled run that ends without that receipt (and
without a limit of ours killing it) never ran the call's code: the call then runs in a
fresh sandbox, so a dead pooled sandbox is never the caller's result.

Lazy: nothing starts before the first :meth:`Pool.run` (the server's idle memory).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from codeteam.sandbox import Sandbox, Tree, _result
from codeteam.sandbox.bwrap import Prepared
from codeteam.sandbox.runner import SETTLE_S, Outcome
from codeteam.sandbox.spec import GO, Limits, Prestart, SandboxResult, SandboxSpec

#: Slots the pool leaves free for calls that arrive while it is full.
KEEP_FREE = 1
#: After a pooled sandbox fails to start, how long the pool waits before starting more.
RETRY_PAUSE_S = 5.0


@dataclass(frozen=True)
class PoolKey:
    """What a pooled sandbox is fixed to at start: a call can use it only if these match."""

    prestart: Prestart
    limits: Limits
    env: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, spec: SandboxSpec, prestart: Prestart) -> PoolKey:
        return cls(prestart, spec.limits, tuple(sorted(spec.env.items())))

    def spec(self, control_fd: int) -> SandboxSpec:
        argv = [*self.prestart.argv, *([str(control_fd)] if self.prestart.fd_arg else [])]
        return SandboxSpec(argv=argv, env=dict(self.env), limits=self.limits)


def servable(spec: SandboxSpec, prestart: Prestart) -> bool:
    """Whether a pre-started tree of ``prestart`` can serve ``spec``: its one file is handed
    over, and nothing else a tree is fixed to at start differs from a plain run (a tree
    started as the call's own command, without ``fd_arg``, is that command exactly)."""
    return (
        set(spec.files) == {prestart.handover}
        and (prestart.fd_arg or tuple(spec.argv) == prestart.argv)
        and spec.executables == (frozenset([prestart.handover]) if prestart.executable else set())
        and not spec.binds
        and not spec.collect
        and spec.cwd == "/work"
        and spec.role == "run"
    )


@dataclass(eq=False)
class _Entry:
    key: PoolKey
    tree: Tree
    control: socket.socket  # our end; the runner's is its fd ``control_fd``
    ready: asyncio.Future[bool] = field(default_factory=asyncio.Future)
    warming: asyncio.Task[None] | None = None
    watched: bool = False  # a reader on ``control`` reports the sandbox's death while idle

    async def warm(self) -> None:
        """Spawn the tree and wait for the runner's ready byte; ``ready`` says how it went."""
        ok = False
        try:
            await self.tree.supervisor.spawn(stdin_pipe=True, on_spawn=self.tree.on_spawn)
            loop = asyncio.get_running_loop()
            ready = await loop.sock_recv(self.control, 1) == b"R"
            ok = ready and self._prepared().pin()
        except Exception:  # noqa: S110 - the call falls back to a normal run, which reports
            pass
        finally:
            if not self.ready.done():
                self.ready.set_result(ok)

    def _prepared(self) -> Prepared:
        prepared = self.tree.prepared
        assert isinstance(prepared, Prepared), "only bubblewrap trees are pooled"
        return prepared

    async def dispatch(self, code: bytes) -> None:
        """Fill the call's file in the sandbox, then say :data:`GO`; a sandbox that could
        not be written hears only the end of the channel and exits without running."""
        try:
            self._prepared().fill_file(self.key.prestart.handover, code)
            await asyncio.get_running_loop().sock_sendall(self.control, GO)
        finally:
            self.control.shutdown(socket.SHUT_WR)

    def watch(self, on_death: Callable[[], None]) -> None:
        """Call ``on_death`` when the idle runner's end closes (it only ever waits there)."""
        asyncio.get_running_loop().add_reader(self.control.fileno(), on_death)
        self.watched = True

    def unwatch(self) -> None:
        if self.watched:
            asyncio.get_running_loop().remove_reader(self.control.fileno())
            self.watched = False

    def took_call(self) -> bool:
        """Whether the runner confirmed it received the whole program (after the run)."""
        try:
            return self.control.recv(1) == b"G"
        except OSError:  # nothing there (BlockingIOError), or the socket broke
            return False


class Pool:
    """Pre-started sandboxes for :meth:`Sandbox.run` given a :class:`Prestart`; one per
    :class:`Sandbox`."""

    def __init__(self, sandbox: Sandbox, size: int) -> None:
        self._sandbox = sandbox
        self._size = size
        self._idle: list[_Entry] = []  # warming or ready, oldest first
        #: per kind of tree, what its last call needed: what to refill with. Kept per kind,
        #: so calls of two kinds (Python and Go) in turn do not empty each other's.
        self._keys: dict[str, PoolKey] = {}
        self._filler: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._retry_at = 0.0  # monotonic time before which no sandbox is started
        self.hits = 0  # calls served by a pooled sandbox
        self.misses = 0  # calls that fell back to a normal run

    @property
    def idle(self) -> int:
        """Pooled sandboxes started and not yet used (warming or ready)."""
        return len(self._idle)

    async def ready(self) -> int:
        """Wait for the warming sandboxes; how many are ready now."""
        await asyncio.gather(*(e.ready for e in list(self._idle)), return_exceptions=True)
        return sum(1 for e in self._idle if e.ready.done() and e.ready.result())

    async def run(self, spec: SandboxSpec, prestart: Prestart) -> SandboxResult:
        """Run ``spec`` in a pooled sandbox of ``prestart`` when one matches, else as a
        normal run; either way the pool is topped up."""
        if not servable(spec, prestart):
            return await self._sandbox.run(spec)
        await self._sandbox._admit(spec)
        code = spec.files[prestart.handover]
        key = PoolKey.of(spec, prestart)
        self._keys.pop(prestart.kind, None)  # re-inserted last: the last used kind
        self._keys[prestart.kind] = key
        for stale in [e for e in self._idle if e.key != key]:
            if stale.key.prestart.kind == prestart.kind:
                self._evict(stale)
        entry = next((e for e in self._idle if e.key == key), None)
        if entry is None:
            self._top_up()  # else only after the call: a refill beside it slows it
        else:
            self._idle.remove(entry)
            entry.unwatch()
        try:
            if entry is not None and await self._await_ready(entry):
                result = await self._run_in(entry, spec, code)
                if result is not None:
                    self.hits += 1
                    return result
            self.misses += 1
            return await self._sandbox.run(spec)
        finally:
            self._top_up()

    async def _await_ready(self, entry: _Entry) -> bool:
        """Whether ``entry`` came up; a dead one (or a cancel meanwhile) discards it."""
        ok = False
        try:
            ok = await asyncio.shield(entry.ready)
        finally:
            if not ok:
                self._spawn_task(self._discard(entry))
        return ok

    async def _run_in(self, entry: _Entry, spec: SandboxSpec, code: bytes) -> SandboxResult | None:
        """The call's result, or None when the sandbox died before it took the program
        (killed from outside): then none of the call's code ran."""
        sandbox, tree = self._sandbox, entry.tree
        outcome: Outcome | None = None
        taken = False
        try:
            outcome = await tree.supervisor.supervise(
                stdin=spec.stdin,
                timeout_s=spec.timeout_s,
                output_cap=spec.output_cap,
                dispatch=lambda: entry.dispatch(code),
            )
            taken = entry.took_call()
        finally:
            entry.control.close()
            ended = await sandbox._end_tree(tree, outcome)
            # The namespace is gone (every process of the call died with its pid 1), so
            # the uid sweep is a backstop: it runs after the answer, before the slot's reuse.
            self._spawn_task(sandbox._free_slot("run", tree.slot))
        assert outcome is not None
        if not taken and outcome.killed_for is None:
            return None
        return _result(outcome, ended, spec)

    # -- filling and emptying ----------------------------------------------------------

    def _top_up(self) -> None:
        if not self._wanted():
            return
        if self._filler is None or self._filler.done():
            self._filler = asyncio.ensure_future(self._fill())

    async def _fill(self) -> None:
        """Start sandboxes until the pool is full; they warm up in parallel. Waits
        ``refill_delay_s`` of the sandbox first (see :class:`Sandbox`)."""
        if self._sandbox.refill_delay_s:
            await asyncio.sleep(self._sandbox.refill_delay_s)
        while self._wanted():
            slot = await self._sandbox._try_slot(KEEP_FREE)
            if slot is None:
                return  # busy: the next call that finishes tops up again
            key = self._short()
            assert key is not None  # taking a free slot does not suspend: nothing changed
            entry = self._start(key, slot)
            self._idle.append(entry)
            assert entry.warming is not None
            await asyncio.wait([entry.warming], timeout=0)  # let its spawn begin first

    def _wanted(self) -> bool:
        return not self._closed and self._short() is not None and time.monotonic() >= self._retry_at

    def _short(self) -> PoolKey | None:
        """A kind's key with fewer than ``size`` trees started, the last used kind first."""
        for key in reversed(self._keys.values()):
            if sum(1 for e in self._idle if e.key == key) < self._size:
                return key
        return None

    def _warmed(self, entry: _Entry) -> None:
        """A sandbox that came up is watched while idle; one that did not is discarded,
        and refills pause for a while so a broken runtime costs one failed start per
        pause, not a loop (calls fall back)."""
        if not entry.ready.done():  # cancelled before it ever ran: it did not come up
            entry.ready.set_result(False)
        if entry not in self._idle:
            return
        if entry.ready.result():
            entry.watch(lambda: self._died(entry))
            return
        self._retry_at = time.monotonic() + RETRY_PAUSE_S
        self._evict(entry)

    def _died(self, entry: _Entry) -> None:
        """An idle pooled sandbox was killed from outside: replace it."""
        if entry in self._idle:
            self._evict(entry)
            self._top_up()

    def _start(self, key: PoolKey, slot: int) -> _Entry:
        parent, child = socket.socketpair()
        parent.setblocking(False)
        try:
            tree = self._sandbox._new_tree(
                key.spec(child.fileno()), slot, pass_fds=[child.fileno()]
            )
        except BaseException:
            parent.close()
            child.close()
            self._spawn_task(self._sandbox._free_slot("run", slot))
            raise
        child.detach()  # the tree's Prepared owns that descriptor now
        entry = _Entry(key, tree, parent)
        entry.warming = asyncio.ensure_future(entry.warm())
        entry.warming.add_done_callback(lambda _: self._warmed(entry))
        return entry

    def evict_one(self) -> bool:
        """Give an idle pooled sandbox's slot back (a call is waiting for one)."""
        if not self._idle:
            return False
        self._evict(self._idle[-1])
        return True

    def _evict(self, entry: _Entry) -> None:
        entry.unwatch()
        self._idle.remove(entry)
        self._spawn_task(self._discard(entry))

    async def _discard(self, entry: _Entry) -> None:
        """Kill an unused pooled sandbox and free everything it held, its slot last."""
        tree = entry.tree
        tree.supervisor.stop("cancelled")
        outcome: Outcome | None = None
        try:
            if entry.warming is not None:
                await asyncio.wait([entry.warming])
            if tree.supervisor.pid is not None:
                outcome = await tree.supervisor.supervise(
                    stdin=b"", timeout_s=SETTLE_S, output_cap=0
                )
        finally:
            entry.control.close()
            await self._sandbox._end_tree(tree, outcome)
            await self._sandbox._free_slot("run", tree.slot)

    def _spawn_task(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Discard every idle pooled sandbox and wait until all are gone."""
        self._closed = True
        if self._filler is not None:
            self._filler.cancel()
            with contextlib.suppress(BaseException):
                await self._filler
        for entry in list(self._idle):
            self._evict(entry)
        await self.settled()

    async def settled(self) -> None:
        """Wait until the background work (discarding sandboxes, freeing slots) is done."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
